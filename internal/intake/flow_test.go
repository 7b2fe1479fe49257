package intake_test

import (
	"fmt"
	"mime"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/demo/samplemail"
	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/internal/store"
)

var tagRe = regexp.MustCompile(`\[TS-\d{4}-\d{6}\]`)

// The main path: a complete complaint must become exactly one pending_review case and
// exactly one threaded, tagged, RFC 3834-marked acknowledgement, with the checkpoint
// committed together with it.
func TestCompleteComplaint(t *testing.T) {
	srv := newServers(t)
	h := startHarness(t, srv, "")
	uid := srv.deliver(t, completeComplaint("张三|zhangsan@example.cn", "c1@example.cn").bytes())

	sent := h.waitReplies(1)
	h.waitCheckpoint(uid)
	h.waitSettled()

	all := h.cases()
	if len(all) != 1 {
		t.Fatalf("cases = %d, want 1", len(all))
	}
	c := all[0]
	if c.State != cases.PendingReview {
		t.Errorf("state = %q, want %q (missing %v)", c.State, cases.PendingReview, c.Missing)
	}
	if c.DueAt == nil {
		t.Error("a complete case has no review deadline")
	}
	if len(sent) != 1 {
		t.Fatalf("replies = %d, want 1", len(sent))
	}
	r := parseReply(t, sent[0])
	if got := r.to; len(got) != 1 || got[0] != "zhangsan@example.cn" {
		t.Errorf("envelope recipients = %v", got)
	}
	if id := bareID(r.header.Get("Message-ID")); id == "" || !strings.HasSuffix(id, "@desk.example.cn") {
		t.Errorf("Message-ID = %q, want one in the desk's domain", r.header.Get("Message-ID"))
	}
	if got := bareID(r.header.Get("In-Reply-To")); got != "c1@example.cn" {
		t.Errorf("In-Reply-To = %q, want the complaint's Message-ID", got)
	}
	if got := r.header.Get("References"); !strings.Contains(got, "<c1@example.cn>") {
		t.Errorf("References = %q, want it to name the complaint", got)
	}
	if tag := tagRe.FindString(r.subject); tag != "["+c.ID+"]" {
		t.Errorf("subject %q: tag %q, want [%s]", r.subject, tag, c.ID)
	}
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
	if !strings.HasPrefix(c.ID, fmt.Sprintf("TS-%d-", year)) {
		t.Errorf("case ID %q does not carry the year %d", c.ID, year)
	}
	if got := r.header.Get("Auto-Submitted"); got != "auto-replied" {
		t.Errorf("Auto-Submitted = %q, want auto-replied", got)
	}
	if !strings.Contains(r.text, c.ID) {
		t.Error("reply text does not name the case")
	}
	cp := h.checkpoint()
	if cp.LastUID != uid {
		t.Errorf("checkpoint LastUID = %d, want %d", cp.LastUID, uid)
	}
	if cp.UIDValidity == 0 {
		t.Error("checkpoint has no UIDVALIDITY")
	}
	ob := complainantMail(h.outbox())
	if len(ob) != 1 || ob[0].Kind != "acknowledgement" || ob[0].State != store.OutboxSent || ob[0].Attempts != 1 {
		t.Errorf("outbox = %+v, want one sent acknowledgement after one attempt", ob)
	}
	m := h.message("c1@example.cn")
	if m == nil || m.Role != "complainant" || m.Case != c.ID || m.UID != uid {
		t.Errorf("registered message = %+v", m)
	}
	if got := len(c.Documents); got != 5 {
		t.Errorf("documents = %d, want 5", got)
	}
}

