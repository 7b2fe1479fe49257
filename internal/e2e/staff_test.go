package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailtest"
)

// completeComplaint has every document the default policy asks of an individual
// complaining about a news article.
func completeComplaint(from, msgID, subject string) []byte {
	return complaint(from, msgID, subject,
		"申请人姓名：赵六\n联系电话：13912345678\n身份证号：11010519491231002X\n文章标题：《某地某事》\n文章链接：https://news.ifeng.com/c/e2e\n删除原因：报道失实，损害名誉。",
		map[string]string{"删帖申请表.pdf": "%PDF form " + msgID, "身份证复印件.jpg": "JPEG id " + msgID, "事件说明函.pdf": "%PDF expl",
			"法院判决书.pdf": "%PDF proof", "原发媒体撤稿函.pdf": "%PDF withdrawal"})
}

// staffReply answers a notification the way a mail client does: to its Reply-To, with
// the commands on top and the notification quoted below in Foxmail/QQ style (its
// command words must not run).
func staffReply(notification *mail.Message, from, commands string) []byte {
	to := notification.Header.Get("Reply-To")
	if a, err := mail.ParseAddress(to); err == nil {
		to = a.Address
	}
	subj := decodedSubject(notification.Header.Get("Subject"))
	return []byte(fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d.%s>\r\nIn-Reply-To: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n\r\n------------------ 原始邮件 ------------------\r\n发件人: \"投诉受理中心\" <desk@desk.test>;\r\n主题: %s\r\n\r\n请直接回复本邮件下达指令，例如“受理”或“驳回 理由”。\r\n结案\r\n",
		from, to, mimeWord("Re: "+subj), time.Now().Format(time.RFC1123Z), time.Now().UnixNano(), strings.ReplaceAll(from, "@", "."),
		notification.Header.Get("Message-ID"), commands, subj))
}

func replyTo(m *mail.Message, from, body string) []byte {
	return []byte(fmt.Sprintf("From: %s\r\nTo: desk@desk.test\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d@people.test>\r\nIn-Reply-To: %s\r\nReferences: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
		from, mimeWord("回复："+decodedSubject(m.Header.Get("Subject"))), time.Now().Format(time.RFC1123Z), time.Now().UnixNano(),
		m.Header.Get("Message-ID"), m.Header.Get("Message-ID"), body))
}

// mailbox waits for the n-th mail of user and returns it parsed with its text.
func nth(t *testing.T, st *mailtest.Stack, user string, n int) (*mail.Message, string) {
	t.Helper()
	raws := st.WaitMessages(t, user, "INBOX", n, 60*time.Second)
	return parseMail(t, raws[n-1]), bodyText(t, raws[n-1])
}

