package imapsource

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func mailWithID(id, subject string) []byte {
	return []byte(fmt.Sprintf("From: a@example.org\r\nTo: desk@example.com\r\nSubject: %s\r\nMessage-ID: %s\r\n\r\nID card attached\r\n", subject, id))
}

// subjectsIn lists the subjects left in mailbox, as another client sees them.
func (ms *memServer) subjectsIn(t *testing.T, mailbox string) []string {
	t.Helper()
	ic := ms.inspect(t, mailbox)
	msgs, err := ic.Fetch(imap.SeqSetNum(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.Envelope.Subject)
	}
	slices.Sort(out)
	return out
}

// The mails of an erased case leave the mailbox: the one still at its place, the one
// moved to the processed folder (found by its Message-ID), a second delivery of it.
// Left alone: other mail, a Message-ID that merely contains the case's (UID SEARCH
// matches substrings), a UID that now holds another mail, and a folder that does not
// exist.
func TestEraseCopiesDeletesOnlyTheCasesMails(t *testing.T) {
	ms := startMemServer(t, memServerConfig{})
	if err := ms.user.Create("Processed", nil); err != nil {
		t.Fatal(err)
	}
	c := dialT(t, ms.options())
	st, err := c.Select(context.Background(), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	inPlace := ms.appendMsg(t, "INBOX", mailWithID("<a1@x.cn>", "case mail in place"))
	ms.appendMsg(t, "INBOX", mailWithID("<other@x.cn>", "other complainant"))
	ms.appendMsg(t, "INBOX", mailWithID("<xa1@x.cn>", "id containing the case's"))
	ms.appendMsg(t, "INBOX", mailWithID("<a1@x.cn>", "second delivery"))
	reused := ms.appendMsg(t, "INBOX", mailWithID("<new@x.cn>", "other mail at a listed uid"))
	ms.appendMsg(t, "Processed", mailWithID("<A2@X.CN>", "case mail moved"))
	ms.appendMsg(t, "Processed", mailWithID("<b@x.cn>", "other processed"))

	copies := []Copy{
		{Mailbox: "INBOX", UIDValidity: st.UIDValidity, UID: inPlace, MessageID: "a1@x.cn"},
		{Mailbox: "INBOX", UIDValidity: st.UIDValidity, UID: 999, MessageID: "<a2@x.cn>"}, // moved since
		{Mailbox: "INBOX", UIDValidity: st.UIDValidity, UID: reused, MessageID: "<gone@x.cn>"},
	}
	total := 0
	for _, f := range []string{"INBOX", "Processed", "Quarantine"} {
		n, err := c.EraseCopies(context.Background(), f, copies)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		total += n
	}
	if total != 3 {
		t.Errorf("deleted %d mails, want 3", total)
	}
	if got, want := ms.subjectsIn(t, "INBOX"), []string{"id containing the case's", "other complainant", "other mail at a listed uid"}; !slices.Equal(got, want) {
		t.Errorf("INBOX keeps %q, want %q", got, want)
	}
	if got, want := ms.subjectsIn(t, "Processed"), []string{"other processed"}; !slices.Equal(got, want) {
		t.Errorf("Processed keeps %q, want %q", got, want)
	}
}

// A mail without a Message-ID is found at its own place only.
func TestEraseCopiesFindsAMailWithoutMessageIDAtItsPlace(t *testing.T) {
	ms := startMemServer(t, memServerConfig{})
	c := dialT(t, ms.options())
	st, err := c.Select(context.Background(), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte("From: a@example.org\r\nSubject: no id\r\n\r\nbody\r\n")
	uid := ms.appendMsg(t, "INBOX", raw)
	other := ms.appendMsg(t, "INBOX", []byte("From: b@example.org\r\nSubject: no id either\r\n\r\nbody\r\n"))
	n, err := c.EraseCopies(context.Background(), "INBOX", []Copy{{Mailbox: "INBOX", UIDValidity: st.UIDValidity, UID: uid}})
	if err != nil || n != 1 {
		t.Fatalf("deleted %d, err %v; want 1", n, err)
	}
	// Another epoch of the mailbox: the UID says nothing any more.
	n, err = c.EraseCopies(context.Background(), "INBOX", []Copy{{Mailbox: "INBOX", UIDValidity: st.UIDValidity + 1, UID: other}})
	if err != nil || n != 0 {
		t.Fatalf("deleted %d from another UIDVALIDITY, err %v; want 0", n, err)
	}
	if got := ms.subjectsIn(t, "INBOX"); !slices.Equal(got, []string{"no id either"}) {
		t.Errorf("INBOX keeps %q", got)
	}
}

// Without UIDPLUS only a plain EXPUNGE exists, which would also remove what other
// people marked \Deleted: nothing is deleted, and the caller is told why.
func TestEraseCopiesNeedsUIDPlus(t *testing.T) {
	ms := startMemServer(t, memServerConfig{caps: imap.CapSet{imap.CapIMAP4rev1: {}}})
	c := dialT(t, ms.options())
	uid := ms.appendMsg(t, "INBOX", mailWithID("<a1@x.cn>", "case mail"))
	_, err := c.EraseCopies(context.Background(), "INBOX", []Copy{{Mailbox: "INBOX", UID: uid, MessageID: "a1@x.cn"}})
	if err == nil || !errors.Is(err, ErrExpungeUnsupported) {
		t.Fatalf("err = %v, want ErrExpungeUnsupported", err)
	}
	if got := ms.subjectsIn(t, "INBOX"); len(got) != 1 {
		t.Errorf("INBOX keeps %q, want the mail", got)
	}
}
