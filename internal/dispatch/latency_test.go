package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/dispatch"
	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/store"
)

// holdWriter takes the store's one write transaction and keeps it until the returned
// func is called, as intake's commit does while it syncs the vault.
func holdWriter(t testing.TB, st *store.Store) (release func()) {
	t.Helper()
	in, out := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- st.Update(func(*store.Tx) error {
			close(in)
			<-out
			return nil
		})
	}()
	<-in
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(out)
			if err := <-done; err != nil {
				t.Errorf("holding writer: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

// While another writer holds the store (intake registering a group of mails), the
// workers go on sending: no reply waits for the write of the one before it. The
// results are written once the store is free, every reply sent once, with its case
// event (issue 18).
func TestRunSendsWhileStoreIsBusy(t *testing.T) {
	st := openStore(t)
	s := newSwitchSender()
	d := dispatch.New(dispatch.Options{Store: st, Sender: s, SendTimeout: 5 * time.Second, Sessions: 2})
	const n = 40
	err := st.Update(func(tx *store.Tx) error {
		for i := range n {
			id := fmt.Sprintf("ts-2026-%06d.ack@desk.example.cn", i)
			raw := []byte(`{"message_id":"` + id + `","from":{"address":"desk@desk.example.cn"},"to":[{"address":"a@example.cn"}],"subject":"x","text":"x","date":"2026-11-20T10:00:00Z"}`)
			e := &store.OutboxEntry{Case: fmt.Sprintf("TS-2026-%06d", i%10), Kind: "acknowledgement", Mail: raw, MessageID: id,
				To: []string{"a@example.cn"}, NextAt: t0, CreatedAt: t0}
			if err := tx.Enqueue(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, st)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { release(); cancel(); <-done }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		calls, _, _ := s.stats()
		if calls >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d replies handed to SMTP in 20s while the store's writer was busy; with a write per reply it is the number of sessions", calls, n)
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	if p := pendingCount(t, st); p != n {
		t.Errorf("%d pending while the writer is held, want %d (nothing can be written yet)", p, n)
	}
	release()
	for pendingCount(t, st) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d pending after the writer was released", pendingCount(t, st))
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	if calls, distinct, dups := s.stats(); calls != n || distinct != n || dups != 0 {
		t.Errorf("%d sends, %d distinct, %d duplicates; want %d, %d, 0", calls, distinct, dups, n, n)
	}
	sentEvents := 0
	err = st.View(func(tx *store.Tx) error {
		if err := tx.EachOutbox(func(e *store.OutboxEntry) error {
			if e.State != store.OutboxSent || e.SentAt.IsZero() || e.Attempts != 1 {
				t.Errorf("entry %d: state %s, sent_at %v, attempts %d; want sent once", e.Seq, e.State, e.SentAt, e.Attempts)
			}
			return nil
		}); err != nil {
			return err
		}
		for c := range 10 {
			evs, err := tx.Events(fmt.Sprintf("TS-2026-%06d", c))
			if err != nil {
				return err
			}
			for _, ev := range evs {
				if ev.Type == cases.EventReplySent {
					sentEvents++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sentEvents != n {
		t.Errorf("%d reply-sent events, want %d", sentEvents, n)
	}
}

// Shutdown while results wait for the store: Run returns only once they are
// written, so a clean stop never sends a reply twice on the next start.
func TestRunWritesResultsBeforeReturning(t *testing.T) {
	st := openStore(t)
	s := newSwitchSender()
	d := dispatch.New(dispatch.Options{Store: st, Sender: s, SendTimeout: 5 * time.Second, Sessions: 4})
	const n = 12
	enqueueN(t, st, 0, n)
	release := holdWriter(t, st)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { release(); cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		calls, _, _ := s.stats()
		if calls >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d replies sent within 20s while the store's writer was held", calls, n)
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	cancel()
	// The workers stop at once; Run must still wait for the store. (A Run that
	// returned without writing does so well within this bound.)
	select {
	case err := <-done:
		done <- err // for the deferred wait
		t.Fatalf("Run returned while the store's writer was held: %d results not written", pendingCount(t, st))
	case <-time.After(time.Second):
	}
	release()
	select {
	case err := <-done:
		done <- err // for the deferred wait
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if p := pendingCount(t, st); p != 0 {
		t.Errorf("%d pending after Run returned, want 0: accepted replies must be recorded at shutdown", p)
	}
}

// timedSender is the real Sender, noting when the server accepted each Message-ID.
type timedSender struct {
	*outbox.Sender
	mu       sync.Mutex
	accepted map[string]time.Time
}

func (s *timedSender) Send(ctx context.Context, m outbox.Mail) error {
	err := s.Sender.Send(ctx, m)
	if err == nil {
		s.mu.Lock()
		s.accepted[m.MessageID] = time.Now()
		s.mu.Unlock()
	}
	return err
}

// BenchmarkBurstLatency measures the outbox's part of an acknowledgement's latency
// in a burst: from the commit that queues a reply to the SMTP server's acceptance,
// with the real Sender (4 sessions) and an in-process SMTP server. Intake is
// simulated as on a busy machine: a group of 8 replies committed every 200 ms
// (40 mails/s), each commit holding the store's writer for 170 ms (rendering
// passes and the vault's sync on a disk that Dovecot keeps busy). Each b.N is one burst of 200 replies. Run:
//
//	go test -run '^$' -bench BurstLatency -benchtime 3x ./internal/dispatch/
func BenchmarkBurstLatency(b *testing.B) {
	const (
		groups = 25
		per    = 8
		every  = 200 * time.Millisecond
		hold   = 170 * time.Millisecond
	)
	sink, err := mailtest.NewSMTPSink(mailtest.SinkOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	host, port, _ := net.SplitHostPort(sink.Addr())
	p, _ := strconv.Atoi(port)
	var lat []time.Duration
	for i := range b.N {
		real, err := outbox.NewSender(outbox.Options{Host: host, Port: p, TLS: outbox.TLSNone, Timeout: 10 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		s := &timedSender{Sender: real, accepted: map[string]time.Time{}}
		st := openStore(b)
		d := dispatch.New(dispatch.Options{Store: st, Sender: s, SendTimeout: 10 * time.Second, Sessions: 4})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		committed := map[string]time.Time{}
		tick := time.NewTicker(every)
		for g := range groups {
			<-tick.C
			err := st.Update(func(tx *store.Tx) error {
				for k := range per {
					id := fmt.Sprintf("ts-%d-%06d.ack@desk.example.cn", i, g*per+k)
					raw := []byte(`{"message_id":"` + id + `","from":{"address":"desk@desk.example.cn"},"to":[{"address":"a@example.cn"}],"subject":"x","text":"x","date":"2026-11-20T10:00:00Z"}`)
					e := &store.OutboxEntry{Case: fmt.Sprintf("TS-%d-%06d", i, g*per+k), Kind: "acknowledgement", Mail: raw, MessageID: id,
						To: []string{"a@example.cn"}, NextAt: t0, CreatedAt: t0}
					if err := tx.Enqueue(e); err != nil {
						return err
					}
				}
				time.Sleep(hold) // the vault's sync, inside intake's transaction
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			for k := range per {
				committed[fmt.Sprintf("ts-%d-%06d.ack@desk.example.cn", i, g*per+k)] = now
			}
			d.Wake()
		}
		tick.Stop()
		deadline := time.Now().Add(time.Minute)
		for pendingCount(b, st) != 0 {
			if time.Now().After(deadline) {
				b.Fatalf("%d pending a minute after the burst", pendingCount(b, st))
			}
			time.Sleep(10 * time.Millisecond) // polling interval
		}
		cancel()
		<-done
		s.mu.Lock()
		for id, at := range committed {
			acc, ok := s.accepted[id]
			if !ok {
				b.Fatalf("%s not accepted", id)
			}
			lat = append(lat, acc.Sub(at))
		}
		s.mu.Unlock()
	}
	slices.Sort(lat)
	q := func(f float64) float64 { return lat[min(len(lat)-1, int(f*float64(len(lat))))].Seconds() * 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// While the store refuses writes (a full disk), the replies the server accepted
// are not sent again: their results wait, in flight, and are written once the
// store takes them. (Before, each refused write released the entry to the planner,
// which sent it again at once, over and over.) No other reply goes out meanwhile
// (TestNoSendingWhileResultsCannotBeRecorded); all go once the store takes writes.
func TestRecordRefusedSendsNothingTwice(t *testing.T) {
	st := openStore(t)
	var failing atomic.Bool
	var refused atomic.Int64
	st.SetFault(func() error {
		if failing.Load() {
			refused.Add(1)
			return errors.New("no space left on device")
		}
		return nil
	})
	s := newSwitchSender()
	d := dispatch.New(dispatch.Options{Store: st, Sender: s, SendTimeout: 5 * time.Second, Sessions: 2})
	const n = 6
	enqueueN(t, st, 0, n)
	failing.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	// Several refused writes, each followed by a pass of the planner.
	for refused.Load() < 6 {
		if time.Now().After(deadline) {
			t.Fatalf("%d refused writes in 20s", refused.Load())
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	if calls, distinct, _ := s.stats(); calls != distinct || calls == 0 || calls > n {
		t.Fatalf("%d sends of %d replies while their results could not be written: accepted replies sent again", calls, distinct)
	}
	failing.Store(false)
	deadline = time.Now().Add(20 * time.Second)
	for pendingCount(t, st) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d pending after the store took writes again", pendingCount(t, st))
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	if calls, distinct, dups := s.stats(); calls != n || distinct != n || dups != 0 {
		t.Errorf("%d sends, %d distinct, %d duplicates; want %d, %d, 0", calls, distinct, dups, n, n)
	}
}

// erasingSealer seals records in a toy form and refuses (SealRecord) or reports as
// erased (OpenRecord) those of the cases erased.
type erasingSealer struct {
	mu     sync.Mutex
	erased map[string]bool
}

func (s *erasingSealer) erase(c string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.erased[c] = true
}

func (s *erasingSealer) SealRecord(caseID string, plain []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.erased[caseID] {
		return nil, errors.New("case " + caseID + ": key erased")
	}
	return append([]byte("sealed:"), plain...), nil
}

func (s *erasingSealer) OpenRecord(caseID string, sealed []byte) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.erased[caseID] {
		return nil, true, nil
	}
	return sealed[len("sealed:"):], false, nil
}

func (s *erasingSealer) LookupHash(v string) string { return "h:" + v }

// A case erased between its reply's hand-off and the write of the result: the
// reply is recorded as sent (without its mail and recipients, which can no longer
// be sealed), not sent again, and the other results of the same write are not held up by it.
func TestRecordAfterErasure(t *testing.T) {
	st := openStore(t)
	sealer := &erasingSealer{erased: map[string]bool{}}
	st.SetSealer(sealer)
	s := newSwitchSender()
	d := dispatch.New(dispatch.Options{Store: st, Sender: s, SendTimeout: 5 * time.Second, Sessions: 2})
	err := st.Update(func(tx *store.Tx) error {
		for _, c := range []string{"TS-2026-000001", "TS-2026-000002"} {
			id := c + ".ack@desk.example.cn"
			raw := []byte(`{"message_id":"` + id + `","from":{"address":"desk@desk.example.cn"},"to":[{"address":"a@example.cn"}],"subject":"x","text":"x","date":"2026-11-20T10:00:00Z"}`)
			if err := tx.Enqueue(&store.OutboxEntry{Case: c, Kind: "acknowledgement", Mail: raw, MessageID: id,
				To: []string{"a@example.cn"}, NextAt: t0, CreatedAt: t0}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, st)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { release(); cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		calls, _, _ := s.stats()
		if calls >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 replies sent in 20s", calls)
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	sealer.erase("TS-2026-000001")
	release()
	for pendingCount(t, st) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d pending after the writer was released", pendingCount(t, st))
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	cancel()
	if calls, distinct, dups := s.stats(); calls != 2 || distinct != 2 || dups != 0 {
		t.Errorf("%d sends, %d distinct, %d duplicates; want 2, 2, 0", calls, distinct, dups)
	}
	err = st.View(func(tx *store.Tx) error {
		return tx.EachOutbox(func(e *store.OutboxEntry) error {
			if e.State != store.OutboxSent || e.SentAt.IsZero() {
				t.Errorf("%s: state %s, sent_at %v; want sent", e.Case, e.State, e.SentAt)
			}
			if kept := (e.Mail != nil && string(e.Mail) != "null") || len(e.To) > 0; kept != (e.Case == "TS-2026-000002") {
				t.Errorf("%s: mail or recipients kept: %v, want them only for the case not erased", e.Case, kept)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}
