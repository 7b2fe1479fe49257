package dispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/dispatch"
	"github.com/complaintd/complaintd/internal/metrics"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/store"
)

// A reply whose case was erased before it went out can never be sent (its text went
// with the case's keys): one attempt fails it for good, instead of twenty attempts
// over half a day, each logged as deferred and each marking the relay down.
func TestReplyOfAnErasedCaseFailsAtOnce(t *testing.T) {
	st := openStore(t)
	sealer := &erasingSealer{erased: map[string]bool{}}
	st.SetSealer(sealer)
	m := outbox.Mail{MessageID: "ts-2026-000001.x@desk.example.cn", From: outbox.Address{Address: "desk@desk.example.cn"},
		To: []outbox.Address{{Address: "a@example.cn"}}, Subject: "[TS-2026-000001] 已收到", Text: "您好", Date: t0}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	e := &store.OutboxEntry{Case: "TS-2026-000001", Kind: "acknowledgement", Mail: raw, MessageID: m.MessageID,
		To: []string{"a@example.cn"}, NextAt: t0, CreatedAt: t0}
	if err := st.Update(func(tx *store.Tx) error { return tx.Enqueue(e) }); err != nil {
		t.Fatal(err)
	}
	sealer.erase("TS-2026-000001")
	sender := &fakeSender{}
	met := &metrics.Metrics{}
	met.SMTPUp.Store(true)
	d := dispatch.New(dispatch.Options{Store: st, Sender: sender, Now: func() time.Time { return t0 }, Metrics: met})
	next, err := d.Flush(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got *store.OutboxEntry
	if err := st.View(func(tx *store.Tx) error {
		var err error
		got, err = tx.OutboxEntry(e.Seq)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got.State != store.OutboxFailed || got.Attempts != 1 || !next.IsZero() {
		t.Errorf("after one attempt: state %s, attempts %d, next try %v; want failed, 1, none", got.State, got.Attempts, next)
	}
	if calls, _ := sender.count(); calls != 0 {
		t.Errorf("%d calls to the sender, want 0", calls)
	}
	if !met.SMTPUp.Load() {
		t.Errorf("the relay is reported down because of an erased case's reply")
	}
}

// loginRefuser refuses the login of every attempt, after a login's round trip.
type loginRefuser struct {
	mu    sync.Mutex
	calls int
}

func (s *loginRefuser) Send(ctx context.Context, m outbox.Mail) error {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	time.Sleep(50 * time.Millisecond) // the server's answer to AUTH
	return &outbox.SendError{Temporary: true, Code: 535, Stage: outbox.StageAuth, Err: errors.New("SMTP AUTH failed: 535 5.7.8 authentication failed")}
}

func (s *loginRefuser) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// A refused login with several sessions: the attempts that ran side by side when
// the login was first refused are one refusal, so the pause starts at HoldMin and
// doubles once per pause, not once per session; and when a pause ends, one login
// tests the password, not one per session, as a provider counts every failed login
// towards locking the account.
func TestRefusedLoginWithSeveralSessionsTriesOneLoginPerPause(t *testing.T) {
	st := openStore(t)
	enqueueN(t, st, 0, 8)
	clock := &manualClock{now: t0}
	s := &loginRefuser{}
	d := dispatch.New(dispatch.Options{Store: st, Sender: s, Sessions: 4, SendTimeout: 5 * time.Second, Now: clock.Now,
		HoldMin: 2 * time.Minute, HoldMax: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	settle := func(atLeast int) int {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for s.count() < atLeast || d.Behind() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%d logins, %d behind after 10s", s.count(), d.Behind())
			}
			time.Sleep(5 * time.Millisecond) // polling interval
		}
		return s.count()
	}
	first := settle(1)
	if p, want := d.Problem(), t0.Add(2*time.Minute).Format(time.RFC3339); !strings.Contains(p, "until "+want) {
		t.Errorf("after the first refusal (%d logins side by side): Problem() = %q, want the pause of HoldMin, until %s", first, p, want)
	}
	// The pause ends (at the latest after 16 minutes, the longest pause it may be): one login.
	clock.Set(t0.Add(17 * time.Minute))
	d.Wake()
	if n := settle(first+1) - first; n != 1 {
		t.Errorf("%d logins when the pause ended, want 1", n)
	}
}

// senderRefuser is a relay that refuses the desk's sender at MAIL FROM.
type senderRefuser struct{ loginRefuser }

func (s *senderRefuser) Send(ctx context.Context, m outbox.Mail) error {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	return &outbox.SendError{Temporary: true, Code: 550, Stage: outbox.StageMail,
		Err: errors.New("sending SMTP MAIL FROM command: 550 5.7.1 Sender address rejected: not owned by user desk")}
}

// A relay that refuses the desk's own sender (smtp.from not allowed for the login, a
// sending quota) refuses every reply alike: it is the configuration's fault, not the
// mail's. The replies are kept and sending pauses, loud, as for a refused login.
// Before, each reply failed for good in turn, and the whole queue was dropped.
func TestRefusedSenderKeepsTheRepliesAndPausesSending(t *testing.T) {
	st := openStore(t)
	enqueueN(t, st, 0, 3)
	clock := &manualClock{now: t0}
	s := &senderRefuser{}
	d := dispatch.New(dispatch.Options{Store: st, Sender: s, Sessions: 1, SendTimeout: 5 * time.Second, Now: clock.Now,
		HoldMin: 2 * time.Minute, HoldMax: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for s.count() < 1 || d.Behind() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d attempts, %d behind after 10s", s.count(), d.Behind())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if p := d.Problem(); !strings.Contains(p, "sender refused") {
		t.Errorf("Problem() = %q, want sending paused for the refused sender", p)
	}
	st.View(func(tx *store.Tx) error {
		for seq := uint64(1); seq <= 3; seq++ {
			e, err := tx.OutboxEntry(seq)
			if err != nil {
				t.Fatal(err)
			}
			if e.State != store.OutboxPending || e.Attempts != 0 {
				t.Errorf("reply %d after the refused sender: state %s, attempts %d; want pending, not counted", seq, e.State, e.Attempts)
			}
		}
		return nil
	})
}
