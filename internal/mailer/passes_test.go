// SPDX-License-Identifier: MIT

package mailer

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/store"
)

// outsideTx is a Templates that proves where it runs: it fails the test when called
// while the test's transaction callback runs, and it commits another transaction
// itself, which could not happen while a write transaction held the store.
type outsideTx struct {
	t     *testing.T
	next  Templates
	st    *store.Store
	inTx  *atomic.Bool
	calls *atomic.Int32
	fail  error
}

func (o outsideTx) Render(kind, locale string, d render.Data) (render.Rendered, error) {
	o.calls.Add(1)
	if o.inTx.Load() {
		o.t.Errorf("template %s executed inside the write transaction", kind)
	}
	done := make(chan error, 1)
	go func() {
		done <- o.st.Update(func(tx *store.Tx) error {
			return tx.PutMarker("render-probe", store.Marker{At: time.Now()})
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			o.t.Errorf("another commit during the rendering: %v", err)
		}
	case <-time.After(30 * time.Second):
		// Not Fatal: this runs on one of the mailer's goroutines, not the test's.
		o.t.Error("another commit could not run during the rendering: the store is held")
		return render.Rendered{}, errors.New("the store is held")
	}
	if o.fail != nil {
		return render.Rendered{}, o.fail
	}
	return o.next.Render(kind, locale, d)
}

func newPassStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir()+"/c.db", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestUpdateRendersOutsideTheTransaction: mail queued under Update is rendered with no
// write transaction open (another commit runs meanwhile), and the committed entry holds
// the rendering of the final data, with Message-IDs named before the queueing stable
// across passes (issue 13, 4).
func TestUpdateRendersOutsideTheTransaction(t *testing.T) {
	base := newMailer(t, nil)
	st := newPassStore(t)
	var inTx atomic.Bool
	var calls atomic.Int32
	m := New(Options{Templates: outsideTx{t: t, next: base.o.Templates, st: st, inTx: &inTx, calls: &calls},
		Desk: base.o.Desk, CasePrefix: "TS", Locale: "zh-CN"})
	long := strings.Repeat("很长的标题", 20000) // a large rendering
	c := &cases.Case{ID: "TS-2026-000007", State: cases.Incomplete, Complainant: "zhang@example.com",
		Request: cases.Request{Title: long}}
	var runs int
	var named string
	err := m.Update(st, func(tx *store.Tx) error {
		inTx.Store(true)
		defer inTx.Store(false)
		runs++
		named = m.NewMessageID(tx, c.ID)
		d := m.View(c)
		d.Token = named // bound to the Message-ID, as a staff token is
		return m.Queue(tx, c, Outgoing{Kind: "staff_notification", MessageID: named, Data: d,
			To: []outbox.Address{{Address: "staff@example.cn"}}}, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 || calls.Load() != 1 {
		t.Errorf("%d passes, %d renderings: want 2 passes (note, then queue) and one rendering", runs, calls.Load())
	}
	var entries []*store.OutboxEntry
	st.View(func(tx *store.Tx) error {
		return tx.EachOutbox(func(e *store.OutboxEntry) error { entries = append(entries, e); return nil })
	})
	if len(entries) != 1 {
		t.Fatalf("%d outbox entries, want 1", len(entries))
	}
	var mail outbox.Mail
	if err := json.Unmarshal(entries[0].Mail, &mail); err != nil {
		t.Fatal(err)
	}
	if entries[0].MessageID != named || !strings.Contains(mail.Text, "很长的标题") || !strings.HasPrefix(mail.Subject, "[TS-2026-000007]") {
		t.Errorf("entry %s (named %s), subject %q, text of %d bytes: want the rendering of the final pass", entries[0].MessageID, named, mail.Subject, len(mail.Text))
	}
	if got := m.o.Metrics.RepliesQueued.Get("staff_notification"); got != 1 || m.o.Metrics.RepliesQueued.Total() != 1 {
		t.Errorf("replies queued = %d, want 1 (counted once, for the committed pass)", got)
	}
}

// TestUpdateTemplateErrorCommitsNothing: a template error outside the transaction is
// the caller's error, as it was inside it: nothing is committed.
func TestUpdateTemplateErrorCommitsNothing(t *testing.T) {
	base := newMailer(t, nil)
	st := newPassStore(t)
	var inTx atomic.Bool
	var calls atomic.Int32
	broken := errors.New("injected template failure")
	m := New(Options{Templates: outsideTx{t: t, next: base.o.Templates, st: st, inTx: &inTx, calls: &calls, fail: broken},
		Desk: base.o.Desk, CasePrefix: "TS", Locale: "zh-CN"})
	c := &cases.Case{ID: "TS-2026-000008", State: cases.Incomplete, Complainant: "zhang@example.com"}
	err := m.Update(st, func(tx *store.Tx) error {
		if err := tx.PutMarker("decision", store.Marker{At: time.Now()}); err != nil {
			return err
		}
		return m.Queue(tx, c, Outgoing{Kind: "acknowledgement", Data: m.View(c), To: []outbox.Address{{Address: c.Complainant}}}, time.Now())
	})
	if !errors.Is(err, broken) {
		t.Fatalf("Update: %v, want the template error", err)
	}
	st.View(func(tx *store.Tx) error {
		if _, ok, _ := tx.Marker("decision"); ok {
			t.Error("the decision was committed without its mail")
		}
		n := 0
		tx.EachOutbox(func(*store.OutboxEntry) error { n++; return nil })
		if n != 0 {
			t.Errorf("%d outbox entries committed", n)
		}
		return nil
	})
}

// panickyTemplates fails as a rendering bug on hostile data would: a runtime error.
type panickyTemplates struct{}

func (panickyTemplates) Render(kind, locale string, d render.Data) (render.Rendered, error) {
	var s []int
	_ = s[len(d.Case.ID)]
	return render.Rendered{}, nil
}

// TestUpdateRenderPanicReachesTheCaller: the renderings run on goroutines of their
// own, but a panic in one still reaches Update's caller, which recovers from it
// (intake sets the mail aside), with the rendering's stack; nothing is committed.
// Before, it ended the whole process.
func TestUpdateRenderPanicReachesTheCaller(t *testing.T) {
	base := newMailer(t, nil)
	st := newPassStore(t)
	m := New(Options{Templates: panickyTemplates{}, Desk: base.o.Desk, CasePrefix: "TS", Locale: "zh-CN"})
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		m.Update(st, func(tx *store.Tx) error {
			if err := tx.PutMarker("decision", store.Marker{At: time.Now()}); err != nil {
				return err
			}
			for _, id := range []string{"TS-2026-000009", "TS-2026-000010", "TS-2026-000011"} {
				c := &cases.Case{ID: id, State: cases.Incomplete, Complainant: "zhang@example.com"}
				if err := m.Queue(tx, c, Outgoing{Kind: "acknowledgement", Data: m.View(c), To: []outbox.Address{{Address: c.Complainant}}}, time.Now()); err != nil {
					return err
				}
			}
			return nil
		})
	}()
	if recovered == nil {
		t.Fatal("Update returned although its rendering panicked")
	}
	if got := fmt.Sprint(recovered); !strings.Contains(got, "render acknowledgement: runtime error: index out of range") ||
		!strings.Contains(got, "panickyTemplates.Render") {
		t.Fatalf("the caller recovered %q, want the rendering's error and stack", got)
	}
	st.View(func(tx *store.Tx) error {
		if _, ok, _ := tx.Marker("decision"); ok {
			t.Error("the decision was committed although its mail's rendering panicked")
		}
		return nil
	})
}
