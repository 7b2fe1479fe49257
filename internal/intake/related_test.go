package intake_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/routing"
)

// TestRelatedCasesNamedUpToTen: a case about an article that many people complained
// about names the latest ten other cases, in its Why list and in the staff
// notification, and says how many more there are. Opening every related case to name
// it (sealed, each with its own related list) made a wave of complaints about one
// article cost more with each mail (BenchmarkOneArticleMany: 160 ms for the 401st).
func TestRelatedCasesNamedUpToTen(t *testing.T) {
	router, err := routing.New(routing.Config{Severity: routing.SeverityConfig{RepeatThreshold: 100, RepeatWindowDays: 30}})
	if err != nil {
		t.Fatal(err)
	}
	d := newDesk(t, withStaff(nil), func(c *config) { c.proc.Router = router })
	const n = 13
	var ids []string
	var last opened
	for i := range n {
		last = d.open(fmt.Sprintf("p%02d@example.cn", i), fmt.Sprintf("wave-%02d@example.cn", i))
		ids = append(ids, last.c.ID)
	}
	named, unnamed := ids[n-11:n-1], ids[:n-11]
	why := strings.Join(last.c.Why, "\n")
	if !strings.Contains(why, "and 2 more") {
		t.Errorf("case why does not count the 2 cases it does not name:\n%s", why)
	}
	body := last.notif.whole
	if !strings.Contains(body, "另有 2 件") {
		t.Errorf("staff notification does not count the 2 cases it does not name:\n%s", body)
	}
	for _, id := range named {
		if !strings.Contains(why, id) || !strings.Contains(body, id) {
			t.Errorf("related case %s not named (why %v)", id, strings.Contains(why, id))
		}
	}
	for _, id := range unnamed {
		if strings.Contains(why, id+" ") || strings.Contains(body, id+"（") {
			t.Errorf("related case %s named beyond the latest ten", id)
		}
	}
}
