package intake_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/calendar"
	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/metrics"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/policy"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
	"github.com/complaintd/complaintd/templates"
)

// newBareProcessor is a processor on a fresh store, driven by the test alone (no
// channel runs); mutate adjusts its options.
func newBareProcessor(t testing.TB, mutate ...func(*intake.Options)) (*intake.Processor, *store.Store, *metrics.Metrics) {
	t.Helper()
	dir := t.TempDir()
	cal, err := calendar.New("Asia/Shanghai", []string{"saturday", "sunday"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := render.NewReloader("", templates.FS(), "zh-CN", nil, render.WithLocation(cal.Location()))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(dir+"/attachments", testKey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dir+"/complaintd.db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := &metrics.Metrics{}
	desk := outbox.Address{Name: "投诉受理中心", Address: deskAddr}
	o := intake.Options{
		Store: st, Vault: v, Rules: policy.DefaultRules(),
		Mailer:     mailer.New(mailer.Options{Templates: tpl, Desk: desk, CasePrefix: "TS", Locale: "zh-CN"}),
		Deadlines:  cases.Deadlines{Calendar: cal, Policy: cases.DeadlinePolicy{ReviewDays: 3, ExpireDays: 15}},
		CasePrefix: "TS", Desk: desk, Locale: "zh-CN", ReplyLimit: 10, ReplyWindow: time.Hour, Metrics: m,
	}
	for _, f := range mutate {
		f(&o)
	}
	p, err := intake.NewProcessor(o)
	if err != nil {
		t.Fatal(err)
	}
	return p, st, m
}

// Retries, quarantine and progress are intake's, keyed by the source, for any channel:
// a second channel's stream of the same name keeps records of its own (the IMAP ones
// keep the bare mailbox name they always had), and a registration advances the stream
// it came from.
func TestSourceRecordsAreChannelNeutral(t *testing.T) {
	p, st, m := newBareProcessor(t)
	imapBox := inbound.Stream{Channel: inbound.IMAP, Name: "INBOX"}
	form := inbound.Stream{Channel: "webform", Name: "INBOX"}
	at := func(s inbound.Stream, epoch, seq uint32) inbound.Source {
		return inbound.Source{Stream: s, Epoch: epoch, Seq: seq}
	}
	progress := func(s inbound.Stream) inbound.Progress {
		t.Helper()
		pr, err := p.Progress(s)
		if err != nil {
			t.Fatal(err)
		}
		return pr
	}
	view := func(fn func(tx *store.Tx) error) {
		t.Helper()
		if err := st.View(fn); err != nil {
			t.Fatal(err)
		}
	}

	// A failure is counted for a retry, then quarantined on the last attempt.
	boom := errors.New("boom")
	for attempt := 1; attempt <= 3; attempt++ {
		f, err := p.Fail(at(form, 1, 5), "f5@example.cn", boom, 3)
		if err != nil {
			t.Fatal(err)
		}
		if f.Attempts != attempt || f.Quarantined != (attempt == 3) {
			t.Fatalf("attempt %d: %+v", attempt, f)
		}
		pr := progress(form)
		if wantRetry := attempt < 3; slices.Contains(pr.Retry, 5) != wantRetry || pr.Last != 5 {
			t.Fatalf("attempt %d: progress %+v", attempt, pr)
		}
	}
	if pr := progress(imapBox); pr.Last != 0 || len(pr.Retry) != 0 {
		t.Errorf("the IMAP mailbox of the same name took the web form's records: %+v", pr)
	}
	// A permanent failure is quarantined at once; the record learns of the move.
	f, err := p.Fail(at(imapBox, 7, 9), "i9@example.cn", &intake.PermanentError{Err: boom}, 3)
	if err != nil || !f.Quarantined || f.Attempts != 1 {
		t.Fatalf("permanent failure: %+v, %v", f, err)
	}
	if err := p.QuarantineMoved(at(imapBox, 7, 9), at(inbound.Stream{Channel: inbound.IMAP, Name: "Quarantine"}, 3, 1)); err != nil {
		t.Fatal(err)
	}
	// A death of the process quarantines without a failed attempt.
	if err := p.Quarantine(at(imapBox, 7, 10), "", 3, "died"); err != nil {
		t.Fatal(err)
	}
	view(func(tx *store.Tx) error {
		qs, err := tx.Quarantined()
		if err != nil {
			return err
		}
		got := map[string]store.Quarantined{}
		for _, q := range qs {
			got[q.MessageID] = q
		}
		if q := got["f5@example.cn"]; q.Mailbox != "webform:INBOX" || q.UID != 5 || q.Attempts != 3 || q.Moved {
			t.Errorf("web form record: %+v", q)
		}
		if q := got["i9@example.cn"]; q.Mailbox != "INBOX" || q.UIDValidity != 7 || q.UID != 9 || !q.Moved ||
			q.Folder != "Quarantine" || q.FolderValidity != 3 || q.FolderUID != 1 || q.Fault != store.FaultMail {
			t.Errorf("IMAP record: %+v", q)
		}
		if q := got[""]; q.UID != 10 || q.Reason != "died" || q.Moved {
			t.Errorf("death record: %+v", q)
		}
		return nil
	})
	if pr := progress(imapBox); pr.Epoch != 7 || pr.Last != 10 || len(pr.Retry) != 0 {
		t.Errorf("IMAP progress after two quarantines: %+v", pr)
	}
	if got, want := m.Failures.Load(), int64(4); got != want {
		t.Errorf("failures = %d, want %d", got, want)
	}
	if got, want := m.Quarantined.Load(), int64(3); got != want {
		t.Errorf("quarantined = %d, want %d", got, want)
	}

	// A registration advances its own stream, and records where the mail came from.
	raw := plainComplaint("王五|wangwu@example.cn", "f6@example.cn", "王五申请删除凤凰博客稿件").bytes()
	out, err := p.Process(context.Background(), at(form, 1, 6), bytes.NewReader(raw))
	if err != nil || out.Case == "" {
		t.Fatalf("process: %+v, %v", out, err)
	}
	if pr := progress(form); pr.Last != 6 || len(pr.Retry) != 0 {
		t.Errorf("web form progress after a registration: %+v", pr)
	}
	// Gone before it could be read: skipped, nothing registered.
	if err := p.Skip(at(form, 1, 8)); err != nil {
		t.Fatal(err)
	}
	if pr := progress(form); pr.Last != 8 {
		t.Errorf("web form progress after a skip: %+v", pr)
	}
	view(func(tx *store.Tx) error {
		return tx.EachMessage(func(msg *store.Message) error {
			if msg.MessageID == "f6@example.cn" && (msg.Mailbox != "webform:INBOX" || msg.UID != 6) {
				t.Errorf("registered message: %+v", msg)
			}
			return nil
		})
	})

	// A new epoch starts the stream over and tells the operator.
	if err := p.Renumbered(imapBox, 8, "renumbered"); err != nil {
		t.Fatal(err)
	}
	if pr := progress(imapBox); pr.Epoch != 8 || pr.Last != 0 {
		t.Errorf("progress after a new epoch: %+v", pr)
	}
	view(func(tx *store.Tx) error {
		alerts, err := tx.Alerts()
		if err != nil {
			return err
		}
		if len(alerts) != 1 || alerts[0].Kind != "uidvalidity" || alerts[0].Message != "renumbered" {
			t.Errorf("alerts = %+v", alerts)
		}
		return nil
	})
}

// A copy of a registered mail is recognised by its Message-ID before it is parsed
// (issue 13, 3: a re-delivered bomb was parsed in full again): here the copy is beyond
// the parse limits, which a parse would refuse, yet it commits as a duplicate.
func TestRedeliveredCopyIsNotParsed(t *testing.T) {
	p, _, m := newBareProcessor(t, func(o *intake.Options) { o.Limits.MaxMessageBytes = 8 << 10 })
	src := func(seq uint32) inbound.Source {
		return inbound.Source{Stream: inbound.Stream{Channel: inbound.IMAP, Name: "INBOX"}, Epoch: 1, Seq: seq}
	}
	header := "From: 王五 <wangwu@example.cn>\r\nTo: desk@desk.test\r\nSubject: =?UTF-8?B?546L5LqU55Sz6K+35Yig6Zmk?=\r\nMessage-ID: <bomb-1@example.cn>\r\nMIME-Version: 1.0\r\n"
	orig := header + "Content-Type: text/plain; charset=UTF-8\r\n\r\n请删除。\r\n"
	var copyBody strings.Builder
	copyBody.WriteString(header + "Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for i := 0; i < 50; i++ {
		copyBody.WriteString("--b\r\nContent-Type: text/plain\r\n\r\n" + strings.Repeat("x", 1000) + "\r\n")
	}
	copyBody.WriteString("--b--\r\n")
	if _, err := p.Prepare(context.Background(), strings.NewReader(copyBody.String())); err == nil {
		t.Fatal("the copy must be beyond the limits for this test to mean anything")
	}
	pr, err := p.Prepare(context.Background(), strings.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Commit(src(1), pr); err != nil {
		t.Fatal(err)
	}
	pr, err = p.Prepare(context.Background(), strings.NewReader(copyBody.String()))
	if err != nil {
		t.Fatalf("a copy of a registered mail was parsed: %v", err)
	}
	out, err := p.Commit(src(2), pr)
	if err != nil || !out.Duplicate {
		t.Fatalf("copy: %+v %v, want a duplicate", out, err)
	}
	if m.Duplicates.Load() != 1 {
		t.Errorf("duplicates = %d", m.Duplicates.Load())
	}
}
