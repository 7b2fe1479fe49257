package intake

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"path"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/classify"
	"github.com/complaintd/complaintd/internal/desk"
	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/mailmsg"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/pii"
	"github.com/complaintd/complaintd/internal/policy"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/staffauth"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
)

// StaffOptions configure the staff desk (SPEC §3, §4). The zero value means: no staff.
type StaffOptions struct {
	Auth            staffauth.Config  // who may command, and what proves it
	Notify          []string          // who gets notifications (default: Auth.Staff)
	AppealReviewers []string          // who gets appealed cases (default: Notify)
	Aliases         map[string]string // 转交 short names → address
	AppealDays      int               // calendar days a rejection may be appealed
	AppealWindow    time.Duration     // overrides AppealDays when set (drills, tests)
	AuthorDays      int               // calendar days the author has to answer
	AttachMaxBytes  int64             // documents attached to one notification
	// NotifyLimit caps the notifications to one address within NotifyWindow; past it
	// they are held and go out as one mail listing the cases when the window ends.
	// 0: no cap.
	NotifyLimit  int
	NotifyWindow time.Duration // 0 with a cap: one hour
	// Resolver looks up DKIM keys for our own verification of staff mail (modes
	// other than token). Nil: no DKIM verification (the auth-results modes then rely
	// on the header alone, the dkim modes refuse).
	Resolver staffauth.Resolver
	// DKIMTimeout bounds the DNS lookups of one mail's verification. Zero: 10s.
	DKIMTimeout time.Duration
}

func (p *Processor) isStaff(addr string) bool {
	return addr != "" && slices.ContainsFunc(p.o.Staff.Auth.Staff, func(s string) bool { return strings.EqualFold(s, addr) })
}

// recipients are the header values a token may hide in.
func recipients(m *mailmsg.Message) []string {
	var out []string
	for _, a := range append(append([]mailmsg.Address{}, m.To...), m.Cc...) {
		out = append(out, a.Address)
	}
	for _, h := range []string{"Delivered-To", "X-Original-To"} {
		if v := m.Headers[h]; v != "" {
			out = append(out, v)
		}
	}
	return out
}

