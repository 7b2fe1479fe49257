package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
)

// mailboxHolds reports whether a file of the user's mailboxes on disk holds s.
func mailboxHolds(st *mailtest.Stack, user, s string) bool {
	found := false
	for _, box := range []string{"INBOX", "Processed", "Quarantine"} {
		filepath.WalkDir(st.MaildirPath(user, box), func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || strings.HasPrefix(e.Name(), "dovecot") || found {
				return nil
			}
			if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), s) {
				found = true
			}
			return nil
		})
	}
	return found
}

// On the real stack: `cases erase` also deletes the case's mail from the mailbox.
// The desk moved it to the processed folder (processed: move), so it is found there
// by its Message-ID and removed with UID EXPUNGE; another complainant's mail stays.
// Before, the original, ID card scan attached, stayed in the mailbox for good after
// every erasure.
func TestErasureDeletesMailOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "bob"}})
	d := newDaemon(t, st, deskOptions{extraIMAP: "  processed: move\n"})
	d.start()
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "erase-mail-alice@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	ack, _ := nth(t, st, "alice", 1)
	id := tagRe.FindStringSubmatch(decodedSubject(ack.Header.Get("Subject")))[1]
	st.Deliver(t, completeComplaint("钱七 <bob@people.test>", "erase-mail-bob@people.test", "钱七申请删除凤凰资讯稿件"), "bob@people.test", "desk@desk.test")
	nth(t, st, "bob", 1)
	st.WaitMessages(t, "desk", "Processed", 2, 30*time.Second)
	if !mailboxHolds(st, "desk", "erase-mail-alice@people.test") {
		t.Fatal("setup: alice's mail is not in the mailbox")
	}

	d.cli("cases", "erase", id, "-reason", "本人申请删除")
	// The log line follows the expunge (after the list is dropped from the store).
	waitFor(t, 30*time.Second, "alice's mail deleted from the mailbox, and the log saying so", func() (bool, string) {
		return !mailboxHolds(st, "desk", "erase-mail-alice@people.test") &&
			strings.Contains(string(mustRead(t, d.logPath)), "mails of an erased case deleted from the mailbox"), ""
	})
	if !mailboxHolds(st, "desk", "erase-mail-bob@people.test") {
		t.Error("bob's mail was deleted with alice's case")
	}
}
