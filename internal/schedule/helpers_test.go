package schedule

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/calendar"
	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/store"
)

// cst is China Standard Time, the calendar's zone.
var cst = time.FixedZone("CST", 8*3600)

func at(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, cst) }

// testCalendar has the 2026 Chinese holidays around New Year and Spring Festival with
// their make-up working days (调休), as in config.example.yaml.
func testCalendar(t testing.TB) *calendar.Calendar {
	t.Helper()
	cal, err := calendar.New("Asia/Shanghai", []string{"saturday", "sunday"},
		[]string{"2026-01-01", "2026-01-02", "2026-01-03",
			"2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23"},
		[]string{"2026-01-04", "2026-02-14", "2026-02-28"})
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

// fakeMailer queues a bare outbox entry, as the real mailer does, inside tx.
type fakeMailer struct{}

func (fakeMailer) Queue(q mailer.Queue, c *cases.Case, o mailer.Outgoing, now time.Time) error {
	var rcpt []string
	for _, a := range o.To {
		rcpt = append(rcpt, a.Address)
	}
	return q.Enqueue(&store.OutboxEntry{Case: c.ID, Kind: o.Kind, To: rcpt, MessageID: o.Kind + "." + c.ID + "." + now.Format("150405.000000000") + "@t", CreatedAt: now, NextAt: now})
}

func (fakeMailer) Update(st mailer.Updater, fn func(*store.Tx) error) error { return st.Update(fn) }

func (fakeMailer) NewMessageID(q mailer.Queue, base string) string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s.%x@t", base, b)
}

func (fakeMailer) View(c *cases.Case) render.Data {
	return render.Data{Case: render.Case{ID: c.ID, State: string(c.State)}}
}

// fakeExecutor does what the real executor (package intake) does for the actions the
// scheduler asks for: the transition, its event, its mail.
type fakeExecutor struct{}

func (fakeExecutor) Execute(tx *store.Tx, c *cases.Case, act cases.Action, actor string, now time.Time) (int, error) {
	to, err := cases.Transition(c.State, act)
	if err != nil {
		return 0, err
	}
	if err := tx.AppendEvent(c.ID, cases.Event{At: now, Type: cases.EventOf(act), Actor: actor, From: c.State, To: to}); err != nil {
		return 0, err
	}
	c.State, c.DueAt, c.UpdatedAt = to, nil, now
	kind := map[cases.Action]string{cases.Expire: render.KindExpired}[act]
	return 1, fakeMailer{}.Queue(tx, c, mailer.Outgoing{Kind: kind, To: []outbox.Address{{Address: c.Complainant}}}, now)
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func defaultPolicy() Policy {
	return Policy{SurveyDelay: time.Hour, Sensitive: func(k cases.Kind) bool {
		return k == cases.IDCard || k == cases.BusinessLicense || k == cases.PowerOfAttorney
	}}
}

func defaultDeadlines(t testing.TB) cases.Deadlines {
	return cases.Deadlines{Calendar: testCalendar(t), Policy: cases.DeadlinePolicy{ReviewDays: 3, ProcessDays: 5, ExpireDays: 15,
		RetentionDays: 180, ReminderBefore: 24 * time.Hour}}
}

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "complaintd.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func newTestScheduler(t testing.TB, st *store.Store, clk *clock, p Policy, eraser Eraser) *Scheduler {
	t.Helper()
	s, err := New(Options{
		Store: st, Mailer: fakeMailer{}, Executor: fakeExecutor{}, Vault: eraser, Deadlines: defaultDeadlines(t), Policy: p,
		Specs: Specs{Deadlines: "@every 5m", Digest: "0 9 * * 1-5", Weekly: "0 9 * * 1", Retention: "30 3 * * *"},
		Staff: Recipients{Notify: []string{"desk-staff@example.cn"}, Supervisors: []string{"boss@example.cn"}, Admins: []string{"ops@example.cn"}},
		Now:   clk.Now, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// putCase stores c with its events.
func putCase(t testing.TB, st *store.Store, c *cases.Case) {
	t.Helper()
	if err := st.Update(func(tx *store.Tx) error {
		for _, e := range c.Events {
			if err := tx.AppendEvent(c.ID, e); err != nil {
				return err
			}
		}
		return tx.PutCase(c)
	}); err != nil {
		t.Fatal(err)
	}
}

// sent counts outbox entries by kind (and case, when caseID is not "").
func sent(t testing.TB, st *store.Store, caseID string) map[string]int {
	t.Helper()
	out := map[string]int{}
	if err := st.View(func(tx *store.Tx) error {
		return tx.EachOutbox(func(e *store.OutboxEntry) error {
			if caseID == "" || e.Case == caseID {
				out[e.Kind]++
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func readCase(t testing.TB, st *store.Store, id string) *cases.Case {
	t.Helper()
	var c *cases.Case
	if err := st.View(func(tx *store.Tx) error {
		var err error
		c, err = tx.Case(id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

// pendingCase is a case that became complete at completed.
func pendingCase(id string, created, completed time.Time) *cases.Case {
	return &cases.Case{ID: id, State: "pending_review", CreatedAt: created, Complainant: "zhang@example.com",
		Events: []cases.Event{
			{At: created, Type: "created", Actor: "desk", To: "incomplete"},
			{At: completed, Type: "state", Actor: "desk", From: "incomplete", To: "pending_review"},
		}}
}

// testLogger logs through t.Log, so a failing test shows the jobs' errors.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
