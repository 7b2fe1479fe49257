package config

// This file checks the routing section: departments, domains and severity rules.
// It is the longest section check and the one most often edited, so it stands alone.

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
)

// severityFields are the texts a severity rule may look at.
var severityFields = map[string]bool{"subject": true, "body": true, "attachments": true, "applicant_org": true, "applicant_email": true}
var hostPattern = regexp.MustCompile(`^[\p{L}\p{N}]([\p{L}\p{N}-]*[\p{L}\p{N}])?(\.[\p{L}\p{N}]([\p{L}\p{N}-]*[\p{L}\p{N}])?)+$`)

// validateRouting checks the routing section; the exact-name clashes are found here,
// the finer ones (channel names that differ only by 凤凰/频道) by routing.New.
func (c *Config) validateRouting() []error {
	var errs []error
	add := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, a...)))
	}
	r := &c.Routing
	isStaff := map[string]bool{}
	for _, a := range c.Staff.Addresses {
		if p, err := mail.ParseAddress(a); err == nil {
			isStaff[strings.ToLower(p.Address)] = true
		}
	}
	names := map[string]int{}
	channels := map[string]string{}
	hosts := map[string]string{}
	aliases := map[string]string{}
	for k, a := range c.Staff.Aliases {
		aliases[k] = strings.ToLower(a)
	}
	for i, d := range r.Departments {
		key := fmt.Sprintf("routing.departments[%d]", i)
		if strings.TrimSpace(d.Name) == "" {
			add(key+".name", "required")
		} else if j, dup := names[d.Name]; dup {
			add(key+".name", "%q is also routing.departments[%d]", d.Name, j)
		} else {
			names[d.Name] = i
		}
		if len(d.Channels) == 0 && len(d.Hosts) == 0 && len(d.PathPrefixes) == 0 && d.Name != r.DefaultDepartment {
			add(key, "owns no channel, host or path prefix (only the default department may)")
		}
		for j, ch := range d.Channels {
			k := strings.ToLower(strings.TrimSpace(ch))
			if k == "" {
				add(fmt.Sprintf("%s.channels[%d]", key, j), "empty channel name")
			} else if other, dup := channels[k]; dup && other != d.Name {
				add(fmt.Sprintf("%s.channels[%d]", key, j), "%q is also owned by department %q", ch, other)
			} else {
				channels[k] = d.Name
			}
		}
		for j, h := range d.Hosts {
			k := strings.ToLower(strings.TrimSpace(h))
			if !hostPattern.MatchString(k) {
				add(fmt.Sprintf("%s.hosts[%d]", key, j), "must be a host name like finance.ifeng.com (no scheme, port or path), not %q", h)
			} else if other, dup := hosts[k]; dup && other != d.Name {
				add(fmt.Sprintf("%s.hosts[%d]", key, j), "%q is also owned by department %q", h, other)
			} else {
				hosts[k] = d.Name
			}
		}
		for j, p := range d.PathPrefixes {
			if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?# ") {
				add(fmt.Sprintf("%s.path_prefixes[%d]", key, j), "must be a URL path starting with /, not %q", p)
			}
		}
		for j, a := range d.Staff {
			p, err := mail.ParseAddress(a)
			switch {
			case err != nil:
				add(fmt.Sprintf("%s.staff[%d]", key, j), "not an e-mail address: %q", a)
			case !isStaff[strings.ToLower(p.Address)]:
				add(fmt.Sprintf("%s.staff[%d]", key, j), "%s is not in staff.addresses (notified, but could not send commands)", a)
			}
		}
		for k, a := range d.Aliases {
			p, err := mail.ParseAddress(a)
			switch {
			case err != nil:
				add(fmt.Sprintf("%s.aliases.%s", key, k), "not an e-mail address: %q", a)
			case !isStaff[strings.ToLower(p.Address)]:
				add(fmt.Sprintf("%s.aliases.%s", key, k), "%s is not in staff.addresses", a)
			case aliases[k] != "" && aliases[k] != strings.ToLower(p.Address):
				add(fmt.Sprintf("%s.aliases.%s", key, k), "alias %q already means %s (staff.aliases or another department)", k, aliases[k])
			default:
				aliases[k] = strings.ToLower(p.Address)
			}
		}
	}
	if len(r.Departments) > 0 {
		if r.DefaultDepartment == "" {
			add("routing.default_department", "required when departments are configured")
		} else if _, ok := names[r.DefaultDepartment]; !ok {
			add("routing.default_department", "%q is not one of routing.departments", r.DefaultDepartment)
		}
	} else if r.DefaultDepartment != "" {
		add("routing.default_department", "%q names a department, but routing.departments is empty", r.DefaultDepartment)
	}
	for i, d := range r.Domains {
		if !hostPattern.MatchString(strings.ToLower(strings.TrimSpace(d))) {
			add(fmt.Sprintf("routing.domains[%d]", i), "must be a domain like ifeng.com, not %q", d)
		}
	}
	for i, a := range r.Leadership {
		if _, err := mail.ParseAddress(a); err != nil {
			add(fmt.Sprintf("routing.leadership[%d]", i), "not an e-mail address: %q", a)
		}
	}
	s := &r.Severity
	rules := map[string]int{}
	for i, rule := range s.Rules {
		key := fmt.Sprintf("routing.severity.rules[%d]", i)
		if rule.Name == "" {
			add(key+".name", "required")
		} else if j, dup := rules[rule.Name]; dup {
			add(key+".name", "%q is also routing.severity.rules[%d]", rule.Name, j)
		} else {
			rules[rule.Name] = i
		}
		if rule.Pattern == "" && len(rule.Keywords) == 0 {
			add(key, "needs a pattern or keywords")
		}
		if rule.Pattern != "" {
			if _, err := regexp.Compile(rule.Pattern); err != nil {
				add(key+".pattern", "not a regular expression (RE2): %v", err)
			}
		}
		if rule.Exclude != "" {
			if _, err := regexp.Compile(rule.Exclude); err != nil {
				add(key+".exclude", "not a regular expression (RE2): %v", err)
			}
		}
		for j, k := range rule.Keywords {
			if strings.TrimSpace(k) == "" {
				add(fmt.Sprintf("%s.keywords[%d]", key, j), "empty keyword")
			}
		}
		for j, f := range rule.Fields {
			if !severityFields[f] {
				add(fmt.Sprintf("%s.fields[%d]", key, j), "must be subject, body, attachments, applicant_org or applicant_email, not %q", f)
			}
		}
		if rule.Level != "major" && rule.Level != "ordinary" {
			add(key+".level", "must be major or ordinary, not %q", rule.Level)
		}
	}
	if s.RepeatWindowDays < 1 || s.RepeatWindowDays > 3650 {
		add("routing.severity.repeat_window_days", "must be 1-3650, not %d", s.RepeatWindowDays)
	}
	if s.RepeatThreshold < 1 {
		add("routing.severity.repeat_threshold", "must be at least 1, not %d", s.RepeatThreshold)
	}
	if s.MajorReviewDays < 1 || s.MajorReviewDays > c.Policy.ReviewDays {
		add("routing.severity.major_review_days", "must be 1-%d (policy.review_days: a major case is not slower), not %d", c.Policy.ReviewDays, s.MajorReviewDays)
	}
	if s.MajorProcessDays < 1 || s.MajorProcessDays > c.Policy.ProcessDays {
		add("routing.severity.major_process_days", "must be 1-%d (policy.process_days: a major case is not slower), not %d", c.Policy.ProcessDays, s.MajorProcessDays)
	}
	return errs
}
