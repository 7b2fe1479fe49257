package dispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/dispatch"
	"github.com/complaintd/complaintd/internal/metrics"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/store"
)

// fakeSender records what it is asked to send and fails as told: the first failN calls
// return err (then it succeeds), or panics when panicMsg is set.
type fakeSender struct {
	mu       sync.Mutex
	sent     []outbox.Mail
	calls    int
	failN    int
	err      error
	panicMsg string
}

func (f *fakeSender) Send(ctx context.Context, m outbox.Mail) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.panicMsg != "" {
		panic(f.panicMsg)
	}
	if f.failN != 0 {
		if f.failN > 0 {
			f.failN--
		}
		return f.err
	}
	f.sent = append(f.sent, m)
	return nil
}

func (f *fakeSender) count() (calls, sent int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, len(f.sent)
}

// manualClock only moves when told to, so backoff can be measured exactly.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

var (
	temporary = &outbox.SendError{Temporary: true, Code: 451, Stage: outbox.StageMail, Err: errors.New("451 try later")}
	permanent = &outbox.SendError{Code: 550, Stage: outbox.StageRcpt, Err: errors.New("550 no such user")}
	t0        = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
)

type fixture struct {
	st     *store.Store
	clock  *manualClock
	sender *fakeSender
	m      *metrics.Metrics
	d      *dispatch.Dispatcher
}

