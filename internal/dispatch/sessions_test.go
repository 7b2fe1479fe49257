package dispatch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/dispatch"
	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/store"
)

// relayDown is what a stopped relay looks like to the worker.
var relayDown = &outbox.SendError{Temporary: true, Stage: outbox.StageConnect, Err: errors.New("dial tcp: connection refused")}

// switchSender fails every Send with a relay fault while down is set, and Probe too;
// it records the Message-IDs it accepted and the largest number of Sends in flight
// at once, and refuses to send one Message-ID twice concurrently.
type switchSender struct {
	mu          sync.Mutex
	down        bool
	failAfter   int // when > 0: the relay falls over again after this many more accepted mails
	sent        map[string]int
	calls       int
	inflight    map[string]bool
	cur, peak   int
	hold        time.Duration // each accepted Send takes this long
	holdFor     func(messageID string) time.Duration
	concurrency []string // Message-IDs sent while already in flight (must stay empty)
	order       []string // accepted Message-IDs in the order accepted
	probes      int
}

func newSwitchSender() *switchSender {
	return &switchSender{sent: map[string]int{}, inflight: map[string]bool{}}
}

func (s *switchSender) setDown(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = v
}

func (s *switchSender) Probe(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.probes++
	if s.down {
		return relayDown
	}
	return nil
}