// An incomplete complaint must be told exactly what is missing (in the complainant's
// language), and a reply to our acknowledgement that carries no tag must still find the
// case by In-Reply-To; the case moves to pending_review once the last document arrives.
func TestIncompleteThenFollowUps(t *testing.T) {
	srv := newServers(t)
	h := startHarness(t, srv, "")
	first := testMail{
		from: "李四|li.si@example.cn", subject: "李四（北京某某科技有限公司）申请删除凤凰财经稿件", messageID: "inc-1@example.cn",
		body: "单位名称：北京某某科技有限公司\n经办人：李四\n文章标题：某某科技财务造假调查\n文章链接：https://finance.ifeng.com/c/8xyz\n删除原因：报道失实。\n",
		files: []file{
			{"删帖申请表.pdf", "application/pdf", samplemail.Scan("pdf", "form lisi")},
			{"营业执照.jpg", "image/jpeg", samplemail.Scan("jpg", "licence")},
		},
	}
	srv.deliver(t, first.bytes())
	sent := h.waitReplies(1)
	acks := replyTo(t, sent, "inc-1@example.cn")
	if len(acks) != 1 {
		t.Fatalf("acknowledgements = %d, want 1", len(acks))
	}
	ack := acks[0]
	all := h.cases()
	if len(all) != 1 {
		t.Fatalf("cases = %d, want 1", len(all))
	}
	c := all[0]
	if c.State != cases.Incomplete {
		t.Fatalf("state = %q, want incomplete", c.State)
	}
	// What the mail lacks for an organisation: the agent's ID, the staff card and the
	// explanation letter. What it has must not be asked for.
	for _, code := range []cases.Kind{cases.IDCard, cases.WorkID, cases.ExplanationLetter} {
		if !slices.Contains(c.Missing, code) {
			t.Errorf("missing %v lacks %s", c.Missing, code)
		}
	}
	for _, code := range []cases.Kind{cases.ApplicationForm, cases.BusinessLicense} {
		if slices.Contains(c.Missing, code) {
			t.Errorf("missing %v lists %s, which was attached", c.Missing, code)
		}
		if strings.Contains(ack.text, cases.DefaultCatalogue().Explain(code, "zh-CN")) {
			t.Errorf("acknowledgement asks for %s, which was attached", code)
		}
	}
	for _, code := range c.Missing {
		if label := cases.DefaultCatalogue().Explain(code, "zh-CN"); !strings.Contains(ack.text, label) {
			t.Errorf("acknowledgement does not list missing %s (%q):\n%s", code, label, ack.text)
		}
	}
	ackID := bareID(ack.header.Get("Message-ID"))

	// Follow-up 1: answers the acknowledgement (In-Reply-To only, no tag) with one of
	// the missing documents; the case stays incomplete and the reply lists the rest.
	f1 := testMail{
		from: "李四|li.si@example.cn", subject: "回复：补充材料", messageID: "inc-2@example.cn",
		inReplyTo: ackID, references: []string{"inc-1@example.cn", ackID},
		body:  "您好，先补充经办人身份证。\n\n李四",
		files: []file{{"经办人身份证.jpg", "image/jpeg", samplemail.Scan("jpg", "agent id")}},
	}
	if tagRe.MatchString(f1.subject) {
		t.Fatal("follow-up subject must not carry the tag")
	}
	srv.deliver(t, f1.bytes())
	sent = h.waitReplies(2)
	r1 := replyTo(t, sent, "inc-2@example.cn")
	if len(r1) != 1 {
		t.Fatalf("replies to follow-up 1 = %d, want 1", len(r1))
	}
	c = h.caseByID(c.ID)
	if len(h.cases()) != 1 {
		t.Fatalf("follow-up made a new case")
	}
	if slices.Contains(c.Missing, "id_card") || !slices.Contains(c.Missing, "work_id") {
		t.Errorf("after follow-up 1 missing = %v, want work_id but not id_card", c.Missing)
	}
	if !strings.Contains(r1[0].text, cases.DefaultCatalogue().Explain(cases.WorkID, "zh-CN")) {
		t.Error("missing_items reply does not list work_id")
	}
	if tag := tagRe.FindString(r1[0].subject); tag != "["+c.ID+"]" {
		t.Errorf("follow-up reply subject %q lacks the case tag", r1[0].subject)
	}

	// Follow-up 2: the rest, replying to our missing_items reply.
	f2 := testMail{
		from: "李四|li.si@example.cn", subject: "Re: 补充材料", messageID: "inc-3@example.cn",
		inReplyTo: bareID(r1[0].header.Get("Message-ID")),
		body:      "您好，其余材料见附件。\n\n李四",
		files: []file{
			{"在职证明.pdf", "application/pdf", samplemail.Scan("pdf", "employment")},
			{"情况说明.pdf", "application/pdf", samplemail.Scan("pdf", "explanation")},
			{"财经频道撤稿函.pdf", "application/pdf", samplemail.Scan("pdf", "withdrawal")},
		},
	}
	srv.deliver(t, f2.bytes())
	sent = h.waitReplies(3)
	if got := replyTo(t, sent, "inc-3@example.cn"); len(got) != 1 {
		t.Fatalf("replies to follow-up 2 = %d, want 1", len(got))
	}
	h.waitSettled()
	c = h.caseByID(c.ID)
	if c.State != cases.PendingReview || len(c.Missing) != 0 {
		t.Errorf("after follow-up 2: state %q missing %v, want pending_review and nothing", c.State, c.Missing)
	}
	var kinds []string
	for _, e := range complainantMail(h.outbox()) {
		kinds = append(kinds, e.Kind)
	}
	if want := []string{"acknowledgement", "missing_items", "complete"}; !slices.Equal(kinds, want) {
		t.Errorf("reply kinds = %v, want %v", kinds, want)
	}
	var states []string
	for _, e := range c.Events {
		if e.Type == "state" {
			states = append(states, string(e.From)+"→"+string(e.To))
		}
	}
	if want := []string{"incomplete→pending_review"}; !slices.Equal(states, want) {
		t.Errorf("state events = %v, want %v", states, want)
	}
	if len(h.cases()) != 1 {
		t.Errorf("cases = %d, want 1", len(h.cases()))
	}
}

