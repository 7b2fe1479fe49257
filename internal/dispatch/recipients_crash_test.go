package dispatch_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/dispatch"
	"github.com/complaintd/complaintd/internal/store"
)

// A mail to several people, one gone for good and one greylisted: the others took
// it, one transaction each, and the entry is to be rewritten for the greylisted one
// alone. The process dies before that rewrite is written (intake's commits held the
// store's writer). The restart must not send the mail again to those who took it:
// the journal covers a mail the relay accepted whole, and must cover those
// recipients as well.
func TestCrashAfterSomeRecipientsTookTheMailSendsThemNothingTwice(t *testing.T) {
	st := openStore(t)
	h := holdWrites(st)
	journal := filepath.Join(t.TempDir(), "outbox.journal")
	enqueueTo(t, st, "left@desk.example.cn", "zhao@desk.example.cn", "wang@desk.example.cn")
	r := &relay{gone: map[string]bool{"left@desk.example.cn": true}, grey: map[string]bool{"zhao@desk.example.cn": true}}
	now := t0
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	o := dispatch.Options{Store: st, Sender: r, Now: clock, RetryMin: time.Minute, RetryMax: time.Minute, Journal: journal}

	h.holding.Store(true)
	d := dispatch.New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(r.got()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("wang was not sent the mail")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the attempt ends, its result waits for the writer
	h.crash(cancel, done)
	if p := pendingCount(t, st); p != 1 {
		t.Fatalf("%d pending after the crash, want the entry", p)
	}

	r.mu.Lock()
	r.grey = nil
	r.mu.Unlock()
	mu.Lock()
	now = t0.Add(2 * time.Minute)
	mu.Unlock()
	runUntil(t, o, func() bool { return pendingCount(t, st) == 0 })
	if got, want := r.got(), []string{"wang@desk.example.cn", "zhao@desk.example.cn"}; !slices.Equal(got, want) {
		t.Errorf("delivered to %s, want each once: %s", strings.Join(got, ", "), strings.Join(want, ", "))
	}
	var e *store.OutboxEntry
	st.View(func(tx *store.Tx) error { e, _ = tx.OutboxEntry(1); return nil })
	if e == nil || e.State != store.OutboxSent {
		t.Errorf("entry after the restart: %+v, want sent", e)
	}
	// Every record is settled: the journal is emptied.
	if fi, err := os.Stat(journal); err != nil || fi.Size() != 0 {
		t.Errorf("journal after the restart: %v %v, want empty", fi.Size(), err)
	}
}
