package dispatch_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/dispatch"
	"github.com/complaintd/complaintd/internal/metrics"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/store"
)

// The reply_sent event names the kind of mail sent, and the stats read it to tell an
// acknowledgement of the complainant from a staff notification. It holds nothing
// personal, so it stays readable without the case's key: after the case's erasure
// (retention erases every closed case), and where facts are computed without opening
// anything sealed (a store's migration). Sealed, an erased case's staff notification
// acknowledged it again in `cases export -csv`.
func TestSentMailKindOutlivesTheCasesErasure(t *testing.T) {
	st := openStore(t)
	sealer := &erasingSealer{erased: map[string]bool{}}
	st.SetSealer(sealer)
	id := "TS-2026-000001"
	m := outbox.Mail{MessageID: "ts-2026-000001.n@desk.example.cn", From: outbox.Address{Address: "desk@desk.example.cn"},
		To: []outbox.Address{{Address: "li.bianji@desk.example.cn"}}, Subject: "[TS-2026-000001] 新案件", Text: "请处理", Date: t0}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Update(func(tx *store.Tx) error {
		if err := tx.PutCase(&cases.Case{ID: id, State: cases.PendingReview, CreatedAt: t0, Complainant: "a@example.cn"}); err != nil {
			return err
		}
		return tx.Enqueue(&store.OutboxEntry{Case: id, Kind: "staff_notification", Mail: raw, MessageID: m.MessageID,
			To: []string{"li.bianji@desk.example.cn"}, NextAt: t0, CreatedAt: t0})
	}); err != nil {
		t.Fatal(err)
	}
	met := &metrics.Metrics{}
	d := dispatch.New(dispatch.Options{Store: st, Sender: &fakeSender{}, Now: func() time.Time { return t0 }, Metrics: met})
	if _, err := d.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	sealer.erase(id)
	var evs []cases.Event
	if err := st.View(func(tx *store.Tx) error {
		var err error
		evs, err = tx.Events(id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sent := 0
	for _, e := range evs {
		if e.Type == cases.EventReplySent {
			sent++
			if e.Note != "staff_notification" {
				t.Errorf("after the erasure the sent mail's event says %q, want its kind staff_notification", e.Note)
			}
		}
	}
	if sent != 1 {
		t.Fatalf("%d reply_sent events, want 1: %+v", sent, evs)
	}
	if tl := cases.TimelineOf(evs); !tl.FirstReplySent.IsZero() {
		t.Errorf("the erased case counts as acknowledged at %v by its staff notification", tl.FirstReplySent)
	}
}