// Foxmail and QQ encode the whole subject as a GBK word; the tag inside it is the only
// thing that identifies the case when the client drops In-Reply-To.
func TestFollowUpByTagInEncodedSubject(t *testing.T) {
	srv := newServers(t)
	h := startHarness(t, srv, "")
	srv.deliver(t, plainComplaint("王五|wangwu@foxmail.com", "gbk-1@foxmail.com", "王五申请删除凤凰博客稿件").bytes())
	h.waitReplies(1)
	c := h.cases()[0]

	subject := gbkWord(t, "回复：["+c.ID+"] 补充材料")
	if strings.Contains(subject, c.ID) {
		t.Fatal("the tag must only be visible after decoding")
	}
	follow := testMail{
		from: "王五|wangwu@foxmail.com", rawSubject: subject, messageID: "gbk-2@foxmail.com",
		body:  "补充申请表。",
		files: []file{{"删帖申请表.jpg", "image/jpeg", samplemail.Scan("jpg", "form wangwu")}},
	}
	uid := srv.deliver(t, follow.bytes())
	h.waitCheckpoint(uid)
	h.waitReplies(2)
	if n := len(h.cases()); n != 1 {
		t.Fatalf("cases = %d, want 1 (follow-up must join by tag)", n)
	}
	m := h.message("gbk-2@foxmail.com")
	if m == nil || m.Case != c.ID {
		t.Fatalf("follow-up registered as %+v, want case %s", m, c.ID)
	}
	got := h.caseByID(c.ID)
	if !slices.ContainsFunc(got.Documents, func(d cases.Document) bool { return d.Kind == "application_form" }) {
		t.Error("the follow-up's application form did not reach the case")
	}
	if !slices.ContainsFunc(got.Events, func(e cases.Event) bool {
		return e.Type == "message_received" && e.Note == "case tag in subject"
	}) {
		t.Error("no event says the follow-up was matched by its tag")
	}
}

