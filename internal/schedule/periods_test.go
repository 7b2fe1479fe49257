package schedule

import (
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/render"
)

// weeklyRec records the weekly reports queued.
type weeklyRec struct {
	fakeMailer
	csv []string // one per weekly report, in order
}

func (m *weeklyRec) Queue(q mailer.Queue, c *cases.Case, o mailer.Outgoing, now time.Time) error {
	if o.Kind == render.KindWeeklyReport {
		for _, a := range o.Attachments {
			if a.ContentType == "text/csv" {
				m.csv = append(m.csv, string(a.Data))
			}
		}
	}
	return m.fakeMailer.Queue(q, c, o, now)
}

// The weekly report covers the time since the last report. It covered the 7 days
// before the moment it ran: when a report was caught up late (daemon down on Monday
// 09:00, started Tuesday 15:00), the cases of last Monday 09:00 – Tuesday 15:00 were
// in no report, and those of this Monday 09:00 – Tuesday 15:00 in two (found in
// review).
func TestWeeklyReportsNeitherMissNorRepeatACase(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	ids := map[string]time.Time{
		"TS-2026-000001": at(2026, 2, 27, 10, 0), // before the first report
		"TS-2026-000002": at(2026, 3, 3, 10, 0),  // Tuesday of week 10
		"TS-2026-000003": at(2026, 3, 9, 10, 0),  // Monday of week 11, after 09:00
		"TS-2026-000004": at(2026, 3, 12, 10, 0), // Thursday of week 11
	}
	for id, created := range ids {
		putCase(t, st, &cases.Case{ID: id, State: cases.Closed, CreatedAt: created, Complainant: "x@example.cn",
			Events: []cases.Event{{At: created, Type: "created", Actor: "desk", To: cases.Incomplete},
				{At: created.Add(time.Hour), Type: "close", From: cases.Incomplete, To: cases.Closed}}})
	}
	st.Close()
	rec := &weeklyRec{}
	run := func(now time.Time) {
		st := openStore(t, dir)
		defer st.Close()
		s, err := New(Options{Store: st, Mailer: rec, Executor: fakeExecutor{}, Deadlines: defaultDeadlines(t), Policy: defaultPolicy(),
			Specs: Specs{Weekly: "0 9 * * 1"}, Staff: Recipients{Admins: []string{"ops@example.cn"}},
			Now: (&clock{t: now}).Now, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		s.CatchUp() // at Monday 09:00 this is the cron trigger's run too
	}
	run(at(2026, 3, 1, 12, 0))  // first start ever (Sunday)
	run(at(2026, 3, 2, 9, 0))   // Monday 09:00: week 10's report
	run(at(2026, 3, 10, 15, 0)) // down over Monday 03-09 09:00: caught up Tuesday 15:00
	run(at(2026, 3, 16, 9, 0))  // Monday 09:00: the next report
	if len(rec.csv) != 3 {
		t.Fatalf("%d weekly reports, want 3", len(rec.csv))
	}
	for id := range ids {
		n := 0
		for _, csv := range rec.csv {
			if strings.Contains(csv, id) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("case %s (created %s) is in %d weekly reports, want exactly 1", id, ids[id].Format("01-02 15:04"), n)
		}
	}
}

// digestNewRec records the New list of each digest queued.
type digestNewRec struct {
	fakeMailer
	news [][]string
}

func (m *digestNewRec) Queue(q mailer.Queue, c *cases.Case, o mailer.Outgoing, now time.Time) error {
	if o.Kind == render.KindDigest {
		m.news = append(m.news, newIDs(o.Data.Digest.New))
	}
	return m.fakeMailer.Queue(q, c, o, now)
}

// The digest's "new since the last digest" starts at the last digest sent. It started
// at the job's last run, which a run that sent nothing (the day's digest already out)
// moved on: with a digest spec that fires twice a day, the cases that came between
// the morning digest and the afternoon run were new in no digest (found in review).
func TestDigestListsEachNewCaseOnce(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	clk := &clock{t: at(2026, 3, 9, 8, 0)}
	rec := &digestNewRec{}
	s, err := New(Options{Store: st, Mailer: rec, Executor: fakeExecutor{}, Deadlines: defaultDeadlines(t), Policy: defaultPolicy(),
		Specs: Specs{Digest: "0 9,17 * * 1-5"}, Staff: Recipients{Notify: []string{"desk-staff@example.cn"}},
		Now: clk.Now, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	s.CatchUp() // first start ever, Monday 08:00
	s.Tick()
	clk.Set(at(2026, 3, 9, 9, 0))
	s.Tick() // Monday's digest
	id := "TS-2026-000001"
	putCase(t, st, pendingCase(id, at(2026, 3, 9, 12, 0), at(2026, 3, 9, 12, 5)))
	clk.Set(at(2026, 3, 9, 17, 0))
	s.Tick() // the day's digest is out: nothing sent, but the run is recorded
	clk.Set(at(2026, 3, 10, 9, 0))
	s.Tick() // Tuesday's digest
	if len(rec.news) != 2 {
		t.Fatalf("%d digests, want 2", len(rec.news))
	}
	for _, l := range rec.news {
		for _, x := range l {
			if x == id {
				return
			}
		}
	}
	t.Errorf("case %s, created Monday 12:00, is new in no digest: Monday's lists %v, Tuesday's %v", id, rec.news[0], rec.news[1])
}
