package e2e

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/mail"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/internal/store"
)

// TestIntakePacesOnTheReplies: intake waits for the replies when too many are due
// and unsent (issue 18). The real Postfix takes a second per reply here (a "sleep 1"
// restriction at RCPT) and the reply lead is 0 (a test hook; 2,000 in service), so
// the backlog of 350 mails, read in four FETCHes, outruns its replies: intake waits
// before the later FETCHes, 2 s at most each, and goes on. Every mail is still
// registered once and answered once, through Postfix to the complainants' server.
func TestIntakePacesOnTheReplies(t *testing.T) {
	t.Parallel()
	const n = 350
	sink := peopleServer(t)
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"},
		Relay:       map[string]string{"people.test": sink.Addr()},
		PostfixMain: []string{"smtpd_recipient_restrictions = sleep 1, permit_mynetworks, reject"}})
	rng := rand.New(rand.NewPCG(18, 11))
	for i := range n {
		st.AppendRaw(t, "desk", "INBOX", benchMail(rng, "pace", i, 6<<10))
	}
	d := newDaemon(t, st, deskOptions{extraSMTP: "  sessions: 32"})
	d.env = append(d.env, "COMPLAINTD_TEST_REPLY_LEAD=0")
	d.start()
	waitRegistered(t, d, n, 3*time.Minute)
	if paced := d.metric(`complaintd_intake_busy_seconds_total{stage="pace"}`); paced < 1.9 {
		t.Errorf("intake waited %.2f s for the replies, want at least one whole wait of 2 s", paced)
	}
	waitFor(t, 3*time.Minute, "every reply relayed to the complainants' server", func() (bool, string) {
		got := len(sink.Messages())
		return got >= n, fmt.Sprintf("%d of %d", got, n)
	})
	if q, f := d.metric("complaintd_mails_quarantined_total"), d.metric("complaintd_mail_failures_total"); q != 0 || f != 0 {
		t.Errorf("%v mails quarantined, %v failed attempts", q, f)
	}
	if p := d.metric("complaintd_mails_processed_total"); p != n {
		t.Errorf("%v mails processed, want %d", p, n)
	}
	// Exactly once: one reply per complainant, none twice.
	time.Sleep(2 * time.Second) // Postfix's queue run is 1 s: a duplicate would show by now
	assertRelayedOnce(t, sink, n)
}

// TestRepliesWaitForABacklogsIntake: a backlog of 400 mails waiting when the daemon
// starts is taken in before its replies go out (issue 18: intake and the replies
// share the machine; dispatch.IntakeFirst), within the wait's bound of 10 s, and
// then every reply goes out once, through the real Postfix to the complainants'
// server.
func TestRepliesWaitForABacklogsIntake(t *testing.T) {
	t.Parallel()
	const n = 400
	sink := peopleServer(t)
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"},
		Relay: map[string]string{"people.test": sink.Addr()}})
	rng := rand.New(rand.NewPCG(18, 12))
	for i := range n {
		st.AppendRaw(t, "desk", "INBOX", benchMail(rng, "first", i, 4<<10))
	}
	d := newDaemon(t, st, deskOptions{extraSMTP: "  sessions: 8"})
	d.start()
	waitRegistered(t, d, n, 3*time.Minute)
	waitFor(t, 3*time.Minute, "every reply relayed to the complainants' server", func() (bool, string) {
		got := len(sink.Messages())
		return got >= n, fmt.Sprintf("%d of %d", got, n)
	})
	if waited := d.metric("complaintd_outbox_intake_wait_seconds_total"); waited <= 0 {
		t.Errorf("sending waited %v s for intake", waited)
	}
	d.stop()
	f := readFacts(t, d)
	var firstCase, lastCase, firstSent time.Time
	for _, c := range f.cases {
		if firstCase.IsZero() || c.CreatedAt.Before(firstCase) {
			firstCase = c.CreatedAt
		}
		if c.CreatedAt.After(lastCase) {
			lastCase = c.CreatedAt
		}
	}
	sent := 0
	for _, e := range f.outbox {
		if e.State != store.OutboxSent {
			continue
		}
		sent++
		if firstSent.IsZero() || e.SentAt.Before(firstSent) {
			firstSent = e.SentAt
		}
	}
	if len(f.cases) != n || sent != n {
		t.Fatalf("%d cases and %d replies sent for %d mails", len(f.cases), sent, n)
	}
	// The wait ends when intake has caught up, or at its bound (a slow machine).
	if firstSent.Before(lastCase) && firstSent.Sub(firstCase) < 9*time.Second {
		t.Errorf("first reply sent %v after the first case, %v before the last: sending did not wait for the backlog",
			firstSent.Sub(firstCase).Round(time.Millisecond), lastCase.Sub(firstSent).Round(time.Millisecond))
	}
	assertRelayedOnce(t, sink, n)
}

// peopleServer is the complainants' mail server (people.test), an SMTP sink that the
// stack's Postfix relays to (StackOptions.Relay).
func peopleServer(t *testing.T) *mailtest.SMTPSink {
	t.Helper()
	sink, err := mailtest.NewSMTPSink(mailtest.SinkOptions{Domain: "mx.people.test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	return sink
}

// assertRelayedOnce checks that sink received n distinct replies, none twice.
func assertRelayedOnce(t *testing.T, sink *mailtest.SMTPSink, n int) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range sink.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatalf("relayed reply unreadable: %v", err)
		}
		id := msg.Header.Get("Message-Id")
		if seen[id] {
			t.Errorf("reply %s relayed twice", id)
		}
		seen[id] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct replies relayed for %d complaints", len(seen), n)
	}
}
