package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailtest"
)

// On the real stack: a stranger who knows a case number writes "[case] 撤回" through
// Postfix. The victim's case is unchanged and carries the attempt as a security event;
// the stranger's mail is acknowledged as a case of its own; the victim hears nothing.
func TestStrangerCannotActOnSomeoneElsesCase(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "mallory", "editor"}})
	d := newDaemon(t, st, deskOptions{})
	d.start()
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "victim@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	ack, _ := nth(t, st, "alice", 1)
	id := tagRe.FindStringSubmatch(decodedSubject(ack.Header.Get("Subject")))[1]
	st.Deliver(t, complaint("路人 <mallory@people.test>", "forged@people.test", "["+id+"] 撤回", "撤回", nil), "mallory@people.test", "desk@desk.test")
	theirs, _ := nth(t, st, "mallory", 1)
	if s := decodedSubject(theirs.Header.Get("Subject")); strings.Contains(s, "["+id+"]") && !strings.Contains(s, "TS-2026-000002") {
		t.Errorf("the stranger was answered about the victim's case: %q", s)
	}
	c := caseOf(t, d, id)
	if c.State != cases.PendingReview {
		t.Errorf("the victim's case moved to %s", c.State)
	}
	found := false
	for _, e := range c.Events {
		found = found || e.Type == cases.EventSecurity && e.Actor == "mallory@people.test"
	}
	if !found {
		t.Errorf("no security event on the victim's case: %+v", c.Events)
	}
	if n := len(st.WaitMessages(t, "alice", "INBOX", 1, 0)); n != 1 {
		t.Errorf("the victim got %d mails, want only the acknowledgement", n)
	}
}

// On the real stack, in auth-results mode: a staff command whose Authentication-Results
// pass was written by the sender (so it arrives below Postfix's and Dovecot's Received
// lines) changes nothing.
func TestForgedAuthenticationResultsAuthoriseNothing(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor"}})
	d, id := forgedCommandDesk(t, st, "{mode: auth-results, authserv_id: mx.desk.test}", "ar1@people.test")
	forged := "Authentication-Results: mx.desk.test; dkim=pass header.d=desk.test; spf=pass smtp.mailfrom=desk.test\r\n" +
		"From: editor@desk.test\r\nTo: desk@desk.test\r\nSubject: =?UTF-8?B?5Zue5aSN?= [" + id + "]\r\nMessage-ID: <ar-forged@evil.test>\r\n" +
		"Date: " + time.Now().Format(time.RFC1123Z) + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n受理\r\n"
	refusedOnRealStack(t, st, d, id, forged, "a forged Authentication-Results pass")
}

// On the real stack, in dkim mode: anyone can put a staff address in From. A forged
// DKIM-Signature, twice, whose selector grows when lower-cased (U+023A) made the key
// lookup panic on go-msgauth's goroutines and ended the daemon. It is a refused
// command now, and the desk goes on taking complaints.
func TestForgedDKIMSelectorDoesNotStopTheDesk(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "bob", "editor"}})
	d, id := forgedCommandDesk(t, st, "{mode: dkim}", "sel1@people.test")
	sig := "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=desk.test; s=" + strings.Repeat("Ⱥ", 20) +
		"; h=from:subject; bh=AAAA; b=AAAA\r\n"
	forged := sig + sig + "From: editor@desk.test\r\nTo: desk@desk.test\r\nSubject: =?UTF-8?B?5Zue5aSN?= [" + id + "]\r\n" +
		"Message-ID: <selector-forged@evil.test>\r\nDate: " + time.Now().Format(time.RFC1123Z) +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n受理\r\n"
	refusedOnRealStack(t, st, d, id, forged, "a forged DKIM signature")
	st.Deliver(t, completeComplaint("钱七 <bob@people.test>", "sel2@people.test", "钱七申请删除凤凰资讯稿件"), "bob@people.test", "desk@desk.test")
	nth(t, st, "bob", 1) // acknowledged: the desk is still up
}

// forgedCommandDesk starts a daemon whose staff prove themselves as auth (a YAML
// flow map for staff.auth) and has alice's complaint notified to the editor; it
// returns the daemon and the case.
func forgedCommandDesk(t *testing.T, st *mailtest.Stack, auth, msgID string) (*daemon, string) {
	t.Helper()
	d := newDaemon(t, st, deskOptions{})
	d.setConfig("staff:\n", "staff:\n  auth: "+auth+"\n")
	d.start()
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", msgID, "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	note, _ := nth(t, st, "editor", 1)
	return d, tagRe.FindStringSubmatch(decodedSubject(note.Header.Get("Subject")))[1]
}

