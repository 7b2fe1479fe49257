package intake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/store"
)

// TestNotificationsPastTheCapAreBatched: past Staff.NotifyLimit notifications to one
// address within the window, each further case is held: one pending mail lists them
// all and goes out when the window ends, and each held case records it (issue 13, 5).
// Once the window has passed, notifications go out one by one again.
func TestNotificationsPastTheCapAreBatched(t *testing.T) {
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	var offset atomic.Int64
	now := func() time.Time { return start.Add(time.Duration(offset.Load())) }
	const staff = "editor@desk.example.cn"
	p, st, _ := newBareProcessor(t, func(o *intake.Options) {
		o.Now = now
		o.Staff.Notify = []string{staff}
		o.Staff.NotifyLimit, o.Staff.NotifyWindow = 2, time.Minute
		o.Staff.AttachMaxBytes = 20 << 20
	})
	var ids []string
	for i := range 6 {
		if i == 5 {
			offset.Store(int64(2 * time.Minute)) // the window has passed
		}
		m := completeComplaint(fmt.Sprintf("张三%d|zhangsan%d@example.cn", i, i), fmt.Sprintf("<batch-%d@example.cn>", i))
		pr, err := p.Prepare(context.Background(), bytes.NewReader(m.bytes()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Commit(budgetSource(uint32(i+1)), pr)
		if err != nil || out.Case == "" {
			t.Fatalf("mail %d: %+v %v", i, out, err)
		}
		ids = append(ids, out.Case)
	}
	st.View(func(tx *store.Tx) error {
		var direct []string
		var batches []*store.OutboxEntry
		tx.EachOutbox(func(e *store.OutboxEntry) error {
			if len(e.To) != 1 || e.To[0] != staff {
				return nil
			}
			switch e.Kind {
			case "staff_notification":
				direct = append(direct, e.Case)
			case "digest":
				batches = append(batches, e)
			}
			return nil
		})
		want := []string{ids[0], ids[1], ids[5]}
		if fmt.Sprint(direct) != fmt.Sprint(want) {
			t.Errorf("notifications sent one by one for %v, want %v (the cap, then after the window)", direct, want)
		}
		if len(batches) != 1 {
			t.Fatalf("%d batch mails, want 1", len(batches))
		}
		b := batches[0]
		if !b.NextAt.Equal(start.Add(time.Minute)) || b.State != store.OutboxPending {
			t.Errorf("batch goes out at %v (%s), want at the end of the window %v", b.NextAt, b.State, start.Add(time.Minute))
		}
		var mail outbox.Mail
		if err := json.Unmarshal(b.Mail, &mail); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids[2:5] {
			if !strings.Contains(mail.Text, id) {
				t.Errorf("batch mail does not list %s:\n%s", id, mail.Text)
			}
		}
		for _, id := range []string{ids[0], ids[1], ids[5]} {
			if strings.Contains(mail.Text, id) {
				t.Errorf("batch mail lists %s, which was notified on its own", id)
			}
		}
		for _, id := range ids[2:5] {
			evs, err := tx.Events(id)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range evs {
				found = found || strings.Contains(e.Note, "notification cap")
			}
			if !found {
				t.Errorf("case %s does not record that its notification was held: %+v", id, evs)
			}
		}
		return nil
	})
}
