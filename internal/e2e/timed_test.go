// SPDX-License-Identifier: MIT

package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
)

// Issue 15 on the real stack, time driven through COMPLAINTD_CLOCK_FILE: the survey
// goes out survey_delay after the resolution and its answer is kept whole (score and
// comment), an answer without a score gets one clarification; an author who stays
// silent pauses the review clock for author_days only — no reminder while the author
// has time, the reminder once it has run out.
func TestSurveyAndAuthorSilenceOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "bob", "editor", "author"}})
	d := newDaemon(t, st, deskOptions{})
	cfg, _ := os.ReadFile(d.cfgPath)
	os.WriteFile(d.cfgPath, []byte(strings.Replace(string(cfg), "policy:\n", "", 1)+
		"policy:\n  survey: true\n  survey_delay: 24h\n  author_days: 7\n"), 0o600)
	set := d.driveClock("2026-12-07T10:00:00+08:00") // a Monday
	d.start()

	// Case A: accepted and resolved.
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "sv1@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	note, _ := nth(t, st, "editor", 1)
	caseA := tagRe.FindStringSubmatch(decodedSubject(note.Header.Get("Subject")))[1]
	nth(t, st, "alice", 1)
	st.Deliver(t, staffReply(note, "editor@desk.test", "受理"), "editor@desk.test", note.Header.Get("Reply-To"))
	nth(t, st, "alice", 2)
	conf, _ := nth(t, st, "editor", 2)
	st.Deliver(t, staffReply(conf, "editor@desk.test", "已处理 文章已删除"), "editor@desk.test", conf.Header.Get("Reply-To"))
	nth(t, st, "alice", 3)
	nth(t, st, "editor", 3)

	// Case B: the author is told, and never answers.
	st.Deliver(t, completeComplaint("孙八 <bob@people.test>", "sv2@people.test", "孙八申请删除凤凰资讯稿件"), "bob@people.test", "desk@desk.test")
	noteB, _ := nth(t, st, "editor", 4)
	caseB := tagRe.FindStringSubmatch(decodedSubject(noteB.Header.Get("Subject")))[1]
	nth(t, st, "bob", 1)
	st.Deliver(t, staffReply(noteB, "editor@desk.test", "通知作者 author@people.test"), "editor@desk.test", noteB.Header.Get("Reply-To"))
	nth(t, st, "author", 1)
	nth(t, st, "editor", 5)
	if c := caseOf(t, d, caseB); !c.AwaitingAuthor || c.AuthorDue == nil {
		t.Fatalf("case B does not wait for the author: %+v", c)
	}

	// A day and more later: the survey for case A.
	set("2026-12-08T12:00:00+08:00")
	survey, surveyText := nth(t, st, "alice", 4)
	if s := decodedSubject(survey.Header.Get("Subject")); !strings.Contains(s, caseA) {
		t.Fatalf("survey subject %q, text:\n%s", s, surveyText)
	}
	// An answer without a score: one short clarification, and only one.
	st.Deliver(t, replyTo(survey, "赵六 <alice@people.test>", "还行吧"), "alice@people.test", "desk@desk.test")
	clar, _ := nth(t, st, "alice", 5)
	if s := decodedSubject(clar.Header.Get("Subject")); !strings.Contains(s, caseA) {
		t.Errorf("clarification subject %q", s)
	}
	st.Deliver(t, replyTo(survey, "赵六 <alice@people.test>", "一般般"), "alice@people.test", "desk@desk.test")
	// Then the score, with a comment: both kept.
	st.Deliver(t, replyTo(clar, "赵六 <alice@people.test>", "5分，处理很及时，谢谢"), "alice@people.test", "desk@desk.test")
	waitFor(t, 30*time.Second, "the survey answer", func() (bool, string) {
		c := caseOf(t, d, caseA)
		return c.Satisfaction == 5, c.SatisfactionComment
	})
	if c := caseOf(t, d, caseA); !strings.Contains(c.SatisfactionComment, "处理很及时") {
		t.Errorf("the survey comment was not kept: %q", c.SatisfactionComment)
	}

	// Past case B's first review deadline (Thursday) but within the author's 7 days:
	// no reminder, no escalation. The digests of those mornings show the scheduler ran.
	caseMails := func(id string) int {
		n := 0
		for _, raw := range st.WaitMessages(t, "editor", "INBOX", 1, 0) {
			s := decodedSubject(parseMail(t, raw).Header.Get("Subject"))
			if strings.Contains(s, id) && (strings.Contains(s, "时限提醒") || strings.Contains(s, "超时升级")) {
				n++
			}
		}
		return n
	}
	before := len(st.WaitMessages(t, "editor", "INBOX", 5, 0))
	set("2026-12-11T12:00:00+08:00")
	st.WaitMessages(t, "editor", "INBOX", before+1, 60*time.Second) // a digest at least
	time.Sleep(2 * time.Second)                                     // and whatever the same pass queued
	if n := caseMails(caseB); n != 0 {
		t.Errorf("%d reminders or escalations for case B while the author still had time", n)
	}
	// The author's time has run out: the review clock runs again, and staff are reminded.
	set("2026-12-23T12:00:00+08:00")
	waitFor(t, 60*time.Second, "a reminder for case B after the author's silence", func() (bool, string) {
		n := caseMails(caseB)
		return n > 0, ""
	})
	if n := len(st.WaitMessages(t, "alice", "INBOX", 5, 0)); n != 5 {
		t.Errorf("alice got %d mails, want 5: a second answer without a score gets no second clarification", n)
	}
}

