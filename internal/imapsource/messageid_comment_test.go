package imapsource

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/complaintd/complaintd/internal/mailmsg"
)

// recordedMessageID is the Message-ID intake records for raw: mailmsg's reading.
func recordedMessageID(t *testing.T, raw []byte) string {
	t.Helper()
	m, err := mailmsg.Parse(bytes.NewReader(raw), nil, mailmsg.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID == "" {
		t.Fatalf("mailmsg reads no Message-ID in %q", raw)
	}
	return m.MessageID
}

// Intake records a Message-ID as mailmsg reads it: comments dropped, and, without
// angle brackets, the first word without its quotes. The mailbox's copy must be
// found by that record: the erasure deleted nothing of a mail whose header said
// `Message-ID: zhangsan.77@oa.example.cn (OA)` or `Message-ID: "…"`, and left the
// complainant's mail, ID card attached, in the mailbox; quarantine retry released
// the record of such a mail while the mail stayed in the quarantine folder.
func TestMailWithACommentedOrQuotedMessageIDIsFoundByItsRecordedID(t *testing.T) {
	ms := startMemServer(t, memServerConfig{})
	if err := ms.user.Create("Processed", nil); err != nil {
		t.Fatal(err)
	}
	commented := mailWithID("zhangsan.77@oa.example.cn (sent by the OA system)", "case mail, id with a comment")
	quoted := mailWithID(`"lisi.88@oa.example.cn"`, "case mail, id in quotes")
	ms.appendMsg(t, "INBOX", commented)
	ms.appendMsg(t, "INBOX", mailWithID("<wangwu@mail.example.cn>", "other mail"))
	ms.appendMsg(t, "Processed", quoted)

	c := dialT(t, ms.options())
	if _, err := c.Select(context.Background(), "Processed"); err != nil {
		t.Fatal(err)
	}
	id := recordedMessageID(t, quoted)
	uids, err := c.SearchMessageID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(uids) != 1 {
		t.Errorf("SearchMessageID(%q) found %v, want the one mail", id, uids)
	}

	copies := []Copy{
		{Mailbox: "INBOX", UIDValidity: 1, UID: 999, MessageID: recordedMessageID(t, commented)},
		{Mailbox: "INBOX", UIDValidity: 1, UID: 998, MessageID: id},
	}
	total := 0
	for _, f := range []string{"INBOX", "Processed"} {
		n, err := c.EraseCopies(context.Background(), f, copies)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		total += n
	}
	if total != 2 {
		t.Errorf("deleted %d mails, want 2", total)
	}
	if got, want := ms.subjectsIn(t, "INBOX"), []string{"other mail"}; !slices.Equal(got, want) {
		t.Errorf("INBOX keeps %q, want %q", got, want)
	}
	if got := ms.subjectsIn(t, "Processed"); len(got) != 0 {
		t.Errorf("Processed keeps %q, want nothing", got)
	}
}
