package config

// This file holds every default in one place, so the value a key gets when it is
// left out can be read (and compared with config.example.yaml) without reading the
// checks.

import (
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/policy"
)

// ApplyDefaults fills every zero field with its documented default.
func (c *Config) ApplyDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defI := func(i *int, v int) {
		if *i == 0 {
			*i = v
		}
	}
	defD := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	i := &c.IMAP
	def(&i.TLS, "tls")
	if i.Port == 0 {
		i.Port = map[string]int{"tls": 993}[i.TLS]
		if i.Port == 0 {
			i.Port = 143
		}
	}
	def(&i.Mailbox, "INBOX")
	if i.Idle == nil {
		t := true
		i.Idle = &t
	}
	defD(&i.PollInterval, time.Minute)
	def(&i.Processed, "flag")
	def(&i.ProcessedFolder, "Processed")
	def(&i.QuarantineFolder, "Quarantine")
	defI(&i.MaxAttempts, 3)
	defD(&i.CommandTimeout, time.Minute)
	defD(&i.FetchTimeout, 5*time.Minute)
	l := &i.Limits
	if l.MaxMessageBytes == 0 {
		l.MaxMessageBytes = 64 << 20
	}
	defI(&l.MaxHeaderBytes, 256<<10)
	defI(&l.MaxParts, 500)
	defI(&l.MaxDepth, 20)
	if l.MaxAttachmentBytes == 0 {
		l.MaxAttachmentBytes = 40 << 20
	}

	s := &c.SMTP
	def(&s.TLS, "starttls")
	if s.Port == 0 {
		s.Port = map[string]int{"tls": 465, "starttls": 587}[s.TLS]
		if s.Port == 0 {
			s.Port = 25
		}
	}
	def(&s.FromName, "投诉受理中心")
	defD(&s.Timeout, time.Minute)
	defI(&s.MaxAttempts, 20)
	defD(&s.RetryMin, 30*time.Second)
	defD(&s.RetryMax, time.Hour)
	defI(&s.AutoReplyLimit, 10)
	defD(&s.AutoReplyWindow, time.Hour)

	def(&c.Store.Path, "complaintd.db")
	defD(&c.Store.LockTimeout, 10*time.Second)

	if len(c.Staff.Notify) == 0 {
		c.Staff.Notify = c.Staff.Addresses
	}
	def(&c.Staff.Auth.Mode, "token")
	if len(c.Staff.Supervisors) == 0 {
		c.Staff.Supervisors = c.Staff.Admins
	}
	if c.Staff.AttachMaxBytes == 0 {
		c.Staff.AttachMaxBytes = 20 << 20
	}

	def(&c.Templates.Locale, "zh-CN")
	defD(&c.Templates.ReloadInterval, 5*time.Second)

	p := &c.Policy
	def(&p.CasePrefix, "TS")
	if len(p.Documents) == 0 {
		p.Documents = policy.DefaultRules()
	}
	defI(&p.ReviewDays, 3)
	defI(&p.ProcessDays, 5)
	defI(&p.ExpireDays, 15)
	defI(&p.AppealDays, 15)
	if p.SensitiveKinds == nil {
		if cat, err := cases.NewCatalogue(p.DocumentKinds); err == nil { // errors: reported by Validate
			for _, k := range cat.Kinds() {
				if k.Sensitive {
					p.SensitiveKinds = append(p.SensitiveKinds, k.Code)
				}
			}
			p.SensitiveKinds = append(p.SensitiveKinds, cases.Unclassified)
		}
	}
	defI(&p.RetentionDays, 180)
	defI(&p.AuthorDays, 7)
	def(&p.Calendar.TimeZone, "Asia/Shanghai")
	defD(&p.ReminderBefore, 24*time.Hour)
	defD(&p.SurveyDelay, 24*time.Hour)
	if len(p.Calendar.Weekend) == 0 {
		p.Calendar.Weekend = []string{"saturday", "sunday"}
	}

	c.Routing.applyDefaults(c.Staff.Supervisors, c.Policy.ReviewDays, c.Policy.ProcessDays)

	def(&c.Schedule.Deadlines, "@every 5m")
	def(&c.Schedule.Digest, "0 9 * * 1-5")
	def(&c.Schedule.Weekly, "0 9 * * 1")
	def(&c.Schedule.Retention, "30 3 * * *")
}