// Machine-generated mail and our own mail must never create a case or get a reply,
// however much it looks like a complaint: a reply to a bounce is how mail loops start.
func TestNoise(t *testing.T) {
	srv := newServers(t)
	h := startHarness(t, srv, "")
	complaint := "张三申请删除凤凰资讯稿件"
	body := "本人申请删除以下新闻稿件。\n" + samplemail.ZhangsanForm
	noise := []struct {
		why string
		raw []byte
	}{
		{"null sender: a bounce", testMail{from: "|mailer-daemon@mx.example.net", subject: complaint, messageID: "n-1@mx.example.net",
			headers: []string{"Return-Path: <>"}, body: body}.bytes()},
		{"multipart/report: a delivery status notification", []byte("From: postmaster@mx.example.net\r\nTo: " + deskAddr +
			"\r\nSubject: " + mime.BEncoding.Encode("UTF-8", complaint) + "\r\nMessage-ID: <n-2@mx.example.net>\r\nDate: Fri, 20 Nov 2026 10:00:00 +0800\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n" +
			"Your message could not be delivered.\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n" +
			"Final-Recipient: rfc822; nobody@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n--b1--\r\n")},
		{"Auto-Submitted: an out-of-office answer", testMail{from: "张三|zhangsan@example.cn", subject: "自动回复：" + complaint, messageID: "n-3@example.cn",
			headers: []string{"Auto-Submitted: auto-replied"}, body: body}.bytes()},
		{"List-Id: mailing-list traffic", testMail{from: "列表|list@lists.example.org", subject: complaint, messageID: "n-4@lists.example.org",
			headers: []string{"List-Id: <news.lists.example.org>"}, body: body}.bytes()},
		{"our own address: a reply of ours that came back", testMail{from: "投诉受理中心|" + strings.ToUpper(deskAddr), subject: complaint,
			messageID: "n-5@desk.example.cn", body: body}.bytes()},
		{"a sub-address of ours is ours too", testMail{from: "投诉受理中心|" + strings.Replace(deskAddr, "@", "+loop@", 1), subject: complaint,
			messageID: "n-6@desk.example.cn", body: body}.bytes()},
	}
	for _, n := range noise {
		srv.deliver(t, n.raw)
	}
	// A real complaint behind the noise: once it is answered, everything before it
	// was processed and anything the noise queued would have been sent first.
	last := srv.deliver(t, plainComplaint("王五|wangwu@example.cn", "after-noise@example.cn", "王五申请删除凤凰博客稿件").bytes())
	h.waitReplies(1)
	h.waitCheckpoint(last)
	h.waitSettled()

	if got := len(srv.sink.Messages()); got != 1 {
		t.Errorf("replies = %d, want 1 (only the real complaint)", got)
	}
	if got := len(h.cases()); got != 1 {
		t.Errorf("cases = %d, want 1", got)
	}
	for i, n := range noise {
		id := fmt.Sprintf("n-%d@", i+1)
		var m *store.Message
		for _, x := range h.messages() {
			if strings.HasPrefix(x.MessageID, id) {
				m = x
			}
		}
		if m == nil {
			t.Errorf("%s: not registered", n.why)
			continue
		}
		if m.Role != "noise" || m.Case != "" {
			t.Errorf("%s: registered as role %q case %q (%s), want noise without case", n.why, m.Role, m.Case, m.Outcome)
		}
	}
}

// The same mail can arrive twice (a server copies it, a user forwards it back, a
// second delivery after a relay timeout). It must make one case and one reply, by
// Message-ID or, lacking one, by content digest.
func TestDuplicates(t *testing.T) {
	srv := newServers(t)
	h := startHarness(t, srv, "")
	withID := plainComplaint("王五|wangwu@example.cn", "dup-1@example.cn", "王五申请删除凤凰博客稿件").bytes()
	noID := plainComplaint("赵六|zhaoliu@example.cn", "", "赵六申请删除凤凰博客稿件").bytes()
	srv.deliver(t, withID)
	srv.deliver(t, withID)
	srv.deliver(t, noID)
	last := srv.deliver(t, noID)
	h.waitCheckpoint(last)
	h.waitReplies(2)
	h.waitSettled()

	if got := len(h.cases()); got != 2 {
		t.Errorf("cases = %d, want 2", got)
	}
	if got := len(srv.sink.Messages()); got != 2 {
		t.Errorf("replies = %d, want 2", got)
	}
	if got := h.metrics.Duplicates.Load(); got != 2 {
		t.Errorf("duplicates counted = %d, want 2", got)
	}
	if got := len(h.messages()); got != 2 {
		t.Errorf("registered messages = %d, want 2", got)
	}
}

