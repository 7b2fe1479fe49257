package intake_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/imapsource"
	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/store"
)

// imap.start: new — the mail in the mailbox at the first start is recorded (known by
// its Message-ID, so a re-delivery is a duplicate) with no case and no reply; the
// mail after it is answered as always.
func TestStartNewRecordsThePresentMailWithoutReplies(t *testing.T) {
	srv := newServers(t)
	srv.deliver(t, completeComplaint("张三|zhangsan@example.com", "old-1@example.com").bytes())
	srv.deliver(t, plainComplaint("王五|wangwu@example.com", "old-2@example.com", "王五申请删除凤凰博客文章").bytes())
	h := startHarness(t, srv, "", func(c *config) { c.poll.Start = "new" })
	h.waitCheckpoint(2)
	if cs := h.cases(); len(cs) != 0 {
		t.Fatalf("the adopted mail made %d cases", len(cs))
	}
	for _, id := range []string{"old-1@example.com", "old-2@example.com"} {
		if m := h.message(id); m == nil || m.Role != "adopted" {
			t.Errorf("%s: %+v, want a record with role adopted", id, m)
		}
	}
	if cp := h.checkpoint(); cp.AdoptThrough != 2 {
		t.Errorf("checkpoint adopt_through %d, want 2", cp.AdoptThrough)
	}
	// New mail is answered; a copy of an adopted mail is a duplicate.
	srv.deliver(t, plainComplaint("王五|wangwu@example.com", "old-2@example.com", "王五申请删除凤凰博客文章").bytes())
	srv.deliver(t, plainComplaint("李四|lisi@example.com", "new-1@example.com", "李四申请删除凤凰博客文章").bytes())
	h.waitCheckpoint(4)
	h.waitSettled()
	sent := h.srv.sink.Messages()
	if len(sent) != 1 || !strings.Contains(strings.Join(sent[0].To, ","), "lisi@example.com") {
		t.Errorf("sent %d mails (want the one acknowledgement to lisi): %+v", len(sent), sent)
	}
	if cs := h.cases(); len(cs) != 1 {
		t.Errorf("%d cases, want 1 (the new mail)", len(cs))
		for _, m := range h.messages() {
			t.Logf("message %s uid %d: %s %s", m.MessageID, m.UID, m.Role, m.Outcome)
		}
	}

	// A restart does not adopt again: the store has read the mailbox.
	h.stop()
	// The adopted mail stays as people left it: only the copy and the new mail carry
	// the processed keyword (read once intake has stopped: the flags are set after
	// each commit).
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	c, err := imapsource.Dial(ctx, srv.imapOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, mailbox); err != nil {
		t.Fatal(err)
	}
	if n, err := c.CountKeyword(ctx, imapsource.FlagProcessed); err != nil || n != 2 {
		t.Errorf("%d mails flagged processed (%v), want 2: the adopted ones are left unflagged", n, err)
	}
	c.Close()
	srv.deliver(t, plainComplaint("赵六|zhaoliu@example.com", "new-2@example.com", "赵六申请删除凤凰博客文章").bytes())
	h2 := startHarness(t, srv, h.dir, func(c *config) { c.poll.Start = "new" })
	h2.waitCheckpoint(5)
	h2.waitReplies(2)
}

