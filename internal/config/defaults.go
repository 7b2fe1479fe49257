package config

// This file holds every default in one place, so the value a key gets when it is
// left out can be read (and compared with config.example.yaml) without reading the
// checks.

import (
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/policy"
	"github.com/complaintd/complaintd/internal/routing"
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
	def(&i.TLSMinVersion, "1.2")
	def(&i.Mailbox, "INBOX")
	if i.Idle == nil {
		t := true
		i.Idle = &t
	}
	defD(&i.PollInterval, time.Minute)
	def(&i.Processed, "flag")
	def(&i.ProcessedFolder, "Processed")
	def(&i.ErasedMail, "delete")
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
	defD(&l.MessageBudget, 5*time.Second)
	if l.MaxInflateBytes == 0 {
		l.MaxInflateBytes = 64 << 20
	}

	s := &c.SMTP
	def(&s.TLS, "starttls")
	def(&s.TLSMinVersion, "1.2")
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
	defI(&s.Sessions, 4)
	defD(&s.IdleTimeout, 30*time.Second)
	defI(&s.AutoReplyLimit, 10)
	defD(&s.AutoReplyWindow, time.Hour)
	defI(&s.AutoReplyDomainLimit, 60)
	defI(&s.AutoReplyGlobalLimit, 600)

	def(&c.Store.Path, "complaintd.db")
	defD(&c.Store.LockTimeout, 10*time.Second)

	if len(c.Staff.Notify) == 0 {
		c.Staff.Notify = c.Staff.Addresses
	}
	def(&c.Staff.Auth.Mode, "token")
	// Longer than the longest ordinary wait between two staff mails of a case (a
	// 15-day appeal window, then 3 business days of review, a holiday week between);
	// short enough that a token left in an old mailbox dies within a month.
	defD(&c.Staff.Auth.TokenTTL, 30*24*time.Hour)
	if len(c.Staff.Supervisors) == 0 {
		c.Staff.Supervisors = c.Staff.Admins
	}
	defI(&c.Staff.NotifyLimit, 20)
	defD(&c.Staff.NotifyWindow, time.Hour)
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

	routingDefaults(&c.Routing, c.Staff.Supervisors, c.Policy.ReviewDays, c.Policy.ProcessDays)

	def(&c.Schedule.Deadlines, "@every 5m")
	def(&c.Schedule.Digest, "0 9 * * 1-5")
	def(&c.Schedule.Weekly, "0 9 * * 1")
	def(&c.Schedule.Retention, "30 3 * * *")
}

func routingDefaults(r *routing.Config, supervisors []string, reviewDays, processDays int) {
	if len(r.Leadership) == 0 {
		r.Leadership = supervisors
	}
	s := &r.Severity
	if s.Rules == nil {
		s.Rules = routing.DefaultSeverityRules()
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
