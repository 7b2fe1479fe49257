package e2e

import (
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailtest"
)

// On the real stack: a stranger who knows a case number writes "[case] 撤回" through
// Postfix. The victim's case is unchanged and carries the attempt as a security event;
// the stranger's mail is acknowledged as a case of its own; the victim hears nothing.
func TestStrangerCannotActOnSomeoneElsesCase(t *testing.T) {
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
