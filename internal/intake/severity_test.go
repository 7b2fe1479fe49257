package intake_test

import (
	"strings"
	"testing"

	cfgpkg "github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/routing"
)

// 升级 makes a case major: the leadership is told at once (one mail, marked 【重大】),
// the review deadline shortens, and the rules stop recomputing; 降级 undoes it
// without telling anyone but the staff member.
func TestEscalateAndDowngrade(t *testing.T) {
	const boss = "boss@desk.example.cn"
	router, err := routing.New(cfgpkg.Routing{Leadership: []string{boss}, Severity: cfgpkg.Severity{RepeatThreshold: 2, RepeatWindowDays: 30}})
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
