package schedule

import (
	"errors"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/store"
)

// failOnceMailer fails the first digest it is asked to queue (a store write error,
// a full disk), then works.
type failOnceMailer struct {
	fakeMailer
	failed bool
}

func (m *failOnceMailer) Queue(q mailer.Queue, c *cases.Case, o mailer.Outgoing, now time.Time) error {
	if o.Kind == render.KindDigest && !m.failed {
		m.failed = true
		return errors.New("enqueue: no space left on device")
	}
	return m.fakeMailer.Queue(q, c, o, now)
}

// A job's run is recorded only when it succeeded. A digest that failed at 09:00 was
// recorded all the same, so neither the next start's catch-up nor the cron tried it
// again: that day's digest was lost (found in review).
func TestFailedDigestIsCaughtUpAndRetried(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	putCase(t, st, pendingCase("TS-2026-000001", at(2026, 3, 9, 8, 0), at(2026, 3, 9, 8, 10)))
	st.Close()
	m := &failOnceMailer{}
	start := func(now time.Time) *store.Store {
		st := openStore(t, dir)
		s, err := New(Options{Store: st, Mailer: m, Executor: fakeExecutor{}, Deadlines: defaultDeadlines(t), Policy: defaultPolicy(),
			Specs: Specs{Digest: "0 9 * * 1-5"}, Staff: Recipients{Notify: []string{"desk-staff@example.cn"}},
			Now: (&clock{t: now}).Now, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		s.CatchUp() // at 09:00 this is the trigger's run: it fails
		return st
	}
	start(at(2026, 3, 6, 12, 0)).Close() // first start ever (Friday)
	start(at(2026, 3, 9, 9, 0)).Close()  // Monday 09:00: the digest fails
	st = start(at(2026, 3, 9, 10, 0))    // restarted at 10:00
	defer st.Close()
	if got := sent(t, st, "")["digest"]; got != 1 {
		t.Errorf("Monday's digest failed at 09:00 and a start at 10:00 did not catch it up: %d digests, want 1", got)
	}
}

// Without a restart, a failed digest is tried again after retryFailed, not the next
// day.
func TestFailedDigestIsRetriedWithoutARestart(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	putCase(t, st, pendingCase("TS-2026-000001", at(2026, 3, 9, 8, 0), at(2026, 3, 9, 8, 10)))
	clk := &clock{t: at(2026, 3, 6, 12, 0)}
	s, err := New(Options{Store: st, Mailer: &failOnceMailer{}, Executor: fakeExecutor{}, Deadlines: defaultDeadlines(t), Policy: defaultPolicy(),
		Specs: Specs{Digest: "0 9 * * 1-5"}, Staff: Recipients{Notify: []string{"desk-staff@example.cn"}},
		Now: clk.Now, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	s.CatchUp() // first start ever (Friday)
	clk.Set(at(2026, 3, 9, 9, 0))
	s.Tick() // Monday 09:00: the digest fails
	if got := sent(t, st, "")["digest"]; got != 0 {
		t.Fatalf("setup: %d digests after the failure", got)
	}
	clk.Set(at(2026, 3, 9, 9, 0).Add(retryFailed))
	s.Tick()
	if got := sent(t, st, "")["digest"]; got != 1 {
		t.Errorf("%d digests %v after the failure, want 1 (tried again)", got, retryFailed)
	}
}
