package dispatch

// The journal's bookkeeping in orders of events that the goroutines allow but a test
// of Run cannot time (found in review of the journal).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/store"
)

// countingSender accepts every mail, except the next one when failNext is set
// (a 451).
type countingSender struct {
	mu       sync.Mutex
	accepted map[string]int
	failNext bool
}

func (s *countingSender) Send(ctx context.Context, m outbox.Mail) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext {
		s.failNext = false
		return &outbox.SendError{Temporary: true, Code: 451, Stage: outbox.StageRcpt, Err: errors.New("451 greylisted")}
	}
	s.accepted[m.MessageID]++
	return nil
}

func (s *countingSender) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted[id]
}

func enqueueOne(t *testing.T, st *store.Store, id string) *store.OutboxEntry {
	t.Helper()
	e := &store.OutboxEntry{Kind: "acknowledgement", MessageID: id, To: []string{"a@example.cn"},
		Mail:   []byte(`{"message_id":"` + id + `","from":{"address":"desk@desk.example.cn"},"to":[{"address":"a@example.cn"}],"subject":"x","text":"y"}`),
		NextAt: time.Now().Add(-time.Minute), CreatedAt: time.Now()}
	if err := st.Update(func(tx *store.Tx) error { return tx.Enqueue(e) }); err != nil {
		t.Fatal(err)
	}
	return e
}

func internalStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "d.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// drain runs a new life of the dispatcher until nothing is pending.
func drain(t *testing.T, o Options) {
	t.Helper()
	d := New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var pending int
		o.Store.View(func(tx *store.Tx) error { pending = tx.PendingCount(); return nil })
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pending after 10s", pending)
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
}

// The write of a failed attempt settles no journal record, even when it lands after
// a retry of the same entry was accepted and noted: the number is the same, the
// record is the retry's. Before, the journal forgot the number and, with nothing
// else in it, emptied the file: a crash then sent the accepted retry again.
func TestFailedAttemptWrittenLateKeepsTheRetrysRecord(t *testing.T) {
	st := internalStore(t)
	const id = "ts-2026-000001.ack@desk.example.cn"
	e := enqueueOne(t, st, id)
	path := filepath.Join(t.TempDir(), "outbox.journal")
	s := &countingSender{accepted: map[string]int{}, failNext: true}
	o := Options{Store: st, Sender: s, SendTimeout: 5 * time.Second, RetryMin: time.Nanosecond, RetryMax: time.Nanosecond, Journal: path}
	d := New(o)
	jr, _ := openJournal(path, d.o.Logger)
	d.journal = jr
	rec := newRecorder(d)
	ctx := context.Background()
	o1, _, _ := d.try(ctx, e.Seq) // 451
	if o1 == nil || o1.sendErr == nil {
		t.Fatal("attempt 1 should fail")
	}
	o2, _, _ := d.try(ctx, e.Seq) // accepted, noted
	if o2 == nil || o2.sendErr != nil {
		t.Fatal("attempt 2 should be accepted")
	}
	if left := rec.write([]*outcome{o1}); len(left) != 0 {
		t.Fatal("the failed attempt was not written")
	}
	fi, err := os.Stat(path)
	jr.close() // the crash: attempt 2 is never written
	if err != nil || fi.Size() != journalRecordSize {
		t.Fatalf("journal after the failed attempt was written: %v %v, want the retry's record", fi, err)
	}
	drain(t, o)
	if n := s.count(id); n != 1 {
		t.Errorf("reply accepted %d times, want 1", n)
	}
}