// A flood from one sender (or a loop with another robot that does not mark its mail)
// must not make the desk a spam source; the cap is a sliding window, so a later
// mail is answered again. The case is still registered.
func TestReplyRateLimit(t *testing.T) {
	srv := newServers(t)
	h := startHarness(t, srv, "", func(c *config) { c.proc.ReplyLimit = 2 })
	from := "王五|wangwu@example.cn"
	for i := 1; i <= 3; i++ {
		srv.deliver(t, plainComplaint(from, fmt.Sprintf("rl-%d@example.cn", i), fmt.Sprintf("王五申请删除凤凰博客稿件%d", i)).bytes())
	}
	// Behind them, another sender is answered: proof the three were handled.
	last := srv.deliver(t, plainComplaint("赵六|zhaoliu@example.cn", "rl-other@example.cn", "赵六申请删除凤凰博客稿件").bytes())
	h.waitCheckpoint(last)
	h.waitReplies(3)
	h.waitSettled()
	if got := len(srv.sink.Messages()); got != 3 {
		t.Fatalf("replies = %d, want 3 (2 to the flooding sender, 1 to the other)", got)
	}
	third := h.message("rl-3@example.cn")
	if third == nil || third.Case == "" {
		t.Fatalf("the suppressed mail was not registered as a case: %+v", third)
	}
	c := h.caseByID(third.Case)
	if !slices.ContainsFunc(c.Events, func(e cases.Event) bool { return e.Type == "reply_suppressed" }) {
		t.Errorf("case %s has no reply_suppressed event: %+v", c.ID, c.Events)
	}
	if got := h.metrics.RepliesSuppressed.Load(); got != 1 {
		t.Errorf("suppressed = %d, want 1", got)
	}

	h.clock.Advance(61 * time.Minute)
	srv.deliver(t, plainComplaint(from, "rl-4@example.cn", "王五申请删除凤凰博客稿件4").bytes())
	sent := h.waitReplies(4)
	if got := replyTo(t, sent, "rl-4@example.cn"); len(got) != 1 {
		t.Errorf("after the window: replies to rl-4 = %d, want 1", len(got))
	}
}

// A reply queued while SMTP is down survives a restart and is sent once by the next
// run.
func TestRestartSendsQueuedReply(t *testing.T) {
	srv := newServers(t)
	dir := t.TempDir()
	h1 := startHarness(t, srv, dir)
	srv.sink.FailNext(1000, 421)
	uid := srv.deliver(t, plainComplaint("王五|wangwu@example.cn", "q-1@example.cn", "王五申请删除凤凰博客稿件").bytes())
	h1.waitCheckpoint(uid)
	eventually(t, "a failed attempt", func() bool { return srv.sink.Refused() > 0 })
	h1.stop()
	srv.sink.FailNext(0, 0)

	h2 := startHarness(t, srv, dir)
	h2.waitReplies(1)
	h2.waitSettled()
	if got := len(srv.sink.Messages()); got != 1 {
		t.Errorf("replies = %d, want 1", got)
	}
	if got := h2.metrics.Processed.Load(); got != 0 {
		t.Errorf("second run processed %d mails, want 0", got)
	}
}

