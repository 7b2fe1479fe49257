package config

// This file checks the policy section: case numbers, the document rules, the
// deadlines and the business-day calendar they are counted in.

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/policy"
)

// prefixPattern is what a case number may start with (TS-2026-000123): subjects carry
// it, and staff type it.
var prefixPattern = regexp.MustCompile(`^[A-Z]{1,8}$`)

// datePattern insists on the zero-padded form, which time.Parse alone would not: the
// calendar compares the strings.
var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

func (c *Config) checkPolicy(k *checker) {
	p := &c.Policy
	if !prefixPattern.MatchString(p.CasePrefix) {
		k.add("policy.case_prefix", "must be 1-8 capital letters, got %q", p.CasePrefix)
	}
	cat, err := c.Catalogue()
	if err != nil {
		for _, e := range unjoin(err) {
			k.add("policy.document_kinds", "%v", e)
		}
		cat = cases.DefaultCatalogue() // the rules are still checked, against the built-in kinds
	}
	for _, err := range policy.Validate(p.Documents, cat) {
		k.add("policy.documents", "%v", err)
	}
	for i, kind := range p.SensitiveKinds {
		if kind != cases.Unclassified && !cat.Known(kind) {
			k.add(fmt.Sprintf("policy.sensitive_kinds[%d]", i), "unknown document kind %q (known: %s, %s)", kind, cases.JoinKinds(cat.Codes(), ", "), cases.Unclassified)
		}
	}
	// A deadline of 0 days would pass at once; ten years is beyond any real deadline
	// and catches a misplaced digit.
	for _, d := range []struct {
		key string
		v   int
	}{
		{"policy.review_days", p.ReviewDays}, {"policy.process_days", p.ProcessDays},
		{"policy.expire_days", p.ExpireDays}, {"policy.appeal_days", p.AppealDays},
		{"policy.retention_days", p.RetentionDays}, {"policy.author_days", p.AuthorDays},
	} {
		between(k, d.key, d.v, 1, 3650)
	}
	positive(k, "policy.reminder_before", p.ReminderBefore)
	positive(k, "policy.survey_delay", p.SurveyDelay)
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"policy.review_after", p.ReviewAfter}, {"policy.process_after", p.ProcessAfter},
		{"policy.expire_after", p.ExpireAfter}, {"policy.retention_after", p.RetentionAfter},
		{"policy.appeal_after", p.AppealAfter},
	} {
		notNegative(k, d.key, d.v)
	}
	c.checkCalendar(k)
}

// unjoin splits an errors.Join result into its errors.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func (c *Config) checkCalendar(k *checker) {
	cal := &c.Policy.Calendar
	if _, err := time.LoadLocation(cal.TimeZone); err != nil {
		k.add("policy.calendar.time_zone", "unknown time zone %q (an IANA name like Asia/Shanghai)", cal.TimeZone)
	}
	weekend := map[time.Weekday]bool{}
	for i, name := range cal.Weekend {
		day, ok := weekday(name)
		if !ok {
			k.add(fmt.Sprintf("policy.calendar.weekend[%d]", i), "must be a weekday name like saturday, got %q", name)
			continue
		}
		weekend[day] = true
	}
	if len(weekend) == 7 {
		// Business days would never come: every deadline would be counted forever.
		k.add("policy.calendar.weekend", "leaves no working day in the week")
	}
	holidays := map[string]int{}
	for i, d := range cal.Holidays {
		if checkDate(k, fmt.Sprintf("policy.calendar.holidays[%d]", i), d) {
			holidays[d] = i
		}
	}
	for i, d := range cal.Workdays {
		key := fmt.Sprintf("policy.calendar.workdays[%d]", i)
		if !checkDate(k, key, d) {
			continue
		}
		if j, both := holidays[d]; both {
			// The calendar would silently count it as a working day.
			k.add(key, "%s is also policy.calendar.holidays[%d]", d, j)
		}
	}
}

// checkDate reports d that is not a real YYYY-MM-DD date.
func checkDate(k *checker, key, d string) bool {
	if _, err := time.Parse(time.DateOnly, d); err != nil || !datePattern.MatchString(d) {
		k.add(key, "must be a date YYYY-MM-DD, got %q", d)
		return false
	}
	return true
}

// weekday reads a day name as the calendar does (any case).
func weekday(name string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(d.String(), name) {
			return d, true
		}
	}
	return 0, false
}
