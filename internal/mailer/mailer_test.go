// SPDX-License-Identifier: MIT

package mailer

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/templates"
)

type memQueue []*store.OutboxEntry

func (q *memQueue) Enqueue(e *store.OutboxEntry) error { *q = append(*q, e); return nil }

func newMailer(t *testing.T, cat *cases.Catalogue) *Mailer {
	t.Helper()
	set, err := render.Load(templates.FS(), "zh-CN", render.WithCatalogue(cat))
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Templates: set, Desk: outbox.Address{Name: "投诉受理中心", Address: "Desk@Example.cn"}, CasePrefix: "TS", Locale: "zh-CN", Catalogue: cat})
}

// A queued mail is fixed once: its Message-ID (on the desk's domain), Date and case
// tag are in the stored entry, and the case learns the Message-ID so that an answer
// finds it.
func TestQueueFixesTheMailAndThreadsTheCase(t *testing.T) {
	m := newMailer(t, nil)
	c := &cases.Case{ID: "TS-2026-000001", State: cases.Incomplete, Complainant: "zhang@example.com", Missing: []cases.Kind{cases.IDCard}}
	var q memQueue
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	o := Outgoing{Kind: "acknowledgement", Data: m.View(c), To: []outbox.Address{{Address: c.Complainant}}, InReplyTo: "not a message id", Auto: outbox.AutoReplied}
	if err := m.Queue(&q, c, o, now); err != nil {
		t.Fatal(err)
	}
	if len(q) != 1 {
		t.Fatalf("%d entries", len(q))
	}
	e := q[0]
	var mail outbox.Mail
	if err := json.Unmarshal(e.Mail, &mail); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(e.MessageID, "@example.cn") || mail.MessageID != e.MessageID || !mail.Date.Equal(now) {
		t.Errorf("message id %q / %q, date %v", e.MessageID, mail.MessageID, mail.Date)
	}
	if !strings.HasPrefix(mail.Subject, "[TS-2026-000001]") || mail.Headers[outbox.HeaderCase] != c.ID || mail.InReplyTo != "" {
		t.Errorf("subject %q, headers %v, in-reply-to %q", mail.Subject, mail.Headers, mail.InReplyTo)
	}
	if len(c.Threads) != 1 || c.Threads[0] != e.MessageID {
		t.Errorf("threads %v", c.Threads)
	}
	if !strings.Contains(mail.Text, cases.DefaultCatalogue().Explain(cases.IDCard, "zh-CN")) {
		t.Errorf("the missing document is not explained:\n%s", mail.Text)
	}
}

// An admin's own document kind is explained to the complainant from the catalogue.
func TestViewExplainsAnAdminsKind(t *testing.T) {
	cat, err := cases.NewCatalogue([]cases.KindInfo{{Code: "lawyer_licence", LabelZH: "律师执业证", LabelEN: "lawyer's licence",
		ExplainZH: "代理律师的律师执业证复印件", Keywords: []string{"律师执业证"}}})
	if err != nil {
		t.Fatal(err)
	}
	m := newMailer(t, cat)
	c := &cases.Case{ID: "TS-2026-000002", State: cases.Incomplete, Missing: []cases.Kind{"lawyer_licence"}}
	var q memQueue
	if err := m.Queue(&q, c, Outgoing{Kind: "missing_items", Data: m.View(c), To: []outbox.Address{{Address: "a@example.cn"}}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	var mail outbox.Mail
	json.Unmarshal(q[0].Mail, &mail)
	if !strings.Contains(mail.Text, "代理律师的律师执业证复印件") {
		t.Errorf("the admin's kind is not explained:\n%s", mail.Text)
	}
}

// Issue 14: a ZIP whose files were all classified was listed to the complainant as
// "could not be classified". The archive is listed only when it holds an unclassified
// file or could not be read (no entries).
func TestViewListsAnArchiveOnlyWhenSomethingInItIsUnclassified(t *testing.T) {
	zip := func(name string) cases.Document { return cases.Document{Kind: cases.Unclassified, Filename: name} }
	entry := func(container, name string, k cases.Kind) cases.Document {
		return cases.Document{Kind: k, Filename: name, Container: container}
	}
	tests := []struct {
		why  string
		docs []cases.Document
		want []string // Container/Filename of the listed files
	}{
		{"every file in the archive classified: nothing to list",
			[]cases.Document{zip("材料.zip"), entry("材料.zip", "身份证.jpg", cases.IDCard), entry("材料.zip", "申请表.pdf", cases.ApplicationForm)}, nil},
		{"one file unclassified: it and its archive are listed",
			[]cases.Document{zip("材料.zip"), entry("材料.zip", "身份证.jpg", cases.IDCard), entry("材料.zip", "IMG_1.jpg", cases.Unclassified)},
			[]string{"/材料.zip", "材料.zip/IMG_1.jpg"}},
		{"an archive that could not be read has no entries: listed",
			[]cases.Document{zip("坏的.zip"), {Kind: cases.IDCard, Filename: "身份证.jpg"}}, []string{"/坏的.zip"}},
		{"a fully classified archive does not hide another one's unclassified file",
			[]cases.Document{zip("a.zip"), entry("a.zip", "身份证.jpg", cases.IDCard), zip("b.zip"), entry("b.zip", "x.jpg", cases.Unclassified)},
			[]string{"/b.zip", "b.zip/x.jpg"}},
	}
	for _, tc := range tests {
		d := View(&cases.Case{ID: "TS-2026-000003", Documents: tc.docs}, render.Desk{}, nil)
		var got []string
		for _, f := range d.Case.Unclassified {
			got = append(got, f.Container+"/"+f.Filename)
		}
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: listed %q, want %q", tc.why, got, tc.want)
		}
	}
}
