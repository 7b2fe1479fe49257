package intake_test

// Tests of the staff desk (SPEC §3–§4, issue 4) through the whole pipeline: mail in
// over IMAP, mail out through the dispatcher to the SMTP sink. Each test drives the
// desk by mail only, as staff, complainants and authors do.

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"

	"github.com/complaintd/complaintd/internal/calendar"
	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/demo/samplemail"
	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/staffauth"
	"github.com/complaintd/complaintd/internal/store"
)

const (
	staffA      = "li.bianji@desk.example.cn"   // on the notify list
	staffB      = "wang.shenhe@desk.example.cn" // a colleague, reachable by alias
	reviewerC   = "zhao.fuhe@desk.example.cn"   // reviews appeals
	staffSecret = "test staff secret"
	tokenKey    = "test staff token key, 32 bytes.."
	authServID  = "mx.desk.example.cn"
	authorAddr  = "author@site.example"
	// The applicant's personal data in samplemail.ZhangsanForm: it must never reach an author.
	applicantIDNo  = "11010519491231002X"
	applicantPhone = "13800138000"
)

// withStaff configures three staff members, staffA as the only one notified, and lets
// f adjust the rest.
func withStaff(f func(*intake.StaffOptions)) func(*config) {
	return func(c *config) {
		c.proc.Staff.Auth.Staff = []string{staffA, staffB, reviewerC}
		c.proc.Staff.Auth.Secret = []byte(staffSecret)
		c.proc.Staff.Auth.TokenKey = []byte(tokenKey)
		c.proc.Staff.Notify = []string{staffA}
		if f != nil {
			f(&c.proc.Staff)
		}
	}
}

// replyAddr is the Reply-To address of a staff mail: replying there, to that mail,
// is how staff prove themselves.
func replyAddr(m sent) string {
	a, err := mail.ParseAddress(m.header.Get("Reply-To"))
	if err != nil {
		return ""
	}
	return a.Address
}

// tokenOf is the staff token in a staff mail's Reply-To.
func tokenOf(m sent) string {
	_, tok, _ := staffauth.ExtractToken([]string{replyAddr(m)}, deskAddr)
	return tok
}

// assertBound checks that staff mail m carries in its Reply-To a token for caseID
// bound to m itself (its own Message-ID).
func assertBound(t *testing.T, m sent, caseID string) {
	t.Helper()
	tok := tokenOf(m)
	issued, ok := staffauth.TokenIssued(tok)
	if !ok {
		t.Fatalf("%s mail Reply-To %q carries no staff token", m.kind, m.header.Get("Reply-To"))
	}
	if want := staffauth.ReplyAddress(deskAddr, caseID, staffauth.NewToken([]byte(tokenKey), caseID, m.id, issued)); replyAddr(m) != want {
		t.Errorf("%s mail Reply-To = %q, want %s (a token bound to its Message-ID %s)", m.kind, replyAddr(m), want, m.id)
	}
}

// deskT bundles a harness with the helpers the staff tests share.
type deskT struct {
	t   *testing.T
	srv *servers
	h   *harness
}

func newDesk(t *testing.T, mutate ...func(*config)) *deskT {
	t.Helper()
	srv := newServers(t)
	return &deskT{t: t, srv: srv, h: startHarness(t, srv, "", mutate...)}
}

// send delivers raw and waits until it is processed and every mail it caused has
// reached the sink (the outbox marks an entry sent only after the sink accepted it).
func (d *deskT) send(raw []byte) {
	d.t.Helper()
	uid := d.srv.deliver(d.t, raw)
	d.h.waitCheckpoint(uid)
	d.h.waitSettled()
}

// sent is one mail in the sink, decoded, with its outbox kind.
type sent struct {
	reply
	raw   []byte
	kind  string
	id    string // Message-ID without <>
	atts  map[string][]byte
	whole string // subject, every text part (plain and HTML) and the raw header block
}

// mails returns every mail in the sink from index from on.
func (d *deskT) mails(from int) []sent {
	d.t.Helper()
	kinds := map[string]string{}
	for _, e := range d.h.outbox() {
		kinds[e.MessageID] = e.Kind
	}
	var out []sent
	for _, m := range d.srv.sink.Messages()[from:] {
		r := parseReply(d.t, m)
		id := bareID(r.header.Get("Message-ID"))
		head, _, _ := bytes.Cut(m.Data, []byte("\r\n\r\n"))
		out = append(out, sent{reply: r, raw: m.Data, kind: kinds[id], id: id, atts: attachments(d.t, m.Data),
			whole: r.subject + "\n" + string(head) + "\n" + allText(d.t, m.Data)})
	}
	return out
}

func (d *deskT) mark() int { return len(d.srv.sink.Messages()) }

// only filters mails by kind and envelope recipient ("" for any).
func only(ms []sent, kind, to string) []sent {
	var out []sent
	for _, m := range ms {
		if (kind == "" || m.kind == kind) && (to == "" || slices.Contains(m.to, to)) {
			out = append(out, m)
		}
	}
	return out
}

func kinds(ms []sent) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.kind+"→"+strings.Join(m.to, ","))
	}
	return out
}

// one asserts that exactly one mail of kind went to addr and returns it.
func one(t *testing.T, ms []sent, kind, to string) sent {
	t.Helper()
	got := only(ms, kind, to)
	if len(got) != 1 {
		t.Fatalf("%s mails to %s = %d, want 1; mails: %v", kind, to, len(got), kinds(ms))
	}
	return got[0]
}

// attachments decodes the attachments of a sent mail: file name → content.
func attachments(t *testing.T, raw []byte) map[string][]byte {
	t.Helper()
	mr, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		t.Fatalf("read mail: %v", err)
	}
	out := map[string][]byte{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil && !message.IsUnknownCharset(err) {
			t.Fatalf("next part: %v", err)
		}
		if h, ok := p.Header.(*gomail.AttachmentHeader); ok {
			name, err := h.Filename()
			if err != nil {
				t.Fatalf("attachment name: %v", err)
			}
			b, err := io.ReadAll(p.Body)
			if err != nil {
				t.Fatalf("attachment body: %v", err)
			}
			out[name] = b
		}
	}
	return out
}

// allText is every decoded text part of a mail (plain and HTML).
func allText(t *testing.T, raw []byte) string {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		t.Fatalf("read mail: %v", err)
	}
	var b strings.Builder
	err = e.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil {
			return err
		}
		if ct, _, _ := part.Header.ContentType(); strings.HasPrefix(ct, "text/") {
			body, err := io.ReadAll(part.Body)
			if err != nil {
				return err
			}
			b.Write(body)
			b.WriteString("\n")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk mail: %v", err)
	}
	return b.String()
}

// cmdMail is a reply as a staff member's (or anyone's) client sends it: plain UTF-8
// text, To the address replied to. top are trace headers our MTA would prepend.
type cmdMail struct {
	from, to, subject string
	messageID         string
	inReplyTo         string
	top, bottom       []string // raw header lines above / below the originator headers
	body              string
}

