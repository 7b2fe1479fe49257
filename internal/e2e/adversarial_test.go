package e2e

import (
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/demo/samplemail"
	"github.com/complaintd/complaintd/internal/mailtest"
)

// The attacks of issue 13 that had no test on the real stack, one test each.

// setConfig rewrites the daemon's config file with edit.
func setConfig(t *testing.T, d *daemon, edit func(string) string) {
	t.Helper()
	b, err := os.ReadFile(d.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.cfgPath, []byte(edit(string(b))), 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitSettled waits until n mails are registered and the outbox is empty.
func waitSettled(t *testing.T, d *daemon, n float64) {
	t.Helper()
	waitFor(t, 2*time.Minute, fmt.Sprintf("%v mails registered and their replies sent", n), func() (bool, string) {
		p, q := d.metric("complaintd_mails_processed_total"), d.metric("complaintd_outbox_depth")
		return p == n && q == 0, fmt.Sprintf("processed %v outbox %v", p, q)
	})
}

// Issue 13, 5: 50 mails from one sender with 50 different Reply-To addresses (on 50
// domains) produced 50 acknowledgements to third parties. With the default caps the
// sender gets smtp.auto_reply_limit answers, and the rest are suppressed.
func TestBackscatterCappedOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "mallory"}})
	d := newDaemon(t, st, deskOptions{})
	setConfig(t, d, func(s string) string { // the harness lifts the caps; put the defaults back
		for _, k := range []string{"auto_reply_limit", "auto_reply_domain_limit", "auto_reply_global_limit"} {
			s = strings.Replace(s, "  "+k+": 100000\n", "", 1)
		}
		return s
	})
	d.start()
	const n = 50
	for i := range n {
		raw := samplemail.Mail{From: "某人|mallory@people.test", To: "desk@desk.test", Subject: "某人申请删除凤凰资讯稿件",
			MessageID: fmt.Sprintf("bs%02d@people.test", i), Body: "文章链接：https://news.ifeng.com/c/bs\n删除原因：无",
			Headers: []string{fmt.Sprintf("Reply-To: victim%02d@victim%02d.test", i, i)}, Date: time.Now()}.Bytes()
		st.AppendRaw(t, "desk", "INBOX", raw)
	}
	waitSettled(t, d, n)
	queued, suppressed := d.metric("complaintd_replies_queued_total"), d.metric("complaintd_replies_suppressed_total")
	if queued != 10 || suppressed != n-10 {
		t.Errorf("%v acknowledgements queued, %v suppressed; want 10 (smtp.auto_reply_limit per From) and %d", queued, suppressed, n-10)
	}
}

// Issue 13, 6: a program named 身份证\u202Egpj.exe (shown as 身份证exe.jpg) and a program
// labelled image/jpeg named 身份证.jpg are flagged, never an ID card, and never reach
// staff as they came; the notification names them as flagged.
func TestDisguisedFilesNeverReachStaffOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor"}})
	d := newDaemon(t, st, deskOptions{})
	d.start()
	exe1 := []byte("MZ\x90\x00\x03\x00\x00\x00 disguised program one, bidi name ....")
	exe2 := []byte("MZ\x90\x00\x03\x00\x00\x00 disguised program two, jpeg label ....")
	raw := samplemail.Mail{From: "赵六|alice@people.test", To: "desk@desk.test", Subject: "赵六申请删除凤凰资讯稿件", MessageID: "disg@people.test",
		Body: "申请人姓名：赵六\n文章标题：《某地某事》\n文章链接：https://news.ifeng.com/c/disg\n删除原因：报道失实。", Date: time.Now(),
		Files: []samplemail.File{
			{Name: "删帖申请表.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.4 form")},
			{Name: "身份证复印件.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.4 id")},
			{Name: "事件说明函.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.4 expl")},
			{Name: "法院判决书.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.4 proof")},
			{Name: "原发媒体撤稿函.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.4 withdrawal")},
			{Name: "身份证\u202Egpj.exe", ContentType: "application/octet-stream", Content: exe1},
			{Name: "身份证.jpg", ContentType: "image/jpeg", Content: exe2},
		}}.Bytes()
	st.Deliver(t, raw, "alice@people.test", "desk@desk.test")
	note, noteText := nth(t, st, "editor", 1)
	id := tagRe.FindStringSubmatch(decodedSubject(note.Header.Get("Subject")))[1]
	raws := st.WaitMessages(t, "editor", "INBOX", 1, 0)
	flat := strings.NewReplacer("\r\n", "", "\n", "").Replace(string(raws[0]))
	for _, exe := range [][]byte{exe1, exe2} {
		if strings.Contains(flat, base64.StdEncoding.EncodeToString(exe)[:40]) {
			t.Errorf("a disguised program reached staff attached to the notification")
		}
	}
	if !strings.Contains(noteText, "flagged") {
		t.Errorf("the notification does not name the flagged files:\n%s", noteText)
	}
	flagged := 0
	for _, doc := range caseOf(t, d, id).Documents {
		if strings.HasPrefix(doc.Filename, "身份证") && doc.Flagged != "" {
			flagged++
			if doc.Kind == cases.IDCard {
				t.Errorf("%s is flagged yet classified as an ID card", doc.Filename)
			}
		}
	}
	if flagged != 2 {
		t.Errorf("%d files flagged, want the two programs", flagged)
	}
}

