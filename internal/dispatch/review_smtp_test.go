package dispatch_test

import (
	"context"
	"encoding/json"
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
