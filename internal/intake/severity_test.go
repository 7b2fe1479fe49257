package intake_test

import (
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/routing"
)

// 升级 makes a case major: the leadership is told at once (one mail, marked 【重大】),
// the review deadline shortens, and the rules stop recomputing; 降级 undoes it
// without telling anyone but the staff member.
func TestEscalateAndDowngrade(t *testing.T) {
	const boss = "boss@desk.example.cn"
	router, err := routing.New(routing.Config{Leadership: []string{boss}, Severity: routing.SeverityConfig{RepeatThreshold: 2, RepeatWindowDays: 30}})
	if err != nil {
		t.Fatal(err)
	}
	d := newDesk(t, withStaff(nil), func(c *config) {
		c.proc.Router = router
		c.proc.Deadlines.Policy.MajorReviewDays = 1
	})
	o := d.open("zhang@example.cn", "esc1@example.cn")
	before := d.caseOf("zhang@example.cn")
	ms := d.command(o, staffA, "cmd-esc1@desk.example.cn", "升级 涉及未成年人")
	lead := one(t, ms, "staff_notification", boss)
	if !strings.Contains(lead.subject, "【重大】") {
		t.Errorf("leadership mail subject %q is not marked major", lead.subject)
	}
	one(t, ms, "staff_confirmation", staffA)
	c := d.caseOf("zhang@example.cn")
	if c.Severity != "major" || !c.SeverityByStaff {
		t.Errorf("after 升级: severity %q, by staff %v", c.Severity, c.SeverityByStaff)
	}
	if c.DueAt == nil || before.DueAt == nil || !c.DueAt.Before(*before.DueAt) {
		t.Errorf("review deadline %v not shortened from %v", c.DueAt, before.DueAt)
	}
	ms = d.command(o, staffA, "cmd-esc2@desk.example.cn", "降级")
	if len(only(ms, "staff_notification", boss)) != 0 {
		t.Error("降级 told the leadership")
	}
	one(t, ms, "staff_confirmation", staffA)
	if c := d.caseOf("zhang@example.cn"); c.Severity != "ordinary" {
		t.Errorf("after 降级: severity %q", c.Severity)
	}
}

// The repeat rule counts earlier cases only: the second complaint from one applicant is
// a repetition of the first, but the first's follow-up (here its 撤回) must not make the
// first case major because the applicant wrote again later.
func TestRepeatRuleCountsEarlierCasesOnly(t *testing.T) {
	const boss = "boss@desk.example.cn"
	router, err := routing.New(routing.Config{Leadership: []string{boss}, Severity: routing.SeverityConfig{RepeatThreshold: 1, RepeatWindowDays: 30}})
	if err != nil {
		t.Fatal(err)
	}
	d := newDesk(t, withStaff(nil), func(c *config) { c.proc.Router = router })
	const addr = "zhang@example.cn"
	m := d.mark()
	d.send(completeComplaint("张三|"+addr, "rep1@example.cn").bytes())
	ack := one(t, d.mails(m), "acknowledgement", addr)
	d.send(completeComplaint("张三|"+addr, "rep2@example.cn").bytes())
	byID := func() map[string]*cases.Case {
		out := map[string]*cases.Case{}
		for _, c := range d.h.cases() {
			out[c.ID] = c
		}
		return out
	}
	all := byID()
	if len(all) != 2 || all["TS-2026-000001"].Severity != cases.Ordinary || all["TS-2026-000002"].Severity != cases.Major {
		t.Fatalf("first ordinary, second a repetition: %v / %v", all["TS-2026-000001"].Severity, all["TS-2026-000002"].Severity)
	}
	m = d.mark()
	d.complainantReply(addr, ack, "rep3@example.cn", "撤回")
	if c := byID()["TS-2026-000001"]; c.State != cases.Withdrawn || c.Severity != cases.Ordinary {
		t.Errorf("first case after its 撤回: state %s severity %s, want withdrawn and still ordinary", c.State, c.Severity)
	}
	if len(only(d.mails(m), "staff_notification", boss)) != 0 {
		t.Error("the first case's follow-up alerted the leadership")
	}
}

// A complete case that is major from the start: the leadership's alert shows it as
// it is after this mail — under review (待审核), not awaiting documents.
func TestMajorAlertShowsTheDecidedState(t *testing.T) {
	const boss = "boss@desk.example.cn"
	router, err := routing.New(routing.Config{Leadership: []string{boss}, Severity: routing.SeverityConfig{Rules: routing.DefaultSeverityRules(), RepeatThreshold: 5, RepeatWindowDays: 30}})
	if err != nil {
		t.Fatal(err)
	}
	d := newDesk(t, withStaff(nil), func(c *config) { c.proc.Router = router })
	m := d.mark()
	mail := completeComplaint("张三|zhang@example.cn", "maj1@example.cn")
	mail.body += "\n我方已委托律师发出律师函。"
	d.send(mail.bytes())
	c := d.caseOf("zhang@example.cn")
	if c.State != cases.PendingReview || c.Severity != cases.Major {
		t.Fatalf("state %s severity %s, want a complete major case", c.State, c.Severity)
	}
	lead := one(t, d.mails(m), "staff_notification", boss)
	if !strings.Contains(lead.whole, "待审核") || strings.Contains(lead.whole, "待补充材料") || strings.Contains(lead.whole, "材料不全") {
		t.Errorf("the leadership's alert does not show the case under review:\n%s", lead.text)
	}
}