// Issue 13, 7: the desk answered its own address given as Reply-To or as a
// sub-address. Mail from desk+anything@ gets no answer; mail whose Reply-To is the
// desk is answered at its From; the desk's own mailbox receives nothing but the three.
func TestDeskNeverAnswersItselfOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
	d := newDaemon(t, st, deskOptions{})
	d.start()
	mk := func(from, id string, headers ...string) []byte {
		return samplemail.Mail{From: from, To: "desk@desk.test", Subject: "某人申请删除凤凰资讯稿件", MessageID: id,
			Body: "文章链接：https://news.ifeng.com/c/own\n删除原因：无", Headers: headers, Date: time.Now()}.Bytes()
	}
	st.AppendRaw(t, "desk", "INBOX", mk("回环|desk+loop@desk.test", "own1@desk.test"))
	st.AppendRaw(t, "desk", "INBOX", mk("赵六|alice@people.test", "own2@people.test", "Reply-To: desk@desk.test"))
	st.AppendRaw(t, "desk", "INBOX", mk("赵六|alice@people.test", "own3@people.test", "Reply-To: desk+x@desk.test"))
	waitSettled(t, d, 3)
	if n := len(st.WaitMessages(t, "alice", "INBOX", 2, time.Minute)); n != 2 {
		t.Errorf("alice got %d answers, want 2 (her From, not the desk Reply-To)", n)
	}
	if n := len(st.WaitMessages(t, "desk", "INBOX", 3, 0)); n != 3 {
		t.Errorf("the desk's mailbox holds %d mails, want the 3 delivered: it answered itself", n)
	}
	if v := d.metric("complaintd_replies_queued_total"); v != 2 {
		t.Errorf("%v replies queued, want 2", v)
	}
}

// Issue 13, 1 and 7: a stranger's appeal with a document does nothing to someone
// else's case, and text hidden by CSS in the complainant's own HTML mail
// (display:none 撤回) is no command.
func TestStrangerAppealAndHiddenHTML(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "mallory", "editor"}})
	d := newDaemon(t, st, deskOptions{})
	d.start()
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "vis1@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	ack, _ := nth(t, st, "alice", 1)
	id := tagRe.FindStringSubmatch(decodedSubject(ack.Header.Get("Subject")))[1]
	before := caseOf(t, d, id)
	// A stranger appeals with a document.
	st.Deliver(t, complaint("路人 <mallory@people.test>", "vis2@people.test", "["+id+"] 申诉", "申诉 理由充分",
		map[string]string{"补充材料.pdf": "%PDF stranger"}), "mallory@people.test", "desk@desk.test")
	// The complainant's HTML mail: a thank-you shown, 撤回 hidden.
	html := fmt.Sprintf("From: 赵六 <alice@people.test>\r\nTo: desk@desk.test\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <vis3@people.test>\r\n"+
		"In-Reply-To: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n"+
		"<html><body><p>谢谢</p><div style=\"display:none\">撤回</div><span style=\"font-size:0\">撤回</span></body></html>\r\n",
		mimeWord("回复："+decodedSubject(ack.Header.Get("Subject"))), time.Now().Format(time.RFC1123Z), ack.Header.Get("Message-ID"))
	st.Deliver(t, []byte(html), "alice@people.test", "desk@desk.test")
	waitSettled(t, d, 3)
	after := caseOf(t, d, id)
	if after.State != before.State || len(after.Documents) != len(before.Documents) {
		t.Errorf("case %s went from %s with %d documents to %s with %d", id, before.State, len(before.Documents), after.State, len(after.Documents))
	}
	if !hasEvent(after, cases.EventSecurity) {
		t.Errorf("the stranger's appeal is not on the case's record as a security event")
	}
}

// Issue 13, 7: a 100,000-character title made a 104 KB staff-notification header,
// over Postfix's limit. The notification is delivered and no header line passes 998
// octets (RFC 5322 §2.1.1).
func TestHugeTitleStaysWithinLineLimitsOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor"}})
	d := newDaemon(t, st, deskOptions{})
	d.start()
	title := strings.Repeat("标题", 50000)
	st.Deliver(t, complaint("赵六 <alice@people.test>", "huge@people.test", "赵六申请删除凤凰资讯稿件《"+title+"》",
		"申请人姓名：赵六\n身份证号：11010519491231002X\n文章标题：《"+title+"》\n文章链接：https://news.ifeng.com/c/huge\n删除原因：报道失实。",
		map[string]string{"删帖申请表.pdf": "%PDF form", "身份证复印件.jpg": "JPEG id", "事件说明函.pdf": "%PDF expl",
			"法院判决书.pdf": "%PDF proof", "原发媒体撤稿函.pdf": "%PDF withdrawal"}), "alice@people.test", "desk@desk.test")
	for _, user := range []string{"editor", "alice"} {
		raw := st.WaitMessages(t, user, "INBOX", 1, time.Minute)[0]
		head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
		for _, l := range strings.Split(head, "\r\n") {
			if len(l) > 998 {
				t.Errorf("%s's mail has a header line of %d octets: %.80s…", user, len(l), l)
			}
		}
		if len(head) > 64<<10 {
			t.Errorf("%s's mail has a header of %d KB", user, len(head)>>10)
		}
	}
}
