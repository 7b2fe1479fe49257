package e2e

import (
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailtest"
)

// Staff proof on the real stack (issue 13): the token in a notification's Reply-To
// works for a reply to that notification; the same token in a fresh mail that answers
// nothing (issue 13: "an old token with a new Message-ID ran") is refused and the
// case is unchanged; after `complaintd staff revoke-tokens -case ID` a reply to a mail
// sent before it is refused; with the clock file moved past token_ttl a reply is
// refused. No refused mail gets an answer. (Rotating the master key is proved in
// internal/app's wiring test: the store cannot re-seal attachments under a new key.)
func TestStaffProofOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "bob", "editor"}})
	d := newDaemon(t, st, deskOptions{})
	set := d.driveClock("2026-12-01T10:00:00+08:00") // a Tuesday
	d.start()
	security := func(n float64) {
		t.Helper()
		waitFor(t, 30*time.Second, fmt.Sprintf("%v security events", n), func() (bool, string) {
			v := d.metric("complaintd_security_events_total")
			return v == n, fmt.Sprint(v)
		})
	}
	refused := func(id string, state cases.State, reason string) {
		t.Helper()
		c := caseOf(t, d, id)
		if c.State != state {
			t.Errorf("a refused staff mail changed %s to %s", id, c.State)
		}
		var last cases.Event
		for _, e := range c.Events {
			if e.Type == cases.EventSecurity {
				last = e
			}
		}
		if !strings.Contains(last.Note, reason) {
			t.Errorf("the last security event of %s says %q, want %q", id, last.Note, reason)
		}
	}

	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "sp1@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	note, _ := nth(t, st, "editor", 1)
	caseID := tagRe.FindStringSubmatch(decodedSubject(note.Header.Get("Subject")))[1]
	token := replyAddress(t, note)

	// A reply to the notification runs.
	st.Deliver(t, staffReply(note, "editor@desk.test", "备注 已阅，稍后处理"), "editor@desk.test", token)
	conf, confText := nth(t, st, "editor", 2)
	if c := caseOf(t, d, caseID); !hasEvent(c, "note") {
		t.Fatalf("the reply to the notification did not run (confirmation:\n%s)", confText)
	}

	// The same token in a fresh mail (a client's address book keeps the Reply-To).
	fresh := fmt.Sprintf("From: editor@desk.test\r\nTo: %s\r\nSubject: [%s] 受理\r\nMessage-ID: <fresh.%d@desk.test>\r\nDate: %s\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n受理\r\n", token, caseID, time.Now().UnixNano(), time.Now().Format(time.RFC1123Z))
	st.Deliver(t, []byte(fresh), "editor@desk.test", token)
	security(1)
	refused(caseID, cases.PendingReview, "token not for this notification")

	// Revoked: the confirmation's token was issued before the revocation.
	out := d.cli("staff", "revoke-tokens", "-case", caseID)
	if !strings.Contains(string(out), "revoked the staff tokens of "+caseID) {
		t.Errorf("revoke-tokens printed %q", out)
	}
	st.Deliver(t, staffReply(conf, "editor@desk.test", "受理"), "editor@desk.test", replyAddress(t, conf))
	security(2)
	refused(caseID, cases.PendingReview, "token revoked for this case")

	// Expired: another case's notification, answered after token_ttl (30 days).
	st.Deliver(t, completeComplaint("钱七 <bob@people.test>", "sp2@people.test", "钱七申请删除凤凰资讯稿件"), "bob@people.test", "desk@desk.test")
	note2, _ := nth(t, st, "editor", 3)
	case2 := tagRe.FindStringSubmatch(decodedSubject(note2.Header.Get("Subject")))[1]
	// Nothing but the notifications and the one confirmation reached staff: the refused
	// mails were answered by no one.
	if raws := st.WaitMessages(t, "editor", "INBOX", 0, 0); len(raws) != 3 {
		t.Errorf("editor has %d mails, want 3 (none for the refused commands)", len(raws))
	}
	set("2027-01-01T10:00:00+08:00") // seen at once: driveClock turns the clock's cache off
	st.Deliver(t, staffReply(note2, "editor@desk.test", "受理"), "editor@desk.test", replyAddress(t, note2))
	security(3)
	refused(case2, cases.PendingReview, "token expired")
}

// replyAddress is the bare address of a mail's Reply-To.
func replyAddress(t *testing.T, m *mail.Message) string {
	t.Helper()
	a, err := mail.ParseAddress(m.Header.Get("Reply-To"))
	if err != nil {
		t.Fatalf("Reply-To %q: %v", m.Header.Get("Reply-To"), err)
	}
	return a.Address
}

func hasEvent(c cases.Case, typ cases.EventType) bool {
	for _, e := range c.Events {
		if e.Type == typ {
			return true
		}
	}
	return false
}

// A reply to a scheduler's reminder is a command in token mode (issue 13): the
// reminder carries a token bound to itself in its Reply-To, and 受理 written back to it
// accepts the case, like a reply to the notification.
func TestReplyToReminderRunsInTokenMode(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor"}})
	d := newDaemon(t, st, deskOptions{})
	set := d.driveClock("2026-12-01T10:00:00+08:00") // a Tuesday: review due Friday 23:59:59
	d.start()
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "rem1@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	note, _ := nth(t, st, "editor", 1)
	caseID := tagRe.FindStringSubmatch(decodedSubject(note.Header.Get("Subject")))[1]
	// Thursday noon: within a day of the deadline, the scheduler reminds staff.
	set("2026-12-04T12:00:00+08:00")
	var reminder *mail.Message
	waitFor(t, 90*time.Second, "the reminder", func() (bool, string) {
		for _, raw := range st.WaitMessages(t, "editor", "INBOX", 1, 0) {
			m := parseMail(t, raw)
			if s := decodedSubject(m.Header.Get("Subject")); strings.Contains(s, caseID) && strings.Contains(s, "时限提醒") {
				reminder = m
				return true, ""
			}
		}
		return false, ""
	})
	token := replyAddress(t, reminder)
	if !strings.HasPrefix(token, "desk+"+strings.ToLower(caseID)+".") {
		t.Fatalf("the reminder's Reply-To %q carries no staff token", token)
	}
	st.Deliver(t, staffReply(reminder, "editor@desk.test", "受理"), "editor@desk.test", token)
	waitFor(t, 60*time.Second, "the case accepted by the reply to the reminder", func() (bool, string) {
		c := caseOf(t, d, caseID)
		return c.State == cases.Accepted, string(c.State)
	})
	if v := d.metric("complaintd_security_events_total"); v != 0 {
		t.Errorf("%v security events: the reply to the reminder was refused", v)
	}
}
