package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailtest"
)

// On the real stack: the desk is down across a case's expiry, and the complainant's
// missing documents arrived in time, while it was down. At the start the deadline
// job caught up before intake had read them: the case expired with a notice, and the
// documents opened another case. Expiry now waits until intake has read the mailbox
// to its end: the case is complete, and no expiry notice goes out.
func TestLateReadDocsBeatExpiryOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor"}})
	d := newDaemon(t, st, deskOptions{})
	set := d.driveClock("2026-03-02T10:00:00+08:00")
	d.start()
	st.Deliver(t, complaint("赵六 <alice@people.test>", "held1@people.test", "赵六申请删除凤凰资讯稿件", "删除原因：不实报道。", nil),
		"alice@people.test", "desk@desk.test")
	ack, _ := nth(t, st, "alice", 1)
	id := tagRe.FindStringSubmatch(decodedSubject(ack.Header.Get("Subject")))[1]
	if c := caseOf(t, d, id); c.State != cases.Incomplete {
		t.Fatalf("setup: state %s, want incomplete", c.State)
	}
	d.stop()

	// Day 10: the documents come; the desk is down. Then weeks go by.
	set("2026-03-12T10:00:00+08:00")
	docs := completeComplaint("赵六 <alice@people.test>", "held2@people.test", "Re: ["+id+"] 已收到您的删帖申请")
	st.Deliver(t, docs, "alice@people.test", "desk@desk.test")
	set("2026-04-10T10:00:00+08:00")
	d.start()
	waitFor(t, 60*time.Second, "the documents read", func() (bool, string) {
		c := caseOf(t, d, id)
		return c.State != cases.Incomplete, string(c.State)
	})
	if c := caseOf(t, d, id); c.State != cases.PendingReview {
		t.Errorf("state %s, want pending_review: the documents came before the expiry", c.State)
	}
	time.Sleep(2 * time.Second) // a deadline tick after intake's first pass
	if c := caseOf(t, d, id); c.State != cases.PendingReview {
		t.Errorf("state %s after the next deadline run, want pending_review", c.State)
	}
	if c := caseOf(t, d, id); countEvents(c, cases.EventType("expire")) != 0 {
		t.Errorf("the case has an expire event: %+v", c.Events)
	}
	if !strings.Contains(string(mustRead(t, d.logPath)), "expiry waits until intake has read the mailbox") {
		t.Log("the deadline job did not run before intake's first pass this time (the race the fix closes was not played)")
	}
}
