package dispatch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/dispatch"
	"github.com/complaintd/complaintd/internal/store"
)

// heldStore plays intake's group commits holding the store's one writer: while
// holding, every write waits; a write that waited fails when the process "dies"
// (dead), so nothing the workers sent meanwhile is recorded, as after a SIGKILL.
type heldStore struct {
	holding, dead atomic.Bool
	released      chan struct{}
}

func holdWrites(st *store.Store) *heldStore {
	h := &heldStore{released: make(chan struct{})}
	st.SetFault(func() error {
		if h.holding.Load() {
			<-h.released
		}
		if h.dead.Load() {
			return errors.New("the process is gone")
		}
		return nil
	})
	return h
}

// crash ends the process that runs d: what waited for the writer is never written.
func (h *heldStore) crash(cancel context.CancelFunc, done <-chan error) {
	h.dead.Store(true)
	close(h.released)
	cancel()
	<-done
	h.holding.Store(false)
	h.dead.Store(false)
}

// runUntil runs a dispatcher until cond holds, then stops it cleanly.
func runUntil(t *testing.T, o dispatch.Options, cond func() bool) {
	t.Helper()
	d := dispatch.New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// The process dies while intake's commits hold the store's writer, so the results of
// the replies sent meanwhile are not written: the relay accepted them, and the store
// still says pending. The restarted dispatcher finds them in the journal and sends
// none of them again. Before the journal every one of them went out twice (the
// crash test saw 17 to 36 resends per run).
func TestCrashBeforeResultsAreWrittenSendsNothingTwice(t *testing.T) {
	st := openStore(t)
	h := holdWrites(st)
	journal := filepath.Join(t.TempDir(), "outbox.journal")
	s := newSwitchSender()
	s.hold = time.Millisecond
	const n = 40
	enqueueN(t, st, 0, n)
	h.holding.Store(true)
	o := dispatch.Options{Store: st, Sender: s, SendTimeout: 5 * time.Second, Sessions: 2, Journal: journal}
	d := dispatch.New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, distinct, _ := s.stats(); distinct == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replies were not all sent while the writer was held")
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	h.crash(cancel, done)
	if p := pendingCount(t, st); p != n {
		t.Fatalf("%d pending after the crash, want %d: the test did not keep the results from the store", p, n)
	}
	runUntil(t, o, func() bool { return pendingCount(t, st) == 0 })
	calls, distinct, dups := s.stats()
	if dups != 0 || distinct != n {
		t.Errorf("%d sends of %d replies, %d twice after the crash; want each once", calls, distinct, dups)
	}
	// Each is recorded as sent once, at the time the relay took it, and the journal
	// is emptied.
	var sent int
	st.View(func(tx *store.Tx) error {
		return tx.EachOutbox(func(e *store.OutboxEntry) error {
			if e.State == store.OutboxSent && !e.SentAt.IsZero() && e.Attempts == 1 {
				sent++
			}
			return nil
		})
	})
	if sent != n {
		t.Errorf("%d of %d entries recorded as sent once, with their time", sent, n)
	}
	if fi, err := os.Stat(journal); err != nil || fi.Size() != 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("journal after every result was written: %v, %v; want empty, 0600", fi, err)
	}
}

// A journal that names entries by number alone would mark the wrong replies sent
// beside a store restored from a backup, whose numbers went to other replies since.
// Each record carries its reply's Message-ID (hashed): a record of another reply
// marks nothing, and that reply is sent. A torn record at the end (a power loss in
// the middle of an append) is cut, and what follows it is read by the next start.
func TestJournalMarksOnlyItsOwnReplies(t *testing.T) {
	st := openStore(t)
	dir := t.TempDir()
	journal := filepath.Join(dir, "outbox.journal")
	s := newSwitchSender()
	enqueueN(t, st, 0, 3)
	// The journal of a first life of this store: entries 1 and 2 went out, then it
	// died. Entry 1 was then queued again in a restored store, as another reply.
	h := holdWrites(st)
	first := newSwitchSender()
	h.holding.Store(true)
	o := dispatch.Options{Store: st, Sender: first, SendTimeout: 5 * time.Second, Sessions: 1, Journal: journal}
	d := dispatch.New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for {
		if _, distinct, _ := first.stats(); distinct == 3 {
			break
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	h.crash(cancel, done)
	raw, err := os.ReadFile(journal)
	if err != nil || len(raw) != 3*36 {
		t.Fatalf("journal of 3 accepted replies: %d bytes, %v", len(raw), err)
	}
	// Another reply under entry 1's number, and half a record at the end.
	err = st.Update(func(tx *store.Tx) error {
		e, err := tx.OutboxEntry(1)
		if err != nil {
			return err
		}
		e.MessageID = "restored.ack@desk.example.cn"
		e.Mail = []byte(`{"message_id":"restored.ack@desk.example.cn","from":{"address":"desk@desk.example.cn"},"to":[{"address":"r@example.cn"}],"subject":"[TS] 已收到","text":"您好"}`)
		return tx.PutOutbox(e)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(journal, append(raw, raw[36:54]...), 0o600); err != nil {
		t.Fatal(err)
	}
	// The second life sends the restored reply and dies before recording it: its
	// record follows the cut, so the third life finds it.
	h.holding.Store(true)
	h.released = make(chan struct{})
	o.Sender = s
	d = dispatch.New(o)
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- d.Run(ctx) }()
	for {
		if calls, _, _ := s.stats(); calls == 1 {
			break
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	h.crash(cancel, done)
	runUntil(t, o, func() bool { return pendingCount(t, st) == 0 })
	if calls, distinct, _ := s.stats(); calls != 1 || distinct != 1 || s.sent["restored.ack@desk.example.cn"] != 1 {
		t.Errorf("after the restarts: %d sends %v, want the restored entry's reply alone, once", calls, s.sent)
	}
	if fi, err := os.Stat(journal); err != nil || fi.Size() != 0 {
		t.Errorf("journal after every result was written: %v, %v; want empty", fi, err)
	}
}
