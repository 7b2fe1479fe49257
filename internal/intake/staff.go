package intake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/classify"
	"github.com/complaintd/complaintd/internal/desk"
	"github.com/complaintd/complaintd/internal/mailmsg"
	"github.com/complaintd/complaintd/internal/outbox"
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
	ProcessDays     int               // business days to process after acceptance
	AppealDays      int               // calendar days a rejection may be appealed
	AppealWindow    time.Duration     // overrides AppealDays when set (drills, tests)
	AuthorDays      int               // calendar days the author has to answer
	AttachMaxBytes  int64             // documents attached to one notification
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

// pending is what a command mail will do once every command is known to be legal.
type pending struct {
	events  []store.Event
	mails   []Outgoing
	results []string
}

// staff handles a mail from a staff address: authenticate, then run its commands
// all-or-nothing (a mail that mixes a legal and an illegal command changes nothing, so
// the staff member never has to work out what half-happened).
func (p *Processor) staff(tx *store.Tx, msg *mailmsg.Message, now time.Time) (Outcome, error) {
	c, _, err := p.findCase(tx, msg)
	if err != nil {
		return Outcome{}, err
	}
	caseID := ""
	if c != nil {
		caseID = c.ID
	}
	dec := staffauth.Verify(p.o.Staff.Auth, staffauth.Input{
		From: msg.From.Address, CaseID: caseID, Recipients: recipients(msg), AuthResults: msg.AuthResults,
	})
	if !dec.OK {
		// Nothing changes and nothing goes to the claimed sender: if the mail is
		// forged, the real staff member must not be mailed by the forger.
		p.o.Metrics.SecurityEvents.Add(1)
		note := fmt.Sprintf("unauthenticated staff mail from %s: %s", msg.From.Address, dec.Reason)
		if err := tx.AddAlert(store.Alert{At: now, Kind: "security", Message: note + " (case " + orNone(caseID) + ")"}); err != nil {
			return Outcome{}, err
		}
		if c != nil {
			if err := tx.AppendEvent(c.ID, store.Event{At: now, Type: "security", Actor: msg.From.Address, Note: dec.Reason}); err != nil {
				return Outcome{}, err
			}
		}
		p.o.Logger.Warn("staff mail refused", "case", caseID, "message_id", msg.MessageID, "reason", dec.Reason)
		return Outcome{Case: caseID, Role: "security", Result: "refused: " + dec.Reason}, nil
	}
	actor := dec.Sender
	if c == nil {
		// Authenticated but about no case: with token auth this cannot happen (the
		// token names the case); with auth-results it can.
		return Outcome{Role: "staff", Result: "staff mail without a case tag: ignored"}, nil
	}
	cmds, problems := desk.ParseCommands(desk.StripQuoted(msg.Text))
	var raw []string
	for _, cmd := range cmds {
		raw = append(raw, strings.ReplaceAll(cmd.Raw, "\n", " "))
	}
	work := cloneCase(c)
	pend := &pending{}
	var errs []string
	if len(cmds) == 0 {
		errs = append(errs, "未找到指令 / no command found")
		errs = append(errs, problems...)
	}
	for _, cmd := range cmds {
		if err := p.apply(tx, work, cmd, actor, now, pend); err != nil {
			errs = append(errs, fmt.Sprintf("%s：%v", cmd.Raw, err))
			break
		}
	}
	staffTo := []outbox.Address{{Address: actor}}
	d := p.staffData(c, actor)
	d.Command = strings.Join(raw, "；")
	if len(errs) > 0 {
		d.Error = strings.Join(errs, "\n")
		if err := tx.AppendEvent(c.ID, store.Event{At: now, Type: "command_refused", Actor: actor, Note: d.Error}); err != nil {
			return Outcome{}, err
		}
		if err := p.EnqueueMail(tx, c, Outgoing{Kind: "staff_error", Data: d, To: staffTo, ReplyTo: p.staffReplyTo(c.ID),
			InReplyTo: msg.MessageID, References: append(slices.Clone(msg.References), msg.MessageID), Auto: outbox.AutoReplied}, now); err != nil {
			return Outcome{}, err
		}
		if err := tx.PutCase(c); err != nil { // threads of the reply
			return Outcome{}, err
		}
		return Outcome{Case: c.ID, Role: "staff", Result: "commands refused: " + d.Error, Replies: 1}, nil
	}
	for _, e := range pend.events {
		if err := tx.AppendEvent(work.ID, e); err != nil {
			return Outcome{}, err
		}
	}
	out := Outcome{Case: work.ID, Role: "staff", Result: "commands: " + d.Command}
	for _, m := range pend.mails {
		if err := p.EnqueueMail(tx, work, m, now); err != nil {
			return Outcome{}, err
		}
		out.Replies++
	}
	d = p.staffData(work, actor)
	d.Command = strings.Join(raw, "；")
	d.Result = strings.Join(pend.results, "\n")
	if err := p.EnqueueMail(tx, work, Outgoing{Kind: "staff_confirmation", Data: d, To: staffTo, ReplyTo: p.staffReplyTo(work.ID),
		InReplyTo: msg.MessageID, References: append(slices.Clone(msg.References), msg.MessageID), Auto: outbox.AutoReplied}, now); err != nil {
		return Outcome{}, err
	}
	out.Replies++
	work.UpdatedAt = now
	if err := tx.PutCase(work); err != nil {
		return Outcome{}, err
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
func cloneCase(c *store.Case) *store.Case {
	b, _ := json.Marshal(c)
	var out store.Case
	json.Unmarshal(b, &out)
	return &out
}

// apply runs one command on work (a copy of the case), recording what it will send.
func (p *Processor) apply(tx *store.Tx, work *store.Case, cmd desk.Command, actor string, now time.Time, pend *pending) error {
	from := desk.State(work.State)
	to, err := desk.Transition(from, cmd.Action)
	if err != nil {
		var te *desk.TransitionError
		if errors.As(err, &te) {
			return errors.New(te.StaffMessage(p.o.Locale))
		}
		return err
	}
	ev := store.Event{At: now, Type: string(cmd.Action), Actor: actor, Note: cmd.Arg}
	if to != from {
		ev.From, ev.To = string(from), string(to)
	}
	complainant := func(kind string, d render.Data) {
		pend.mails = append(pend.mails, Outgoing{Kind: kind, Data: d, To: []outbox.Address{{Name: work.Applicant.Name, Address: work.Complainant}},
			InReplyTo: work.LastInbound, References: []string{work.LastInbound}, Auto: outbox.AutoGenerated})
	}
	result := desk.ActionLabel(cmd.Action, p.o.Locale)
	switch cmd.Action {
	case desk.Accept:
		due := p.processDue(work, now)
		work.DueAt = &due
		d := p.complainantData(work)
		d.Deadline = due
		complainant("accepted", d)
		result += "；处理时限 " + due.In(p.o.Calendar.Location()).Format("2006-01-02")
	case desk.Reject:
		work.RejectedAt, work.Reason, work.DueAt = &now, cmd.Arg, nil
		d := p.complainantData(work)
		d.Reason = cmd.Arg
		d.AppealUntil = now.Add(p.appealWindow())
		complainant("rejected", d)
	case desk.NeedMore:
		codes, free := desk.ParseNeedItems(cmd.Arg)
		for _, code := range codes {
			work.Requested = appendUnique(work.Requested, code)
		}
		// Asking again for a kind the case has means "a new one": only documents added
		// from now on satisfy the request.
		work.RequestedAt = &now
		work.RequestedItems = append(work.RequestedItems, free...)
		work.Missing = p.missing(work)
		due := p.expireDue(now)
		work.DueAt = &due
		d := p.complainantData(work)
		d.Items = free
		d.Reason = cmd.Arg
		d.Deadline = due
		complainant("more_needed", d)
	case desk.Resolve:
		work.Reason, work.DueAt = cmd.Arg, nil
		d := p.complainantData(work)
		d.Reason = cmd.Arg
		complainant("resolved", d)
	case desk.Close:
		work.DueAt = nil
	case desk.Reopen:
		due := p.reviewDue(work, now)
		work.DueAt, work.RejectedAt = &due, nil
	case desk.Assign:
		addr, err := p.resolveStaff(cmd.Arg)
		if err != nil {
			return err
		}
		work.Assignee = addr
		ev.Note = addr
		n, err := p.notification(tx, work, []string{addr}, "转交给您处理 / assigned to you by "+actor)
		if err != nil {
			return err
		}
		pend.mails = append(pend.mails, n...)
		result += "：" + addr
	case desk.Note:
		result = "备注已记录（仅内部可见）/ note recorded (internal only)"
	case desk.Escalate:
		setExtra(work, extraSeverityBy, "staff")
		if work.Severity != SeverityMajor {
			reason := "升级 by " + actor
			if cmd.Arg != "" {
				reason += ": " + cmd.Arg
			}
			work.Severity = SeverityMajor
			work.Why = replaceWhy(work.Why, "severity", reason)
			if work.State == string(desk.PendingReview) || work.State == string(desk.Appealed) {
				if due := p.reviewDue(work, now); work.DueAt == nil || due.Before(*work.DueAt) {
					work.DueAt = &due
				}
			}
			if p.o.Router != nil && len(p.o.Router.Leadership()) > 0 {
				n, err := p.notification(tx, work, p.o.Router.Leadership(), "重大投诉 / major complaint: "+reason)
				if err != nil {
					return err
				}
				pend.mails = append(pend.mails, n...)
				result += fmt.Sprintf("（已通知领导 %d 人 / leadership notified）", len(n))
			}
		}
	case desk.Downgrade:
		setExtra(work, extraSeverityBy, "staff")
		work.Severity = SeverityOrdinary
		work.Why = replaceWhy(work.Why, "severity", "降级 by "+actor)
	case desk.NotifyAuthor:
		a, err := mail.ParseAddress(strings.TrimSpace(cmd.Arg))
		if err != nil {
			return fmt.Errorf("作者地址无效 / not an address: %q", cmd.Arg)
		}
		addr := strings.ToLower(a.Address)
		if strings.EqualFold(addr, work.Complainant) || p.isStaff(addr) || strings.EqualFold(addr, p.o.Desk.Address) {
			return fmt.Errorf("作者地址不能是申请人、工作人员或本投诉邮箱 / the author cannot be the applicant, staff or the desk")
		}
		due := now.AddDate(0, 0, p.o.Staff.AuthorDays)
		work.Author, work.AuthorDue = addr, &due
		d := p.complainantData(work)
		d.AuthorDeadline = due
		// The notice carries the request and its reasons, nothing that identifies or
		// reaches the applicant beyond their name: no address, no documents (render.Data
		// has no ID numbers or phones at all), whatever an edited template asks for.
		d.Case.Applicant.Email = ""
		d.Case.Documents, d.Case.Unclassified, d.Case.Missing = nil, nil, nil
		pend.mails = append(pend.mails, Outgoing{Kind: "author_notice", Data: d, To: []outbox.Address{{Address: addr}}, Auto: outbox.AutoGenerated})
		result += "：" + addr + "，答复期限 " + due.In(p.o.Calendar.Location()).Format("2006-01-02")
	}
	work.AwaitingAuthor = desk.AwaitingAuthorAfter(work.AwaitingAuthor, cmd.Action, to)
	if to != from {
		work.State = string(to)
		result += fmt.Sprintf("（%s → %s）", desk.StateLabel(from, p.o.Locale), desk.StateLabel(to, p.o.Locale))
	}
	pend.events = append(pend.events, ev)
	pend.results = append(pend.results, result)
	return nil
}

// resolveStaff turns a 转交 argument (alias or address) into a staff address.
func (p *Processor) resolveStaff(arg string) (string, error) {
	arg = strings.TrimSpace(arg)
	if a, ok := p.o.Staff.Aliases[arg]; ok {
		return strings.ToLower(a), nil
	}
	if p.o.Router != nil {
		if a, _, ok := p.o.Router.Alias(arg); ok {
			return strings.ToLower(a), nil
		}
	}
	a, err := mail.ParseAddress(arg)
	if err != nil {
		return "", fmt.Errorf("未知的工作人员或别名 / unknown staff member or alias: %q", arg)
	}
	if !p.isStaff(a.Address) {
		return "", fmt.Errorf("%s 不在工作人员名单中 / is not on the staff list", a.Address)
	}
	return strings.ToLower(a.Address), nil
}

// missing is the policy's list plus what staff asked for, minus what the case has.
func (p *Processor) missing(c *store.Case) []string {
	r := caseResult(c)
	m := policy.Missing(p.o.Rules, classify.Facts(r))
	for _, code := range c.Requested {
		fresh := slices.ContainsFunc(c.Documents, func(d store.Document) bool {
			return d.Kind == code && (c.RequestedAt == nil || !d.AddedAt.Before(*c.RequestedAt))
		})
		if !fresh && !slices.Contains(m, code) {
			m = append(m, code)
		}
	}
	if m == nil {
		m = []string{}
	}
	return m
}

func (p *Processor) staffToken(caseID string) string {
	return staffauth.Token(p.o.Staff.Auth.Secret, caseID)
}

func (p *Processor) staffReplyTo(caseID string) *outbox.Address {
	if len(p.o.Staff.Auth.Secret) == 0 {
		return nil
	}
	return &outbox.Address{Name: p.o.DeskName, Address: staffauth.ReplyAddress(p.o.Desk.Address, caseID, p.staffToken(caseID))}
}

// complainantData is the case view for mail to the complainant or the author: no
// staff fields.
func (p *Processor) complainantData(c *store.Case) render.Data {
	d := p.CaseData(c)
	d.Case.Assignee = ""
	d.Case.Events = nil
	d.SubjectConforms = true
	return d
}

func (p *Processor) staffData(c *store.Case, staff string) render.Data {
	d := p.CaseData(c)
	d.Staff = staff
	d.Token = p.staffToken(c.ID)
	if c.DueAt != nil {
		d.Deadline = *c.DueAt
	}
	return d
}

// notification builds the staff mail for a case that needs them: the whole case and
// its documents attached up to AttachMaxBytes, the rest listed in the note. Replying
// to it (its Reply-To carries the case token) is all a staff member needs to do.
func (p *Processor) notification(tx *store.Tx, c *store.Case, to []string, note string) ([]Outgoing, error) {
	if len(to) == 0 {
		to = p.departmentStaff(c)
	}
	if len(to) == 0 {
		to = p.o.Staff.Notify
	}
	if len(to) == 0 {
		return nil, nil
	}
	rel := related(tx, c)
	var atts []outbox.Attachment
	var left []string
	budget := p.o.Staff.AttachMaxBytes
	docs := slices.Clone(c.Documents)
	sort.SliceStable(docs, func(i, j int) bool { return docs[i].Size < docs[j].Size })
	for _, doc := range docs {
		if doc.File == "" || doc.Erased {
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
	if len(left) > 0 {
		note = strings.TrimSpace(note + "\n未随信附上（超出附件大小上限，见 `complaintd cases show`）/ not attached (size cap): " + strings.Join(left, ", "))
	}
	var out []Outgoing
	for _, addr := range to {
		d := p.staffData(c, addr)
		d.Note = note
		d.Case.Related = rel
		out = append(out, Outgoing{Kind: "staff_notification", Data: d, To: []outbox.Address{{Address: addr}},
			ReplyTo: p.staffReplyTo(c.ID), InReplyTo: c.LastInbound, Auto: outbox.AutoGenerated, Attachments: atts})
	}
	return out, nil
}

// notifyStaff queues the notification now and records it in events.
func (p *Processor) notifyStaff(tx *store.Tx, c *store.Case, to []string, note string, now time.Time, events *[]store.Event) (int, error) {
	mails, err := p.notification(tx, c, to, note)
	if err != nil {
		return 0, err
	}
	for _, m := range mails {
		if err := p.EnqueueMail(tx, c, m, now); err != nil {
			return 0, err
		}
	}
	if len(mails) > 0 {
		*events = append(*events, store.Event{At: now, Type: "staff_notified", Actor: "desk", Note: fmt.Sprintf("%d recipient(s)", len(mails))})
	}
	return len(mails), nil
}

// complainantAction handles 申诉 / 撤回 in a complainant's reply to an existing case.
// It returns handled=false when the mail holds no such action.
func (p *Processor) complainantAction(tx *store.Tx, c *store.Case, msg *mailmsg.Message, now time.Time, events *[]store.Event) (handled bool, replies int, err error) {
	act, reason, ok := desk.ParseComplainantAction(desk.StripQuoted(msg.Text))
	if !ok {
		return false, 0, nil
	}
	actor := c.Complainant
	reply := func(kind string, d render.Data) error {
		replies++
		return p.EnqueueMail(tx, c, Outgoing{Kind: kind, Data: d, To: []outbox.Address{{Name: c.Applicant.Name, Address: c.Complainant}},
			InReplyTo: msg.MessageID, References: append(slices.Clone(msg.References), msg.MessageID), Auto: outbox.AutoReplied}, now)
	}
	from := desk.State(c.State)
	to, terr := desk.Transition(from, act)
	window := p.appealWindow()
	switch {
	case act == desk.Appeal && terr == nil && c.RejectedAt != nil && !desk.AppealAllowed(*c.RejectedAt, now, window):
		d := p.complainantData(c)
		d.AppealUntil = c.RejectedAt.Add(window)
		*events = append(*events, store.Event{At: now, Type: "appeal_refused", Actor: actor, Note: "outside the appeal window"})
		return true, replies, reply("appeal_refused", d)
	case terr != nil:
		var te *desk.TransitionError
		msgText := terr.Error()
		if errors.As(terr, &te) {
			msgText = te.ComplainantMessage(c.Locale)
		}
		d := p.complainantData(c)
		d.Reason = msgText
		*events = append(*events, store.Event{At: now, Type: string(act) + "_refused", Actor: actor, Note: msgText})
		return true, replies, reply("appeal_refused", d)
	}
	*events = append(*events, store.Event{At: now, Type: string(act), Actor: actor, From: string(from), To: string(to), Note: reason})
	c.State = string(to)
	c.AwaitingAuthor = desk.AwaitingAuthorAfter(c.AwaitingAuthor, act, to)
	switch act {
	case desk.Appeal:
		due := p.reviewDue(c, now)
		c.DueAt = &due
		if err := reply("appeal_received", p.complainantData(c)); err != nil {
			return true, replies, err
		}
		reviewers := p.o.Staff.AppealReviewers
		n, err := p.notifyStaff(tx, c, reviewers, "申诉理由 / appeal: "+reason, now, events)
		return true, replies + n, err
	case desk.Withdraw:
		c.DueAt = nil
		return true, replies, reply("withdrawn", p.complainantData(c))
	}
	return true, replies, nil
}

// authorStatement records the author's counter-statement (申辩) and forwards it to staff;
// the review deadline, paused while waiting, runs again.
func (p *Processor) authorStatement(tx *store.Tx, c *store.Case, msg *mailmsg.Message, now time.Time) (Outcome, error) {
	text := desk.StripQuoted(msg.Text)
	c.Statements = append(c.Statements, store.Statement{At: now, From: msg.From.Address, MessageID: msg.MessageID, Text: text})
	c.AwaitingAuthor = desk.AwaitingAuthorAfter(c.AwaitingAuthor, desk.AuthorReplied, desk.State(c.State))
	c.Threads = appendUnique(c.Threads, msg.MessageID)
	if err := tx.LinkMessageID(msg.MessageID, c.ID); err != nil {
		return Outcome{}, err
	}
	events := []store.Event{{At: now, Type: string(desk.AuthorReplied), Actor: msg.From.Address, Note: clipText(text, 200)}}
	n, err := p.notifyStaff(tx, c, assigneeOr(c), "作者申辩 / the author's counter-statement:\n"+clipText(text, 4000), now, &events)
	if err != nil {
		return Outcome{}, err
	}
	for _, e := range events {
		if err := tx.AppendEvent(c.ID, e); err != nil {
			return Outcome{}, err
		}
	}
	c.UpdatedAt = now
	if err := tx.PutCase(c); err != nil {
		return Outcome{}, err
	}
	return Outcome{Case: c.ID, Role: "author", Result: "counter-statement recorded and forwarded", Replies: n}, nil
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
	var c *store.Case
	if err := p.o.Store.View(func(tx *store.Tx) error {
		var err error
		c, err = tx.Case(caseID)
		return err
	}); err != nil {
		return fmt.Errorf("case %s: %w", caseID, err)
	}
	kept := m.Attachments[:0]
	for _, a := range m.Attachments {
		i := slices.IndexFunc(c.Documents, func(doc store.Document) bool { return doc.SHA256 == a.Ref && doc.File != "" })
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
	if _, _, ok := staffauth.ExtractToken(recipients(msg), p.o.Desk.Address); ok {
		return "non-staff sender wrote to a staff token address", true
	}
	cmds, _ := desk.ParseCommands(desk.StripQuoted(msg.Text))
	if len(cmds) == 0 || cmds[0].Line != firstTextLine(desk.StripQuoted(msg.Text)) {
		return "", false
	}
	switch cmds[0].Action {
	case desk.NeedMore, desk.Note:
		return "", false
	}
	return fmt.Sprintf("non-staff sender opened the mail with the staff command %q", cmds[0].Raw), false
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
func (p *Processor) refuseForged(tx *store.Tx, msg *mailmsg.Message, why string, now time.Time) (Outcome, error) {
	c, _, err := p.findCase(tx, msg)
	if err != nil {
		return Outcome{}, err
	}
	caseID := ""
	if c != nil {
		caseID = c.ID
		if err := tx.AppendEvent(c.ID, store.Event{At: now, Type: "security", Actor: msg.From.Address, Note: why}); err != nil {
			return Outcome{}, err
		}
	}
	p.o.Metrics.SecurityEvents.Add(1)
	if err := tx.AddAlert(store.Alert{At: now, Kind: "security", Message: why + " (case " + orNone(caseID) + ")"}); err != nil {
		return Outcome{}, err
	}
	if err := tx.LinkMessageID(msg.MessageID, ""); err != nil {
		return Outcome{}, err
	}
	p.o.Logger.Warn("command from a non-staff sender refused", "case", caseID, "message_id", msg.MessageID)
	return Outcome{Case: caseID, Role: "security", Result: "refused: " + why}, nil
}
