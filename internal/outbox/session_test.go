// SPDX-License-Identifier: MIT

package outbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// mailN is sampleMail with its own Message-ID.
func mailN(i int) Mail {
	m := sampleMail()
	m.MessageID = fmt.Sprintf("ts-2026-%06d.ack.1@desk.example.org", i)
	return m
}

// acceptedIDs counts the accepted copies per Message-ID.
func acceptedIDs(t *testing.T, ts *testServer) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for _, r := range ts.messages() {
		ids[headerOf(t, r.raw).Get("Message-Id")]++
	}
	return ids
}

// checkOnceEach fails unless the server accepted each of mails 0..n-1 exactly once.
func checkOnceEach(t *testing.T, ts *testServer, n int) {
	t.Helper()
	ids := acceptedIDs(t, ts)
	for i := range n {
		if id := "<" + mailN(i).MessageID + ">"; ids[id] != 1 {
			t.Errorf("reply %d accepted %d times, want exactly once", i, ids[id])
		}
	}
	if len(ids) != n {
		t.Errorf("server accepted %d distinct messages, want %d", len(ids), n)
	}
}

func (s *Sender) idleCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.idle)
}

// Consecutive replies share one connection (issue 17: 298 connections for 293
// replies), and the session is QUIT once it has been idle for IdleTimeout.
func TestSessionCarriesManyReplies(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	s := senderFor(t, ts, Options{IdleTimeout: 200 * time.Millisecond})
	const n = 20
	for i := range n {
		if err := s.Send(context.Background(), mailN(i)); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if got := ts.sessionCount(); got != 1 {
		t.Errorf("%d replies took %d connections, want 1", n, got)
	}
	if got := s.Connections(); got != 1 {
		t.Errorf("Connections() = %d, want 1", got)
	}
	checkOnceEach(t, ts, n)
	// Each message of the session carries only its own recipients: RSET between.
	for i, r := range ts.messages() {
		if len(r.rcpts) != 1 || r.rcpts[0] != "zhangsan@qq.com" {
			t.Errorf("message %d: envelope rcpts %q, want one (the transaction was not reset)", i, r.rcpts)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.idleCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("idle session not closed within 10s of a 200ms idle timeout")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The next reply dials again.
	if err := s.Send(context.Background(), mailN(n)); err != nil {
		t.Fatal(err)
	}
	if got := ts.sessionCount(); got != 2 {
		t.Errorf("after the idle close: %d connections, want 2", got)
	}
}

// A session is replaced after MaxPerSession messages, before the server's own cap
// turns the next MAIL FROM into a 4xx.
func TestSessionMaxPerSession(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	s := senderFor(t, ts, Options{MaxPerSession: 3})
	for i := range 7 {
		if err := s.Send(context.Background(), mailN(i)); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if got := ts.sessionCount(); got != 3 {
		t.Errorf("7 replies at 3 per session took %d connections, want 3", got)
	}
	checkOnceEach(t, ts, 7)
}

// sendUntilDone is the outbox worker's loop in small: each reply is retried after a
// temporary failure until it is accepted.
func sendUntilDone(t *testing.T, s *Sender, from, to int) (failures int) {
	t.Helper()
	for i := from; i < to; i++ {
		for try := 0; ; try++ {
			err := s.Send(context.Background(), mailN(i))
			if err == nil {
				break
			}
			if !IsTemporary(err) || try == 3 {
				t.Fatalf("reply %d: %v", i, err)
			}
			failures++
		}
	}
	return failures
}

// A connection cut in the middle of a batch: after an accepted message (the server
// drops it after "250"), while idle (a server restart), and inside DATA before the
// reply. Every reply is then accepted exactly once, the rest over new connections.
func TestSessionCutMidBatch(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	s := senderFor(t, ts, Options{})
	sendUntilDone(t, s, 0, 3)

	ts.setFaults(faults{after: dropAfter250}) // reply 3 is accepted, then the connection drops
	if f := sendUntilDone(t, s, 3, 4); f != 0 {
		t.Errorf("an accepted reply was reported failed %d times: it would be sent twice", f)
	}
	ts.setFaults(faults{})
	sendUntilDone(t, s, 4, 6)

	ts.listener.cutAll() // while the session is idle: the next Send notices at NOOP
	if f := sendUntilDone(t, s, 6, 8); f != 0 {
		t.Errorf("a session the server closed while idle cost %d failed attempts, want 0", f)
	}

	ts.setFaults(faults{cutData: 1}) // reply 8 is cut inside DATA: not accepted, retried
	if f := sendUntilDone(t, s, 8, 12); f != 1 {
		t.Errorf("%d failed attempts, want 1 (the cut one)", f)
	}
	checkOnceEach(t, ts, 12)
	if got := ts.sessionCount(); got != 4 {
		t.Errorf("%d connections, want 4 (one per cut, plus the first)", got)
	}
}

// A reused session whose MAIL FROM is refused (a server's per-connection cap) is
// replaced by a new connection within the same Send.
func TestSessionReusedRefusedAtMailRetriesOnNewConnection(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	s := senderFor(t, ts, Options{})
	sendUntilDone(t, s, 0, 1)
	ts.setFaults(faults{mailErr: &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "too many messages"}})
	// Only the first MAIL FROM of the second connection... is also refused: the retry is
	// once, and the error is the server's.
	err := s.Send(context.Background(), mailN(1))
	var se *SendError
	if !errors.As(err, &se) || se.Stage != StageMail || !se.Temporary {
		t.Fatalf("Send = %v, want a temporary MAIL FROM failure", err)
	}
	if got := ts.sessionCount(); got != 2 {
		t.Errorf("%d connections, want 2 (the reused one, then one new)", got)
	}
	ts.setFaults(faults{})
	sendUntilDone(t, s, 1, 2)
	checkOnceEach(t, ts, 2)
}

// Concurrent Sends each use a session of their own and every session carries many
// replies: 4 senders, 40 replies, at most 4 connections.
func TestSessionConcurrentSends(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	s := senderFor(t, ts, Options{})
	const workers, per = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*per)
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				if err := s.Send(context.Background(), mailN(w*per+i)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkOnceEach(t, ts, workers*per)
	if got := ts.sessionCount(); got > workers {
		t.Errorf("%d connections for %d concurrent senders, want at most %d", got, workers, workers)
	}
	s.Close()
	if n := s.idleCount(); n != 0 {
		t.Errorf("%d idle sessions after Close", n)
	}
}

// Health says what the traffic showed: a refused connection or a refused MAIL FROM
// makes it not ok with the reason; a Probe that gets through clears a connection
// fault but not a refusal of mail, which only an accepted message clears.
func TestSenderHealth(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	s := senderFor(t, ts, Options{Now: func() time.Time { return now }})
	if ok, reason, last := s.Health(); !ok || reason != "" || !last.IsZero() {
		t.Fatalf("fresh Sender: Health = %v %q %v, want ok, no success yet", ok, reason, last)
	}
	if err := s.Send(context.Background(), mailN(0)); err != nil {
		t.Fatal(err)
	}
	if ok, _, last := s.Health(); !ok || !last.Equal(now) {
		t.Fatalf("after a success: ok %v last %v, want ok at %v", ok, last, now)
	}

	// The server refuses mail for everyone: not a recipient's problem.
	ts.setFaults(faults{mailErr: &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "insufficient system storage"}})
	if err := s.Send(context.Background(), mailN(1)); err == nil {
		t.Fatal("Send succeeded against a refusing server")
	}
	ok, reason, _ := s.Health()
	if ok || !strings.Contains(reason, "452") {
		t.Fatalf("Health = %v %q, want not ok naming 452", ok, reason)
	}
	if err := s.Probe(context.Background()); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if ok, _, _ := s.Health(); ok {
		t.Error("a NOOP that works cleared a refusal of MAIL FROM")
	}
	ts.setFaults(faults{})
	if err := s.Send(context.Background(), mailN(1)); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := s.Health(); !ok {
		t.Error("an accepted message did not clear the fault")
	}

	// A recipient refused is the mail's problem, not the server's.
	ts.setFaults(faults{rcptErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted"}})
	if err := s.Send(context.Background(), mailN(2)); err == nil {
		t.Fatal("greylisted Send succeeded")
	}
	if ok, reason, _ := s.Health(); !ok {
		t.Errorf("a greylisted recipient made the server unhealthy: %q", reason)
	}
}

func TestSenderHealthConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s, err := NewSender(Options{Host: "127.0.0.1", Port: port, TLS: TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Probe(context.Background()); err == nil {
		t.Fatal("Probe of a closed port succeeded")
	}
	ok, reason, _ := s.Health()
	if ok || !strings.Contains(reason, "connect") {
		t.Fatalf("Health = %v %q, want not ok with a connect failure", ok, reason)
	}
	// The server comes back on the same port: a Probe clears the fault.
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &testSession{ts: &testServer{}, conn: c}, nil }))
	srv.Domain = "localhost"
	go srv.Serve(ln2)
	t.Cleanup(func() { srv.Close() })
	if err := s.Probe(context.Background()); err != nil {
		t.Fatalf("Probe after the server came back: %v", err)
	}
	if ok, reason, _ := s.Health(); !ok {
		t.Fatalf("Health after a good Probe: %q", reason)
	}
	s.Close()
}

// RelayFault separates what stops every reply (the outbox then probes instead of
// trying mail after mail) from what one reply brings on itself.
func TestRelayFault(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", &SendError{Temporary: true, Stage: StageConnect}, true},
		{"auth refused", &SendError{Temporary: true, Stage: StageAuth, Code: 535}, true},
		{"MAIL FROM 452, queue full", &SendError{Temporary: true, Stage: StageMail, Code: 452}, true},
		{"421 at RCPT, server shutting down", &SendError{Temporary: true, Stage: StageRcpt, Code: 421}, true},
		{"greylisted recipient", &SendError{Temporary: true, Stage: StageRcpt, Code: 451}, false},
		{"unknown user", &SendError{Stage: StageRcpt, Code: 550}, false},
		{"MAIL FROM 550, permanent", &SendError{Stage: StageMail, Code: 550}, false},
		{"connection lost in DATA", &SendError{Temporary: true, Stage: StageData}, false},
		{"attachment unreadable", &SendError{Temporary: true, Stage: StageCompose}, false},
		{"the worker's own trouble (vault, panic)", &SendError{Temporary: true}, false},
		{"not a SendError", errors.New("boom"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		if got := IsRelayFault(tt.err); got != tt.want {
			t.Errorf("%s: IsRelayFault = %v, want %v", tt.name, got, tt.want)
		}
	}
}