// The repeat rule on the real stack (issue 15 and 13): it counts earlier cases only,
// knows the applicant by ID number as well as by mailbox, a follow-up (撤回) of the
// first case never makes it major, and the leadership alert of a complete major case
// does not say 材料不全.
func TestRepeatApplicantOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "carol", "editor", "boss"}})
	d := newDaemon(t, st, deskOptions{})
	cfg, _ := os.ReadFile(d.cfgPath)
	os.WriteFile(d.cfgPath, []byte(string(cfg)+"routing:\n  leadership: [boss@desk.test]\n"), 0o600)
	d.start()
	withID := func(from, msgID, subject, link string) []byte {
		return complaint(from, msgID, subject,
			"申请人姓名：赵六\n联系电话：13912345678\n身份证号：11010519491231002X\n文章标题：《某地某事》\n文章链接："+link+"\n删除原因：报道失实，损害名誉。",
			map[string]string{"删帖申请表.pdf": "%PDF form " + msgID, "身份证复印件.jpg": "JPEG id " + msgID, "事件说明函.pdf": "%PDF expl",
				"法院判决书.pdf": "%PDF proof", "原发媒体撤稿函.pdf": "%PDF withdrawal"})
	}
	st.Deliver(t, withID("赵六 <alice@people.test>", "rp1@people.test", "赵六申请删除凤凰资讯稿件", "https://news.ifeng.com/c/rp1"), "alice@people.test", "desk@desk.test")
	ack1, _ := nth(t, st, "alice", 1)
	id1 := tagRe.FindStringSubmatch(decodedSubject(ack1.Header.Get("Subject")))[1]
	st.Deliver(t, withID("赵六 <alice@people.test>", "rp2@people.test", "赵六申请删除凤凰资讯稿件（二）", "https://news.ifeng.com/c/rp2"), "alice@people.test", "desk@desk.test")
	nth(t, st, "alice", 2)
	st.Deliver(t, replyTo(ack1, "赵六 <alice@people.test>", "撤回"), "alice@people.test", "desk@desk.test")
	nth(t, st, "alice", 3)
	if c := caseOf(t, d, id1); c.Major() || c.State != "withdrawn" {
		t.Errorf("the first case after its follow-up: severity %s state %s (a later case must not make it major)", c.Severity, c.State)
	}
	// Another mailbox, another article, the same person by ID number: the third case.
	st.Deliver(t, withID("赵六 <carol@other.test>", "rp3@other.test", "赵六申请删除凤凰资讯稿件（三）", "https://news.ifeng.com/c/rp3"), "carol@other.test", "desk@desk.test")
	ack3, _ := nth(t, st, "carol", 1)
	id3 := tagRe.FindStringSubmatch(decodedSubject(ack3.Header.Get("Subject")))[1]
	if c := caseOf(t, d, id3); !c.Major() || c.State != "pending_review" {
		t.Fatalf("third case of the same ID number: severity %s state %s, want major and complete", c.Severity, c.State)
	}
	alert, alertText := nth(t, st, "boss", 1)
	if s := decodedSubject(alert.Header.Get("Subject")); !strings.Contains(s, id3) || strings.Contains(alertText, "材料不全") {
		t.Errorf("leadership alert %q for a complete case:\n%s", s, alertText)
	}
	d.stop()
	if n := len(st.WaitMessages(t, "boss", "INBOX", 1, 0)); n != 1 {
		t.Errorf("the leadership got %d alerts, want 1", n)
	}
}