func caseOf(t *testing.T, d *daemon, id string) cases.Case {
	t.Helper()
	var c cases.Case
	if err := json.Unmarshal(d.cli("cases", "show", id, "-json"), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// The staff desk on the real stack: staff are notified of a complete case, read the
// notification over IMAP, reply 受理 then 已处理, and the complainant receives both
// decisions. A rejection is appealed in time; another one too late. An author is
// notified and answers. A forged command changes nothing and mails nobody.
func TestStaffDeskOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor", "author"}})
	d := newDaemon(t, st, deskOptions{})
	cfg, _ := os.ReadFile(d.cfgPath)
	os.WriteFile(d.cfgPath, []byte(strings.Replace(string(cfg), "policy:\n", "", 1)+"policy:\n  appeal_after: 8s\n"), 0o600)
	// The clock stands still until the test moves it past the appeal window.
	set := d.driveClock("2026-12-07T10:00:00+08:00")
	d.start()

	// 1. A complete case notifies staff, documents attached.
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "s1@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	note, noteText := nth(t, st, "editor", 1)
	caseID := tagRe.FindStringSubmatch(decodedSubject(note.Header.Get("Subject")))[1]
	if !strings.Contains(note.Header.Get("Reply-To"), "desk+"+strings.ToLower(caseID)+".") {
		t.Errorf("notification Reply-To %q carries no case token", note.Header.Get("Reply-To"))
	}
	if !strings.Contains(noteText, "某地某事") || !strings.Contains(note.Header.Get("Content-Type"), "multipart/mixed") {
		t.Errorf("notification lacks the request or the attached documents: %s\n%s", note.Header.Get("Content-Type"), noteText)
	}
	nth(t, st, "alice", 1) // the acknowledgement

	// 2. 受理, then 已处理: two decisions reach the complainant.
	st.Deliver(t, staffReply(note, "editor@desk.test", "受理"), "editor@desk.test", note.Header.Get("Reply-To"))
	accepted, acceptedText := nth(t, st, "alice", 2)
	if s := decodedSubject(accepted.Header.Get("Subject")); !strings.Contains(s, caseID) {
		t.Errorf("accepted subject %q", s)
	}
	conf, _ := nth(t, st, "editor", 2)
	if c := caseOf(t, d, caseID); c.State != "accepted" || c.DueAt == nil {
		t.Fatalf("after 受理: state %s due %v (confirmation %q)", c.State, c.DueAt, decodedSubject(conf.Header.Get("Subject")))
	}
	st.Deliver(t, staffReply(conf, "editor@desk.test", "已处理 文章已删除"), "editor@desk.test", conf.Header.Get("Reply-To"))
	_, resolvedText := nth(t, st, "alice", 3)
	if !strings.Contains(resolvedText, "文章已删除") {
		t.Errorf("resolved mail lacks the note:\n%s", resolvedText)
	}
	if c := caseOf(t, d, caseID); c.State != "resolved" {
		t.Errorf("after 已处理: state %s", c.State)
	}
	for _, text := range []string{acceptedText, resolvedText} {
		if strings.Contains(text, "editor@desk.test") || strings.Contains(text, "desk+") {
			t.Errorf("a complainant mail shows a staff address or token:\n%s", text)
		}
	}
	nth(t, st, "editor", 3) // confirmation of 已处理

	// 3. A rejection appealed within the window, and one appealed too late.
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "s2@people.test", "赵六申请删除凤凰资讯稿件（二）"), "alice@people.test", "desk@desk.test")
	nth(t, st, "alice", 4)
	note2, _ := nth(t, st, "editor", 4)
	case2 := tagRe.FindStringSubmatch(decodedSubject(note2.Header.Get("Subject")))[1]
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "s3@people.test", "赵六申请删除凤凰资讯稿件（三）"), "alice@people.test", "desk@desk.test")
	nth(t, st, "alice", 5)
	note3, _ := nth(t, st, "editor", 5)
	case3 := tagRe.FindStringSubmatch(decodedSubject(note3.Header.Get("Subject")))[1]
	st.Deliver(t, staffReply(note3, "editor@desk.test", "驳回 材料不足以证明报道失实"), "editor@desk.test", note3.Header.Get("Reply-To"))
	rejected3, _ := nth(t, st, "alice", 6)
	nth(t, st, "editor", 6)
	st.Deliver(t, staffReply(note2, "editor@desk.test", "驳回 材料不足以证明报道失实"), "editor@desk.test", note2.Header.Get("Reply-To"))
	rejected2, rejectedText := nth(t, st, "alice", 7)
	nth(t, st, "editor", 7)
	if !strings.Contains(rejectedText, "材料不足以证明报道失实") {
		t.Errorf("rejection lacks the reason:\n%s", rejectedText)
	}
	st.Deliver(t, replyTo(rejected2, "赵六 <alice@people.test>", "申诉\n我方已补充法院判决书，请重新审核。"), "alice@people.test", "desk@desk.test")
	_, appealText := nth(t, st, "alice", 8)
	if c := caseOf(t, d, case2); c.State != "appealed" {
		t.Errorf("appeal within the window: state %s, reply:\n%s", c.State, appealText)
	}
	_, reviewText := nth(t, st, "editor", 8)
	if !strings.Contains(reviewText, "重新审核") {
		t.Errorf("staff notification of the appeal lacks its reasons:\n%s", reviewText)
	}
	// Case 3 was rejected earlier; its window (8s) closes as the clock moves on.
	set("2026-12-07T10:00:09+08:00")
	if c := caseOf(t, d, case3); c.RejectedAt == nil || !c.RejectedAt.Before(time.Date(2026, 12, 7, 2, 0, 1, 0, time.UTC)) {
		t.Fatalf("case 3 rejected at %v, want at the clock's start (2026-12-07T10:00:00+08:00)", c.RejectedAt)
	}
	st.Deliver(t, replyTo(rejected3, "赵六 <alice@people.test>", "申诉\n理由同上。"), "alice@people.test", "desk@desk.test")
	_, lateText := nth(t, st, "alice", 9)
	if c := caseOf(t, d, case3); c.State != "rejected" {
		t.Errorf("late appeal: state %s", c.State)
	}
	if !strings.Contains(lateText, "申诉") {
		t.Errorf("late appeal reply does not explain:\n%s", lateText)
	}

	// 4. Notice to the author; the counter-statement joins the case.
	conf2, _ := nth(t, st, "editor", 8)
	st.Deliver(t, staffReply(conf2, "editor@desk.test", "通知作者 author@people.test"), "editor@desk.test", conf2.Header.Get("Reply-To"))
	notice, noticeText := nth(t, st, "author", 1)
	if strings.Contains(noticeText, "11010519491231002X") || strings.Contains(noticeText, "13912345678") || strings.Contains(notice.Header.Get("Content-Type"), "mixed") {
		t.Errorf("the author notice leaks personal data or documents:\n%s", noticeText)
	}
	if c := caseOf(t, d, case2); !c.AwaitingAuthor {
		t.Error("case not waiting for the author")
	}
	nth(t, st, "editor", 9) // confirmation
	st.Deliver(t, replyTo(notice, "作者 <author@people.test>", "本人声明：报道内容属实，不存在侵权。"), "author@people.test", "desk@desk.test")
	_, fwd := nth(t, st, "editor", 10)
	if !strings.Contains(fwd, "不存在侵权") {
		t.Errorf("the counter-statement was not forwarded to staff:\n%s", fwd)
	}
	if c := caseOf(t, d, case2); len(c.Statements) != 1 || c.AwaitingAuthor {
		t.Errorf("statements %d, awaiting %v", len(c.Statements), c.AwaitingAuthor)
	}

	// 5. A forged command: staff From, no token. Nothing changes; nobody is mailed.
	forged := fmt.Sprintf("From: editor@desk.test\r\nTo: desk@desk.test\r\nSubject: [%s] 受理\r\nMessage-ID: <forged@evil.test>\r\nDate: %s\r\n\r\n受理\r\n", case3, time.Now().Format(time.RFC1123Z))
	st.Deliver(t, []byte(forged), "editor@desk.test", "desk@desk.test")
	waitFor(t, 30*time.Second, "the forged mail to be registered", func() (bool, string) {
		v := d.metric("complaintd_security_events_total")
		return v == 1, fmt.Sprint(v)
	})
	if c := caseOf(t, d, case3); c.State != "rejected" {
		t.Errorf("forged 受理 changed the case to %s", c.State)
	}
	d.stop()
	if n := len(st.WaitMessages(t, "editor", "INBOX", 0, time.Second)); n != 10 {
		t.Errorf("editor has %d mails, want 10 (none for the forged command)", n)
	}
}