func (s *switchSender) Send(ctx context.Context, m outbox.Mail) error {
	s.mu.Lock()
	s.calls++
	if s.down {
		s.mu.Unlock()
		return relayDown
	}
	if s.inflight[m.MessageID] {
		s.concurrency = append(s.concurrency, m.MessageID)
	}
	s.inflight[m.MessageID] = true
	s.cur++
	s.peak = max(s.peak, s.cur)
	hold := s.hold
	if s.holdFor != nil {
		hold = s.holdFor(m.MessageID)
	}
	s.mu.Unlock()
	if hold > 0 {
		time.Sleep(hold) // the server's work on the message
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur--
	delete(s.inflight, m.MessageID)
	s.sent[m.MessageID]++
	s.order = append(s.order, m.MessageID)
	if s.failAfter > 0 {
		s.failAfter--
		if s.failAfter == 0 {
			s.down = true
		}
	}
	return nil
}

// noProbe hides switchSender's Probe: the worker then tries one due reply per pass
// during an outage, so replies end up waiting on their own backoff.
type noProbe struct{ s *switchSender }

func (n noProbe) Send(ctx context.Context, m outbox.Mail) error { return n.s.Send(ctx, m) }

// waitProbes polls until the worker has probed n times (an outage seen through).
func (s *switchSender) waitProbes(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s.mu.Lock()
		p := s.probes
		s.mu.Unlock()
		if p >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d probes in 20s, want %d", p, n)
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
}

func (s *switchSender) stats() (calls, distinct, dups int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.sent {
		if n > 1 {
			dups += n - 1
		}
	}
	return s.calls, len(s.sent), dups
}

// enqueueN stores replies from..from+n-1, each with its own Message-ID, due at t0.
func enqueueN(t *testing.T, st *store.Store, from, n int) {
	t.Helper()
	err := st.Update(func(tx *store.Tx) error {
		for i := from; i < from+n; i++ {
			id := fmt.Sprintf("ts-2026-%06d.ack@desk.example.cn", i)
			raw := []byte(`{"message_id":"` + id + `","from":{"address":"desk@desk.example.cn"},"to":[{"address":"a` + strconv.Itoa(i) +
				`@example.cn"}],"subject":"[TS] 已收到","text":"您好","date":"2026-11-20T10:00:00Z"}`)
			e := &store.OutboxEntry{Kind: "acknowledgement", Mail: raw, MessageID: id, To: []string{fmt.Sprintf("a%d@example.cn", i)}, NextAt: t0, CreatedAt: t0}
			if err := tx.Enqueue(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func pendingCount(t testing.TB, st *store.Store) int {
	t.Helper()
	var n int
	st.View(func(tx *store.Tx) error { n = tx.PendingCount(); return nil })
	return n
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir()+"/d.db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// An SMTP outage: every reply fails and waits on its backoff, up to retry_max (1h
// here). The first reply accepted after the relay is back releases the others at
// once: all are sent at the same instant of the injected clock, not an hour later.
func TestRecoverySendsWaitingRepliesAtOnce(t *testing.T) {
	st := openStore(t)
	clock := &manualClock{now: t0}
	s := newSwitchSender()
	d := dispatch.New(dispatch.Options{Store: st, Sender: noProbe{s}, RetryMin: time.Minute, RetryMax: time.Hour,
		SendTimeout: 5 * time.Second, Now: clock.Now, Burst: 5})
	const n = 23
	enqueueN(t, st, 0, n)
	s.setDown(true)
	// Two hours of outage, a pass every 10 minutes: each pass tries one reply (no
	// probe passes), so the replies end up waiting on backoffs of up to an hour.
	for i := range 12 {
		clock.Set(t0.Add(time.Duration(i) * 10 * time.Minute))
		if _, err := d.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	calls, _, _ := s.stats()
	if calls > 12 {
		t.Errorf("%d attempts in 12 passes of an outage: the relay was hammered", calls)
	}
	var later int
	st.View(func(tx *store.Tx) error {
		return tx.EachPending(func(e *store.OutboxEntry) error {
			if e.Attempts > 0 && e.NextAt.After(clock.Now().Add(time.Minute)) {
				later++
			}
			return nil
		})
	})
	if later == 0 {
		t.Fatal("no reply waits on a backoff: the test does not test recovery")
	}

	s.setDown(false)
	recovered := t0.Add(2 * time.Hour)
	clock.Set(recovered)
	if _, err := d.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := pendingCount(t, st); p != 0 {
		t.Fatalf("%d replies still wait after the relay came back (they waited on backoffs of up to an hour)", p)
	}
	_, distinct, dups := s.stats()
	if distinct != n || dups != 0 {
		t.Errorf("sent %d distinct replies with %d duplicates, want %d and 0", distinct, dups, n)
	}
	st.View(func(tx *store.Tx) error {
		return tx.EachOutbox(func(e *store.OutboxEntry) error {
			if !e.SentAt.Equal(recovered) {
				t.Errorf("%s sent at %v, want at the recovery %v", e.MessageID, e.SentAt, recovered)
			}
			return nil
		})
	})
}

// The relay falls over again right after coming back: the release stops at once,
// at most one burst is tried, and the rest keep their backoff.
func TestRecoveryStopsWhenRelayFailsAgain(t *testing.T) {
	st := openStore(t)
	clock := &manualClock{now: t0}
	s := newSwitchSender()
	const burst = 4
	d := dispatch.New(dispatch.Options{Store: st, Sender: noProbe{s}, RetryMin: time.Minute, RetryMax: time.Hour,
		SendTimeout: 5 * time.Second, Now: clock.Now, Burst: burst})
	const n = 30
	enqueueN(t, st, 0, n)
	s.setDown(true)
	for i := range n { // every reply is tried once and waits
		clock.Set(t0.Add(time.Duration(i) * time.Second))
		d.Flush(context.Background())
	}
	before, _, _ := s.stats()
	// Back for two mails only: the trigger and one of the burst.
	s.mu.Lock()
	s.down, s.failAfter = false, 2
	s.mu.Unlock()
	enqueueN(t, st, n, 1) // a new reply, due now: the trigger
	clock.Set(t0.Add(n * time.Second))
	d.Flush(context.Background())
	calls, distinct, _ := s.stats()
	if got := calls - before; got > 1+burst {
		t.Errorf("%d attempts after a relapse, want at most 1 + one burst of %d", got, burst)
	}
	if distinct != 2 {
		t.Errorf("%d replies accepted, want 2", distinct)
	}
	if p := pendingCount(t, st); p != n+1-2 {
		t.Errorf("%d pending, want %d", p, n+1-2)
	}
}

// Run with a relay that is down, then up, and an injected clock that never moves:
// the replies' backoffs never expire, so only the probe and the recovery can send
// them — within seconds of real time.
func TestRunRecoversWithoutClock(t *testing.T) {
	st := openStore(t)
	clock := &manualClock{now: t0}
	s := newSwitchSender()
	s.setDown(true)
	d := dispatch.New(dispatch.Options{Store: st, Sender: s, RetryMin: time.Hour, RetryMax: time.Hour,
		SendTimeout: 5 * time.Second, Now: clock.Now, Sessions: 3, ProbeEvery: 50 * time.Millisecond})
	const n = 40
	enqueueN(t, st, 0, n)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// While down: one failed attempt, then only probes.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if calls, _, _ := s.stats(); calls >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no attempt within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.waitProbes(t, 5) // several probe periods, to count the attempts made meanwhile
	// Each session may have taken a reply before the first failure was recorded,
	// and the planner one more hand-off.
	if calls, _, _ := s.stats(); calls > 3+1 {
		t.Errorf("%d attempts during the outage with 3 sessions, want at most 4 (then probes only)", calls)
	}
	s.setDown(false)
	up := time.Now()
	for pendingCount(t, st) != 0 {
		if time.Since(up) > 15*time.Second {
			t.Fatalf("%d replies still pending 15s after recovery", pendingCount(t, st))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("all %d replies sent %v after the relay came back", n, time.Since(up).Round(time.Millisecond))
	if _, distinct, dups := s.stats(); distinct != n || dups != 0 {
		t.Errorf("sent %d distinct with %d duplicates, want %d and 0", distinct, dups, n)
	}
}

// Sessions workers run in parallel and no entry is taken by two of them.
func TestRunParallelSessions(t *testing.T) {
	st := openStore(t)
	s := newSwitchSender()
	s.hold = 20 * time.Millisecond
	d := dispatch.New(dispatch.Options{Store: st, Sender: s, SendTimeout: 5 * time.Second, Sessions: 4})
	const n = 60
	enqueueN(t, st, 0, n)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for pendingCount(t, st) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d pending after 20s", pendingCount(t, st))
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	s.mu.Lock()
	peak, conc := s.peak, s.concurrency
	s.mu.Unlock()
	if peak < 2 || peak > 4 {
		t.Errorf("at most %d sends in flight at once, want 2..4 with 4 sessions", peak)
	}
	if len(conc) != 0 {
		t.Errorf("sent while already in flight: %v", conc)
	}
	if _, distinct, dups := s.stats(); distinct != n || dups != 0 {
		t.Errorf("sent %d distinct with %d duplicates, want %d and 0", distinct, dups, n)
	}
}

// The real Sender against an in-process SMTP server: 1 session carries all the
// replies over one connection; 4 sessions use at most 4.
func TestRunRealSenderConnections(t *testing.T) {
	for _, sessions := range []int{1, 4} {
		t.Run(fmt.Sprintf("%d sessions", sessions), func(t *testing.T) {
			sink, err := mailtest.NewSMTPSink(mailtest.SinkOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			host, port, _ := net.SplitHostPort(sink.Addr())
			p, _ := strconv.Atoi(port)
			sender, err := outbox.NewSender(outbox.Options{Host: host, Port: p, TLS: outbox.TLSNone, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			st := openStore(t)
			d := dispatch.New(dispatch.Options{Store: st, Sender: sender, SendTimeout: 10 * time.Second, Sessions: sessions})
			const n = 50
			enqueueN(t, st, 0, n)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- d.Run(ctx) }()
			wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer wcancel()
			msgs, err := sink.WaitN(wctx, n)
			cancel()
			<-done
			if err != nil {
				t.Fatalf("sink got %d of %d: %v", len(msgs), n, err)
			}
			ids := map[string]int{}
			for _, m := range sink.Messages() {
				msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
				if err != nil {
					t.Fatal(err)
				}
				ids[msg.Header.Get("Message-Id")]++
			}
			for id, c := range ids {
				if c != 1 {
					t.Errorf("%s received %d times", id, c)
				}
			}
			if len(ids) != n {
				t.Errorf("%d distinct messages, want %d", len(ids), n)
			}
			if c := sender.Connections(); c < 1 || c > int64(sessions) {
				t.Errorf("%d replies over %d connections, want 1..%d", n, c, sessions)
			}
			if p := pendingCount(t, st); p != 0 {
				t.Errorf("%d still pending", p)
			}
		})
	}
}

// The replies of one case go out in queue order even with several sessions (an
// acknowledgement before the notice that the case is complete), also when the relay
// is down at first; different cases go out in parallel. A reply that failed waits
// on its own retry and does not hold the others back (as with one worker).
func TestRunKeepsQueueOrderPerCase(t *testing.T) {
	for _, outage := range []bool{false, true} {
		t.Run(fmt.Sprintf("outage=%v", outage), func(t *testing.T) { testQueueOrder(t, outage) })
	}
}

func testQueueOrder(t *testing.T, outage bool) {
	st := openStore(t)
	s := newSwitchSender()
	// A case's first reply is slow: without ordering, the next one, at another
	// session, would overtake it.
	s.holdFor = func(id string) time.Duration {
		if strings.Contains(id, ".r00@") {
			return 40 * time.Millisecond
		}
		return time.Millisecond
	}
	s.setDown(outage)
	d := dispatch.New(dispatch.Options{Store: st, Sender: s, SendTimeout: 5 * time.Second, Sessions: 4,
		RetryMin: time.Hour, RetryMax: time.Hour, ProbeEvery: 50 * time.Millisecond})
	const casesN, per = 2, 10 // fewer cases than sessions: a free session could take a case's next reply
	err := st.Update(func(tx *store.Tx) error {
		for i := range per {
			for c := range casesN {
				id := fmt.Sprintf("c%d.r%02d@desk.example.cn", c, i)
				raw := []byte(`{"message_id":"` + id + `","from":{"address":"desk@desk.example.cn"},"to":[{"address":"a@example.cn"}],"subject":"x","text":"x","date":"2026-11-20T10:00:00Z"}`)
				e := &store.OutboxEntry{Case: fmt.Sprintf("TS-2026-%06d", c), Kind: "acknowledgement", Mail: raw, MessageID: id,
					To: []string{"a@example.cn"}, NextAt: t0, CreatedAt: t0}
				if err := tx.Enqueue(e); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if outage {
		s.waitProbes(t, 3) // an outage of a few probe periods
	}
	s.setDown(false)
	deadline := time.Now().Add(20 * time.Second)
	for pendingCount(t, st) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d pending 20s after the relay came back", pendingCount(t, st))
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	order, peak := append([]string(nil), s.order...), s.peak
	s.mu.Unlock()
	retried := map[string]bool{}
	st.View(func(tx *store.Tx) error {
		return tx.EachOutbox(func(e *store.OutboxEntry) error {
			retried[e.MessageID] = e.Attempts > 1
			return nil
		})
	})
	last := map[string]string{}
	for _, id := range order {
		if retried[id] {
			continue // failed during the outage, sent by the recovery
		}
		c := id[:2]
		if prev, ok := last[c]; ok && id < prev {
			t.Errorf("case %s: %s sent after %s, want queue order", c, id, prev)
		}
		last[c] = id
	}
	if len(order) != casesN*per {
		t.Errorf("%d sent, want %d", len(order), casesN*per)
	}
	if peak < 2 {
		t.Errorf("at most %d sends at once: different cases did not go out in parallel", peak)
	}
}

// failFor fails the Message-IDs it holds with err and accepts the others.
type failFor struct {
	mu   sync.Mutex
	fail map[string]error
	sent []string
}

func (f *failFor) Send(ctx context.Context, m outbox.Mail) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail[m.MessageID]; err != nil {
		return err
	}
	f.sent = append(f.sent, m.MessageID)
	return nil
}

// A reply's own trouble (a greylisted recipient, a connection lost in its DATA, an
// unreadable attachment) does not stop the others: only a relay fault opens the
// breaker.
func TestMailFaultDoesNotStopOthers(t *testing.T) {
	for _, err := range []error{
		&outbox.SendError{Temporary: true, Stage: outbox.StageRcpt, Code: 451, Err: errors.New("451 greylisted")},
		&outbox.SendError{Temporary: true, Stage: outbox.StageData, Err: errors.New("connection reset")},
		&outbox.SendError{Temporary: true, Err: errors.New("attachments: vault busy")},
	} {
		t.Run(err.Error(), func(t *testing.T) {
			st := openStore(t)
			s := &failFor{fail: map[string]error{"ts-2026-000000.ack@desk.example.cn": err}}
			d := dispatch.New(dispatch.Options{Store: st, Sender: s, SendTimeout: 5 * time.Second, Now: (&manualClock{now: t0}).Now})
			enqueueN(t, st, 0, 10)
			if _, err := d.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(s.sent) != 9 {
				t.Errorf("%d of the 9 other replies sent after the first failed with %v", len(s.sent), err)
			}
		})
	}
}

// The real Sender against an SMTP server that refuses MAIL FROM (421) for a while,
// then accepts: with an hour's backoff and an injected clock that never moves, every
// reply still goes out within seconds of the last refusal, once.
func TestRunRecoversFromRefusingServer(t *testing.T) {
	sink, err := mailtest.NewSMTPSink(mailtest.SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	const refusals = 12
	sink.FailNext(refusals, 421)
	host, port, _ := net.SplitHostPort(sink.Addr())
	p, _ := strconv.Atoi(port)
	sender, err := outbox.NewSender(outbox.Options{Host: host, Port: p, TLS: outbox.TLSNone, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	clock := &manualClock{now: t0}
	d := dispatch.New(dispatch.Options{Store: st, Sender: sender, SendTimeout: 10 * time.Second, Sessions: 4,
		RetryMin: time.Hour, RetryMax: time.Hour, ProbeEvery: 50 * time.Millisecond, Now: clock.Now})
	const n = 40
	enqueueN(t, st, 0, n)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(30 * time.Second)
	for sink.Refused() < refusals {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d refusals used in 30s", sink.Refused(), refusals)
		}
		time.Sleep(10 * time.Millisecond)
	}
	recovered := time.Now()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if msgs, err := sink.WaitN(wctx, n); err != nil {
		t.Fatalf("%d of %d replies 10s after the server accepted again: %v", len(msgs), n, err)
	}
	t.Logf("%d replies accepted %v after the last refusal", n, time.Since(recovered).Round(time.Millisecond))
	ids := map[string]int{}
	for _, m := range sink.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		ids[msg.Header.Get("Message-Id")]++
	}
	for id, c := range ids {
		if c != 1 {
			t.Errorf("%s received %d times", id, c)
		}
	}
	if len(ids) != n {
		t.Errorf("%d distinct replies, want %d", len(ids), n)
	}
	var retried int
	st.View(func(tx *store.Tx) error {
		return tx.EachOutbox(func(e *store.OutboxEntry) error {
			if e.Attempts > 1 {
				retried++
			}
			return nil
		})
	})
	t.Logf("%d replies needed more than one attempt", retried)
}

// probeAuth is a relay that was down and comes back refusing the login: Send fails
// to connect until back, Probe then meets the refused login.
type probeAuth struct {
	mu            sync.Mutex
	back          bool
	probes, sends int
	authErr, conn error
}

func (p *probeAuth) Send(ctx context.Context, m outbox.Mail) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sends++
	if p.back {
		return p.authErr
	}
	return p.conn
}

func (p *probeAuth) Probe(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.probes++
	if p.back {
		return p.authErr
	}
	return p.conn
}

// An outage that ends with the login refused: the probes stop (each would be one
// more failed login) and the pause of a refused login takes over.
func TestProbeMeetingRefusedLoginPausesSending(t *testing.T) {
	st := openStore(t)
	clock := &manualClock{now: t0}
	p := &probeAuth{conn: relayDown,
		authErr: &outbox.SendError{Temporary: true, Code: 535, Stage: outbox.StageAuth, Err: errors.New("SMTP AUTH failed: 535 5.7.8 authentication failed")}}
	d := dispatch.New(dispatch.Options{Store: st, Sender: p, SendTimeout: 5 * time.Second, Now: clock.Now,
		HoldMin: 2 * time.Minute, HoldMax: 8 * time.Minute})
	enqueueN(t, st, 0, 5)
	ctx := context.Background()
	d.Flush(ctx) // one attempt fails to connect: the breaker opens
	d.Flush(ctx) // a probe fails to connect
	if p.probes != 1 || p.sends != 1 {
		t.Fatalf("%d probes and %d sends, want 1 and 1", p.probes, p.sends)
	}
	p.mu.Lock()
	p.back = true
	p.mu.Unlock()
	next, err := d.Flush(ctx) // the probe meets the refused login
	if err != nil {
		t.Fatal(err)
	}
	if !next.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("next pass at %v, want after the 2m pause", next.Sub(t0))
	}
	if pr := d.Problem(); !strings.Contains(pr, "login refused") {
		t.Errorf("Problem() = %q, want the refused login", pr)
	}
	clock.Set(t0.Add(time.Minute))
	d.Flush(ctx)
	if p.probes != 2 || p.sends != 1 {
		t.Errorf("during the pause: %d probes and %d sends, want no more than 2 and 1", p.probes, p.sends)
	}
	if pendingCount(t, st) != 5 {
		t.Errorf("%d pending, want all 5 kept", pendingCount(t, st))
	}
}

// A full disk, then a restart: while the store refuses to record the results of sent
// replies, no more replies go out. Before, the workers went on sending every due
// reply, each accepted by the relay and still pending in the store, so after the
// restart all of them went out a second time (found in review).
func TestNoSendingWhileResultsCannotBeRecorded(t *testing.T) {
	st := openStore(t)
	var failing atomic.Bool
	st.SetFault(func() error {
		if failing.Load() {
			return errors.New("no space left on device")
		}
		return nil
	})
	s := newSwitchSender()
	s.hold = 20 * time.Millisecond // a relay's time per message
	const n, sessions = 30, 2
	enqueueN(t, st, 0, n)
	failing.Store(true)
	journal := filepath.Join(t.TempDir(), "outbox.journal")
	run := func(stop func() bool) {
		d := dispatch.New(dispatch.Options{Store: st, Sender: s, SendTimeout: 5 * time.Second, Sessions: sessions, Journal: journal})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		deadline := time.Now().Add(20 * time.Second)
		for !stop() {
			if time.Now().After(deadline) {
				cancel()
				<-done
				t.Fatal("timed out")
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel() // SIGTERM
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	accepted := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.sent)
	}
	// The first process: sending stops at the first refused record; give it time
	// to send more if it would.
	var firstAt time.Time
	run(func() bool {
		if accepted() == 0 {
			return false
		}
		if firstAt.IsZero() {
			firstAt = time.Now()
		}
		return time.Since(firstAt) > time.Second
	})
	before := accepted()
	failing.Store(false)
	run(func() bool { return pendingCount(t, st) == 0 })
	s.mu.Lock()
	defer s.mu.Unlock()
	twice := 0
	for _, k := range s.sent {
		if k > 1 {
			twice++
		}
	}
	if len(s.sent) != n {
		t.Fatalf("%d of %d replies sent", len(s.sent), n)
	}
	// What was sent before sending stopped (the replies whose results met the first
	// refusal, those in hand meanwhile) is in the journal: the restart records it
	// and sends it no more. Without the journal 3 to 5 went twice; without the
	// stop, all 30.
	if twice != 0 {
		t.Errorf("%d replies sent twice (%d accepted while the disk was full)", twice, before)
	}
	// The stop still matters: a full disk may refuse the journal's appends too.
	if before > 3*sessions {
		t.Errorf("%d replies accepted while the disk was full, want sending stopped after the first refusal (at most %d)", before, 3*sessions)
	}
	t.Logf("accepted while the disk was full: %d; sent twice after the restart: %d", before, twice)
}