// A journal may hold two records of one number with different replies: one of a
// store since restored from a backup, one of the reply that number holds now. The
// first is passed over at the start; that must not settle the second, whose write
// is still to come. Before, the records were known by number alone, the file was
// emptied, and a crash before the write sent the reply again.
func TestStaleRecordOfTheSameNumberKeepsTheLiveOne(t *testing.T) {
	st := internalStore(t)
	const id = "ts-2026-000002.ack@desk.example.cn"
	e := enqueueOne(t, st, id)
	path := filepath.Join(t.TempDir(), "outbox.journal")
	now := time.Now()
	stale := accepted{seq: e.Seq, at: now.Add(-time.Hour), attempts: 1, hash: replyHash(&store.OutboxEntry{MessageID: "old.reply@desk.example.cn"})}
	live := accepted{seq: e.Seq, at: now, attempts: 1, hash: replyHash(e)}
	if err := os.WriteFile(path, append(stale.encode(), live.encode()...), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &countingSender{accepted: map[string]int{}}
	o := Options{Store: st, Sender: s, SendTimeout: 5 * time.Second, Journal: path}
	d := New(o)
	jr, left := openJournal(path, d.o.Logger)
	d.journal = jr
	rec := newRecorder(d) // not running: its write waits for the store's writer
	d.replay(left, rec)
	if len(rec.queue) != 1 {
		t.Fatalf("replay queued %d outcomes, want the live record's", len(rec.queue))
	}
	fi, err := os.Stat(path)
	jr.close() // the crash, before the recorder wrote the replayed reply
	if err != nil || fi.Size() == 0 {
		t.Fatalf("journal emptied while the replayed reply is still unrecorded: %v %v", fi, err)
	}
	drain(t, o)
	if n := s.count(id); n != 0 {
		t.Errorf("the reply accepted before the crash was sent %d more times", n)
	}
}

// A damaged record in the middle of the journal (bit rot) is passed over; the
// records after it are read.
func TestDamagedRecordPassedOver(t *testing.T) {
	st := internalStore(t)
	a, b := enqueueOne(t, st, "a.ack@desk.example.cn"), enqueueOne(t, st, "b.ack@desk.example.cn")
	path := filepath.Join(t.TempDir(), "outbox.journal")
	ra := accepted{seq: a.Seq, at: time.Now(), attempts: 1, hash: replyHash(a)}.encode()
	ra[10] ^= 0xff
	rb := accepted{seq: b.Seq, at: time.Now(), attempts: 1, hash: replyHash(b)}.encode()
	if err := os.WriteFile(path, append(ra, rb...), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &countingSender{accepted: map[string]int{}}
	drain(t, Options{Store: st, Sender: s, SendTimeout: 5 * time.Second, Journal: path})
	if s.count("a.ack@desk.example.cn") != 1 || s.count("b.ack@desk.example.cn") != 0 {
		t.Errorf("sent %v: want a (its record is damaged), not b", s.accepted)
	}
}

// A Run after one whose recorder gave up at its stop (the store refused the last
// write) sends again once the store takes writes: the refusal is not carried over.
func TestSecondRunSendsAfterAGivenUpWrite(t *testing.T) {
	st := internalStore(t)
	const id = "ts-2026-000003.ack@desk.example.cn"
	enqueueOne(t, st, id)
	var refuse atomic.Bool
	st.SetFault(func() error {
		if refuse.Load() {
			return errors.New("no space left on device")
		}
		return nil
	})
	refuse.Store(true)
	s := &countingSender{accepted: map[string]int{}, failNext: true} // the attempt fails: nothing to note
	o := Options{Store: st, Sender: s, SendTimeout: 5 * time.Second, RetryMin: time.Nanosecond, RetryMax: time.Nanosecond,
		Journal: filepath.Join(t.TempDir(), "outbox.journal")}
	d := New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for !d.unrecorded.Load() {
		time.Sleep(time.Millisecond) // polling interval
	}
	cancel()
	<-done
	refuse.Store(false)
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for s.count(id) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	cancel()
	<-done
	if n := s.count(id); n != 1 {
		t.Errorf("second Run with a healthy store: reply accepted %d times, want 1", n)
	}
}

// A sent mail of no case (a digest, a weekly report) keeps its headers only: its body
// and attachments list applicants and complainants' addresses in clear, out of reach
// of a case's erasure (found in review). A case's reply, sealed with its key, is kept
// whole.
func TestSentMailOfNoCaseKeepsItsHeadersOnly(t *testing.T) {
	st := internalStore(t)
	digest := &store.OutboxEntry{Kind: "digest", MessageID: "digest.1@desk.example.cn", To: []string{"staff@example.cn"},
		Mail: []byte(`{"message_id":"digest.1@desk.example.cn","from":{"address":"desk@desk.example.cn"},"to":[{"address":"staff@example.cn"}],` +
			`"subject":"每日汇总","text":"张三丰 申请删除《我的邻居》","attachments":[{"filename":"w.csv","content_type":"text/csv","data":"5byg5LiJ"}]}`),
		NextAt: time.Now().Add(-time.Minute), CreatedAt: time.Now()}
	if err := st.Update(func(tx *store.Tx) error { return tx.Enqueue(digest) }); err != nil {
		t.Fatal(err)
	}
	ack := &store.OutboxEntry{Case: "TS-2026-000009", Kind: "acknowledgement", MessageID: "ack.1@desk.example.cn", To: []string{"a@example.cn"},
		Mail:   []byte(`{"message_id":"ack.1@desk.example.cn","from":{"address":"desk@desk.example.cn"},"to":[{"address":"a@example.cn"}],"subject":"x","text":"y"}`),
		NextAt: time.Now().Add(-time.Minute), CreatedAt: time.Now()}
	if err := st.Update(func(tx *store.Tx) error { return tx.Enqueue(ack) }); err != nil {
		t.Fatal(err)
	}
	s := &countingSender{accepted: map[string]int{}}
	drain(t, Options{Store: st, Sender: s, SendTimeout: 5 * time.Second})
	st.View(func(tx *store.Tx) error {
		e, err := tx.OutboxEntry(digest.Seq)
		if err != nil {
			t.Fatal(err)
		}
		var m outbox.Mail
		if err := json.Unmarshal(e.Mail, &m); err != nil {
			t.Fatal(err)
		}
		if m.Text != "" || len(m.Attachments) != 0 || m.Subject != "每日汇总" || m.MessageID != digest.MessageID || e.State != store.OutboxSent {
			t.Errorf("sent digest kept as %+v (state %s); want its headers only", m, e.State)
		}
		a, err := tx.OutboxEntry(ack.Seq)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Mail, ack.Mail) {
			t.Errorf("a case's reply changed once sent: %s", a.Mail)
		}
		return nil
	})
}
