package imapsource

import (
	"context"
	"slices"
	"testing"
)

// Intake reads Message-IDs liberally (mailmsg: no '@', whitespace folded inside,
// no angle brackets) and records them so; the mailbox's ENVELOPE parser is strict
// and reads nothing from them. The mail of the erased case must still go: at its
// own place, and where it was moved to.
func TestEraseCopiesDeletesAMailWhoseMessageIDIsNotStrictRFC5322(t *testing.T) {
	ms := startMemServer(t, memServerConfig{})
	if err := ms.user.Create("Processed", nil); err != nil {
		t.Fatal(err)
	}
	c := dialT(t, ms.options())
	st, err := c.Select(context.Background(), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	inPlace := ms.appendMsg(t, "INBOX", mailWithID("<20240501093015.8F3A2C>", "case mail, id without @"))
	ms.appendMsg(t, "INBOX", mailWithID("<20240501093015.8F3A2C.other>", "other mail, id containing it"))
	ms.appendMsg(t, "Processed", mailWithID("zhangsan.77@mail.example.cn", "case mail moved, id without brackets"))
	ms.appendMsg(t, "Processed", mailWithID("<lisi@mail.example.cn>", "other processed"))

	copies := []Copy{
		{Mailbox: "INBOX", UIDValidity: st.UIDValidity, UID: inPlace, MessageID: "20240501093015.8F3A2C"},
		{Mailbox: "INBOX", UIDValidity: st.UIDValidity, UID: 999, MessageID: "zhangsan.77@mail.example.cn"},
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
	if got, want := ms.subjectsIn(t, "INBOX"), []string{"other mail, id containing it"}; !slices.Equal(got, want) {
		t.Errorf("INBOX keeps %q, want %q", got, want)
	}
	if got, want := ms.subjectsIn(t, "Processed"), []string{"other processed"}; !slices.Equal(got, want) {
		t.Errorf("Processed keeps %q, want %q", got, want)
	}
}