func (m cmdMail) bytes() []byte {
	var b bytes.Buffer
	for _, x := range m.top {
		b.WriteString(x + "\r\n")
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\n", m.from, m.to, mime.BEncoding.Encode("UTF-8", m.subject))
	fmt.Fprintf(&b, "Date: %s\r\nMessage-ID: <%s>\r\n", time.Now().Format(time.RFC1123Z), m.messageID)
	if m.inReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", m.inReplyTo, m.inReplyTo)
	}
	for _, x := range m.bottom {
		b.WriteString(x + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	b.WriteString(wrap76(base64.StdEncoding.EncodeToString([]byte(m.body))))
	return b.Bytes()
}

// qqQuote is how QQ Mail and Foxmail quote the mail replied to, below the reply. The
// quoted text holds command words at the start of lines: they must never run.
func qqQuote(orig sent) string {
	return "\n\n------------------ 原始邮件 ------------------\n" +
		"发件人: \"凤凰网投诉受理中心\"<" + deskAddr + ">;\n" +
		"发送时间: 2026年11月27日(星期五) 上午10:00\n" +
		"收件人: \"李编辑\"<" + staffA + ">;\n" +
		"主题: " + orig.subject + "\n\n" +
		orig.text + "\n驳回 引用中的驳回，不得执行\n结案\n"
}

// opened is a complete case with its staff notification.
type opened struct {
	c     *cases.Case
	notif sent
}

// open sends a complete complaint from addr and returns the case and the notification
// staffA received.
func (d *deskT) open(addr, msgID string) opened {
	d.t.Helper()
	m := d.mark()
	d.send(completeComplaint("张三|"+addr, msgID).bytes())
	c := d.caseOf(addr)
	if c.State != cases.PendingReview {
		d.t.Fatalf("complete complaint: state %q (missing %v)", c.State, c.Missing)
	}
	return opened{c: c, notif: one(d.t, d.mails(m), "staff_notification", staffA)}
}

// caseOf returns the one case of complainant addr.
func (d *deskT) caseOf(addr string) *cases.Case {
	d.t.Helper()
	var found []*cases.Case
	for _, c := range d.h.cases() {
		if c.Complainant == addr {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		d.t.Fatalf("cases of %s = %d, want 1", addr, len(found))
	}
	return found[0]
}

// command sends body (above a QQ-style quote of the notification) from staff to the
// case's Reply-To address and returns the mails it caused.
func (d *deskT) command(o opened, from, msgID, body string) []sent {
	d.t.Helper()
	m := d.mark()
	d.send(cmdMail{from: from, to: replyAddr(o.notif), subject: "回复：" + o.notif.subject, messageID: msgID,
		inReplyTo: o.notif.id, body: body + qqQuote(o.notif)}.bytes())
	return d.mails(m)
}

// complainantReply sends body as the complainant's reply to the decision mail dec.
func (d *deskT) complainantReply(addr string, dec sent, msgID, body string) []sent {
	d.t.Helper()
	m := d.mark()
	d.send(cmdMail{from: "张三 <" + addr + ">", to: deskAddr, subject: "Re: " + dec.subject, messageID: msgID,
		inReplyTo: dec.id, body: body + "\n\n在 2026年11月27日 10:00，凤凰网投诉受理中心 <" + deskAddr + "> 写道：\n> " +
			strings.ReplaceAll(dec.text, "\n", "\n> ")}.bytes())
	return d.mails(m)
}

func eventsOf(c *cases.Case, typ cases.EventType) []cases.Event {
	var out []cases.Event
	for _, e := range c.Events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// decided leaves out the dispatcher's reply_sent events, which follow every mail.
func decided(evs []cases.Event) []cases.Event {
	var out []cases.Event
	for _, e := range evs {
		if e.Type != "reply_sent" {
			out = append(out, e)
		}
	}
	return out
}

func shanghai(t *testing.T) *calendar.Calendar {
	t.Helper()
	cal, err := calendar.New("Asia/Shanghai", []string{"saturday", "sunday"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

// assertNoInternals scans every mail sent to a complainant or author address for what
// only staff may see (SPEC §4, issue 4 §7): staff addresses, the case tokens, a Reply-To
// sub-address and the given internal texts.
func (d *deskT) assertNoInternals(outsiders []string, internal ...string) {
	d.t.Helper()
	var secrets []string
	for _, m := range d.mails(0) {
		if strings.HasPrefix(m.kind, "staff_") && tokenOf(m) != "" {
			secrets = append(secrets, tokenOf(m), replyAddr(m))
		}
	}
	secrets = append(secrets, staffA, staffB, reviewerC, staffSecret)
	checked := 0
	for _, m := range d.mails(0) {
		if !slices.ContainsFunc(m.to, func(a string) bool { return slices.Contains(outsiders, a) }) {
			continue
		}
		checked++
		for _, s := range append(slices.Clone(secrets), internal...) {
			if s != "" && strings.Contains(m.whole, s) {
				d.t.Errorf("%s mail to %v shows internal %q", m.kind, m.to, s)
			}
		}
		// A complainant's mail may carry the complainant's own token (their answer from
		// another mailbox proves they received it), never the staff token; the
		// author's none.
		if rt := m.header.Get("Reply-To"); strings.Contains(rt, "+") {
			tag := strings.Trim(tagRe.FindString(m.subject), "[]")
			if m.kind == "author_notice" || tag == "" ||
				!strings.Contains(rt, staffauth.ComplainantToken([]byte(staffSecret), tag)) {
				d.t.Errorf("%s mail to %v has a token Reply-To %q", m.kind, m.to, rt)
			}
		}
		if len(m.atts) > 0 && m.kind == "author_notice" {
			d.t.Errorf("author notice carries attachments %v", keys(m.atts))
		}
	}
	if checked == 0 {
		d.t.Error("no mail to a complainant or author was checked")
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// A complete case must reach staff as exactly one mail they can act on by replying: the
// case token in Reply-To, the case tag in the subject, RFC 3834 auto-generated, and the
// documents attached byte for byte — or, over the size cap, named in the text.
func TestStaffNotification(t *testing.T) {
	t.Run("all documents attached", func(t *testing.T) {
		d := newDesk(t, withStaff(nil))
		complaint := completeComplaint("张三|zhang@example.cn", "n1@example.cn")
		d.send(complaint.bytes())
		ms := d.mails(0)
		c := d.caseOf("zhang@example.cn")
		n := one(t, ms, "staff_notification", staffA)
		if len(only(ms, "staff_notification", "")) != 1 {
			t.Errorf("staff notifications = %v, want one to the notify list", kinds(ms))
		}
		if len(n.to) != 1 {
			t.Errorf("notification envelope recipients = %v, want only %s", n.to, staffA)
		}
		assertBound(t, n, c.ID)
		if !strings.Contains(replyAddr(n), "+"+strings.ToLower(c.ID)+".") {
			t.Errorf("Reply-To %q does not carry the lower-case case number", replyAddr(n))
		}
		if got := n.header.Get("Auto-Submitted"); got != "auto-generated" {
			t.Errorf("Auto-Submitted = %q, want auto-generated", got)
		}
		if tag := tagRe.FindString(n.subject); tag != "["+c.ID+"]" {
			t.Errorf("subject %q lacks [%s]", n.subject, c.ID)
		}
		if len(n.atts) != len(complaint.files) {
			t.Errorf("attachments %v, want %d", keys(n.atts), len(complaint.files))
		}
		for _, f := range complaint.files {
			got, ok := n.atts[f.name]
			if !ok {
				t.Errorf("document %q not attached (have %v)", f.name, keys(n.atts))
				continue
			}
			if !bytes.Equal(got, f.content) {
				t.Errorf("attachment %q: content differs from the original", f.name)
			}
		}
		// The notification shows what staff decide on.
		for _, want := range []string{c.ID, "张三", "某某公司涉嫌虚假宣传", "事件说明函.pdf"} {
			if !strings.Contains(n.text, want) {
				t.Errorf("notification text lacks %q", want)
			}
		}
		d.assertNoInternals([]string{"zhang@example.cn"})
	})

	t.Run("size cap leaves documents out and says so", func(t *testing.T) {
		d := newDesk(t, withStaff(func(s *intake.StaffOptions) { s.AttachMaxBytes = 1024 }))
		complaint := completeComplaint("张三|zhang@example.cn", "n2@example.cn")
		big := "原发媒体撤稿函.pdf"
		for i := range complaint.files {
			if complaint.files[i].name == big {
				complaint.files[i].content = append(complaint.files[i].content, bytes.Repeat([]byte("x"), 4096)...)
			}
		}
		d.send(complaint.bytes())
		n := one(t, d.mails(0), "staff_notification", staffA)
		if _, ok := n.atts[big]; ok {
			t.Errorf("%s (over the cap) was attached", big)
		}
		if len(n.atts) != len(complaint.files)-1 {
			t.Errorf("attachments %v, want the %d small ones", keys(n.atts), len(complaint.files)-1)
		}
		// The note says what was left out; the file name also appears in the list of
		// documents received, so look for it on the note's line.
		found := false
		for _, line := range strings.Split(n.text, "\n") {
			if strings.Contains(line, big) && (strings.Contains(line, "bytes") || strings.Contains(line, "未随信附上")) {
				found = true
			}
		}
		if !found {
			t.Errorf("notification does not say %s was left out:\n%s", big, n.text)
		}
	})
}

// The main staff path by mail: 受理 then 已处理, each replying to the notification in
// QQ/Foxmail style. Command words inside the quote must not run; each decision reaches
// the complainant from its template, each command is confirmed to staff, and the audit
// log names the staff member.
func TestStaffAcceptThenResolve(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	o := d.open("zhang@example.cn", "ar1@example.cn")

	ms := d.command(o, "李编辑 <"+staffA+">", "cmd-accept@desk.example.cn", "受理")
	c := d.h.caseByID(o.c.ID)
	if c.State != "accepted" {
		t.Fatalf("after 受理: state %q, want accepted (events %+v)", c.State, c.Events)
	}
	acc := eventsOf(c, "accept")
	if len(acc) != 1 || acc[0].Actor != staffA || acc[0].From != "pending_review" || acc[0].To != "accepted" {
		t.Fatalf("accept events = %+v, want one by %s pending_review→accepted", acc, staffA)
	}
	for _, typ := range []cases.EventType{"reject", "close"} {
		if e := eventsOf(c, typ); len(e) != 0 {
			t.Errorf("a quoted %s ran: %+v", typ, e)
		}
	}
	cal := shanghai(t)
	want := cal.AddBusinessDays(acc[0].At, 5)
	if c.DueAt == nil || !c.DueAt.Equal(want) {
		t.Errorf("processing deadline = %v, want %v (5 business days)", c.DueAt, want)
	}
	if !cal.IsBusinessDay(want) {
		t.Errorf("deadline %v is not a business day", want)
	}
	accepted := one(t, ms, "accepted", "zhang@example.cn")
	if tag := tagRe.FindString(accepted.subject); tag != "["+c.ID+"]" {
		t.Errorf("accepted subject %q lacks the case tag", accepted.subject)
	}
	if day := want.In(cal.Location()).Format("2006-01-02"); !strings.Contains(accepted.text, day) {
		t.Errorf("accepted mail does not give the deadline %s:\n%s", day, accepted.text)
	}
	conf := one(t, ms, "staff_confirmation", staffA)
	if got := bareID(conf.header.Get("In-Reply-To")); got != "cmd-accept@desk.example.cn" {
		t.Errorf("confirmation In-Reply-To = %q, want the command mail", got)
	}
	if tag := tagRe.FindString(conf.subject); tag != "["+c.ID+"]" {
		t.Errorf("confirmation subject %q lacks the case tag", conf.subject)
	}
	if len(ms) != 2 {
		t.Errorf("受理 sent %v, want the decision and the confirmation only", kinds(ms))
	}

	ms = d.command(o, "李编辑 <"+staffA+">", "cmd-resolve@desk.example.cn", "已处理 文章已删除")
	c = d.h.caseByID(o.c.ID)
	if c.State != "resolved" {
		t.Fatalf("after 已处理: state %q, want resolved", c.State)
	}
	res := eventsOf(c, "resolve")
	if len(res) != 1 || res[0].Actor != staffA || res[0].Note != "文章已删除" {
		t.Errorf("resolve events = %+v, want one by %s with the note", res, staffA)
	}
	resolved := one(t, ms, "resolved", "zhang@example.cn")
	if !strings.Contains(resolved.text, "文章已删除") {
		t.Errorf("resolved mail lacks the note:\n%s", resolved.text)
	}
	one(t, ms, "staff_confirmation", staffA)
	d.assertNoInternals([]string{"zhang@example.cn"})
}

// A decision must thread with the complainant's own mail (SPEC §5: In-Reply-To and
// References), not only carry the tag.
func TestDecisionThreadsWithComplaint(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	o := d.open("zhang@example.cn", "thr1@example.cn")
	ms := d.command(o, staffA, "cmd-thr@desk.example.cn", "受理")
	acc := one(t, ms, "accepted", "zhang@example.cn")
	if got := bareID(acc.header.Get("In-Reply-To")); got != "thr1@example.cn" {
		t.Errorf("accepted In-Reply-To = %q, want the complaint thr1@example.cn", got)
	}
}

// A mail whose second command is illegal must change nothing at all, not half: the
// staff member is told why (current state, what is allowed) and the complainant hears
// nothing.
func TestStaffCommandsAllOrNothing(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	o := d.open("zhang@example.cn", "aon1@example.cn")
	before := len(decided(o.c.Events))

	ms := d.command(o, staffA, "cmd-aon@desk.example.cn", "受理\n重开")
	c := d.h.caseByID(o.c.ID)
	if c.State != cases.PendingReview {
		t.Errorf("state %q, want pending_review unchanged", c.State)
	}
	if c.DueAt == nil || o.c.DueAt == nil || !c.DueAt.Equal(*o.c.DueAt) {
		t.Errorf("deadline changed: %v → %v", o.c.DueAt, c.DueAt)
	}
	if e := eventsOf(c, "accept"); len(e) != 0 {
		t.Errorf("受理 was recorded although the mail was refused: %+v", e)
	}
	if len(only(ms, "", "zhang@example.cn")) != 0 {
		t.Errorf("the complainant got %v", kinds(ms))
	}
	e := one(t, ms, "staff_error", staffA)
	if len(ms) != 1 {
		t.Errorf("mails = %v, want only the error", kinds(ms))
	}
	// 重开 is refused in accepted (the state the first command reaches): the reason
	// names that state and the commands allowed there.
	for _, want := range []string{"重开", "已受理", "已处理", "驳回"} {
		if !strings.Contains(e.text, want) {
			t.Errorf("staff_error lacks %q:\n%s", want, e.text)
		}
	}
	if refused := eventsOf(c, "command_refused"); len(refused) != 1 || refused[0].Actor != staffA {
		t.Errorf("command_refused events = %+v", refused)
	}
	if after := decided(c.Events); len(after) != before+1 {
		t.Errorf("events %d → %d, want only the refusal added: %+v", before, len(after), after[before:])
	}
}

// Rejection, appeal within and outside the window, and withdrawal: the complainant's
// side of SPEC §1.6 and issue 4 §5–6.
func TestRejectAppealWithdraw(t *testing.T) {
	d := newDesk(t, withStaff(func(s *intake.StaffOptions) { s.AppealReviewers = []string{reviewerC} }))
	cal := shanghai(t)

	// Within the window: 驳回 → rejected with reason and appeal date; 申诉 → appealed,
	// the complainant is told, the appeal reviewer (not the notify list) gets the reasons.
	a := d.open("a@example.cn", "rej-a@example.cn")
	ms := d.command(a, staffA, "cmd-rej-a@desk.example.cn", "驳回 所附证明不足以说明报道失实")
	c := d.h.caseByID(a.c.ID)
	if c.State != "rejected" || c.RejectedAt == nil {
		t.Fatalf("after 驳回: state %q rejected_at %v", c.State, c.RejectedAt)
	}
	rej := one(t, ms, "rejected", "a@example.cn")
	if !strings.Contains(rej.text, "所附证明不足以说明报道失实") {
		t.Errorf("rejected mail lacks the reason:\n%s", rej.text)
	}
	until := c.RejectedAt.AddDate(0, 0, 15).In(cal.Location()).Format("2006-01-02")
	if !strings.Contains(rej.text, until) {
		t.Errorf("rejected mail lacks the appeal date %s:\n%s", until, rej.text)
	}
	one(t, ms, "staff_confirmation", staffA)

	ms = d.complainantReply("a@example.cn", rej, "appeal-a@example.cn", "申诉\n报道所称的处罚决定已被法院撤销，判决书见附件。")
	c = d.h.caseByID(a.c.ID)
	if c.State != "appealed" {
		t.Fatalf("after 申诉: state %q, want appealed", c.State)
	}
	if ev := eventsOf(c, "appeal"); len(ev) != 1 || ev[0].Actor != "a@example.cn" || !strings.Contains(ev[0].Note, "法院撤销") {
		t.Errorf("appeal events = %+v", ev)
	}
	one(t, ms, "appeal_received", "a@example.cn")
	n := one(t, ms, "staff_notification", reviewerC)
	if len(only(ms, "staff_notification", staffA)) != 0 {
		t.Errorf("the appeal went to the notify list, not only to the reviewer: %v", kinds(ms))
	}
	if !strings.Contains(n.text, "报道所称的处罚决定已被法院撤销") {
		t.Errorf("appeal notification lacks the complainant's reasons:\n%s", n.text)
	}

	// 撤回 from an open case closes it; 撤回 in the middle of a sentence does nothing.
	w := d.open("w@example.cn", "wd-w@example.cn")
	ms = d.complainantReply("w@example.cn", w.notif, "wd-w-1@example.cn", "您好，\n撤回\n张三")
	if c := d.h.caseByID(w.c.ID); c.State != "withdrawn" {
		t.Errorf("after 撤回: state %q, want withdrawn", c.State)
	}
	one(t, ms, "withdrawn", "w@example.cn")

	s := d.open("s@example.cn", "wd-s@example.cn")
	ms = d.complainantReply("s@example.cn", s.notif, "wd-s-1@example.cn", "我并不想撤回申请，只是想问一下进度。")
	if c := d.h.caseByID(s.c.ID); c.State != cases.PendingReview {
		t.Errorf("a sentence mentioning 撤回 changed the state to %q", c.State)
	}
	if got := only(ms, "withdrawn", ""); len(got) != 0 {
		t.Errorf("a sentence mentioning 撤回 sent %v", kinds(ms))
	}

	// Outside the window: the appeal is refused with a reply, the case stays rejected.
	b := d.open("b@example.cn", "rej-b@example.cn")
	ms = d.command(b, staffA, "cmd-rej-b@desk.example.cn", "驳回 材料与稿件无关")
	rejB := one(t, ms, "rejected", "b@example.cn")
	d.h.clock.Advance(16 * 24 * time.Hour)
	ms = d.complainantReply("b@example.cn", rejB, "appeal-b@example.cn", "申诉：我不同意驳回。")
	c = d.h.caseByID(b.c.ID)
	if c.State != "rejected" {
		t.Errorf("late appeal: state %q, want rejected", c.State)
	}
	if ev := eventsOf(c, "appeal_refused"); len(ev) != 1 {
		t.Errorf("appeal_refused events = %+v", ev)
	}
	one(t, ms, "appeal_refused", "b@example.cn")
	if got := only(ms, "staff_notification", ""); len(got) != 0 {
		t.Errorf("a late appeal notified staff: %v", kinds(ms))
	}
	d.assertNoInternals([]string{"a@example.cn", "b@example.cn", "w@example.cn", "s@example.cn"})
}

// 补充 sends the case back to the complainant with each item explained; the follow-up
// that brings them completes the case again and staff hear of it again.
func TestNeedMoreThenComplete(t *testing.T) {
	d := newDesk(t, withStaff(nil))

	// The brief's wording: 身份证 is a document label, the rest is free text.
	o := d.open("zhang@example.cn", "nm0@example.cn")
	ms := d.command(o, staffA, "cmd-nm0@desk.example.cn", "补充 身份证、营业执照 请提供原件照片")
	if c := d.h.caseByID(o.c.ID); c.State != cases.Incomplete {
		t.Errorf("after 补充: state %q, want incomplete", c.State)
	}
	mn := one(t, ms, "more_needed", "zhang@example.cn")
	for _, want := range []string{"身份证", "营业执照 请提供原件照片"} {
		if !strings.Contains(mn.text, want) {
			t.Errorf("more_needed lacks %q:\n%s", want, mn.text)
		}
	}

	// Codes the case lacks, and a free-text line: the follow-up that brings half of them
	// leaves the case incomplete, the one that brings the rest completes it.
	p := d.open("li@example.cn", "nm1@example.cn")
	ms = d.command(p, staffA, "cmd-nm1@desk.example.cn", "补充 营业执照、工作证\n请提供加盖公章的原件照片")
	c := d.h.caseByID(p.c.ID)
	if c.State != cases.Incomplete {
		t.Fatalf("after 补充: state %q, want incomplete", c.State)
	}
	if !slices.Contains(c.Missing, "business_license") || !slices.Contains(c.Missing, "work_id") {
		t.Errorf("missing %v, want business_license and work_id", c.Missing)
	}
	mn = one(t, ms, "more_needed", "li@example.cn")
	for _, want := range []string{cases.DefaultCatalogue().Explain(cases.BusinessLicense, "zh-CN"), cases.DefaultCatalogue().Explain(cases.WorkID, "zh-CN"), "请提供加盖公章的原件照片"} {
		if !strings.Contains(mn.text, want) {
			t.Errorf("more_needed lacks %q:\n%s", want, mn.text)
		}
	}
	if c.DueAt == nil {
		t.Error("an incomplete case has no expiry date")
	}

	m := d.mark()
	d.send(testMail{from: "张三|li@example.cn", subject: "Re: " + mn.subject, messageID: "nm1-f1@example.cn", inReplyTo: mn.id,
		body: "营业执照见附件。", files: []file{{"营业执照.jpg", "image/jpeg", samplemail.Scan("jpg", "licence")}}}.bytes())
	c = d.h.caseByID(p.c.ID)
	if c.State != cases.Incomplete || !slices.Contains(c.Missing, "work_id") || slices.Contains(c.Missing, "business_license") {
		t.Errorf("after half the items: state %q missing %v, want incomplete lacking work_id only", c.State, c.Missing)
	}
	if got := only(d.mails(m), "staff_notification", ""); len(got) != 0 {
		t.Errorf("staff were notified of a still incomplete case")
	}

	m = d.mark()
	d.send(testMail{from: "张三|li@example.cn", subject: "Re: " + mn.subject, messageID: "nm1-f2@example.cn", inReplyTo: mn.id,
		body: "在职证明见附件。", files: []file{{"在职证明.pdf", "application/pdf", samplemail.Scan("pdf", "employment")}}}.bytes())
	c = d.h.caseByID(p.c.ID)
	if c.State != cases.PendingReview || len(c.Missing) != 0 {
		t.Errorf("after the rest: state %q missing %v, want pending_review", c.State, c.Missing)
	}
	ms = d.mails(m)
	one(t, ms, "staff_notification", staffA)
	one(t, ms, "complete", "li@example.cn")
}

// Staff asking again for a kind the case already holds (an unreadable ID scan) must wait
// for a new file of that kind (it failed while documents received before the request
// satisfied it).
func TestNeedMoreReRequestsHeldKind(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	o := d.open("zhang@example.cn", "rr1@example.cn")
	ms := d.command(o, staffA, "cmd-rr1@desk.example.cn", "补充 身份证")
	c := d.h.caseByID(o.c.ID)
	if !slices.Contains(c.Missing, "id_card") {
		t.Errorf("missing %v, want id_card asked for again", c.Missing)
	}
	mn := one(t, ms, "more_needed", "zhang@example.cn")
	d.send(testMail{from: "张三|zhang@example.cn", subject: "Re: " + mn.subject, messageID: "rr1-f@example.cn", inReplyTo: mn.id,
		body: "好的，稍后补充。"}.bytes())
	if c := d.h.caseByID(o.c.ID); c.State != cases.Incomplete {
		t.Errorf("a reply without the ID scan made the case %q", c.State)
	}
}

// 转交 reaches the colleague (alias or address) with the notification; a non-staff
// address is refused; 备注 stays internal — no complainant mail ever shows it.
func TestAssignAndNote(t *testing.T) {
	d := newDesk(t, withStaff(func(s *intake.StaffOptions) { s.Aliases = map[string]string{"王审核": staffB} }))
	o := d.open("zhang@example.cn", "as1@example.cn")

	ms := d.command(o, staffA, "cmd-as1@desk.example.cn", "转交 王审核")
	c := d.h.caseByID(o.c.ID)
	if c.Assignee != staffB {
		t.Errorf("assignee %q, want %s", c.Assignee, staffB)
	}
	if ev := eventsOf(c, "assign"); len(ev) != 1 || ev[0].Actor != staffA || ev[0].Note != staffB {
		t.Errorf("assign events = %+v", ev)
	}
	n := one(t, ms, "staff_notification", staffB)
	assertBound(t, n, c.ID)
	assertBound(t, one(t, ms, "staff_confirmation", staffA), c.ID)
	if len(only(ms, "", "zhang@example.cn")) != 0 {
		t.Errorf("assignment mailed the complainant: %v", kinds(ms))
	}

	ms = d.command(o, staffA, "cmd-as2@desk.example.cn", "转交 someone@elsewhere.example")
	if c := d.h.caseByID(o.c.ID); c.Assignee != staffB {
		t.Errorf("a refused 转交 changed the assignee to %q", c.Assignee)
	}
	e := one(t, ms, "staff_error", staffA)
	if !strings.Contains(e.text, "someone@elsewhere.example") {
		t.Errorf("staff_error does not name the address:\n%s", e.text)
	}
	if len(only(ms, "", "someone@elsewhere.example")) != 0 {
		t.Error("the non-staff address was mailed")
	}

	const note = "内部备注：申请人系某公司法务，曾来电施压"
	ms = d.command(o, staffB, "cmd-as3@desk.example.cn", "备注 "+note)
	c = d.h.caseByID(o.c.ID)
	if ev := eventsOf(c, "note"); len(ev) != 1 || ev[0].Note != note || ev[0].Actor != staffB {
		t.Errorf("note events = %+v", ev)
	}
	if c.State != cases.PendingReview {
		t.Errorf("备注 changed the state to %q", c.State)
	}
	one(t, ms, "staff_confirmation", staffB)
	// Later decisions render the case again: the note must not leak into them either.
	d.command(o, staffB, "cmd-as4@desk.example.cn", "受理")
	d.command(o, staffB, "cmd-as5@desk.example.cn", "已处理 文章已删除")
	d.assertNoInternals([]string{"zhang@example.cn"}, note, "曾来电施压")
}

// Hearing the other side (issue 4 §8): the author gets the request without the
// applicant's personal data or documents, with a deadline; the answer becomes a
// statement of the case and reaches staff.
func TestNotifyAuthor(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	o := d.open("zhang@example.cn", "au1@example.cn")
	ms := d.command(o, staffA, "cmd-au1@desk.example.cn", "通知作者 "+authorAddr)
	c := d.h.caseByID(o.c.ID)
	if !c.AwaitingAuthor || c.Author != authorAddr || c.AuthorDue == nil {
		t.Fatalf("after 通知作者: awaiting %v author %q due %v", c.AwaitingAuthor, c.Author, c.AuthorDue)
	}
	notice := one(t, ms, "author_notice", authorAddr)
	if len(notice.to) != 1 {
		t.Errorf("notice envelope recipients %v", notice.to)
	}
	for _, want := range []string{c.ID, "某某公司涉嫌虚假宣传", c.AuthorDue.In(shanghai(t).Location()).Format("2006-01-02")} {
		if !strings.Contains(notice.text, want) {
			t.Errorf("author notice lacks %q:\n%s", want, notice.text)
		}
	}
	for _, secret := range []string{applicantIDNo, applicantPhone, "zhang@example.cn"} {
		if strings.Contains(notice.whole, secret) {
			t.Errorf("author notice shows the applicant's %q", secret)
		}
	}
	if len(notice.atts) != 0 {
		t.Errorf("author notice carries %v", keys(notice.atts))
	}
	one(t, ms, "staff_confirmation", staffA)

	const statement = "本人对该稿件内容负责，所述事实均有采访录音为证，不同意删除。"
	m := d.mark()
	d.send(cmdMail{from: "作者 <" + authorAddr + ">", to: deskAddr, subject: "回复：" + notice.subject,
		messageID: "au1-reply@site.example", inReplyTo: notice.id,
		body: statement + "\n\n-----原始邮件-----\n" + notice.text}.bytes())
	c = d.h.caseByID(o.c.ID)
	if c.AwaitingAuthor {
		t.Error("still awaiting the author after the answer")
	}
	if len(c.Statements) != 1 || c.Statements[0].From != authorAddr || c.Statements[0].Text != statement {
		t.Errorf("statements = %+v, want the author's text without the quote", c.Statements)
	}
	if ev := eventsOf(c, "author_replied"); len(ev) != 1 || ev[0].Actor != authorAddr {
		t.Errorf("author_replied events = %+v", ev)
	}
	if len(d.h.cases()) != 1 {
		t.Errorf("the author's answer opened a case of its own")
	}
	ms = d.mails(m)
	n := one(t, ms, "staff_notification", staffA)
	if !strings.Contains(n.text, statement) {
		t.Errorf("staff notification lacks the counter-statement:\n%s", n.text)
	}
	if len(only(ms, "", authorAddr)) != 0 || len(only(ms, "", "zhang@example.cn")) != 0 {
		t.Errorf("the answer mailed outsiders: %v", kinds(ms))
	}
	d.assertNoInternals([]string{"zhang@example.cn", authorAddr}, statement)
}

// refusedAsSecurity asserts what every refused command mail must leave (issue 4 §4):
// the case unchanged, a security event on it, a store alert, the metric up by one, and
// no mail at all (in particular none to the claimed sender).
func (d *deskT) refusedAsSecurity(before *cases.Case, mailsFrom int, metric int64, claimed string) {
	d.t.Helper()
	c := d.h.caseByID(before.ID)
	if c.State != before.State || c.Assignee != before.Assignee || !sameTime(c.DueAt, before.DueAt) {
		d.t.Errorf("case changed: %s/%q → %s/%q", before.State, before.Assignee, c.State, c.Assignee)
	}
	if ev := eventsOf(c, "security"); len(ev) != len(eventsOf(before, "security"))+1 {
		d.t.Errorf("security events = %+v, want one more", ev)
	}
	for _, typ := range []cases.EventType{"accept", "reject", "close", "assign"} {
		if len(eventsOf(c, typ)) != len(eventsOf(before, typ)) {
			d.t.Errorf("a refused mail recorded %s", typ)
		}
	}
	var alerts []store.Alert
	d.h.view(func(tx *store.Tx) error {
		var err error
		alerts, err = tx.Alerts()
		return err
	})
	if !slices.ContainsFunc(alerts, func(a store.Alert) bool { return a.Kind == "security" && strings.Contains(a.Message, before.ID) }) {
		d.t.Errorf("no security alert naming %s: %+v", before.ID, alerts)
	}
	if got := d.h.metrics.SecurityEvents.Load(); got != metric+1 {
		d.t.Errorf("SecurityEvents = %d, want %d", got, metric+1)
	}
	if ms := d.mails(mailsFrom); len(ms) != 0 {
		d.t.Errorf("a refused mail caused mail: %v", kinds(ms))
	}
	if len(only(d.mails(mailsFrom), "", claimed)) != 0 {
		d.t.Errorf("mail went to the claimed sender %s", claimed)
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// Authentication (issue 4 §4): each attack changes nothing, leaves a security event and
// mails nobody; the genuine counterpart of each is accepted, so the tests cannot pass
// by refusing everything.
func TestStaffSecurity(t *testing.T) {
	t.Run("forged From without the token", func(t *testing.T) {
		d := newDesk(t, withStaff(nil))
		o := d.open("zhang@example.cn", "sec1@example.cn")
		before, m, metric := d.h.caseByID(o.c.ID), d.mark(), d.h.metrics.SecurityEvents.Load()
		// Knows the case number (from the complainant's own mail) but not the token.
		d.send(cmdMail{from: "李编辑 <" + staffA + ">", to: deskAddr, subject: "[" + o.c.ID + "] 受理", messageID: "forged1@evil.example", body: "受理"}.bytes())
		d.refusedAsSecurity(before, m, metric, staffA)
		if msg := d.h.message("forged1@evil.example"); msg == nil || msg.Role != "security" {
			t.Errorf("registered message = %+v, want role security", msg)
		}
	})

	t.Run("token of another case", func(t *testing.T) {
		d := newDesk(t, withStaff(nil))
		a := d.open("a@example.cn", "seca@example.cn")
		b := d.open("b@example.cn", "secb@example.cn")
		before, m, metric := d.h.caseByID(b.c.ID), d.mark(), d.h.metrics.SecurityEvents.Load()
		d.send(cmdMail{from: staffA, to: replyAddr(a.notif), subject: "回复：" + b.notif.subject, messageID: "cross@desk.example.cn", body: "驳回 无理由"}.bytes())
		d.refusedAsSecurity(before, m, metric, staffA)
		if c := d.h.caseByID(a.c.ID); c.State != cases.PendingReview {
			t.Errorf("case A changed to %q", c.State)
		}
		// The genuine reply on B runs.
		d.command(b, staffA, "genuine-b@desk.example.cn", "受理")
		if c := d.h.caseByID(b.c.ID); c.State != "accepted" {
			t.Errorf("genuine command on B: state %q", c.State)
		}
	})

	t.Run("Authentication-Results below ours", func(t *testing.T) {
		d := newDesk(t, withStaff(func(s *intake.StaffOptions) {
			s.Auth.Mode = staffauth.ModeAuthResults
			s.Auth.AuthServID = authServID
		}))
		o := d.open("zhang@example.cn", "secar@example.cn")
		ours := func(res string) string {
			return "Authentication-Results: " + authServID + "; " + res
		}
		forgedPass := ours("dkim=pass header.d=desk.example.cn; spf=pass smtp.mailfrom=desk.example.cn")
		// The Received line our border adds when it takes the mail: what is above it is
		// ours, what is below was written by the sender (RFC 8601 §5).
		border := "Received: from mail.desk.example.cn by " + authServID + " (Postfix) with ESMTPS; Mon, 30 Nov 2026 10:00:00 +0800"
		for i, top := range [][]string{
			{ours("dkim=fail header.d=desk.example.cn; spf=fail smtp.mailfrom=desk.example.cn"), border},
			{ours("none"), border},
			{border}, // our border added nothing; the sender's pass lies below its line
			nil,      // no Received at all: delivered around our border
		} {
			before, m, metric := d.h.caseByID(o.c.ID), d.mark(), d.h.metrics.SecurityEvents.Load()
			d.send(cmdMail{from: staffA, to: deskAddr, subject: "回复：" + o.notif.subject,
				messageID: fmt.Sprintf("ar-%d@evil.example", i), top: top, bottom: []string{forgedPass}, body: "受理"}.bytes())
			d.refusedAsSecurity(before, m, metric, staffA)
		}
		// Our own pass above our border's line: accepted, without any token.
		m := d.mark()
		d.send(cmdMail{from: staffA, to: deskAddr, subject: "回复：" + o.notif.subject, messageID: "ar-ok@desk.example.cn",
			top: []string{forgedPass, border}, body: "受理"}.bytes())
		if c := d.h.caseByID(o.c.ID); c.State != "accepted" {
			t.Errorf("our own pass: state %q, want accepted", c.State)
		}
		one(t, d.mails(m), "staff_confirmation", staffA)
	})

	t.Run("replayed command runs once", func(t *testing.T) {
		d := newDesk(t, withStaff(nil))
		o := d.open("zhang@example.cn", "secrp@example.cn")
		m := d.mark()
		raw := cmdMail{from: staffA, to: replyAddr(o.notif), subject: "回复：" + o.notif.subject, messageID: "replay@desk.example.cn",
			inReplyTo: o.notif.id, body: "备注 只应记录一次"}.bytes()
		d.send(raw)
		d.send(raw)
		c := d.h.caseByID(o.c.ID)
		if ev := eventsOf(c, "note"); len(ev) != 1 {
			t.Errorf("note events = %d, want 1", len(ev))
		}
		ms := d.mails(m)
		if len(only(ms, "staff_confirmation", staffA)) != 1 || len(ms) != 1 {
			t.Errorf("mails = %v, want one confirmation", kinds(ms))
		}
	})

	t.Run("command from the complainant's address", func(t *testing.T) {
		d := newDesk(t, withStaff(nil))
		o := d.open("zhang@example.cn", "seccp@example.cn")
		m := d.mark()
		// Even replying to the token address does not make the complainant staff.
		d.send(cmdMail{from: "张三 <zhang@example.cn>", to: replyAddr(o.notif), subject: "回复：[" + o.c.ID + "]", messageID: "self-accept@example.cn",
			body: "受理\n已处理 已删除"}.bytes())
		c := d.h.caseByID(o.c.ID)
		if c.State != cases.PendingReview {
			t.Errorf("state %q, want pending_review", c.State)
		}
		for _, typ := range []cases.EventType{"accept", "resolve"} {
			if len(eventsOf(c, typ)) != 0 {
				t.Errorf("the complainant's %s ran", typ)
			}
		}
		if msg := d.h.message("self-accept@example.cn"); msg == nil || msg.Role != "security" || msg.Case != o.c.ID {
			t.Errorf("registered message = %+v, want a security record on the case", msg)
		}
		ms := d.mails(m)
		if len(only(ms, "staff_confirmation", "")) != 0 || len(only(ms, "accepted", "")) != 0 {
			t.Errorf("mails = %v", kinds(ms))
		}
	})

	t.Run("command from the complainant's address leaves a security event", func(t *testing.T) {
		d := newDesk(t, withStaff(nil))
		o := d.open("zhang@example.cn", "seccp2@example.cn")
		metric := d.h.metrics.SecurityEvents.Load()
		d.send(cmdMail{from: "zhang@example.cn", to: deskAddr, subject: "回复：[" + o.c.ID + "]", messageID: "self-accept2@example.cn", body: "受理"}.bytes())
		if len(eventsOf(d.h.caseByID(o.c.ID), "security")) != 1 || d.h.metrics.SecurityEvents.Load() != metric+1 {
			t.Error("no security event for a command from the complainant")
		}
	})
}

// Issue 4 §8: the notice carries "the request and reasons". The author_notice templates
// show the title, link and date but not the reason given for deletion.
func TestAuthorNoticeGivesReason(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	o := d.open("zhang@example.cn", "aur1@example.cn")
	ms := d.command(o, staffA, "cmd-aur1@desk.example.cn", "通知作者 "+authorAddr)
	notice := one(t, ms, "author_notice", authorAddr)
	if !strings.Contains(notice.text, "文章所述内容与事实严重不符") {
		t.Errorf("author notice lacks the reason for deletion:\n%s", notice.text)
	}
}

// A complainant who starts a follow-up with 补充材料 is supplementing documents, not
// forging the staff command 补充: the mail joins the case as usual.
func TestComplainantSupplementIsNotForgery(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	d.send(plainComplaint("李四|li@example.cn", "sup1@example.cn", "李四申请删除凤凰资讯稿件").bytes())
	c := d.caseOf("li@example.cn")
	metric := d.h.metrics.SecurityEvents.Load()
	d.send(cmdMail{from: "li@example.cn", to: deskAddr, subject: "回复：[" + c.ID + "] 补充材料", messageID: "sup2@example.cn",
		body: "补充材料见附件，谢谢。"}.bytes())
	if d.h.metrics.SecurityEvents.Load() != metric {
		t.Error("a complainant's 补充材料 was treated as a forged command")
	}
	if msg := d.h.message("sup2@example.cn"); msg == nil || msg.Role != "complainant" {
		t.Errorf("registered message = %+v, want a complainant follow-up", msg)
	}
}

// A new complaint whose first line happens to be a command word names no case to
// act on: it is a complaint like any other and gets its acknowledgement, not the
// silence of a refused command.
func TestNewComplaintOpeningWithCommandWordIsAnswered(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	metric := d.h.metrics.SecurityEvents.Load()
	raw := cmdMail{from: "王五 <wang@example.cn>", to: deskAddr, subject: "王五申请删除凤凰资讯稿件", messageID: "cmdword1@example.cn",
		body: "受理 请尽快处理\n\n申请人姓名：王五\n文章标题：《某某新闻》\n文章链接：https://news.ifeng.com/c/8abc\n删除原因：内容失实。"}.bytes()
	m := d.mark()
	d.send(raw)
	msg := d.h.message("cmdword1@example.cn")
	if msg == nil || msg.Role != "complainant" || msg.Case == "" {
		t.Fatalf("registered message = %+v, want a new complainant case", msg)
	}
	if d.h.metrics.SecurityEvents.Load() != metric {
		t.Error("a new complaint was counted as a forged command")
	}
	if acks := only(d.mails(m), "acknowledgement", "wang@example.cn"); len(acks) != 1 {
		t.Errorf("acknowledgements = %d, mails %v", len(acks), kinds(d.mails(m)))
	}
}

// The author's evidence is part of the case: files attached to the counter-statement
// are kept as classified documents, recorded, and reach staff with the statement.
func TestAuthorAnswerKeepsItsAttachments(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	o := d.open("zhang@example.cn", "au2@example.cn")
	ms := d.command(o, staffA, "cmd-au2@desk.example.cn", "通知作者 "+authorAddr)
	notice := one(t, ms, "author_notice", authorAddr)
	m := d.mark()
	d.send(testMail{from: "作者|" + authorAddr, subject: "回复：" + notice.subject, messageID: "au2-reply@site.example",
		inReplyTo: notice.id, body: "不同意删除，采访证明见附件。",
		files: []file{{"采访情况说明.pdf", "application/pdf", samplemail.Scan("pdf", "author evidence")}}}.bytes())
	c := d.h.caseByID(o.c.ID)
	i := slices.IndexFunc(c.Documents, func(doc cases.Document) bool { return doc.Filename == "采访情况说明.pdf" })
	if i < 0 {
		t.Fatalf("the author's attachment was dropped: %+v", c.Documents)
	}
	if doc := c.Documents[i]; doc.Kind != cases.ExplanationLetter || doc.Message != "au2-reply@site.example" || doc.File == "" {
		t.Errorf("author's document %+v: want an explanation letter, kept, from the author's mail", doc)
	}
	if ev := eventsOf(c, cases.EventDocumentsAdded); len(ev) == 0 || ev[len(ev)-1].Actor != authorAddr {
		t.Errorf("documents_added by the author not recorded: %+v", ev)
	}
	n := one(t, d.mails(m), "staff_notification", staffA)
	if _, ok := n.atts["采访情况说明.pdf"]; !ok {
		t.Errorf("staff notification lacks the author's file; attachments %v", keys(n.atts))
	}
}

// A case number is no proof (issue 13, 1): a stranger who writes "[TS-…] 撤回", or
// replies to the complainant's acknowledgement from another address, changes nothing on
// that case. The mail is a complaint of its own, and the attempt is on the record of
// the case it named. The complainant, writing from their address with a +tag, still acts.
func TestOnlyTheComplainantActsOnACase(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	o := d.open("zhang@example.cn", "own1@example.cn")
	before := d.h.caseByID(o.c.ID)
	d.send(cmdMail{from: "路人 <mallory@evil.example>", to: deskAddr, subject: "[" + o.c.ID + "] 撤回",
		messageID: "forged-withdraw@evil.example", body: "撤回"}.bytes())
	after := d.h.caseByID(o.c.ID)
	if after.State != before.State {
		t.Fatalf("a stranger's 撤回 moved the case %s → %s", before.State, after.State)
	}
	if ev := eventsOf(after, cases.EventSecurity); len(ev) != 1 || ev[0].Actor != "mallory@evil.example" {
		t.Errorf("security events on the named case: %+v", ev)
	}
	if ev := eventsOf(after, cases.EventOf(cases.Withdraw)); len(ev) != 0 {
		t.Errorf("withdraw recorded on the victim's case: %+v", ev)
	}
	var theirs *cases.Case
	for _, c := range d.h.cases() {
		if c.Complainant == "mallory@evil.example" {
			theirs = c
		}
	}
	if theirs == nil || theirs.ID == o.c.ID {
		t.Errorf("the stranger's mail did not become a case of its own")
	}
	// The complainant, from the same mailbox with a sub-address, is the complainant.
	ack := only(d.mails(0), "acknowledgement", "zhang@example.cn")
	if len(ack) == 0 {
		t.Fatal("no acknowledgement to reply to")
	}
	d.complainantReply("zhang+desk@example.cn", ack[0], "own2@example.cn", "撤回")
	if c := d.h.caseByID(o.c.ID); c.State != cases.Withdrawn {
		t.Errorf("the complainant's own 撤回: state %s", c.State)
	}
}

// Files are what their bytes say (issue 13, 6): a program behind a bidi override
// (身份证\u202Egpj.exe reads 身份证exe.jpg), a program labelled image/jpeg named
// 身份证.jpg, and a PDF named .jpg are never documents: listed, flagged, never attached
// to the staff notification; the sent name stays on record.
func TestDisguisedFilesAreFlaggedNotForwarded(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	m := d.mark()
	mail := completeComplaint("张三|zhang@example.cn", "disg@example.cn")
	pe := append([]byte("MZ\x90\x00"), bytes.Repeat([]byte{0}, 64)...)
	mail.files = append(mail.files,
		file{"身份证\u202Egpj.exe", "image/jpeg", pe},
		file{"身份证.jpg", "image/jpeg", pe},
		file{"营业执照.jpg", "image/jpeg", samplemail.Scan("pdf", "a pdf named jpg")},
	)
	d.send(mail.bytes())
	c := d.caseOf("zhang@example.cn")
	flagged := map[string]cases.Document{}
	for _, doc := range c.Documents {
		if doc.Flagged != "" {
			flagged[doc.Filename] = doc
		}
	}
	if len(flagged) != 3 {
		t.Fatalf("flagged %v, want the three disguised files; documents %+v", keys(flagged), c.Documents)
	}
	if doc := flagged["身份证gpj.exe"]; doc.OriginalFilename != "身份证\u202Egpj.exe" || doc.Kind != cases.Unclassified {
		t.Errorf("the override is not removed or the sent name not kept: %+v", doc)
	}
	for name, doc := range flagged {
		if doc.Kind != cases.Unclassified {
			t.Errorf("%s classified as %s", name, doc.Kind)
		}
	}
	n := one(t, d.mails(m), "staff_notification", staffA)
	for name := range flagged {
		if _, ok := n.atts[name]; ok {
			t.Errorf("flagged %s attached to the staff notification", name)
		}
		if !strings.Contains(n.text, name) {
			t.Errorf("the notification does not list %s:\n%s", name, n.text)
		}
	}
	if _, ok := n.atts["身份证复印件.jpg"]; !ok {
		t.Errorf("the genuine ID card scan is not attached: %v", keys(n.atts))
	}
}

// The complainant's per-case token (issue 13, 1): mail to the complainant carries it in
// its Reply-To, and an answer sent there acts on the case even from another mailbox;
// a stranger who guesses the case number and writes to the plain desk address does not.
func TestComplainantTokenActsFromAnotherAddress(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	o := d.open("zhang@example.cn", "tok1@example.cn")
	ack := one(t, d.mails(0), "acknowledgement", "zhang@example.cn")
	rt := ack.header.Get("Reply-To")
	want := staffauth.ReplyAddress(deskAddr, o.c.ID, staffauth.ComplainantToken([]byte(staffSecret), o.c.ID))
	if !strings.Contains(rt, want) {
		t.Fatalf("acknowledgement Reply-To %q, want the complainant token address %s", rt, want)
	}
	// The complainant answers from their work mailbox, to the Reply-To.
	d.send(cmdMail{from: "张三 <zhang@work.example>", to: want, subject: "Re: " + ack.subject, messageID: "tok2@work.example",
		inReplyTo: ack.id, body: "撤回"}.bytes())
	c := d.h.caseByID(o.c.ID)
	if c.State != cases.Withdrawn {
		t.Errorf("an answer with the complainant token: state %s, want withdrawn", c.State)
	}
	if ev := eventsOf(c, cases.EventSecurity); len(ev) != 0 {
		t.Errorf("the complainant's own token raised a security event: %+v", ev)
	}
	// The staff token is not the complainant's, nor the other way round.
	if staffauth.ComplainantToken([]byte(staffSecret), o.c.ID) == tokenOf(o.notif) {
		t.Error("complainant and staff tokens are equal")
	}
}