// staff handles a mail from a staff address: authenticate, then run its commands
// all-or-nothing (a mail that mixes a legal and an illegal command changes nothing, so
// the staff member never has to work out what half-happened). dkim is our own
// verification of the mail's signatures (Prepare), nil when none ran.
func (p *Processor) staff(tx *store.Tx, msg *mailmsg.Message, dkim []staffauth.DKIMResult, now time.Time) (inbound.Outcome, error) {
	c, _, err := p.findCase(tx, msg)
	if err != nil {
		return inbound.Outcome{}, err
	}
	caseID := ""
	if c != nil {
		caseID = c.ID
	}
	in := staffauth.Input{
		From: msg.From.Address, CaseID: caseID, Recipients: recipients(msg), Trace: trace(msg), DKIM: dkim,
		Replied: append(slices.Clone(msg.InReplyTo), msg.References...), Now: now,
	}
	if err := p.tokenState(tx, &in); err != nil {
		return inbound.Outcome{}, err
	}
	dec := staffauth.Verify(p.o.Staff.Auth, in)
	if !dec.OK {
		// Nothing changes and nothing goes to the claimed sender: if the mail is
		// forged, the real staff member must not be mailed by the forger. The reason
		// is recorded; the address only as a hash outside the case (the alert shows
		// in /healthz), and no command text anywhere.
		p.afterCommit(tx, func() { p.o.Metrics.SecurityEvents.Add(1) })
		note := fmt.Sprintf("unauthenticated staff mail from %s: %s", pii.LogHash(msg.From.Address), dec.Reason)
		if err := tx.AddAlert(store.Alert{At: now, Kind: "security", Message: note + " (case " + orNone(caseID) + ")"}); err != nil {
			return inbound.Outcome{}, err
		}
		if c != nil {
			if err := tx.AppendEvent(c.ID, cases.Event{At: now, Type: cases.EventSecurity, Actor: msg.From.Address, Note: dec.Reason}); err != nil {
				return inbound.Outcome{}, err
			}
		}
		reason := dec.Reason
		p.afterCommit(tx, func() {
			p.o.Logger.Warn("staff mail refused", "case", caseID, "message_id", pii.LogHash(msg.MessageID), "sender", pii.LogHash(msg.From.Address), "reason", reason)
		})
		return inbound.Outcome{Case: caseID, Role: "security", Result: "refused: " + dec.Reason}, nil
	}
	actor := dec.Sender
	if c == nil {
		// Authenticated but about no case: with token auth this cannot happen (the
		// token names the case); with auth-results it can.
		return inbound.Outcome{Role: "staff", Result: "staff mail without a case tag: ignored"}, nil
	}
	cmds, problems := desk.ParseCommands(desk.StripQuoted(msg.Text))
	var raw []string
	for _, cmd := range cmds {
		raw = append(raw, strings.ReplaceAll(cmd.Raw, "\n", " "))
	}
	work := cloneCase(c)
	pend := &pending{}
	var errs []string
	var glued []string // keywords glued to text: perhaps no command, reported
	for _, pr := range problems {
		if len(cmds) == 0 || pr.Incomplete {
			// A command without its argument (已处理 with no note) refuses the whole
			// mail like an illegal one: running the rest did half of what the staff
			// member meant (已处理 + 结案 closed the case unannounced), and the
			// confirmation never said what was dropped.
			errs = append(errs, pr.Text)
		} else {
			glued = append(glued, pr.Text)
		}
	}
	if len(cmds) == 0 {
		errs = append([]string{"未找到指令 / no command found"}, errs...)
	}
	for _, cmd := range cmds {
		if len(errs) > 0 {
			break
		}
		if err := p.apply(tx, work, cmd, actor, now, pend); err != nil {
			errs = append(errs, fmt.Sprintf("%s：%v", cmd.Raw, err))
			break
		}
	}
	staffTo := []outbox.Address{{Address: actor}}
	if len(errs) > 0 {
		out := p.staffMail(tx, c, actor, "staff_error", now)
		out.Data.Command = strings.Join(raw, "；")
		out.Data.Error = strings.Join(errs, "\n")
		if err := tx.AppendEvent(c.ID, cases.Event{At: now, Type: cases.EventCommandRefused, Actor: actor, Note: out.Data.Error}); err != nil {
			return inbound.Outcome{}, err
		}
		out.To, out.InReplyTo, out.References, out.Auto = staffTo, msg.MessageID, append(slices.Clone(msg.References), msg.MessageID), outbox.AutoReplied
		if err := p.o.Mailer.Queue(tx, c, out, now); err != nil {
			return inbound.Outcome{}, err
		}
		if err := tx.PutCase(c); err != nil { // threads of the reply
			return inbound.Outcome{}, err
		}
		// The outcome is logged: it names the actions, never their text (a reason or
		// a note can hold personal data); the event keeps the whole error.
		return inbound.Outcome{Case: c.ID, Role: "staff", Result: "commands refused: " + actionNames(cmds), Replies: 1}, nil
	}
	out := inbound.Outcome{Case: work.ID, Role: "staff", Result: "commands: " + actionNames(cmds)}
	n, err := p.commit(tx, work, pend, now)
	if err != nil {
		return inbound.Outcome{}, err
	}
	out.Replies += n
	conf := p.staffMail(tx, work, actor, "staff_confirmation", now)
	conf.Data.Command = strings.Join(raw, "；")
	conf.Data.Result = strings.Join(append(pend.results, glued...), "\n")
	conf.To, conf.InReplyTo, conf.References, conf.Auto = staffTo, msg.MessageID, append(slices.Clone(msg.References), msg.MessageID), outbox.AutoReplied
	if err := p.o.Mailer.Queue(tx, work, conf, now); err != nil {
		return inbound.Outcome{}, err
	}
	out.Replies++
	work.UpdatedAt = now
	if err := tx.PutCase(work); err != nil {
		return inbound.Outcome{}, err
	}
	return out, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// cloneCase is a deep copy through the stored form (every field survives it).
func cloneCase(c *cases.Case) *cases.Case {
	b, _ := json.Marshal(c)
	var out cases.Case
	json.Unmarshal(b, &out)
	return &out
}

// apply runs one command on work (a copy of the case), recording what it will send.
// An illegal command is explained in the staff member's terms.
func (p *Processor) apply(tx *store.Tx, work *cases.Case, cmd desk.Command, actor string, now time.Time, pend *pending) error {
	err := p.execute(tx, work, cmd.Action, cmd.Arg, actor, now, pend)
	var te *cases.TransitionError
	if errors.As(err, &te) {
		return errors.New(te.StaffMessage(p.o.Locale))
	}
	return err
}

// resolveStaff turns a 转交 argument (alias or address) into a staff address, and
// the department whose alias it is ("" for staff.aliases and addresses).
func (p *Processor) resolveStaff(arg string) (addr, department string, _ error) {
	arg = strings.TrimSpace(arg)
	if a, ok := p.o.Staff.Aliases[arg]; ok {
		return strings.ToLower(a), "", nil
	}
	if p.o.Router != nil {
		if a, dept, ok := p.o.Router.Alias(arg); ok {
			return strings.ToLower(a), dept, nil
		}
	}
	a, err := mail.ParseAddress(arg)
	if err != nil {
		return "", "", fmt.Errorf("未知的工作人员或别名 / unknown staff member or alias: %q", arg)
	}
	if !p.isStaff(a.Address) {
		return "", "", fmt.Errorf("%s 不在工作人员名单中 / is not on the staff list", a.Address)
	}
	return strings.ToLower(a.Address), "", nil
}

// missing is the policy's list plus what staff asked for, minus what the case has.
func (p *Processor) missing(c *cases.Case) []cases.Kind {
	r := caseResult(c)
	m := policy.Missing(p.o.Rules, classify.Facts(r))
	for _, code := range c.Requested {
		if !receivedSinceRequest(c, code) && !slices.Contains(m, code) {
			m = append(m, code)
		}
	}
	if m == nil {
		m = []cases.Kind{}
	}
	return m
}

// receivedSinceRequest reports whether c holds a document of kind added since staff
// last asked for more (补充): only those satisfy a requested kind.
func receivedSinceRequest(c *cases.Case, kind cases.Kind) bool {
	return slices.ContainsFunc(c.Documents, func(d cases.Document) bool {
		return d.Kind == kind && (c.RequestedAt == nil || !d.AddedAt.Before(*c.RequestedAt))
	})
}

// staffMail starts a mail of kind to staff member addr about c, issued at now: its
// Message-ID is fixed here, so that the token in its Reply-To is bound to it (a reply
// must answer this very mail), and the template sees the same token.
func (p *Processor) staffMail(tx *store.Tx, c *cases.Case, addr, kind string, now time.Time) mailer.Outgoing {
	o := mailer.Outgoing{Kind: kind, MessageID: p.o.Mailer.NewMessageID(tx, c.ID), Data: p.staffData(c, addr)}
	o.Data.Token, o.ReplyTo = p.StaffReplyTo(c.ID, o.MessageID, []string{addr}, now)
	return o
}

// StaffReplyTo is the staff token of the mail about caseID named messageID, issued at
// issued, and the Reply-To that carries it ("" and nil without a token key). The
// scheduler signs its reminders and escalations with it.
//
// Only a mail to staff (staff.addresses) carries one: a token works with any staff
// From, so one mailed to another address (a notify list, a reviewer or supervisor
// not on the staff list, an alias target) let whoever reads that mailbox run every
// command as any staff member (found in review). Those recipients are notified, and
// cannot command, as `config check` says.
func (p *Processor) StaffReplyTo(caseID, messageID string, to []string, issued time.Time) (string, *outbox.Address) {
	if len(p.o.Staff.Auth.TokenKey) == 0 || len(to) == 0 || slices.ContainsFunc(to, func(a string) bool { return !p.isStaff(a) }) {
		return "", nil
	}
	token := staffauth.NewToken(p.o.Staff.Auth.TokenKey, caseID, messageID, issued)
	return token, &outbox.Address{Name: p.o.Desk.Name, Address: staffauth.ReplyAddress(p.o.Desk.Address, caseID, token)}
}

// tokenState fills in what the store says about staff tokens: the revocations in
// force for the case, and until when old-form tokens are accepted (one token
// lifetime after the upgrade, on a store that could have sent them).
func (p *Processor) tokenState(tx *store.Tx, in *staffauth.Input) error {
	rev, err := tx.StaffTokenRevocations(in.CaseID)
	if err != nil {
		return err
	}
	in.RevokedAll, in.RevokedCase = rev.All, rev.Case
	up, ok, err := tx.StaffTokenUpgrade()
	if err != nil {
		return err
	}
	if ok && up.Legacy {
		ttl := p.o.Staff.Auth.TokenTTL
		if ttl <= 0 {
			ttl = staffauth.DefaultTokenTTL
		}
		in.LegacyUntil = up.At.Add(ttl)
	}
	return nil
}

// complainantData is the case view for mail to the complainant or the author: no
// staff fields.
func (p *Processor) complainantData(c *cases.Case) render.Data {
	d := p.o.Mailer.View(c)
	d.Case.Assignee = ""
	d.Case.Events = nil
	d.SubjectConforms = true
	return d
}

func (p *Processor) staffData(c *cases.Case, staff string) render.Data {
	d := p.o.Mailer.View(c)
	d.Staff = staff
	if c.DueAt != nil {
		d.Deadline = *c.DueAt
	}
	return d
}

// notification builds the staff mail for a case that needs them: the whole case and
// its documents attached up to AttachMaxBytes, the rest listed in the note. Replying
// to it (its Reply-To carries a token bound to it) is all a staff member needs to do.
// Each recipient gets a mail, and a token, of their own.
//
// An address over its notification cap (Staff.NotifyLimit) gets no mail now: the case
// joins the batch that goes out to it when the window ends; held counts those. The
// cap's bookkeeping is left to the caller, in records, to run when it commits the
// mails (holdNotification).
func (p *Processor) notification(tx *store.Tx, c *cases.Case, to []string, note string, now time.Time) (_ []mailer.Outgoing, held int, records []func() error, _ error) {
	if len(to) == 0 {
		to = p.departmentStaff(c)
	}
	if len(to) == 0 {
		to = p.o.Staff.Notify
	}
	var open []string
	for _, addr := range to {
		h, record, err := p.holdNotification(tx, c, addr, now)
		if err != nil {
			return nil, 0, nil, err
		}
		if record != nil {
			records = append(records, record)
		}
		if h {
			held++
		} else {
			open = append(open, addr)
		}
	}
	to = open
	if len(to) == 0 {
		return nil, held, records, nil
	}
	rel, more := related(tx, c)
	var atts []outbox.Attachment
	var left []string
	budget := p.o.Staff.AttachMaxBytes
	docs := slices.Clone(c.Documents)
	sort.SliceStable(docs, func(i, j int) bool { return docs[i].Size < docs[j].Size })
	var flagged []string
	for _, doc := range docs {
		if doc.File == "" || doc.Erased {
			continue
		}
		if doc.Flagged != "" {
			// A program or a disguised file never reaches a staff member's mail client.
			flagged = append(flagged, doc.Filename+"（"+doc.Flagged+"）")
			continue
		}
		if doc.Size > budget {
			left = append(left, fmt.Sprintf("%s (%d bytes)", doc.Filename, doc.Size))
			continue
		}
		budget -= doc.Size
		ctype := mime.TypeByExtension(strings.ToLower(path.Ext(doc.Filename)))
		atts = append(atts, outbox.Attachment{Filename: doc.Filename, ContentType: ctype, Ref: doc.SHA256})
	}
	if len(flagged) > 0 {
		note = strings.TrimSpace(note + "\n未随信附上（可疑文件，已标记）/ not attached (flagged): " + strings.Join(flagged, ", "))
	}
	if len(left) > 0 {
		note = strings.TrimSpace(note + "\n未随信附上（超出附件大小上限，见 `complaintd cases show`）/ not attached (size cap): " + strings.Join(left, ", "))
	}
	var out []mailer.Outgoing
	issued := p.o.Now()
	for _, addr := range to {
		m := p.staffMail(tx, c, addr, "staff_notification", issued)
		m.Data.Note = note
		m.Data.Case.Related, m.Data.Case.RelatedMore = rel, more
		m.To, m.InReplyTo, m.Auto, m.Attachments = []outbox.Address{{Address: addr}}, c.LastInbound, outbox.AutoGenerated, atts
		out = append(out, m)
	}
	return out, held, records, nil
}

// notifyStaff queues the notification now and records it in events.
func (p *Processor) notifyStaff(tx *store.Tx, c *cases.Case, to []string, note string, now time.Time, events *[]cases.Event) (int, error) {
	mails, held, records, err := p.notification(tx, c, to, note, now)
	if err != nil {
		return 0, err
	}
	if err := (&pending{records: records}).record(); err != nil {
		return 0, err
	}
	if held > 0 {
		*events = append(*events, heldEvent(held, now))
	}
	for _, m := range mails {
		if err := p.o.Mailer.Queue(tx, c, m, now); err != nil {
			return 0, err
		}
	}
	if len(mails) > 0 {
		*events = append(*events, cases.Event{At: now, Type: cases.EventStaffNotified, Actor: "desk", Note: fmt.Sprintf("%d recipient(s)", len(mails))})
	}
	return len(mails), nil
}

// complainantAction handles 申诉 / 撤回 in a complainant's reply to an existing case.
// It returns handled=false when the mail holds no such action. newDocs says the mail
// brought documents the case did not have.
func (p *Processor) complainantAction(tx *store.Tx, c *cases.Case, msg *mailmsg.Message, newDocs bool, now time.Time, events *[]cases.Event) (handled bool, replies int, err error) {
	act, reason, ok := desk.ParseComplainantAction(desk.StripQuoted(msg.Text))
	if !ok && c.State == cases.Rejected && newDocs {
		// The rejection mail asks for just this: reply with the reasons and new
		// evidence. In the complainant's own words, without the keyword 申诉, it is
		// an appeal still (inside the window or not, as any appeal).
		act, reason, ok = cases.Appeal, strings.TrimSpace(desk.StripQuoted(msg.Text)), true
	}
	if !ok {
		return false, 0, nil
	}
	actor := c.Complainant
	pend := &pending{inReplyTo: msg.MessageID, refs: append(slices.Clone(msg.References), msg.MessageID), auto: outbox.AutoReplied}
	refuse := func(note string, d render.Data) (bool, int, error) {
		// One template answers both refusals: it must not call a withdrawal an appeal.
		d.Refused = string(act)
		*events = append(*events, cases.Event{At: now, Type: cases.RefusedEvent(act), Actor: actor, Note: note})
		// A refusal changes nothing, so it can be asked for again and again: it is an
		// automatic reply under the same caps as the others (SPEC §5).
		why, err := p.replyCapped(tx, c, msg, now)
		if err != nil {
			return true, 0, err
		}
		if why != "" {
			*events = append(*events, cases.Event{At: now, Type: cases.EventReplySuppressed, Actor: "desk", Note: why})
			return true, 0, nil
		}
		if err := p.o.Mailer.Queue(tx, c, mailer.Outgoing{Kind: "appeal_refused", Data: d, To: p.toComplainant(c), ReplyTo: p.complainantReplyTo(c.ID),
			InReplyTo: pend.inReplyTo, References: pend.refs, Auto: pend.auto}, now); err != nil {
			return true, 0, err
		}
		return true, 1, p.countReply(tx, c, msg, now)
	}
	_, terr := cases.Transition(c.State, act)
	window := p.appealWindow()
	switch {
	case act == cases.Appeal && terr == nil && c.RejectedAt != nil && !cases.AppealAllowed(*c.RejectedAt, arrivedAt(msg, *c.RejectedAt, now), window):
		d := p.complainantData(c)
		d.AppealUntil = c.RejectedAt.Add(window)
		return refuse("outside the appeal window", d)
	case terr != nil:
		var te *cases.TransitionError
		msgText := terr.Error()
		if errors.As(terr, &te) {
			msgText = te.ComplainantMessage(c.Locale)
		}
		d := p.complainantData(c)
		d.Reason = msgText
		return refuse(msgText, d)
	}
	if err := p.execute(tx, c, act, reason, actor, now, pend); err != nil {
		return true, 0, err
	}
	if err := pend.record(); err != nil {
		return true, 0, err
	}
	*events = append(*events, pend.events...)
	for _, m := range pend.mails {
		if err := p.o.Mailer.Queue(tx, c, m, now); err != nil {
			return true, replies, err
		}
		replies++
	}
	return true, replies, nil
}

// arrivedAt is when the mail reached the desk's mailbox: the date of its topmost
// Received line, which the desk's own server adds at delivery, when it lies between
// since and now; else now. An appeal that came inside its window while the desk was
// down, or that waited in quarantine, was refused as late (found in review).
func arrivedAt(msg *mailmsg.Message, since, now time.Time) time.Time {
	for _, f := range msg.Trace {
		if !f.Received {
			continue
		}
		i := strings.LastIndexByte(f.Value, ';')
		if i < 0 {
			return now
		}
		t, err := mail.ParseDate(strings.TrimSpace(f.Value[i+1:]))
		if err != nil || t.Before(since) || t.After(now) {
			return now
		}
		return t
	}
	return now
}

// authorStatement records the author's counter-statement (申辩), keeps what the author
// attached as classified documents of the case (the author's evidence belongs to it),
// and forwards it all to staff; the review deadline, paused while waiting, runs again.
func (p *Processor) authorStatement(tx *store.Tx, c *cases.Case, msg *mailmsg.Message, docs []classify.Document, now time.Time, kept map[string]bool) (inbound.Outcome, error) {
	text := desk.StripQuoted(msg.Text)
	c.Statements = append(c.Statements, cases.Statement{At: now, From: msg.From.Address, MessageID: msg.MessageID, Text: text})
	added, err := p.keepDocuments(c, msg, docs, now, kept)
	if err != nil {
		return inbound.Outcome{}, err
	}
	c.AwaitingAuthor = cases.AwaitingAuthorAfter(c.AwaitingAuthor, cases.AuthorReplied, c.State)
	c.Threads = appendUnique(c.Threads, msg.MessageID)
	if err := tx.LinkMessageID(msg.MessageID, c.ID); err != nil {
		return inbound.Outcome{}, err
	}
	events := []cases.Event{{At: now, Type: cases.EventOf(cases.AuthorReplied), Actor: msg.From.Address, Note: clipText(text, 200)}}
	if len(added) > 0 {
		events = append(events, cases.Event{At: now, Type: cases.EventDocumentsAdded, Actor: msg.From.Address, Note: strings.Join(added, ", ")})
	}
	n, err := p.notifyStaff(tx, c, assigneeOr(c), "作者申辩 / the author's counter-statement:\n"+clipText(text, 4000), now, &events)
	if err != nil {
		return inbound.Outcome{}, err
	}
	for _, e := range events {
		if err := tx.AppendEvent(c.ID, e); err != nil {
			return inbound.Outcome{}, err
		}
	}
	c.UpdatedAt = now
	if err := tx.PutCase(c); err != nil {
		return inbound.Outcome{}, err
	}
	return inbound.Outcome{Case: c.ID, Role: "author", Result: "counter-statement recorded and forwarded", Replies: n}, nil
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// Attach gives a stored staff notification its documents back before sending (the
// open functions cannot be stored): each attachment's Ref is the SHA-256 of a
// document of the case named in the mail's case header. A document erased since the
// mail was queued is left out.
func (p *Processor) Attach(m *outbox.Mail) error {
	caseID := m.Headers[outbox.HeaderCase]
	var c *cases.Case
	if err := p.o.Store.View(func(tx *store.Tx) error {
		var err error
		c, err = tx.Case(caseID)
		return err
	}); err != nil {
		return fmt.Errorf("case %s: %w", caseID, err)
	}
	kept := m.Attachments[:0]
	for _, a := range m.Attachments {
		i := slices.IndexFunc(c.Documents, func(doc cases.Document) bool { return doc.SHA256 == a.Ref && doc.File != "" })
		if i < 0 || c.Documents[i].Erased {
			continue
		}
		doc := c.Documents[i]
		ref := vault.BlobRef{File: doc.File, SealedKey: doc.SealedKey, Class: doc.KeyClass, Size: doc.Size, Offset: doc.Offset, Length: doc.Length}
		a.Open = func() (io.ReadCloser, error) { return p.o.Vault.OpenBlob(caseID, ref) }
		kept = append(kept, a)
	}
	m.Attachments = kept
	return nil
}

func (p *Processor) appealWindow() time.Duration {
	if p.o.Staff.AppealWindow > 0 {
		return p.o.Staff.AppealWindow
	}
	return time.Duration(p.o.Staff.AppealDays) * 24 * time.Hour
}

// forgedCommand says why a mail from someone who is not staff looks like an attempt to
// run staff commands: it was sent to a staff token address (only staff receive those;
// viaToken), or its first unquoted line is a staff-only command. 补充 and 备注 do not
// count: a complainant naturally starts a mail with 补充材料 or a note.
func (p *Processor) forgedCommand(msg *mailmsg.Message) (why string, viaToken bool) {
	if id, _, ok := staffauth.ExtractToken(recipients(msg), p.o.Desk.Address); ok &&
		!staffauth.HasComplainantToken(p.o.Staff.Auth.Secret, recipients(msg), p.o.Desk.Address, id) {
		return "non-staff sender wrote to a staff token address", true
	}
	body := p.quoteless.of(msg.Text)
	cmds, _ := desk.ParseCommands(body)
	if len(cmds) == 0 || cmds[0].Line != firstTextLine(body) {
		return "", false
	}
	switch cmds[0].Action {
	case cases.NeedMore, cases.Note:
		return "", false
	}
	// The action, never the text: the line and what follows it are the sender's
	// words (a complainant writing "重开：… 请回电 139…"), and the reason goes to an
	// alert that the unauthenticated /healthz lists, and to the log.
	return "non-staff sender opened the mail with the staff command " + string(cmds[0].Action), false
}

// firstTextLine is the 1-based number of the first non-blank line.
func firstTextLine(body string) int {
	for i, l := range strings.Split(body, "\n") {
		if strings.TrimSpace(l) != "" {
			return i + 1
		}
	}
	return 0
}

// refuseForged records a forged command: nothing changes, nobody is mailed, and a
// security event lands on the case it names.
func (p *Processor) refuseForged(tx *store.Tx, msg *mailmsg.Message, why string, now time.Time) (inbound.Outcome, error) {
	c, _, err := p.findCase(tx, msg)
	if err != nil {
		return inbound.Outcome{}, err
	}
	caseID := ""
	if c != nil {
		caseID = c.ID
		if err := tx.AppendEvent(c.ID, cases.Event{At: now, Type: cases.EventSecurity, Actor: msg.From.Address, Note: why}); err != nil {
			return inbound.Outcome{}, err
		}
	}
	p.afterCommit(tx, func() { p.o.Metrics.SecurityEvents.Add(1) })
	if err := tx.AddAlert(store.Alert{At: now, Kind: "security", Message: why + " (case " + orNone(caseID) + ")"}); err != nil {
		return inbound.Outcome{}, err
	}
	if err := tx.LinkMessageID(msg.MessageID, ""); err != nil {
		return inbound.Outcome{}, err
	}
	p.afterCommit(tx, func() {
		p.o.Logger.Warn("command from a non-staff sender refused", "case", caseID, "message_id", pii.LogHash(msg.MessageID))
	})
	return inbound.Outcome{Case: caseID, Role: "security", Result: "refused: " + why}, nil
}

// trace hands the mail's Received and Authentication-Results headers to staffauth.
func trace(m *mailmsg.Message) []staffauth.Trace {
	out := make([]staffauth.Trace, len(m.Trace))
	for i, t := range m.Trace {
		out[i] = staffauth.Trace{Received: t.Received, Value: t.Value}
	}
	return out
}

// toComplainant is the recipient of mail to the case's complainant.
func (p *Processor) toComplainant(c *cases.Case) []outbox.Address {
	return []outbox.Address{{Name: c.Applicant.Name, Address: c.Complainant}}
}

// complainantReplyTo is the Reply-To of mail to the complainant: the desk with the
// case's complainant token, so that an answer from another mailbox still proves it
// comes from someone who received our mail. nil without a secret.
func (p *Processor) complainantReplyTo(caseID string) *outbox.Address {
	if len(p.o.Staff.Auth.Secret) == 0 || caseID == "" {
		return nil
	}
	return &outbox.Address{Name: p.o.Desk.Name, Address: staffauth.ReplyAddress(p.o.Desk.Address, caseID, staffauth.ComplainantToken(p.o.Staff.Auth.Secret, caseID))}
}

// actsForComplainant reports whether msg may act on c: it comes from the complainant's
// From address, or it answers a mail of ours with the case's complainant token.
func (p *Processor) actsForComplainant(c *cases.Case, msg *mailmsg.Message) bool {
	return c.FromComplainant(msg.From.Address) ||
		staffauth.HasComplainantToken(p.o.Staff.Auth.Secret, recipients(msg), p.o.Desk.Address, c.ID)
}

// actionNames lists the actions of commands ("reject, note") for the log.
func actionNames(cmds []desk.Command) string {
	if len(cmds) == 0 {
		return "none found"
	}
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = string(c.Action)
	}
	return strings.Join(names, ", ")
}

// dkimTap runs our own DKIM verification of a staff mail while the mail is parsed:
// the raw bytes are read once, from the source, and the verifier hashes them as they
// pass (bounded by the message size limit), so nothing is held in memory. Only mail
// whose From is a staff address is verified, and only when the mode reads DKIM: no
// other mail is worth a DNS lookup.
type dkimTap struct {
	src  io.Reader // what the parser reads
	feed *dkimFeed
	done chan []staffauth.DKIMResult
	once sync.Once
	res  []staffauth.DKIMResult
}

// tapDKIM wraps raw; the parser reads the returned tap's src, and finish collects
// the result. A nil tap (no staff mail, or no DKIM in the mode) passes raw through.
func (p *Processor) tapDKIM(raw io.Reader) (io.Reader, *dkimTap) {
	a := p.o.Staff.Auth
	if p.o.Staff.Resolver == nil || !a.Mode.UsesDKIM() || len(a.Staff) == 0 {
		return raw, nil
	}
	lim := p.o.Limits.MaxHeaderBytes
	if lim <= 0 {
		lim = mailmsg.DefaultLimits.MaxHeaderBytes
	}
	br := bufio.NewReader(raw)
	head, err := staffauth.ReadHeader(br, lim)
	src := io.MultiReader(bytes.NewReader(head), br)
	if err != nil || !p.isStaff(staffauth.HeaderSender(head)) {
		return src, nil
	}
	max := p.o.Limits.MaxMessageBytes
	if max <= 0 {
		max = mailmsg.DefaultLimits.MaxMessageBytes
	}
	timeout := p.o.Staff.DKIMTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	pr, pw := io.Pipe()
	t := &dkimTap{feed: &dkimFeed{pw: pw, left: max}, done: make(chan []staffauth.DKIMResult, 1)}
	t.src = io.TeeReader(src, t.feed)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	go func() {
		defer cancel()
		// Off the worker's goroutine, prepareSafely's recover does not reach: a
		// panic in the verifier becomes a signature that did not verify.
		defer func() {
			if v := recover(); v != nil {
				p.o.Logger.Error("dkim verification panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				pr.CloseWithError(errDKIMPanicked) // the parser's writes go on, unblocked
				t.done <- []staffauth.DKIMResult{{Reason: errDKIMPanicked.Error()}}
			}
		}()
		res := staffauth.VerifyDKIM(ctx, p.o.Staff.Resolver, pr)
		io.Copy(io.Discard, pr) // the parser's writes must never block on a verifier that gave up
		t.done <- res
	}()
	return t.src, t
}

// finish ends the feed and returns what the verification found. After a complete
// parse the rest of the message (an epilogue the parser did not need) is read
// through the tap first, up to the size limit: the body hash covers every byte.
// Safe to call more than once; a nil tap returns nil.
func (t *dkimTap) finish(complete bool) []staffauth.DKIMResult {
	if t == nil {
		return nil
	}
	t.once.Do(func() {
		if complete {
			io.CopyN(io.Discard, t.src, t.feed.left+1)
		}
		t.feed.pw.Close()
		t.res = <-t.done
	})
	return t.res
}

// dkimFeed hands the parser's bytes to the verifier, at most left of them: past the
// limit the verifier sees an error (so no pass), the parser never does.
type dkimFeed struct {
	pw   *io.PipeWriter
	left int64
	dead bool
}

var errDKIMTooLarge = errors.New("message over the size limit")

var errDKIMPanicked = errors.New("verification failed (internal error, logged)")

func (f *dkimFeed) Write(b []byte) (int, error) {
	if f.dead {
		return len(b), nil
	}
	if int64(len(b)) > f.left {
		f.pw.CloseWithError(errDKIMTooLarge)
		f.dead = true
		return len(b), nil
	}
	f.left -= int64(len(b))
	if _, err := f.pw.Write(b); err != nil {
		f.dead = true
	}
	return len(b), nil
}
