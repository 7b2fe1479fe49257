package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
)

// One desk, one mailbox, and a store that is lost: a fresh store over the mailbox the
// desk flagged refuses to start and says why (nothing is answered twice); with
// imap.start: new it starts, records that mail without replies, and answers new mail.
func TestFreshStoreOverAProcessedMailbox(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "bob", "carol"}})
	d := newDaemon(t, st, deskOptions{})
	d.start()
	st.Deliver(t, complaint("某某 <alice@people.test>", "adopt-1@people.test", "申请人甲申请删除凤凰资讯稿件", "删除原因：不实。", nil),
		"alice@people.test", "desk@desk.test")
	nth(t, st, "alice", 1)
	d.stop()

	// The store is lost.
	d.removeData()
	d.start()
	select {
	case <-d.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("a fresh store over a processed mailbox did not refuse to start")
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 78 {
		t.Errorf("the refusal exited %d, want 78 (the unit does not restart on it)", code)
	}
	d.cmd = nil
	log, _ := os.ReadFile(d.logPath)
	for _, want := range []string{"was processed before", "$Complaintd", "imap.start: new", "restore the store"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the refusal does not say %q", want)
		}
	}

	// A hand-worked mail lands meanwhile (no marks); then the operator decides: new.
	st.AppendRaw(t, "desk", "INBOX", complaint("某某 <carol@people.test>", "adopt-2@people.test", "申请人丙申请删除凤凰资讯稿件", "删除原因：不实。", nil))
	cfg, _ := os.ReadFile(d.cfgPath)
	os.WriteFile(d.cfgPath, []byte(strings.Replace(string(cfg), "imap:\n", "imap:\n  start: new\n", 1)), 0o600)
	d.start()
	// Mail delivered before the first read would be "present at the start" too.
	waitFor(t, 60*time.Second, "the first read", func() (bool, string) { return d.logCount("recorded without replies") > 0, "" })
	st.Deliver(t, complaint("某某 <bob@people.test>", "adopt-3@people.test", "申请人乙申请删除凤凰资讯稿件", "删除原因：不实。", nil),
		"bob@people.test", "desk@desk.test")
	_, ack := nth(t, st, "bob", 1)
	if !strings.Contains(ack, "TS-") {
		t.Errorf("new mail is not acknowledged with a case:\n%s", ack)
	}
	waitFor(t, 30*time.Second, "one case (the new mail)", func() (bool, string) {
		out, err := d.tryCLI("cases", "list", "-json")
		if err != nil {
			return false, err.Error()
		}
		return strings.Count(string(out), `"id": "TS-`) == 1, string(out)
	})
	d.stop()
	// Nothing present at the start was answered: alice has her one reply of the first
	// desk, carol none.
	if n := len(st.WaitMessages(t, "alice", "INBOX", 0, time.Second)); n != 1 {
		t.Errorf("alice got %d replies, want 1 (none from the new store)", n)
	}
	if n := len(st.WaitMessages(t, "carol", "INBOX", 0, time.Second)); n != 0 {
		t.Errorf("carol's hand-worked mail was answered (%d replies)", n)
	}
	// Both are recorded as adopted.
	f := readFacts(t, d)
	adopted := 0
	for _, m := range f.messages {
		if m.Role == "adopted" {
			adopted++
		}
	}
	if adopted != 2 {
		t.Errorf("%d messages recorded as adopted, want 2", adopted)
	}
}
