package config

// This file holds the checks of the loaded values, each problem named by its key.
// They run after the defaults, on the values the daemon will use.

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/policy"
)

var prefixPattern = regexp.MustCompile(`^[A-Z]{1,8}$`)
var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// Validate returns every problem, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	add := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, a...)))
	}
	tlsMode := func(key, v string) {
		if v != "none" && v != "starttls" && v != "tls" {
			add(key, "must be none, starttls or tls, not %q", v)
		}
	}
	port := func(key string, p int) {
		if p < 1 || p > 65535 {
			add(key, "must be 1-65535, not %d", p)
		}
	}
	if c.IMAP.Host == "" {
		add("imap.host", "required")
	}
	port("imap.port", c.IMAP.Port)
	tlsMode("imap.tls", c.IMAP.TLS)
	if c.IMAP.Username == "" {
		add("imap.username", "required")
	}
	if c.IMAP.Password == "" {
		add("imap.password", "required (or set COMPLAINTD_IMAP_PASSWORD)")
	}
	switch c.IMAP.Processed {
	case "flag", "move", "none":
	default:
		add("imap.processed", "must be flag, move or none, not %q", c.IMAP.Processed)
	}
	if c.IMAP.PollInterval < time.Second {
		add("imap.poll_interval", "must be at least 1s")
	}
	if c.IMAP.MaxAttempts < 1 {
		add("imap.max_attempts", "must be at least 1")
	}
	if c.SMTP.Host == "" {
		add("smtp.host", "required")
	}
	port("smtp.port", c.SMTP.Port)
	tlsMode("smtp.tls", c.SMTP.TLS)
	if _, err := mail.ParseAddress(c.SMTP.From); err != nil {
		add("smtp.from", "must be an e-mail address: %v", err)
	}
	if (c.SMTP.Username == "") != (c.SMTP.Password == "") {
		add("smtp.password", "username and password go together (password may come from COMPLAINTD_SMTP_PASSWORD)")
	}
	if c.SMTP.AutoReplyLimit < 1 {
		add("smtp.auto_reply_limit", "must be at least 1")
	}
	if c.Store.MasterKey != "" {
		if _, err := DecodeKey(c.Store.MasterKey); err != nil {
			add("store.master_key", "%v", err)
		}
	}
	for i, a := range c.Staff.Addresses {
		if _, err := mail.ParseAddress(a); err != nil {
			add(fmt.Sprintf("staff.addresses[%d]", i), "not an e-mail address: %q", a)
		}
	}
	for i, a := range c.Staff.Notify {
		if _, err := mail.ParseAddress(a); err != nil {
			add(fmt.Sprintf("staff.notify[%d]", i), "not an e-mail address: %q", a)
		}
	}
	for i, a := range c.Staff.AppealReviewers {
		if _, err := mail.ParseAddress(a); err != nil {
			add(fmt.Sprintf("staff.appeal_reviewers[%d]", i), "not an e-mail address: %q", a)
		}
	}
	for i, a := range c.Staff.Admins {
		if _, err := mail.ParseAddress(a); err != nil {
			add(fmt.Sprintf("staff.admins[%d]", i), "not an e-mail address: %q", a)
		}
	}
	for i, a := range c.Staff.Supervisors {
		if _, err := mail.ParseAddress(a); err != nil {
			add(fmt.Sprintf("staff.supervisors[%d]", i), "not an e-mail address: %q", a)
		}
	}
	for k, a := range c.Staff.Aliases {
		if _, err := mail.ParseAddress(a); err != nil {
			add("staff.aliases."+k, "not an e-mail address: %q", a)
		}
	}
	switch c.Staff.Auth.Mode {
	case "token", "auth-results", "token+auth-results", "token|auth-results":
	default:
		add("staff.auth.mode", "must be token, auth-results, token+auth-results or token|auth-results, not %q", c.Staff.Auth.Mode)
	}
	if strings.Contains(c.Staff.Auth.Mode, "auth-results") && c.Staff.Auth.AuthServID == "" {
		add("staff.auth.authserv_id", "required when mode uses auth-results")
	}
	if c.Templates.Locale != "zh-CN" && c.Templates.Locale != "en" {
		add("templates.locale", "must be zh-CN or en, not %q", c.Templates.Locale)
	}
	if !prefixPattern.MatchString(c.Policy.CasePrefix) {
		add("policy.case_prefix", "must be 1-8 capital letters, not %q", c.Policy.CasePrefix)
	}
	for _, err := range policy.Validate(c.Policy.Documents, nil) {
		add("policy.documents", "%v", err)
	}
	for key, v := range map[string]int{"policy.review_days": c.Policy.ReviewDays, "policy.process_days": c.Policy.ProcessDays,
		"policy.expire_days": c.Policy.ExpireDays, "policy.appeal_days": c.Policy.AppealDays, "policy.retention_days": c.Policy.RetentionDays, "policy.author_days": c.Policy.AuthorDays} {
		if v < 1 || v > 3650 {
			add(key, "must be 1-3650, not %d", v)
		}
	}
	for key, v := range map[string]time.Duration{"policy.reminder_before": c.Policy.ReminderBefore, "policy.survey_delay": c.Policy.SurveyDelay,
		"policy.review_after": c.Policy.ReviewAfter, "policy.process_after": c.Policy.ProcessAfter,
		"policy.expire_after": c.Policy.ExpireAfter, "policy.retention_after": c.Policy.RetentionAfter} {
		if v < 0 {
			add(key, "must not be negative, not %s", v)
		}
	}
	if _, err := time.LoadLocation(c.Policy.Calendar.TimeZone); err != nil {
		add("policy.calendar.time_zone", "unknown time zone %q", c.Policy.Calendar.TimeZone)
	}
	days := map[string]bool{"monday": true, "tuesday": true, "wednesday": true, "thursday": true, "friday": true, "saturday": true, "sunday": true}
	for i, d := range c.Policy.Calendar.Weekend {
		if !days[strings.ToLower(d)] {
			add(fmt.Sprintf("policy.calendar.weekend[%d]", i), "not a weekday name: %q", d)
		}
	}
	for name, list := range map[string][]string{"holidays": c.Policy.Calendar.Holidays, "workdays": c.Policy.Calendar.Workdays} {
		for i, d := range list {
			if _, err := time.Parse("2006-01-02", d); err != nil || !datePattern.MatchString(d) {
				add(fmt.Sprintf("policy.calendar.%s[%d]", name, i), "must be YYYY-MM-DD, not %q", d)
			}
		}
	}
	errs = append(errs, c.validateRouting()...)
	return errors.Join(errs...)
}

// DecodeKey accepts a 32-byte key as 64 hex digits or base64.
func DecodeKey(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, errors.New("must be 32 bytes as 64 hex digits or base64")
}
