package intake

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/classify"
	"github.com/complaintd/complaintd/internal/desk"
	"github.com/complaintd/complaintd/internal/mailmsg"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/policy"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/store"
)

// State names as stored (desk owns the lifecycle; intake only moves a new case between
// its first two states).
var (
	StateIncomplete    = string(desk.Incomplete)
	StatePendingReview = string(desk.PendingReview)
)

// conventionExample is the subject convention shown to complainants who did not follow it.
const conventionExample = "张三(蒙牛奶业集团)申请删除凤凰资讯稿件"

// autoReply queues an automatic reply to the complainant unless the per-sender cap over
// the sliding window is reached (a mail loop or a flood must not make us a spam source;
// a follow-up days later is still answered).
func (p *Processor) autoReply(tx *store.Tx, c *store.Case, kind string, in *mailmsg.Message, now time.Time) (bool, string, error) {
	since := now.Add(-p.o.ReplyWindow)
	recent, err := tx.AutoReplies(c.Complainant, since)
	if err != nil {
		return false, "", err
	}
	if len(recent) >= p.o.ReplyLimit {
		p.o.Metrics.RepliesSuppressed.Add(1)
		return false, fmt.Sprintf("rate limit: %d automatic replies to this sender within %s", len(recent), p.o.ReplyWindow), nil
	}
	d := p.CaseData(c)
	d.SubjectConforms = c.Subject.Conforms
	d.ConventionExample = conventionExample
	if c.DueAt != nil {
		d.Deadline = *c.DueAt
	}
	refs := append(append([]string{}, in.References...), in.MessageID)
	if err := p.Enqueue(tx, c, kind, d, []outbox.Address{{Name: c.Applicant.Name, Address: c.Complainant}}, in.MessageID, refs, outbox.AutoReplied, now); err != nil {
		return false, "", err
	}
	if err := tx.RecordAutoReply(c.Complainant, now, since); err != nil {
		return false, "", err
	}
	return true, "", nil
}

// Enqueue renders a mail of the given kind and puts it in the outbox inside tx. The
// Message-ID and Date are fixed here so every SMTP attempt sends the same message.
// c may be a zero Case (ID "") for mail about no case (digests, reports, alerts); then
// no case tag is added and nothing is linked.
func (p *Processor) Enqueue(tx *store.Tx, c *store.Case, kind string, d render.Data, to []outbox.Address, inReplyTo string, refs []string, auto string, now time.Time) error {
	locale := c.Locale
	if locale == "" {
		locale = p.o.Locale
	}
	r, err := p.o.Templates.Render(kind, locale, d)
	if err != nil {
		return fmt.Errorf("render %s: %w", kind, err)
	}
	subject := r.Subject
	if tag := "[" + c.ID + "]"; c.ID != "" && !strings.Contains(subject, tag) {
		subject = tag + " " + subject
	}
	idBase := c.ID
	if idBase == "" {
		idBase = kind
	}
	m := outbox.Mail{
		MessageID:     p.newMessageID(idBase),
		From:          outbox.Address{Name: p.o.DeskName, Address: p.o.Desk.Address},
		To:            to,
		Subject:       subject,
		Text:          r.Text,
		HTML:          r.HTML,
		InReplyTo:     inReplyTo,
		References:    trimRefs(refs),
		AutoSubmitted: auto,
		Date:          now,
		Headers:       map[string]string{outbox.HeaderAutoResponseSuppress: "All"},
	}
	if c.ID != "" {
		m.Headers[outbox.HeaderCase] = c.ID
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode reply: %w", err)
	}
	var rcpts []string
	for _, a := range to {
		rcpts = append(rcpts, a.Address)
	}
	e := &store.OutboxEntry{Case: c.ID, Kind: kind, Mail: raw, MessageID: m.MessageID, To: rcpts, NextAt: now, CreatedAt: now}
	if err := tx.Enqueue(e); err != nil {
		return fmt.Errorf("enqueue %s: %w", kind, err)
	}
	if c.ID != "" {
		c.Threads = appendUnique(c.Threads, m.MessageID)
	}
	p.o.Metrics.RepliesQueued.Add(1)
	return nil
}

// trimRefs keeps References short: the first (thread root) and the last 9, as RFC 5322
// §3.6.4 suggests and mail clients do.
func trimRefs(refs []string) []string {
	var out []string
	for _, r := range refs {
		if r != "" {
			out = append(out, r)
		}
	}
	if len(out) > 10 {
		out = append(out[:1], out[len(out)-9:]...)
	}
	return out
}

func (p *Processor) newMessageID(caseID string) string {
	var b [10]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s.%s@%s", strings.ToLower(caseID), strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])), p.domain)
}

// CaseData is the template view of a case.
func (p *Processor) CaseData(c *store.Case) render.Data {
	d := render.Data{
		Desk: render.Desk{Name: p.o.DeskName, Address: p.o.Desk.Address, Prefix: p.o.CasePrefix},
		Case: render.Case{
			ID: c.ID, State: c.State, CreatedAt: c.CreatedAt, Assignee: c.Assignee,
			Applicant: party(c.Applicant),
			Request: render.Request{
				Title: c.Request.Title, URL: c.Request.URL, URLValid: c.Request.URLValid, Author: c.Request.Author,
				Published: c.Request.Published, Reason: c.Request.Reason, Channel: c.Request.Channel,
				ContentKind: c.Request.ContentKind, Reposted: c.Request.Reposted,
			},
		},
	}
	if c.DueAt != nil {
		d.Case.DueAt = *c.DueAt
	}
	if c.Principal != nil {
		pp := party(*c.Principal)
		d.Case.Principal = &pp
	}
	for _, doc := range c.Documents {
		if doc.Kind == classify.DocUnclassified {
			d.Case.Unclassified = append(d.Case.Unclassified, render.File{Filename: doc.Filename, Container: doc.Container, Size: doc.Size})
			continue
		}
		d.Case.Documents = append(d.Case.Documents, render.Document{Kind: doc.Kind, Filename: doc.Filename, Container: doc.Container, Size: doc.Size})
	}
	for _, code := range c.Missing {
		d.Case.Missing = append(d.Case.Missing, render.Missing{Code: code, Explanation: policy.Explain(code, c.Locale)})
	}
	for _, e := range c.Events {
		d.Case.Events = append(d.Case.Events, render.Event{At: e.At, Type: e.Type, Actor: e.Actor, Note: e.Note})
	}
	return d
}

func party(p classify.Party) render.Party {
	return render.Party{Name: p.Name, Org: p.Org, Type: p.Type, Email: p.Email, IDValid: p.IDValid}
}