// refusedOnRealStack delivers a forged staff command on case id and waits until it
// is recorded as a security event; the case must not have moved.
func refusedOnRealStack(t *testing.T, st *mailtest.Stack, d *daemon, id, forged, what string) {
	t.Helper()
	st.Deliver(t, []byte(forged), "editor@desk.test", "desk@desk.test")
	waitFor(t, 60*time.Second, "the forged command recorded", func() (bool, string) {
		c := caseOf(t, d, id)
		for _, e := range c.Events {
			if e.Type == cases.EventSecurity {
				return true, ""
			}
		}
		return false, string(c.State)
	})
	if c := caseOf(t, d, id); c.State != cases.PendingReview {
		t.Errorf("%s moved the case to %s", what, c.State)
	}
}

// On the real stack, in auth-results mode with trusted_hop: the sender chooses its
// HELO name, and Postfix writes it after "from" in its Received line. "EHLO by" made
// our border's line read "from by (localhost [127.0.0.1]) by <border>", whose first
// "by" names no host, so a Received line the sender wrote lower down was taken for our
// border, and the sender's own Authentication-Results above it trusted: the forged
// command ran (found in review). It is refused now. (Debian's Postfix 3.7 writes the
// spaces of a HELO of several words as '?', so "x by evil.example" cannot be played
// here; the unit tests cover it.)
func TestHELOWithByDoesNotHideOurBorder(t *testing.T) {
	t.Parallel()
	// Postfix, our border, has a name of its own (Dovecot's LMTP line names the
	// stack's): the border's line is the one that must be found.
	const border = "border.mailtest.localhost"
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor"}, PostfixMain: []string{"myhostname = " + border}})
	d, id := forgedCommandDesk(t, st, "{mode: auth-results, authserv_id: mx.desk.test, trusted_hop: "+border+"}", "helo1@people.test")
	forged := "Authentication-Results: mx.desk.test; dkim=pass header.d=desk.test; spf=pass smtp.mailfrom=desk.test\r\n" +
		"Received: from a by " + border + "; " + time.Now().Format(time.RFC1123Z) + "\r\n" +
		"From: editor@desk.test\r\nTo: desk@desk.test\r\nSubject: =?UTF-8?B?5Zue5aSN?= [" + id + "]\r\nMessage-ID: <helo-forged@evil.test>\r\n" +
		"Date: " + time.Now().Format(time.RFC1123Z) + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n受理\r\n"
	st.DeliverHELO(t, []byte(forged), "editor@desk.test", "desk@desk.test", "by")
	waitFor(t, 60*time.Second, "the forged command recorded", func() (bool, string) {
		c := caseOf(t, d, id)
		for _, e := range c.Events {
			if e.Type == cases.EventSecurity {
				return true, ""
			}
		}
		return false, string(c.State)
	})
	if c := caseOf(t, d, id); c.State != cases.PendingReview {
		t.Errorf("a forged command behind a HELO with \"by\" moved the case to %s", c.State)
	}
}

// On the real stack: a complainant who answers their own case with a first line that
// is a staff command (已处理…) is refused as a forged command, and the refusal names
// the action only. Before, the alert, which the unauthenticated /healthz lists, and
// the log quoted the whole paragraph, phone and ID number with it (found in review).
func TestForgedCommandTextStaysOffHealthzOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor"}})
	d := newDaemon(t, st, deskOptions{})
	d.start()
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "healthz1@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	ack, _ := nth(t, st, "alice", 1)
	id := tagRe.FindStringSubmatch(decodedSubject(ack.Header.Get("Subject")))[1]
	const phone, idNo = "13712345678", "44030619851127301X"
	st.Deliver(t, complaint("赵六 <alice@people.test>", "healthz2@people.test", "Re: ["+id+"] 已收到",
		"已处理：没有处理！文章还在。\n请回电 "+phone+"，身份证号 "+idNo+"\n", nil), "alice@people.test", "desk@desk.test")
	var body string
	waitFor(t, 60*time.Second, "/healthz to list the security alert", func() (bool, string) {
		resp, err := http.Get("http://" + d.httpAddr + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return strings.Contains(body, "security"), body
	})
	for _, where := range []struct{ name, text string }{{"/healthz", body}, {"the log", string(mustRead(t, d.logPath))}} {
		if strings.Contains(where.text, phone) || strings.Contains(where.text, idNo) {
			t.Errorf("%s shows the complainant's numbers", where.name)
		}
	}
}