// SMTP relays fail in three ways the outbox must tell apart: a temporary refusal
// (retry, deliver once), a permanent one (give up at once, say so in the case log),
// and a relay that stores the mail but answers with an error after the final dot.
func TestSMTPFaults(t *testing.T) {
	complaint := func(id string) []byte {
		return plainComplaint("王五|wangwu@example.cn", id, "王五申请删除凤凰博客稿件").bytes()
	}
	t.Run("temporary 451 twice: retried, delivered once", func(t *testing.T) {
		srv := newServers(t)
		h := startHarness(t, srv, "")
		srv.sink.FailNext(2, 451)
		srv.deliver(t, complaint("s-451@example.cn"))
		h.waitReplies(1)
		h.waitSettled()
		ob := h.outbox()
		// A refused MAIL FROM is the relay's trouble: the outbox's breaker may meet the
		// second refusal with its probe, not with the reply, so the reply is charged 2
		// or 3 attempts.
		if len(ob) != 1 || ob[0].State != store.OutboxSent || ob[0].Attempts < 2 || ob[0].Attempts > 3 {
			t.Fatalf("outbox = %+v, want one entry sent after 2-3 attempts", ob)
		}
		if got := len(srv.sink.Messages()); got != 1 {
			t.Errorf("copies delivered = %d, want 1", got)
		}
		if got := srv.sink.Refused(); got != 2 {
			t.Errorf("refused = %d, want 2", got)
		}
		c := h.caseByID(ob[0].Case)
		if !slices.ContainsFunc(c.Events, func(e cases.Event) bool { return e.Type == "reply_sent" }) {
			t.Error("no reply_sent event")
		}
	})
	t.Run("permanent 550: failed, no retry", func(t *testing.T) {
		srv := newServers(t)
		h := startHarness(t, srv, "")
		// At RCPT TO: the recipient's fault. (At MAIL FROM it is the desk's sender,
		// refused for every reply alike: sending pauses, the reply is kept.)
		srv.sink.FailNextAt(mailtest.StageRcpt, 1, 550)
		srv.deliver(t, complaint("s-550@example.cn"))
		eventually(t, "the entry to fail", func() bool {
			ob := h.outbox()
			return len(ob) == 1 && ob[0].State == store.OutboxFailed
		})
		// A second complaint goes through the same worker: when its reply is out, a
		// retry of the first would have happened before it.
		srv.deliver(t, plainComplaint("赵六|zhaoliu@example.cn", "s-after-550@example.cn", "赵六申请删除凤凰博客稿件").bytes())
		h.waitReplies(1)
		h.waitSettled()
		ob := h.outbox()
		if ob[0].Attempts != 1 || !strings.Contains(ob[0].LastError, "550") {
			t.Errorf("failed entry = %+v, want 1 attempt with the 550 recorded", ob[0])
		}
		if got := srv.sink.Refused(); got != 1 {
			t.Errorf("refused = %d, want 1 (no retry)", got)
		}
		if got := replyTo(t, srv.sink.Messages(), "s-550@example.cn"); len(got) != 0 {
			t.Error("the refused reply was delivered")
		}
		c := h.caseByID(ob[0].Case)
		if !slices.ContainsFunc(c.Events, func(e cases.Event) bool { return e.Type == "reply_failed" }) {
			t.Errorf("no reply_failed event: %+v", c.Events)
		}
		if got := h.metrics.RepliesDropped.Load(); got != 1 {
			t.Errorf("dropped = %d, want 1", got)
		}
	})
	t.Run("stored then 451", func(t *testing.T) {
		srv := newServers(t)
		h := startHarness(t, srv, "")
		srv.sink.AcceptThenFail(1)
		srv.deliver(t, complaint("s-atf@example.cn"))
		h.waitReplies(1)
		h.waitSettled()
		ob := h.outbox()
		if len(ob) != 1 || ob[0].State != store.OutboxSent {
			t.Fatalf("outbox = %+v, want one sent entry", ob)
		}
		msgs := srv.sink.Messages()
		ids := map[string]int{}
		for _, m := range msgs {
			ids[bareID(parseReply(t, m).header.Get("Message-ID"))]++
		}
		// Whatever the count, every copy is the same message: a recipient's client
		// can fold them, and the thread stays one.
		if len(ids) != 1 || ids[ob[0].MessageID] != len(msgs) {
			t.Errorf("copies carry Message-IDs %v, want only %s", ids, ob[0].MessageID)
		}
		t.Logf("copies delivered: %d, attempts: %d", len(msgs), ob[0].Attempts)
		if len(msgs) != 1 {
			// 451 after the final dot is, to the client, indistinguishable from a
			// refusal (RFC 5321 §4.2.5): go-mail's IsDelivered is false and the retry
			// delivers a second copy. See the report; not fixable client-side.
			t.Logf("known limitation: %d copies after a 451 that followed storing (same Message-ID)", len(msgs))
		}
	})
}