func newFixture(t *testing.T, sender *fakeSender, mutate func(*dispatch.Options)) *fixture {
	t.Helper()
	st, err := store.Open(t.TempDir()+"/d.db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, clock: &manualClock{now: t0}, sender: sender, m: &metrics.Metrics{}}
	o := dispatch.Options{Store: st, Sender: sender, MaxAttempts: 20, RetryMin: time.Second, RetryMax: 16 * time.Second,
		SendTimeout: 5 * time.Second, Now: f.clock.Now, Metrics: f.m}
	if mutate != nil {
		mutate(&o)
	}
	f.d = dispatch.New(o)
	return f
}

// enqueue stores one reply for case TS-2026-000001, due at t0.
func (f *fixture) enqueue(t *testing.T, mutate func(*outbox.Mail)) uint64 {
	t.Helper()
	m := outbox.Mail{MessageID: "ts-2026-000001.x@desk.example.cn", From: outbox.Address{Address: "desk@desk.example.cn"},
		To: []outbox.Address{{Address: "a@example.cn"}}, Subject: "[TS-2026-000001] 已收到", Text: "您好", Date: t0}
	if mutate != nil {
		mutate(&m)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	e := &store.OutboxEntry{Case: "TS-2026-000001", Kind: "acknowledgement", Mail: raw, MessageID: m.MessageID,
		To: []string{"a@example.cn"}, NextAt: t0, CreatedAt: t0}
	if err := f.st.Update(func(tx *store.Tx) error { return tx.Enqueue(e) }); err != nil {
		t.Fatal(err)
	}
	return e.Seq
}

func (f *fixture) entry(t *testing.T, seq uint64) *store.OutboxEntry {
	t.Helper()
	var e *store.OutboxEntry
	if err := f.st.View(func(tx *store.Tx) error {
		var err error
		e, err = tx.OutboxEntry(seq)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (f *fixture) events(t *testing.T) []cases.Event {
	t.Helper()
	var evs []cases.Event
	if err := f.st.View(func(tx *store.Tx) error {
		var err error
		evs, err = tx.Events("TS-2026-000001")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}

func (f *fixture) flush(t *testing.T) time.Time {
	t.Helper()
	next, err := f.d.Flush(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return next
}

// Retrying a relay that is down must back off exponentially (so a long outage does not
// hammer it), never beyond RetryMax (so recovery is noticed), with bounded jitter.
func TestBackoffGrowsAndCaps(t *testing.T) {
	f := newFixture(t, &fakeSender{failN: -1, err: temporary}, nil)
	seq := f.enqueue(t, nil)
	want := []time.Duration{1, 2, 4, 8, 16, 16, 16, 16}
	for i, w := range want {
		w *= time.Second
		now := f.clock.Now()
		next := f.flush(t)
		e := f.entry(t, seq)
		if e.State != store.OutboxPending || e.Attempts != i+1 {
			t.Fatalf("attempt %d: state %s attempts %d", i+1, e.State, e.Attempts)
		}
		delay := e.NextAt.Sub(now)
		if lo, hi := time.Duration(float64(w)*0.8), time.Duration(float64(w)*1.2); delay < lo || delay > hi {
			t.Errorf("attempt %d: retry in %v, want %v ±20%%", i+1, delay, w)
		}
		if !next.Equal(e.NextAt) {
			t.Errorf("attempt %d: Flush says next at %v, entry says %v", i+1, next, e.NextAt)
		}
		// Not due yet: a Flush just before NextAt must not send.
		f.clock.Set(e.NextAt.Add(-time.Millisecond))
		f.flush(t)
		if got := f.entry(t, seq).Attempts; got != i+1 {
			t.Fatalf("attempt %d: an entry not yet due was tried", i+1)
		}
		f.clock.Set(e.NextAt)
	}
	if got := f.m.RepliesFailed.Load(); got != int64(len(want)) {
		t.Errorf("failed attempts metric = %d, want %d", got, len(want))
	}
	if f.m.SMTPUp.Load() {
		t.Error("SMTP reported up after failures")
	}
}

// Each way an attempt can end must leave the entry in the right state: the outbox
// worker's whole contract is this table.
func TestAttemptOutcomes(t *testing.T) {
	tests := []struct {
		name        string
		why         string
		sender      *fakeSender
		attach      func(*outbox.Mail) error
		attachments bool
		generated   bool // attachments carry their data (a report's chart and CSV)
		maxAttempts int
		wantState   string
		wantEvent   cases.EventType // "" when none
		wantErrPart string
		wantSent    int
	}{
		{name: "success", why: "the normal case: sent, recorded, event for the case log",
			sender: &fakeSender{}, wantState: store.OutboxSent, wantEvent: cases.EventReplySent, wantSent: 1},
		{name: "permanent", why: "a 5xx will never succeed: fail at once, tell the case log",
			sender: &fakeSender{failN: -1, err: permanent}, wantState: store.OutboxFailed, wantEvent: cases.EventReplyFailed, wantErrPart: "550"},
		{name: "temporary", why: "a 4xx is retried later, and nothing is logged on the case yet",
			sender: &fakeSender{failN: -1, err: temporary}, wantState: store.OutboxPending, wantErrPart: "451"},
		{name: "unknown error", why: "an error that is not a SendError must keep the mail, not drop it",
			sender: &fakeSender{failN: -1, err: errors.New("surprise")}, wantState: store.OutboxPending, wantErrPart: "surprise"},
		{name: "panic", why: "a panicking sender must not kill the worker nor lose the mail",
			sender: &fakeSender{panicMsg: "boom"}, wantState: store.OutboxPending, wantErrPart: "panic: boom"},
		{name: "attach hook error", why: "an attachment that cannot be read now may be readable later (disk, vault key)",
			sender: &fakeSender{}, attachments: true, attach: func(*outbox.Mail) error { return errors.New("vault busy") },
			wantState: store.OutboxPending, wantErrPart: "attachments: vault busy"},
		{name: "attach hook ok", why: "the hook runs for mails with attachments and the mail is then sent",
			sender: &fakeSender{}, attachments: true, attach: func(*outbox.Mail) error { return nil },
			wantState: store.OutboxSent, wantEvent: cases.EventReplySent, wantSent: 1},
		{name: "generated attachments", why: "a report's chart and CSV are stored with the mail: the hook, which finds case documents, is not asked (it failed on mail of no case)",
			sender: &fakeSender{}, generated: true, attach: func(*outbox.Mail) error { return errors.New("case : not found") },
			wantState: store.OutboxSent, wantEvent: cases.EventReplySent, wantSent: 1},
		{name: "last attempt", why: "a temporary error on the last allowed attempt gives up",
			sender: &fakeSender{failN: -1, err: temporary}, maxAttempts: 1, wantState: store.OutboxFailed, wantEvent: cases.EventReplyFailed, wantErrPart: "451"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.sender, func(o *dispatch.Options) {
				o.Attach = tc.attach
				if tc.maxAttempts > 0 {
					o.MaxAttempts = tc.maxAttempts
				}
			})
			seq := f.enqueue(t, func(m *outbox.Mail) {
				if tc.attachments {
					m.Attachments = []outbox.Attachment{{Filename: "a.pdf", Ref: "sha"}}
				}
				if tc.generated {
					m.Attachments = []outbox.Attachment{{Filename: "week.csv", ContentType: "text/csv", Data: []byte("id\r\n")}}
				}
			})
			next := f.flush(t)
			e := f.entry(t, seq)
			if e.State != tc.wantState || e.Attempts != 1 {
				t.Fatalf("%s: state %s after %d attempts, want %s after 1", tc.why, e.State, e.Attempts, tc.wantState)
			}
			if tc.wantErrPart != "" && !strings.Contains(e.LastError, tc.wantErrPart) {
				t.Errorf("%s: last error %q lacks %q", tc.why, e.LastError, tc.wantErrPart)
			}
			if tc.wantErrPart == "" && e.LastError != "" {
				t.Errorf("%s: last error %q on success", tc.why, e.LastError)
			}
			if (e.State == store.OutboxPending) != !next.IsZero() {
				t.Errorf("%s: Flush returned next %v for state %s", tc.why, next, e.State)
			}
			if e.State == store.OutboxSent && !e.SentAt.Equal(t0) {
				t.Errorf("%s: SentAt %v, want the clock's %v", tc.why, e.SentAt, t0)
			}
			var types []cases.EventType
			for _, ev := range f.events(t) {
				types = append(types, ev.Type)
			}
			if tc.wantEvent == "" && len(types) != 0 || tc.wantEvent != "" && (len(types) != 1 || types[0] != tc.wantEvent) {
				t.Errorf("%s: events %v, want %q", tc.why, types, tc.wantEvent)
			}
			if _, sent := tc.sender.count(); sent != tc.wantSent {
				t.Errorf("%s: sender got %d mails, want %d", tc.why, sent, tc.wantSent)
			}
			var pending int
			f.st.View(func(tx *store.Tx) error { pending = tx.PendingCount(); return nil })
			if want := map[bool]int{true: 1, false: 0}[tc.wantState == store.OutboxPending]; pending != want {
				t.Errorf("%s: pending index holds %d, want %d", tc.why, pending, want)
			}
			// A second pass at the same instant must not touch a finished entry nor
			// retry a deferred one early.
			calls, _ := tc.sender.count()
			f.flush(t)
			if again, _ := tc.sender.count(); again != calls {
				t.Errorf("%s: a second Flush at the same time called the sender again", tc.why)
			}
		})
	}
}

// The stored mail is sent exactly as queued: the Message-ID and Date fixed at queue
// time are what makes a resend after a crash the same message, not a second one.
func TestSendsStoredMailUnchanged(t *testing.T) {
	s := &fakeSender{failN: 1, err: temporary}
	f := newFixture(t, s, nil)
	seq := f.enqueue(t, func(m *outbox.Mail) { m.InReplyTo = "c1@example.cn"; m.References = []string{"c1@example.cn"} })
	f.flush(t)
	f.clock.Set(f.entry(t, seq).NextAt)
	f.flush(t)
	if _, sent := s.count(); sent != 1 {
		t.Fatalf("sent %d, want 1", sent)
	}
	m := s.sent[0]
	if m.MessageID != "ts-2026-000001.x@desk.example.cn" || !m.Date.Equal(t0) || m.InReplyTo != "c1@example.cn" {
		t.Errorf("sent mail %+v differs from the queued one", m)
	}
}

// blockingSender holds each Send until released, to observe shutdown.
type blockingSender struct {
	started chan struct{}
	release chan struct{}
	mu      sync.Mutex
	sent    int
}

func (b *blockingSender) Send(ctx context.Context, m outbox.Mail) error {
	b.started <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.mu.Lock()
	b.sent++
	b.mu.Unlock()
	return nil
}

// Shutdown must not cut an SMTP exchange in half (the one way to send a reply twice):
// an attempt in flight when Run's context ends is finished and recorded.
func TestRunFinishesAttemptInFlight(t *testing.T) {
	b := &blockingSender{started: make(chan struct{}), release: make(chan struct{})}
	st, err := store.Open(t.TempDir()+"/d.db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := &fixture{st: st}
	f.clock = &manualClock{now: t0}
	seq := f.enqueue(t, nil)
	d := dispatch.New(dispatch.Options{Store: st, Sender: b, SendTimeout: 10 * time.Second, Now: f.clock.Now})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	<-b.started
	cancel()
	close(b.release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if e := f.entry(t, seq); e.State != store.OutboxSent {
		t.Errorf("entry %s after shutdown, want sent (the attempt in flight must finish)", e.State)
	}
}

// Wake must make a sleeping worker send a new entry at once rather than at its next
// 30-second check.
func TestWake(t *testing.T) {
	s := &fakeSender{}
	f := newFixture(t, s, func(o *dispatch.Options) { o.Now = time.Now })
	waitSent := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second) // far below the 30s idle check
		for {
			if _, sent := s.count(); sent >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("worker did not send mail %d within 5s", n)
			}
			time.Sleep(5 * time.Millisecond) // polling interval
		}
	}
	f.enqueue(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	// The first entry is sent by the first pass, which read the due list before
	// sending; the worker then sleeps with an empty outbox.
	waitSent(1)
	f.enqueue(t, nil)
	f.d.Wake()
	waitSent(2)
}
