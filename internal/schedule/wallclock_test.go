package schedule

import (
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/complaintd/complaintd/internal/store"
)

// wallStepped is what time.Now returns after the system's wall clock was stepped
// back by d while the process ran: the wall reading moved back, the monotonic one
// did not. (time.Time's layout with a monotonic reading: wall bit 63 set, bits 30-62
// seconds since 1885, ext the monotonic reading.)
func wallStepped(t time.Time, d time.Duration) time.Time {
	p := (*struct {
		wall uint64
		ext  int64
		loc  *time.Location
	})(unsafe.Pointer(&t))
	p.wall -= uint64(d/time.Second) << 30
	return t
}

type monoClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *monoClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *monoClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Found in review of a91e25a (fixed since): Tick detects a clock moved back with now.Before(s.last). With
// the system clock (clock.System: time.Now), both carry monotonic readings, and Go
// compares those alone: a wall clock stepped back is never seen, although the jobs'
// plans (j.next, from sched.Next of t.In(loc), which strips the monotonic reading)
// are wall times. The deadline job is then held until the wall clock gets back to
// the old plan, as before the fix, which names "the wall clock stepped back".
func TestWallClockSteppedBackPlansJobsAgain(t *testing.T) {
	t0 := time.Now()
	if back := wallStepped(t0, time.Hour); !back.Round(0).Equal(t0.Round(0).Add(-time.Hour)) || back.Before(t0) {
		t.Skipf("wallStepped does not model a wall step on this Go (time.Time layout changed): %v vs %v", back, t0)
	}
	st := openStore(t, t.TempDir())
	defer st.Close()
	clk := &monoClock{t: t0}
	s, err := New(Options{Store: st, Mailer: fakeMailer{}, Executor: fakeExecutor{}, Deadlines: defaultDeadlines(t), Policy: defaultPolicy(),
		Specs: Specs{Deadlines: "@every 5m"}, Now: clk.Now, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	s.CatchUp() // the deadline job runs, next plan: wall t0+5m
	// The wall clock is stepped back a day (NTP correcting a clock that was ahead).
	// Monotonic time goes on: 1s, then 10 minutes later.
	day := 24 * time.Hour
	clk.Set(wallStepped(t0.Add(time.Second), day))
	s.Tick()
	clk.Set(wallStepped(t0.Add(10*time.Minute), day))
	s.Tick()
	var last time.Time
	st.View(func(tx *store.Tx) error { var err error; last, err = tx.LastRun(JobDeadlines); return err })
	if !last.Before(t0.Round(0)) {
		t.Errorf("10 minutes after the wall clock went back a day the deadline job has not run (last run %v): it waits for the old plan, a day away", last)
	}
}