// complainantMail drops the staff notifications a complete case also causes.
func complainantMail(entries []*store.OutboxEntry) []*store.OutboxEntry {
	var out []*store.OutboxEntry
	for _, e := range entries {
		if !strings.HasPrefix(e.Kind, "staff_") {
			out = append(out, e)
		}
	}
	return out
}

// The desk never answers its own addresses (issue 13, 7): a complaint whose Reply-To
// names the desk (or a sub-address of it) is answered at its From, not mailed to
// ourselves in a loop.
func TestReplyToTheDeskIsIgnored(t *testing.T) {
	srv := newServers(t)
	h := startHarness(t, srv, "")
	for i, rt := range []string{deskAddr, strings.Replace(deskAddr, "@", "+x@", 1)} {
		m := plainComplaint("王五|wangwu@example.cn", fmt.Sprintf("rt-%d@example.cn", i), "王五申请删除凤凰博客稿件")
		m.headers = append(m.headers, "Reply-To: "+rt)
		srv.deliver(t, m.bytes())
	}
	h.waitReplies(2)
	h.waitSettled()
	for _, msg := range srv.sink.Messages() {
		for _, to := range msg.To {
			if to != "wangwu@example.cn" {
				t.Errorf("a reply went to %s, want only the sender's From", to)
			}
		}
	}
}

// Backscatter (issue 13, 5): fifty mails from one sender, each with another Reply-To,
// produced fifty acknowledgements to third parties. The sender's cap counts them as one
// sender, the domain cap stops a flood aimed at one domain, and each case is still
// registered.
func TestReplyCapsStopBackscatter(t *testing.T) {
	srv := newServers(t)
	h := startHarness(t, srv, "", func(c *config) {
		c.proc.ReplyLimit, c.proc.ReplyDomainLimit, c.proc.ReplyGlobalLimit = 2, 3, 100
	})
	var last uint32
	// One sender, five forged Reply-To addresses in five domains: two replies.
	for i := 1; i <= 5; i++ {
		m := plainComplaint("路人|mallory@evil.test", fmt.Sprintf("bs-%d@evil.test", i), "路人申请删除凤凰博客稿件")
		m.headers = append(m.headers, fmt.Sprintf("Reply-To: victim@victim%d.test", i))
		last = srv.deliver(t, m.bytes())
	}
	// Five senders of one domain: three replies.
	for i := 1; i <= 5; i++ {
		last = srv.deliver(t, plainComplaint(fmt.Sprintf("用户|user%d@target.test", i), fmt.Sprintf("dom-%d@target.test", i), "用户申请删除凤凰博客稿件").bytes())
	}
	h.waitCheckpoint(last)
	h.waitReplies(5)
	h.waitSettled()
	byDomain := map[string]int{}
	for _, msg := range srv.sink.Messages() {
		for _, to := range msg.To {
			_, d, _ := strings.Cut(to, "@")
			if strings.HasPrefix(d, "victim") {
				d = "victims"
			}
			byDomain[d]++
		}
	}
	if byDomain["victims"] != 2 || byDomain["target.test"] != 3 || len(srv.sink.Messages()) != 5 {
		t.Errorf("replies by domain %v, want 2 to the forged Reply-To addresses and 3 to target.test", byDomain)
	}
	if n := len(h.cases()); n != 10 {
		t.Errorf("%d cases, want 10: a suppressed reply still registers the case", n)
	}
	if got := h.metrics.RepliesSuppressed.Load(); got != 5 {
		t.Errorf("suppressed = %d, want 5", got)
	}
}