// A fresh store (no start set) over a mailbox with our processing marks refuses to
// run, and says which marks and what to set; with imap.start set it runs.
func TestFreshStoreRefusesAMarkedMailbox(t *testing.T) {
	srv := newServers(t)
	uid := srv.deliver(t, plainComplaint("王五|wangwu@example.com", "m-1@example.com", "王五申请删除凤凰博客文章").bytes())
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	c, err := imapsource.Dial(ctx, srv.imapOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, mailbox); err != nil {
		t.Fatal(err)
	}
	if err := c.AddFlags(ctx, uid, imapsource.FlagProcessed); err != nil {
		t.Fatal(err)
	}
	c.Close()

	p, _, _ := newBareProcessor(t)
	o := imapsource.PipelineOptions{IMAP: srv.imapOptions(t), Mailbox: mailbox, PollInterval: 100 * time.Millisecond,
		Processed: "flag", ProcessedFolder: "Processed", Backoff: imapsource.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}}
	err = imapsource.NewPipeline[*intake.Prepared](p, o).Run(ctx)
	if !imapsource.IsRefused(err) {
		t.Fatalf("Run over a marked mailbox: %v, want a refusal", err)
	}
	for _, want := range []string{"1 message with the keyword $Complaintd", "imap.start: new", "imap.start: all"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q: %v", want, err)
		}
	}
	if pr, _ := p.Progress(inbound.Stream{Channel: inbound.IMAP, Name: mailbox}); pr.Epoch != 0 || pr.Last != 0 {
		t.Errorf("the refused start recorded progress: %+v", pr)
	}

	// processed: move leaves no keyword, but mail in the processed folder.
	srv2 := newServers(t)
	if _, err := srv2.imap.Append(imapUser, "Processed", plainComplaint("王五|wangwu@example.com", "m-2@example.com", "王五申请删除凤凰博客文章").bytes()); err != nil {
		t.Fatal(err)
	}
	p2, _, _ := newBareProcessor(t)
	o.IMAP = srv2.imapOptions(t)
	err = imapsource.NewPipeline[*intake.Prepared](p2, o).Run(ctx)
	if !imapsource.IsRefused(err) || !strings.Contains(err.Error(), `1 message in the folder "Processed"`) {
		t.Errorf("Run over a mailbox whose mail was moved to Processed: %v", err)
	}
	// Set explicitly, it runs (and reads the mailbox).
	srv2.deliver(t, plainComplaint("李四|lisi@example.com", "m-3@example.com", "李四申请删除凤凰博客文章").bytes())
	o.Start = "all"
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- imapsource.NewPipeline[*intake.Prepared](p2, o).Run(runCtx) }()
	eventually(t, "the mailbox read with imap.start: all", func() bool {
		pr, _ := p2.Progress(inbound.Stream{Channel: inbound.IMAP, Name: mailbox})
		return pr.Epoch != 0
	})
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run with imap.start: all: %v", err)
	}
}

// A mail marked for adoption that does not parse is advanced past: not retried, not
// quarantined (people handled it; it stays where it is). Past the boundary the usual
// rule holds.
func TestAdoptedMailThatFailsIsNotQuarantined(t *testing.T) {
	p, st, _ := newBareProcessor(t)
	s := inbound.Stream{Channel: inbound.IMAP, Name: mailbox}
	if err := p.Adopt(s, 7, 5); err != nil {
		t.Fatal(err)
	}
	bomb := &intake.PermanentError{Err: errors.New("too large")}
	f, err := p.Fail(inbound.Source{Stream: s, Epoch: 7, Seq: 3}, "old@example.com", bomb, 3)
	if err != nil || f.Quarantined {
		t.Fatalf("an adopted mail that failed: %+v, %v", f, err)
	}
	pr, _ := p.Progress(s)
	if pr.Last != 3 || len(pr.Retry) != 0 {
		t.Errorf("progress after the adopted failure: %+v", pr)
	}
	st.View(func(tx *store.Tx) error {
		if q, _ := tx.Quarantined(); len(q) != 0 {
			t.Errorf("quarantined: %+v", q)
		}
		if !tx.KnownMessageID("old@example.com") {
			t.Error("the adopted mail's Message-ID is not known")
		}
		return nil
	})
	if f, _ := p.Fail(inbound.Source{Stream: s, Epoch: 7, Seq: 6}, "new@example.com", bomb, 3); !f.Quarantined {
		t.Error("a new mail past the boundary was not quarantined")
	}
	// Adopt again (a restart) changes nothing: the stream has been read.
	if err := p.Adopt(s, 7, 9); err != nil {
		t.Fatal(err)
	}
	st.View(func(tx *store.Tx) error {
		cp, _ := tx.Checkpoint(mailbox)
		if cp.AdoptThrough != 5 {
			t.Errorf("adopt_through %d after a second Adopt, want 5", cp.AdoptThrough)
		}
		return nil
	})
}