// On the real stack: a staff token is accepted with any staff From, so only staff
// receive one. A notify list member that is not in staff.addresses (a team list) gets
// the notification without a token: whoever reads that mailbox cannot reply with one
// under a staff member's name. Before, every recipient got a token (found in review).
func TestStaffTokenGoesToStaffOnlyOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor", "team"}})
	d := newDaemon(t, st, deskOptions{})
	d.setConfig("  addresses: [editor@desk.test]\n", "  addresses: [editor@desk.test]\n  notify: [editor@desk.test, team@desk.test]\n")
	d.start()
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "tok1@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	staff, _ := nth(t, st, "editor", 1)
	team, _ := nth(t, st, "team", 1)
	if rt := staff.Header.Get("Reply-To"); !strings.Contains(rt, "desk+") {
		t.Errorf("the staff member's notification has Reply-To %q, want a token address", rt)
	}
	if rt := team.Header.Get("Reply-To"); strings.Contains(rt, "desk+") {
		t.Errorf("the team list's notification has Reply-To %q: a token went to an address not in staff.addresses", rt)
	}
}

// On the real stack: a complaint with a text file (补充说明.txt) is notified to staff
// with the file attached. Before, the notification failed for good: its attachment's
// type, text/plain; charset=utf-8, was refused for its parameter (found in review).
func TestTextAttachmentReachesStaffOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor"}})
	d := newDaemon(t, st, deskOptions{})
	d.start()
	raw := complaint("赵六 <alice@people.test>", "txt1@people.test", "赵六申请删除凤凰资讯稿件",
		"申请人姓名：赵六\n联系电话：13912345678\n身份证号：11010519491231002X\n文章标题：《某地某事》\n文章链接：https://news.ifeng.com/c/e2e\n删除原因：报道失实，损害名誉。",
		map[string]string{"删帖申请表.pdf": "%PDF form txt1", "身份证复印件.jpg": "JPEG id txt1", "事件说明函.pdf": "%PDF expl",
			"法院判决书.pdf": "%PDF proof", "原发媒体撤稿函.pdf": "%PDF withdrawal", "补充说明.txt": "补充说明：稿件发布于2026年1月。"})
	st.Deliver(t, raw, "alice@people.test", "desk@desk.test")
	raws := st.WaitMessages(t, "editor", "INBOX", 1, 60*time.Second)
	if !bytes.Contains(raws[0], []byte("text/plain; charset=utf-8;")) {
		t.Errorf("the notification does not carry the text file:\n%.2000s", raws[0])
	}
}
