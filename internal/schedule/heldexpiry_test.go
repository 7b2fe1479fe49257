package schedule

import (
	"sync/atomic"
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
)

// The desk was down past a case's expiry, and the complainant's documents came in
// time: they sit in the mailbox. The deadline job that catches up at the start ran
// before intake had read them, expired the case, and the documents then opened a
// new case. Expiry now waits until intake has read the mailbox to its end, and runs
// as soon as it has (at the next tick, whatever the clock says).
func TestExpiryWaitsForIntakeToReadTheMailbox(t *testing.T) {
	st := openStore(t, t.TempDir())
	id := "TS-2026-000007"
	created := at(2026, 3, 1, 10, 0)
	putCase(t, st, &cases.Case{ID: id, State: "incomplete", CreatedAt: created, Complainant: "li@example.com",
		Missing: []cases.Kind{"id_card"}, Events: []cases.Event{{At: created, Type: "created", Actor: "desk", To: "incomplete"}}})
	clk := &clock{}
	clk.Set(at(2026, 3, 20, 10, 0)) // past the expiry
	s := newTestScheduler(t, st, clk, defaultPolicy(), nil)
	var read atomic.Bool
	s.o.IntakeCaughtUp = read.Load
	s.CatchUp()
	s.Tick()
	if c := readCase(t, st, id); c.State != cases.Incomplete {
		t.Fatalf("expired (%s) before intake read the mailbox", c.State)
	}
	read.Store(true) // intake's first pass is done; the clock has not moved
	s.Tick()
	if c := readCase(t, st, id); c.State != cases.Expired {
		t.Errorf("state %s once intake read the mailbox, want expired", c.State)
	}
}
