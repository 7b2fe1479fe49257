package config

// This file checks the staff section: who may drive cases, who is told, and how a
// staff mail proves itself.

import (
	"net/mail"
	"slices"
	"strings"
	"time"
)

func (c *Config) checkStaff(k *checker) {
	s := &c.Staff
	k.addresses("staff.addresses", s.Addresses)
	k.addresses("staff.notify", s.Notify)
	k.addresses("staff.admins", s.Admins)
	k.addresses("staff.supervisors", s.Supervisors)
	k.addresses("staff.appeal_reviewers", s.AppealReviewers)
	// An alias is a short name for a staff member, as a department's is (routing):
	// 转交 refuses any other address, and one left behind when its person left the
	// staff list assigned cases to a mailbox that receives their data and cannot act.
	staff := map[string]bool{}
	for _, a := range s.Addresses {
		if p, err := mail.ParseAddress(a); err == nil {
			staff[strings.ToLower(p.Address)] = true
		}
	}
	for _, name := range sortedKeys(s.Aliases) {
		a := s.Aliases[name]
		if p, err := mail.ParseAddress(a); err != nil {
			k.address("staff.aliases."+name, a)
		} else if !staff[strings.ToLower(p.Address)] {
			k.add("staff.aliases."+name, "%s is not in staff.addresses", a)
		}
	}
	atLeast(k, "staff.attach_max_bytes", s.AttachMaxBytes, 1)
	atLeast(k, "staff.notify_limit", s.NotifyLimit, 1)
	atLeast(k, "staff.notify_window", s.NotifyWindow, time.Minute)
	k.oneOf("staff.auth.mode", s.Auth.Mode, "token", "auth-results", "token+auth-results", "token|auth-results",
		"dkim", "token+dkim", "token|dkim")
	if strings.Contains(s.Auth.Mode, "auth-results") && s.Auth.AuthServID == "" {
		k.add("staff.auth.authserv_id", "required when staff.auth.mode uses auth-results (the authserv-id your own server writes)")
	}
	positive(k, "staff.auth.token_ttl", s.Auth.TokenTTL)
	if s.Auth.TokenTTL > 0 && s.Auth.TokenTTL < time.Minute {
		k.add("staff.auth.token_ttl", "must be at least 1m, got %v (a token must outlive the time staff take to reply)", s.Auth.TokenTTL)
	}
}

// sortedKeys gives a map's keys in order, so problems come out the same every run.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}
