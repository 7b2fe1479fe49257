package e2e

import (
	"encoding/json"
	"fmt"
	"mime"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/internal/store"
)

var tagRe = regexp.MustCompile(`\[(TS-\d{4}-\d{6})\]`)

func decodedSubject(raw string) string {
	s, err := new(mime.WordDecoder).DecodeHeader(raw)
	if err != nil {
		return raw
	}
	return s
}

// The spine of the product on a real mail stack: a complaint delivered by Postfix into
// Dovecot becomes a case; the complainant's own mailbox receives an acknowledgement
// that names the case and the missing items, threaded on their mail; replying with the
// missing documents completes the case; `cases show -json` answers while the daemon runs.
func TestComplaintAcknowledgedOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
	d := newDaemon(t, st, deskOptions{})
	d.start()

	body := "申请人姓名：王小明\n身份证号：11010519491231002X\n文章标题：《某地新闻》\n文章链接：https://news.ifeng.com/c/abc\n删除原因：内容失实。"
	st.Deliver(t, complaint("王小明 <alice@people.test>", "first@people.test", "王小明申请删除凤凰资讯稿件", body,
		map[string]string{"删帖申请表.pdf": "%PDF form", "身份证复印件.jpg": "JPEG id"}), "alice@people.test", "desk@desk.test")

	replies := st.WaitMessages(t, "alice", "INBOX", 1, 60*time.Second)
	ack := parseMail(t, replies[0])
	subject := decodedSubject(ack.Header.Get("Subject"))
	m := tagRe.FindStringSubmatch(subject)
	if m == nil {
		t.Fatalf("acknowledgement subject %q has no case tag", subject)
	}
	caseID := m[1]
	if got := ack.Header.Get("In-Reply-To"); got != "<first@people.test>" {
		t.Errorf("In-Reply-To = %q", got)
	}
	if !strings.Contains(ack.Header.Get("References"), "<first@people.test>") {
		t.Errorf("References = %q", ack.Header.Get("References"))
	}
	if ack.Header.Get("Auto-Submitted") != "auto-replied" {
		t.Errorf("Auto-Submitted = %q", ack.Header.Get("Auto-Submitted"))
	}
	if ack.Header.Get("Message-ID") == "" {
		t.Error("no Message-ID")
	}
	text := bodyText(t, replies[0])
	for _, want := range []string{caseID, "事件说明函", "撤稿函"} {
		if !strings.Contains(text, want) {
			t.Errorf("acknowledgement text lacks %q:\n%s", want, text)
		}
	}

	// While the daemon runs, the CLI reads through the control socket.
	var c cases.Case
	if err := json.Unmarshal(d.cli("cases", "show", caseID, "-json"), &c); err != nil {
		t.Fatal(err)
	}
	if c.State != "incomplete" || c.Applicant.Name != "王小明" || !c.Applicant.IDValid || c.Request.Title != "某地新闻" {
		t.Errorf("case: state %s applicant %+v request %+v", c.State, c.Applicant, c.Request)
	}
	wantMissing := []cases.Kind{cases.ExplanationLetter, cases.ReasonProof, cases.WithdrawalLetter}
	if !slices.Equal(c.Missing, wantMissing) {
		t.Errorf("missing = %v, want %v", c.Missing, wantMissing)
	}

	// The complainant replies to the acknowledgement (no tag needed: In-Reply-To).
	follow := complaint("王小明 <alice@people.test>", "second@people.test", "Re: 补充材料", "补充材料见附件。",
		map[string]string{"事件说明函.pdf": "%PDF expl", "派出所报警回执.jpg": "JPEG proof", "原发媒体撤稿函.pdf": "%PDF w"})
	follow = []byte(strings.Replace(string(follow), "MIME-Version", "In-Reply-To: "+ack.Header.Get("Message-ID")+"\r\nMIME-Version", 1))
	st.Deliver(t, follow, "alice@people.test", "desk@desk.test")
	replies = st.WaitMessages(t, "alice", "INBOX", 2, 60*time.Second)
	second := parseMail(t, replies[1])
	if s := decodedSubject(second.Header.Get("Subject")); !strings.Contains(s, "["+caseID+"]") {
		t.Errorf("second reply subject %q lacks the case tag", s)
	}
	if err := json.Unmarshal(d.cli("cases", "show", caseID, "-json"), &c); err != nil {
		t.Fatal(err)
	}
	if c.State != "pending_review" || len(c.Missing) != 0 || c.DueAt == nil {
		t.Errorf("after the follow-up: state %s missing %v due %v", c.State, c.Missing, c.DueAt)
	}
	// A bounce to the desk gets no case and no reply.
	st.Deliver(t, []byte("From: MAILER-DAEMON@people.test\r\nTo: desk@desk.test\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce@people.test>\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n"),
		"", "desk@desk.test")
	waitFor(t, 30*time.Second, "the bounce to be registered", func() (bool, string) {
		n := d.metric("complaintd_mails_processed_total")
		return n == 3, fmt.Sprint(n)
	})
	if n := d.metric("complaintd_replies_sent_total"); n != 2 {
		t.Errorf("%v replies sent, want 2 (none to the bounce)", n)
	}
	d.stop()
	cs := readStore(t, d)
	if len(cs) != 1 {
		t.Errorf("%d cases, want 1 (the bounce must not make one)", len(cs))
	}
}

func readStore(t *testing.T, d *daemon) []*cases.Case {
	t.Helper()
	s, err := openDaemonStore(t, d)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var cs []*cases.Case
	s.View(func(tx *store.Tx) error {
		return tx.EachCase(true, func(c *cases.Case) error { cs = append(cs, c); return nil })
	})
	return cs
}

func bodyText(t *testing.T, raw []byte) string {
	t.Helper()
	s, err := plainPart(raw)
	if err != nil {
		t.Fatalf("reply body: %v", err)
	}
	return s
}

func numbered(prefix string, i int) string { return fmt.Sprintf("%s-%04d", prefix, i) }
