package config

// This file checks the routing section: departments, domains and severity rules. The
// exact clashes (a channel or host owned twice) are found here; the finer ones
// (channel names that differ only by 凤凰/频道) by routing.New, which owns that
// normalisation.

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
)

// hostPattern is a host name without scheme, port or path; IDN labels allowed.
var hostPattern = regexp.MustCompile(`^[\p{L}\p{N}]([\p{L}\p{N}-]*[\p{L}\p{N}])?(\.[\p{L}\p{N}]([\p{L}\p{N}-]*[\p{L}\p{N}])?)+$`)

// severityFields are the texts a severity rule may look at, in the order messages
// list them.
func severityFields() []string {
	return []string{"subject", "body", "attachments", "applicant_org", "applicant_email"}
}

func (c *Config) checkRouting(k *checker) {
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
	for name, a := range c.Staff.Aliases {
		aliases[name] = strings.ToLower(a)
	}
	for i, d := range r.Departments {
		key := fmt.Sprintf("routing.departments[%d]", i)
		if strings.TrimSpace(d.Name) == "" {
			k.add(key+".name", "required")
		} else if j, dup := names[d.Name]; dup {
			k.add(key+".name", "%q is also routing.departments[%d]", d.Name, j)
		} else {
			names[d.Name] = i
		}
		if len(d.Channels) == 0 && len(d.Hosts) == 0 && len(d.PathPrefixes) == 0 && d.Name != r.DefaultDepartment {
			k.add(key, "owns no channel, host or path prefix (only the default department may)")
		}
		for j, ch := range d.Channels {
			name := strings.ToLower(strings.TrimSpace(ch))
			if name == "" {
				k.add(fmt.Sprintf("%s.channels[%d]", key, j), "empty channel name")
			} else if other, dup := channels[name]; dup && other != d.Name {
				k.add(fmt.Sprintf("%s.channels[%d]", key, j), "%q is also owned by department %q", ch, other)
			} else {
				channels[name] = d.Name
			}
		}
		for j, h := range d.Hosts {
			name := strings.ToLower(strings.TrimSpace(h))
			if !hostPattern.MatchString(name) {
				k.add(fmt.Sprintf("%s.hosts[%d]", key, j), "must be a host name like finance.ifeng.com (no scheme, port or path), got %q", h)
			} else if other, dup := hosts[name]; dup && other != d.Name {
				k.add(fmt.Sprintf("%s.hosts[%d]", key, j), "%q is also owned by department %q", h, other)
			} else {
				hosts[name] = d.Name
			}
		}
		for j, p := range d.PathPrefixes {
			if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?# ") {
				k.add(fmt.Sprintf("%s.path_prefixes[%d]", key, j), "must be a URL path starting with /, got %q", p)
			}
		}
		for j, a := range d.Staff {
			p, err := mail.ParseAddress(a)
			switch {
			case err != nil:
				k.address(fmt.Sprintf("%s.staff[%d]", key, j), a)
			case !isStaff[strings.ToLower(p.Address)]:
				k.add(fmt.Sprintf("%s.staff[%d]", key, j), "%s is not in staff.addresses (notified, but could not send commands)", a)
			}
		}
		for _, name := range sortedKeys(d.Aliases) {
			a := d.Aliases[name]
			akey := fmt.Sprintf("%s.aliases.%s", key, name)
			p, err := mail.ParseAddress(a)
			switch {
			case err != nil:
				k.address(akey, a)
			case !isStaff[strings.ToLower(p.Address)]:
				k.add(akey, "%s is not in staff.addresses", a)
			case aliases[name] != "" && aliases[name] != strings.ToLower(p.Address):
				k.add(akey, "alias %q already means %s (staff.aliases or another department)", name, aliases[name])
			default:
				aliases[name] = strings.ToLower(p.Address)
			}
		}
	}
	if len(r.Departments) > 0 {
		if r.DefaultDepartment == "" {
			k.add("routing.default_department", "required when departments are configured")
		} else if _, ok := names[r.DefaultDepartment]; !ok {
			k.add("routing.default_department", "%q is not one of routing.departments", r.DefaultDepartment)
		}
	} else if r.DefaultDepartment != "" {
		k.add("routing.default_department", "%q names a department, but routing.departments is empty", r.DefaultDepartment)
	}
	for i, d := range r.Domains {
		if !hostPattern.MatchString(strings.ToLower(strings.TrimSpace(d))) {
			k.add(fmt.Sprintf("routing.domains[%d]", i), "must be a domain like ifeng.com, got %q", d)
		}
	}
	k.addresses("routing.leadership", r.Leadership)
	c.checkSeverity(k)
}

func (c *Config) checkSeverity(k *checker) {
	s := &c.Routing.Severity
	rules := map[string]int{}
	for i, rule := range s.Rules {
		key := fmt.Sprintf("routing.severity.rules[%d]", i)
		if rule.Name == "" {
			k.add(key+".name", "required")
		} else if j, dup := rules[rule.Name]; dup {
			k.add(key+".name", "%q is also routing.severity.rules[%d]", rule.Name, j)
		} else {
			rules[rule.Name] = i
		}
		if rule.Pattern == "" && len(rule.Keywords) == 0 {
			k.add(key, "needs a pattern or keywords")
		}
		if rule.Pattern != "" {
			if _, err := regexp.Compile(rule.Pattern); err != nil {
				k.add(key+".pattern", "not a regular expression (RE2): %v", err)
			}
		}
		if rule.Exclude != "" {
			if _, err := regexp.Compile(rule.Exclude); err != nil {
				k.add(key+".exclude", "not a regular expression (RE2): %v", err)
			}
		}
		for j, kw := range rule.Keywords {
			if strings.TrimSpace(kw) == "" {
				k.add(fmt.Sprintf("%s.keywords[%d]", key, j), "empty keyword")
			}
		}
		for j, f := range rule.Fields {
			k.oneOf(fmt.Sprintf("%s.fields[%d]", key, j), f, severityFields()...)
		}
		k.oneOf(key+".level", rule.Level, "major", "ordinary")
	}
	between(k, "routing.severity.repeat_window_days", s.RepeatWindowDays, 1, 3650)
	atLeast(k, "routing.severity.repeat_threshold", s.RepeatThreshold, 1)
	// A major case is never slower than an ordinary one.
	majorDays(k, "routing.severity.major_review_days", s.MajorReviewDays, "policy.review_days", c.Policy.ReviewDays)
	majorDays(k, "routing.severity.major_process_days", s.MajorProcessDays, "policy.process_days", c.Policy.ProcessDays)
}

// majorDays checks a major-case deadline against the ordinary one it must not exceed
// (when that one is itself sound; its own problem is reported on its own key).
func majorDays(k *checker, key string, v int, limitKey string, limit int) {
	switch {
	case limit < 1 && !k.written(key):
		// The default follows the ordinary deadline, whose own problem says it all.
	case limit < 1:
		atLeast(k, key, v, 1)
	case k.wroteZero(key):
		k.add(key, "must be 1-%d (%s: a major case is not slower), got 0 (leave the key out for the default, %d)", limit, limitKey, v)
	case v < 1 || v > limit:
		k.add(key, "must be 1-%d (%s: a major case is not slower), got %d", limit, limitKey, v)
	}
}
