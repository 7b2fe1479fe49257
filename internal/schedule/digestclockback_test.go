package schedule

import (
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/render"
)

type digestBackRec struct {
	fakeMailer
	news [][]string // the new cases of each digest queued
}

func (m *digestBackRec) Queue(q mailer.Queue, c *cases.Case, o mailer.Outgoing, now time.Time) error {
	if o.Kind == render.KindDigest {
		var ids []string
		for _, s := range o.Data.Digest.New {
			ids = append(ids, s.ID)
		}
		m.news = append(m.news, ids)
	}
	return m.fakeMailer.Queue(q, c, o, now)
}

// Found in review of fd048f0 (fixed since): weekly ignores a weekly-last marker after now (a clock moved
// back, a91e25a's drill), digest does not: since = digest-last, in the future, so
// the digest lists no new case, and digest-last then moves to now, past the cases
// created in between: they are in no digest.
func TestDigestAfterClockMovedBackListsNewCases(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	rec := &digestBackRec{}
	clk := &clock{t: at(2026, 3, 6, 12, 0)}
	s, err := New(Options{Store: st, Mailer: rec, Executor: fakeExecutor{}, Deadlines: defaultDeadlines(t), Policy: defaultPolicy(),
		Specs: Specs{Digest: "0 9 * * 1-5"}, Staff: Recipients{Notify: []string{"desk-staff@example.cn"}},
		Now: clk.Now, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	s.CatchUp()                    // first start ever (Friday)
	clk.Set(at(2026, 3, 16, 9, 0)) // the drill runs the clock forward: Monday 03-16's digest
	s.Tick()
	s.Tick()
	clk.Set(at(2026, 3, 9, 8, 0)) // and rewinds it
	s.Tick()
	id := "TS-2026-000001"
	putCase(t, st, pendingCase(id, at(2026, 3, 9, 8, 30), at(2026, 3, 9, 8, 40)))
	clk.Set(at(2026, 3, 9, 9, 0)) // Monday 03-09's digest
	s.Tick()
	clk.Set(at(2026, 3, 10, 9, 0)) // Tuesday's
	s.Tick()
	n := 0
	for _, ids := range rec.news {
		for _, x := range ids {
			if x == id {
				n++
			}
		}
	}
	if len(rec.news) < 3 {
		t.Fatalf("setup: %d digests, want 3", len(rec.news))
	}
	if n != 1 {
		t.Errorf("case %s (created 03-09 08:30, after the clock was moved back) is new in %d digests, want 1 (digests: %v)", id, n, rec.news)
	}
}