// Expiry on the real stack with a driven clock: an incomplete case gets one reminder
// halfway and one expiry notice, across restarts and a changed expire_days (the
// moved deadline sends nothing again: SPEC's rule for moved deadlines, once per case,
// deadline and kind).
func TestExpiryOnceAcrossRestartsAndSettingChange(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor"}})
	d := newDaemon(t, st, deskOptions{})
	base, _ := os.ReadFile(d.cfgPath)
	withExpire := func(days string) {
		t.Helper()
		os.WriteFile(d.cfgPath, []byte(strings.Replace(string(base), "policy:\n", "", 1)+"policy:\n  expire_days: "+days+"\n"), 0o600)
	}
	withExpire("15")
	set := d.driveClock("2026-12-07T10:00:00+08:00")
	d.start()
	st.Deliver(t, complaint("赵六 <alice@people.test>", "ex1@people.test", "赵六申请删除凤凰资讯稿件", "申请人姓名：赵六\n删除原因：报道失实。", nil),
		"alice@people.test", "desk@desk.test")
	ack, _ := nth(t, st, "alice", 1)
	id := tagRe.FindStringSubmatch(decodedSubject(ack.Header.Get("Subject")))[1]

	set("2026-12-15T10:00:00+08:00") // past the halfway point
	rem, _ := nth(t, st, "alice", 2)
	if s := decodedSubject(rem.Header.Get("Subject")); !strings.Contains(s, id) {
		t.Errorf("expiry reminder subject %q", s)
	}
	// A longer expiry, a restart: the halfway point moved, and is past again; the
	// reminder is not sent a second time.
	d.stop()
	withExpire("16")
	d.start()
	d.waitUp()
	set("2026-12-16T10:00:00+08:00")
	set("2026-12-24T10:00:00+08:00") // past the 16 days
	expired, _ := nth(t, st, "alice", 3)
	if s := decodedSubject(expired.Header.Get("Subject")); !strings.Contains(s, id) {
		t.Errorf("expiry notice subject %q", s)
	}
	waitFor(t, 30*time.Second, "the case to expire", func() (bool, string) {
		c := caseOf(t, d, id)
		return c.State == "expired", string(c.State)
	})
	d.stop()
	d.start()
	d.waitUp()
	set("2026-12-28T10:00:00+08:00")
	// Evidence that the scheduler ran at the new time: the editor's digests.
	n := len(st.WaitMessages(t, "editor", "INBOX", 1, 0))
	set("2026-12-29T10:00:00+08:00")
	st.WaitMessages(t, "editor", "INBOX", n+1, 60*time.Second)
	d.stop()
	if got := len(st.WaitMessages(t, "alice", "INBOX", 3, 0)); got != 3 {
		t.Errorf("alice got %d mails, want 3 (acknowledgement, one reminder, one expiry notice)", got)
	}
}
