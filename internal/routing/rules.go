package routing

// This file holds routing's rules as data: the config file's routing section decodes
// into them (package config validates them), New compiles them.

// Config sends each case to the department (desk) that owns its channel and decides
// its severity (一般投诉 / 重大投诉). The decisions themselves live in internal/routing;
// Config is their data, as the config file's routing section spells it. An empty Departments list means no routing: every case goes to
// staff.notify as before.
type Config struct {
	// Departments in the order reports list them. A channel, host or alias belongs to
	// at most one department.
	Departments []DepartmentConfig `yaml:"departments"`
	// DefaultDepartment gets every case whose channel is unknown; required when
	// Departments is not empty, and must name one of them.
	DefaultDepartment string `yaml:"default_department"`
	// Domains are the portal's own domains: path_prefixes are matched only on hosts
	// within them (a /c/ path on another site means nothing). Empty: any host.
	Domains []string `yaml:"domains"`
	// Leadership is told at once about every major case.
	Leadership []string       `yaml:"leadership"` // default: staff.supervisors
	Severity   SeverityConfig `yaml:"severity"`
}

// DepartmentConfig is one desk: the channels it owns and the people who work it.
type DepartmentConfig struct {
	Name     string   `yaml:"name"`     // unique; shown to staff and in reports
	Channels []string `yaml:"channels"` // channel names as subjects write them (凤凰财经, 财经)
	// Hosts own every link on them and on their subdomains (finance.ifeng.com also
	// owns m.finance.ifeng.com). A host decides over the subject's channel.
	Hosts []string `yaml:"hosts"`
	// PathPrefixes ("/c/") claim links on hosts no department owns, within Domains;
	// weaker than a host or the subject's channel.
	PathPrefixes []string          `yaml:"path_prefixes"`
	Staff        []string          `yaml:"staff"`   // notified about the department's cases; empty: staff.notify
	Aliases      map[string]string `yaml:"aliases"` // short names usable in 转交 / assign → address
}

// SeverityConfig holds the rules that make a case major, and what a major case gets.
type SeverityConfig struct {
	// Rules are tried in order; every match is recorded as a reason. Default:
	// DefaultSeverityRules(). An explicit empty list disables pattern rules.
	Rules []SeverityRule `yaml:"rules"`
	// A case is major when RepeatThreshold or more earlier cases about the same
	// (normalised) link, or from the same applicant, arrived within RepeatWindowDays.
	RepeatWindowDays int `yaml:"repeat_window_days"` // 30
	RepeatThreshold  int `yaml:"repeat_threshold"`   // 2
	// The shorter deadlines of a major case (business days).
	MajorReviewDays  int `yaml:"major_review_days"`  // 1 (at most policy.review_days)
	MajorProcessDays int `yaml:"major_process_days"` // 2 (at most policy.process_days)
}

// SeverityRule is one pattern that sets a level when it matches one of Fields.
type SeverityRule struct {
	Name string `yaml:"name"` // unique; appears in the reasons
	// Pattern is an RE2 regular expression, Keywords plain substrings; either or
	// both. Matching is case-insensitive, after full-width letters and digits are folded.
	Pattern  string   `yaml:"pattern"`
	Keywords []string `yaml:"keywords"`
	// Exclude (RE2) discards a match that lies wholly inside one of its matches:
	// 法院路 (a street) hides 法院, 未起诉 hides 起诉.
	Exclude string `yaml:"exclude"`
	// Fields are where to look: subject, body, attachments (file names),
	// applicant_org (the applicant's and the principal's organisation), applicant_email.
	Fields []string `yaml:"fields"` // default [subject, body, attachments]
	Level  string   `yaml:"level"`  // major | ordinary; default major
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
		// The article's journalist (文中记者) and an article that exposed the
		// complainant's private data (曝光了我的隐私), the matter of most requests, are
		// no threat of exposure.
		{Name: "media_exposure", Pattern: `曝光|[记記]者|[向找]媒[体體]|[联聯][系繫]媒[体體]|央[视視]|焦点访谈|焦點訪談|journalist|reporter`,
			Exclude: `(?m)^[ \t]*(标题|標題|文章标题|稿件标题|稿件名称|作者|来源|來源|作者/来源|链接|鏈接|原文链接|文章链接|title|author|source|link)[ \t]*[:：].*$|(本报|本報|本台|本刊|本网|本網|特约|特約|实习|實習)[记記]者|曝光率|(文中|文章|该文|該文|此文|本文|原文|稿件|该报道|該報道|报道|報道)的?[记記]者|曝光了?(我|本人|他人|其|我们|我們|我方|我司|本公司|公司|当事人|當事人|家人)?的?(个人|個人|家庭)?(隐私|隱私|信息|資訊|住址|地址|电话|電話|手机|手機|身份|照片|姓名|住所|病历|病歷)`,
			Fields:  text, Level: "major"},
	}
}
