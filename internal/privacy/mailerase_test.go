package privacy_test

import (
	"bytes"
	"os"
	"slices"
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/privacy"
	"github.com/complaintd/complaintd/internal/store"
)

// putMails registers two mails of the case and one of another case.
func putMails(t *testing.T, st *store.Store, id string) {
	t.Helper()
	err := st.Update(func(tx *store.Tx) error {
		for _, m := range []*store.Message{
			{Key: "d1", MessageID: "<zhangsan.1@mail.example.cn>", Mailbox: "INBOX", UIDValidity: 7, UID: 11, Case: id, From: "zhangsan@example.cn", Role: "complainant"},
			{Key: "d2", MessageID: "<zhangsan.2@mail.example.cn>", Mailbox: "INBOX", UIDValidity: 7, UID: 15, Case: id, From: "zhangsan@example.cn", Role: "complainant"},
			{Key: "d3", MessageID: "<lisi@mail.example.cn>", Mailbox: "INBOX", UIDValidity: 7, UID: 12, Case: "TS-2025-000002", From: "lisi@example.cn", Role: "complainant"},
		} {
			if err := tx.PutMessage(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// An erasure leaves the list of the case's mails for the deletion from the mailbox,
// read before the keys went, and sealed: its Message-IDs (often the sender's
// address) are not in the store file in clear. MailErased drops it.
func TestErasureListsTheCasesMailsForTheMailbox(t *testing.T) {
	st, v, id, dir := closedCaseIn(t)
	putMails(t, st, id)
	if err := privacy.Erase(st, v, id, "cli:root", "request", now); err != nil {
		t.Fatal(err)
	}
	pending, bad, err := privacy.PendingMailErasures(st, v)
	if err != nil || len(bad) > 0 {
		t.Fatalf("pending: %v %v", err, bad)
	}
	if len(pending) != 1 || pending[0].Case != id {
		t.Fatalf("pending = %+v, want the erased case", pending)
	}
	var got []uint32
	for _, c := range pending[0].Copies {
		got = append(got, c.UID)
		if c.Mailbox != "INBOX" || c.UIDValidity != 7 || c.MessageID == "" {
			t.Errorf("copy %+v lacks where it was read", c)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, []uint32{11, 15}) {
		t.Errorf("copies at UIDs %v, want 11 and 15 (not the other case's 12)", got)
	}
	st.Close()
	raw, err := os.ReadFile(dir + "/d.db")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("zhangsan.1@mail")) {
		t.Error("a Message-ID of the erased case is in the store file in clear")
	}
}

func TestMailErasedDropsTheList(t *testing.T) {
	st, v, id := closedCase(t)
	putMails(t, st, id)
	if err := privacy.Erase(st, v, id, "cli:root", "request", now); err != nil {
		t.Fatal(err)
	}
	if err := privacy.MailErased(st, id); err != nil {
		t.Fatal(err)
	}
	if pending, _, _ := privacy.PendingMailErasures(st, v); len(pending) != 0 {
		t.Errorf("pending after MailErased: %+v", pending)
	}
}

// A case that retention spares (reopened) lists nothing for deletion.
func TestSparedCaseListsNoMail(t *testing.T) {
	st, v, id := closedCase(t)
	putMails(t, st, id)
	erased, err := privacy.EraseIfDue(st, v, id, "scheduler", "retention", now, func(*cases.Case) bool { return false })
	if err != nil || erased {
		t.Fatalf("erased %v, err %v", erased, err)
	}
	if pending, _, _ := privacy.PendingMailErasures(st, v); len(pending) != 0 {
		t.Errorf("pending for a spared case: %+v", pending)
	}
}
