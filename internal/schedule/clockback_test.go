package schedule

import (
	"testing"
	"time"
)

// Tick planned each job's next run from the clock and never looked back: after the
// (simulated) clock was moved back, no job ran until the clock reached the old plan
// again, and a drill that rewound the clock file got no reminder, escalation or
// expiry (found in review). Now a clock moved back plans every job again.
func TestClockMovedBackPlansJobsAgain(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	clk := &clock{t: at(2026, 3, 20, 10, 0)}
	s := newTestScheduler(t, st, clk, defaultPolicy(), nil)
	s.CatchUp()
	clk.Set(at(2026, 3, 9, 10, 0)) // the drill rewinds the clock file
	s.Tick()
	// Completed Monday 10:00: review due Thursday 03-12 23:59:59, reminder Wednesday 23:59:59.
	id := "TS-2026-000001"
	putCase(t, st, pendingCase(id, at(2026, 3, 9, 10, 0), at(2026, 3, 9, 10, 0)))
	for _, now := range []time.Time{at(2026, 3, 9, 10, 6), at(2026, 3, 10, 10, 0), at(2026, 3, 12, 8, 0)} {
		clk.Set(now)
		s.Tick()
	}
	if got := sent(t, st, id)["reminder"]; got != 1 {
		t.Errorf("clock moved back 11 days, then forward past the reminder time: %d reminders, want 1 (the deadline job waits for 03-20 10:05)", got)
	}
}