// DefaultSeverityRules are the shipped rules (issue 7), as config.example.yaml spells
// them. Each pattern's traps are tested in internal/routing.
func DefaultSeverityRules() []SeverityRule {
	text := []string{"subject", "body", "attachments"}
	return []SeverityRule{
		{Name: "lawyer_letter", Pattern: `律[师師]函|lawyer'?s letter|cease and desist`, Fields: text, Level: "major"},
		{Name: "litigation", Pattern: `起[诉訴]|[诉訴][讼訟]|lawsuit|litigation|\bsue\b`,
			Exclude: `(未|不|没有|沒有|没|沒|尚未|无意|無意|无需|無需|不会|不會|不打算|暂不|暫不)(提起)?(起[诉訴]|[诉訴][讼訟])`, Fields: text, Level: "major"},
		// A court judgement or a police receipt sent as proof of the reason (SPEC §2's
		// reason_proof: 判决书, 报警回执) is the ordinary way to prove a claim, not a sign of
		// a serious case: court and police words count in the subject and body only, and
		// not where they name such a document.
		{Name: "court", Pattern: `法院|判[决決]|裁定[书書]|\bcourt\b|judge?ment`,
			Exclude: `法院[东西南北中東]?(大街|路|街|巷|胡同)|[评評]判[决決]|(法院)?(判[决決]|裁定)[书書]`, Fields: []string{"subject", "body"}, Level: "major"},
		{Name: "police", Pattern: `公安|[报報][警案]|警方|派出所|\bpolice\b`, Exclude: `[办辦]公安|(派出所|公安局?)?[报報][警案]回[执執]|受案回[执執]`,
			Fields: []string{"subject", "body"}, Level: "major"},
		{Name: "cyberspace_admin", Pattern: `网信|網信|国家互联网信息办公室|國家互聯網信息辦公室|12377|cyberspace administration`,
			Exclude: `[联聯][网網][信]|\d12377|12377\d`, Fields: text, Level: "major"},
		{Name: "minor", Pattern: `未成年|未[满滿](十八|18|十六|16|十四|14)周?[岁歲]|[小中][学學]生|初中生|高中生|幼女|underage|\bminors\b|\bminor (child|children|girl|boy)`, Fields: text, Level: "major"},
		{Name: "government_applicant",
			Pattern: `(局|委员会|委員會|人民政府|政府办公室|政府辦公室|国务院|國務院|厅|廳|检察院|檢察院|法院|街道办事处|街道辦事處|管委会|管委會)$|\.gov\.cn$`,
			Exclude: `[书書邮郵棋饭飯]局$|[餐歌舞展大客]厅$|[餐歌舞展大客]廳$`, Fields: []string{"applicant_org", "applicant_email"}, Level: "major"},
		{Name: "media_exposure", Pattern: `曝光|[记記]者|[向找]媒[体體]|[联聯][系繫]媒[体體]|央[视視]|焦点访谈|焦點訪談|journalist|reporter`,
			Exclude: `(?m)^[ \t]*(标题|標題|文章标题|稿件标题|稿件名称|作者|来源|來源|作者/来源|链接|鏈接|原文链接|文章链接|title|author|source|link)[ \t]*[:：].*$|(本报|本報|本台|本刊|本网|本網|特约|特約|实习|實習)[记記]者|曝光率`,
			Fields:  text, Level: "major"},
	}
}

func (r *Routing) applyDefaults(supervisors []string, reviewDays, processDays int) {
	if len(r.Leadership) == 0 {
		r.Leadership = supervisors
	}
	s := &r.Severity
	if s.Rules == nil {
		s.Rules = DefaultSeverityRules()
	}
	for i := range s.Rules {
		if len(s.Rules[i].Fields) == 0 {
			s.Rules[i].Fields = []string{"subject", "body", "attachments"}
		}
		if s.Rules[i].Level == "" {
			s.Rules[i].Level = "major"
		}
	}
	if s.RepeatWindowDays == 0 {
		s.RepeatWindowDays = 30
	}
	if s.RepeatThreshold == 0 {
		s.RepeatThreshold = 2
	}
	// A major case is never slower than an ordinary one, even under short policy deadlines.
	if s.MajorReviewDays == 0 {
		s.MajorReviewDays = min(1, reviewDays)
	}
	if s.MajorProcessDays == 0 {
		s.MajorProcessDays = min(2, processDays)
	}
}
