package dispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/dispatch"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/store"
)

// relay refuses a transaction whole when any recipient is refused, as SMTP clients
// do (go-mail sends nothing after a refused RCPT TO): for good when one is gone,
// for now when one is greylisted.
type relay struct {
	mu        sync.Mutex
	gone      map[string]bool
	grey      map[string]bool
	delivered []string // one per recipient of each accepted transaction
}

func (r *relay) Send(_ context.Context, m outbox.Mail) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range m.To {
		if r.gone[a.Address] {
			return &outbox.SendError{Code: 550, Stage: outbox.StageRcpt, Err: errors.New("550 5.1.1 user unknown")}
		}
	}
	for _, a := range m.To {
		if r.grey[a.Address] {
			return &outbox.SendError{Temporary: true, Code: 451, Stage: outbox.StageRcpt, Err: errors.New("451 4.7.1 greylisted")}
		}
	}
	for _, a := range m.To {
		r.delivered = append(r.delivered, a.Address)
	}
	return nil
}

func (r *relay) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.delivered)
	slices.Sort(out)
	return out
}

func enqueueTo(t *testing.T, st *store.Store, to ...string) {
	t.Helper()
	m := outbox.Mail{MessageID: "digest.1@desk.example.cn", From: outbox.Address{Address: "desk@desk.example.cn"},
		Subject: "每日摘要", Text: "新案件 3 件", Date: t0}
	for _, a := range to {
		m.To = append(m.To, outbox.Address{Address: a})
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	e := &store.OutboxEntry{Kind: "digest", Mail: raw, MessageID: m.MessageID, To: to, NextAt: t0, CreatedAt: t0}
	if err := st.Update(func(tx *store.Tx) error { return tx.Enqueue(e) }); err != nil {
		t.Fatal(err)
	}
}

func runUntilIdle(t *testing.T, d *dispatch.Dispatcher, st *store.Store) *store.OutboxEntry {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var e *store.OutboxEntry
	deadline := time.Now().Add(10 * time.Second)
	for {
		st.View(func(tx *store.Tx) error {
			var err error
			e, err = tx.OutboxEntry(1)
			return err
		})
		if e != nil && (e.State != store.OutboxPending || e.Attempts > 0) && d.Behind() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no attempt recorded after 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	return e
}

// One address gone dead among the staff (a colleague who left, still in
// staff.notify) refused the whole mail for good: every new-case notification, digest
// and alert failed for all the others too. The mail now goes to the others.
func TestDeadRecipientDoesNotStopTheOthers(t *testing.T) {
	st := openStore(t)
	enqueueTo(t, st, "wang@desk.example.cn", "left@desk.example.cn", "li@desk.example.cn")
	r := &relay{gone: map[string]bool{"left@desk.example.cn": true}}
	d := dispatch.New(dispatch.Options{Store: st, Sender: r, Now: func() time.Time { return t0 }})
	e := runUntilIdle(t, d, st)
	if e.State != store.OutboxSent {
		t.Errorf("state %s (%s), want sent to the two who exist", e.State, e.LastError)
	}
	if got, want := r.got(), []string{"li@desk.example.cn", "wang@desk.example.cn"}; !slices.Equal(got, want) {
		t.Errorf("delivered to %v, want %v", got, want)
	}
}

// A recipient refused for now beside one refused for good: those who took the mail
// are done with it, the entry is kept for the greylisted one alone, and its retry
// does not send the others a second copy.
func TestRecipientRefusedForNowIsRetriedAlone(t *testing.T) {
	st := openStore(t)
	enqueueTo(t, st, "wang@desk.example.cn", "left@desk.example.cn", "zhao@desk.example.cn")
	r := &relay{gone: map[string]bool{"left@desk.example.cn": true}, grey: map[string]bool{"zhao@desk.example.cn": true}}
	now := t0
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	d := dispatch.New(dispatch.Options{Store: st, Sender: r, Now: clock, RetryMin: time.Minute, RetryMax: time.Minute})
	e := runUntilIdle(t, d, st)
	if e.State != store.OutboxPending || !slices.Equal(e.To, []string{"zhao@desk.example.cn"}) {
		t.Fatalf("after the first attempt: state %s, to %v; want pending for zhao alone", e.State, e.To)
	}
	r.mu.Lock()
	r.grey = nil
	r.mu.Unlock()
	mu.Lock()
	now = t0.Add(2 * time.Minute)
	mu.Unlock()
	d2 := dispatch.New(dispatch.Options{Store: st, Sender: r, Now: clock, RetryMin: time.Minute, RetryMax: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d2.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(r.got()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-done
	if got, want := r.got(), []string{"wang@desk.example.cn", "zhao@desk.example.cn"}; !slices.Equal(got, want) {
		t.Errorf("delivered to %v, want each once: %v", got, want)
	}
}

// stoppingRelay refuses one recipient for good and, at the first mail it takes,
// stands for a stop that comes in meanwhile.
type stoppingRelay struct {
	relay
	stop func()
}

func (r *stoppingRelay) Send(ctx context.Context, m outbox.Mail) error {
	err := r.relay.Send(ctx, m)
	if err == nil {
		r.stop()
	}
	return err
}

// A stop during the per-recipient sends lets the exchange in flight finish and leaves
// the recipients not tried yet in the entry: each could take a whole SendTimeout, and
// the stop waited for all of them (found in review).
func TestStopDuringPerRecipientSendsLeavesTheRestForLater(t *testing.T) {
	st := openStore(t)
	enqueueTo(t, st, "wang@desk.example.cn", "left@desk.example.cn", "li@desk.example.cn", "zhao@desk.example.cn")
	ctx, cancel := context.WithCancel(context.Background())
	r := &stoppingRelay{relay: relay{gone: map[string]bool{"left@desk.example.cn": true}}, stop: cancel}
	d := dispatch.New(dispatch.Options{Store: st, Sender: r, Now: func() time.Time { return t0 }})
	if _, err := d.Flush(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if got := r.got(); len(got) != 1 || got[0] != "wang@desk.example.cn" {
		t.Errorf("delivered to %v after the stop, want wang only", got)
	}
	var e *store.OutboxEntry
	st.View(func(tx *store.Tx) error { var err error; e, err = tx.OutboxEntry(1); return err })
	// left@ was not tried either: it is refused at the next attempt.
	if e.State != store.OutboxPending || !slices.Equal(e.To, []string{"left@desk.example.cn", "li@desk.example.cn", "zhao@desk.example.cn"}) {
		t.Errorf("after the stop: state %s, to %v; want pending for the three not tried", e.State, e.To)
	}
}
