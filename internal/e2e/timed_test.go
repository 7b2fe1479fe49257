// SPDX-License-Identifier: MIT

package e2e

import (
	"os"
	"path/filepath"
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
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "bob", "editor", "author"}})
	d := newDaemon(t, st, deskOptions{})
	cfg, _ := os.ReadFile(d.cfgPath)
	os.WriteFile(d.cfgPath, []byte(strings.Replace(string(cfg), "policy:\n", "", 1)+
		"policy:\n  survey: true\n  survey_delay: 24h\n  author_days: 7\n"), 0o600)
	clockFile := filepath.Join(t.TempDir(), "now")
	set := func(rfc3339 string) {
		t.Helper()
		if err := os.WriteFile(clockFile, []byte(rfc3339+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	set("2026-12-07T10:00:00+08:00") // a Monday
	d.env = []string{"COMPLAINTD_CLOCK_FILE=" + clockFile}
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
