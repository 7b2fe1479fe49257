package intake_test

// The complainant's side of the flow: keywords, refusals and their replies (found in
// review).

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/demo/samplemail"
	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/store"
)

// flowMail is one outbox entry of a case, decoded.
type flowMail struct {
	kind, subject, text string
	to                  []string
}

func (d *pdDesk) caseMails(id string) []flowMail {
	d.t.Helper()
	var out []flowMail
	if err := d.st.View(func(tx *store.Tx) error {
		return tx.EachOutbox(func(e *store.OutboxEntry) error {
			if e.Case != id {
				return nil
			}
			var m outbox.Mail
			if err := json.Unmarshal(e.Mail, &m); err != nil {
				return err
			}
			out = append(out, flowMail{kind: e.Kind, subject: m.Subject, text: m.Text, to: e.To})
			return nil
		})
	}); err != nil {
		d.t.Fatal(err)
	}
	return out
}

func (d *pdDesk) kase(id string) *cases.Case {
	d.t.Helper()
	var c *cases.Case
	if err := d.st.View(func(tx *store.Tx) error { var err error; c, err = tx.Case(id); return err }); err != nil {
		d.t.Fatal(err)
	}
	return c
}

// act applies a desk action to the case, as the scheduler or staff path would.
func (d *pdDesk) act(id string, a cases.Action, now time.Time) {
	d.t.Helper()
	if err := d.st.Update(func(tx *store.Tx) error {
		c, err := tx.Case(id)
		if err != nil {
			return err
		}
		if _, err := d.p.Execute(tx, c, a, "staff@desk.example.cn", now); err != nil {
			return err
		}
		return tx.PutCase(c)
	}); err != nil {
		d.t.Fatal(err)
	}
}

func kindsOf(ms []flowMail) []string {
	var k []string
	for _, m := range ms {
		k = append(k, m.kind)
	}
	return k
}

func appealDays(n int) func(*intake.Options) {
	return func(o *intake.Options) { o.Staff.AppealDays = n }
}

// reply sends body as the complainant's answer to the case, tag in the subject.
func (d *pdDesk) reply(caseID, from, msgID, body string) {
	d.t.Helper()
	d.process(testMail{from: "张三|" + from, subject: "Re: [" + caseID + "] 您的删帖申请", messageID: msgID, body: body})
}

// Complainants in Hong Kong and Taiwan write traditional characters: 撤銷申請 is
// 撤销申请, 申訴理由 is 申诉理由. Each used to be a near miss of the shorter keyword
// (撤銷 + 申請), so the withdrawal or appeal was ignored without a word.
func TestTraditionalChineseWithdrawalAndAppealAct(t *testing.T) {
	d := newPDDesk(t, appealDays(15))
	for i, tc := range []struct {
		body   string
		reject bool // the case is rejected first: an appeal
		want   cases.State
	}{
		{"撤銷申請\n", false, cases.Withdrawn},
		{"撤回申請。\n", false, cases.Withdrawn},
		{"撤回投訴\n", false, cases.Withdrawn},
		{"撤銷投訴\n", false, cases.Withdrawn},
		{"申訴理由：報道失實\n", true, cases.Appealed},
		{"我要申訴\n報道失實", true, cases.Appealed},
		{"提出申訴：報道失實", true, cases.Appealed},
	} {
		addr := fmt.Sprintf("hk%d@example.cn", i)
		o := d.process(completeComplaint("张三|"+addr, "hk-open-"+addr))
		if tc.reject {
			d.act(o.Case, cases.Reject, time.Now())
		}
		d.reply(o.Case, addr, "hk-reply-"+addr, tc.body)
		if got := d.kase(o.Case).State; got != tc.want {
			t.Errorf("%q: state %s, want %s (mails %v)", tc.body, got, tc.want, kindsOf(d.caseMails(o.Case)))
		}
	}
}

// 撤回 on a case that is over (closed, expired, withdrawn) is refused with a reply; the
// reply is about the withdrawal. It used to be the appeal refusal, word for word:
// "关于您的申诉 … 我们收到了您就案件发来的申诉，但无法受理", to someone who never appealed.
func TestRefusedWithdrawalIsNotAnsweredAsAnAppeal(t *testing.T) {
	d := newPDDesk(t, appealDays(15))
	for i, end := range []cases.Action{cases.Close, cases.Withdraw} {
		addr := fmt.Sprintf("wd%d@example.cn", i)
		o := d.process(completeComplaint("张三|"+addr, "wd-open-"+addr))
		d.act(o.Case, end, time.Now())
		before := len(d.caseMails(o.Case))
		d.reply(o.Case, addr, "wd-reply-"+addr, "撤回\n")
		ms := d.caseMails(o.Case)[before:]
		if len(ms) != 1 {
			t.Fatalf("after %s, 撤回: mails %v, want one refusal", end, kindsOf(ms))
		}
		m := ms[0]
		if strings.Contains(m.subject, "申诉") || strings.Contains(m.text, "发来的申诉") || !strings.Contains(m.subject+m.text, "撤回") {
			t.Errorf("after %s, the refused 撤回 is answered as an appeal:\n%s\n%s", end, m.subject, m.text)
		}
	}
	// An appeal refused is still answered as one.
	o := d.process(completeComplaint("张三|ap@example.cn", "ap-open@example.cn"))
	d.act(o.Case, cases.Close, time.Now())
	before := len(d.caseMails(o.Case))
	d.reply(o.Case, "ap@example.cn", "ap-reply@example.cn", "申诉：报道失实\n")
	if ms := d.caseMails(o.Case)[before:]; len(ms) != 1 || !strings.Contains(ms[0].subject, "申诉") {
		t.Errorf("a refused appeal: %v", ms)
	}
}

// Automatic replies to one sender are rate-limited (SPEC §5). The refusal of a
// complainant's 撤回 / 申诉 was queued outside the limit: fifteen 撤回 on a withdrawn
// case (a script, or mail forged in the complainant's name) got fifteen refusals.
func TestRefusalsCountAgainstTheReplyLimit(t *testing.T) {
	const limit = 10 // newPDDesk: ReplyLimit 10 per hour
	d := newPDDesk(t)
	o := d.process(completeComplaint("张三|fl@example.cn", "fl-open@example.cn"))
	for i := 0; i < 15; i++ {
		d.reply(o.Case, "fl@example.cn", fmt.Sprintf("fl-%d@example.cn", i), "撤回\n")
	}
	ms := d.caseMails(o.Case)
	// The acknowledgement and the refusals are counted; the one confirmation of the
	// withdrawal changes the state and cannot repeat.
	if len(ms) > limit+1 {
		t.Errorf("%d mails to one complainant within the hour, limit %d: %v", len(ms), limit, kindsOf(ms))
	}
	c := d.kase(o.Case)
	if c.State != cases.Withdrawn {
		t.Errorf("state %s, want withdrawn", c.State)
	}
	if len(eventsOf(c, cases.EventReplySuppressed)) == 0 {
		t.Error("no reply_suppressed event for the refusals held back")
	}
}

// The expired notice says 如仍需申请删除，请重新发送申请邮件，并一次附齐全部材料, and
// every mail asks to keep the case number in the subject: the natural re-application
// is a reply to the notice with the documents. It used to join the finished case —
// the documents kept there, no reply, no staff, nobody to review them. A mail with
// documents about an expired or withdrawn case is a new application, linked to it.
func TestDocumentsSentToAFinishedCaseOpenANewCase(t *testing.T) {
	d := newPDDesk(t)
	for i, end := range []cases.Action{cases.Expire, cases.Withdraw} {
		addr := fmt.Sprintf("re%d@example.cn", i)
		o := d.process(plainComplaint("王五|"+addr, "re-open-"+addr, "王五申请删除凤凰博客稿件"))
		d.act(o.Case, end, time.Now())
		again := completeComplaint("王五|"+addr, "re-again-"+addr)
		again.subject = "Re: [" + o.Case + "] 您的删帖申请因材料未补齐已关闭"
		out := d.process(again)
		old := d.kase(o.Case)
		if old.State.Terminal() == false || len(old.Documents) != 0 {
			t.Errorf("after %s: the finished case %s changed: state %s, %d documents", end, o.Case, old.State, len(old.Documents))
		}
		if out.Case == "" || out.Case == o.Case {
			t.Errorf("after %s: the re-application joined the finished case %s (%s); mails %v", end, o.Case, out.Result, kindsOf(d.caseMails(o.Case)))
			continue
		}
		nc := d.kase(out.Case)
		if nc.State != cases.PendingReview || len(nc.Documents) != 5 {
			t.Errorf("after %s: new case %s state %s, %d documents", end, nc.ID, nc.State, len(nc.Documents))
		}
		if ms := d.caseMails(nc.ID); len(ms) != 1 || ms[0].kind != "acknowledgement" {
			t.Errorf("after %s: new case mails %v, want one acknowledgement", end, kindsOf(ms))
		}
		if len(eventsOf(old, cases.EventLinked)) == 0 || len(eventsOf(nc, cases.EventLinked)) == 0 {
			t.Errorf("after %s: the two cases are not linked for staff", end)
		}
	}
}

// The rejection mail says: to appeal, reply to this mail within the window, give your
// reasons and attach new evidence (写明申诉理由并附上新的证明材料). A reply doing just
// that, in the complainant's own words, used to be no appeal unless its first line
// began with 申诉: the evidence joined the rejected case, nobody was told, no reply
// went out, and the case closed when the window ended.
func TestReplyToARejectionWithNewEvidenceIsAnAppeal(t *testing.T) {
	d := newPDDesk(t, appealDays(15))
	o := d.process(completeComplaint("张三|ap@example.cn", "ap-open@example.cn"))
	d.act(o.Case, cases.Reject, time.Now())
	before := len(d.caseMails(o.Case))
	d.process(testMail{from: "张三|ap@example.cn", subject: "Re: [" + o.Case + "] 关于您的删帖申请的审核结果", messageID: "ap-reply@example.cn",
		body:  "您好：\n本人对驳回结果有异议，理由如下：报道所称处罚已被法院撤销，新的判决书见附件。\n张三",
		files: []file{{"法院判决书（二审）.pdf", "application/pdf", []byte("%PDF-1.4 second judgement")}}})
	c := d.kase(o.Case)
	if c.State != cases.Appealed {
		t.Errorf("state %s, want appealed", c.State)
	}
	if ms := d.caseMails(o.Case)[before:]; len(ms) != 1 || ms[0].kind != "appeal_received" {
		t.Errorf("mails %v, want one appeal_received", kindsOf(ms))
	}
	if ev := eventsOf(c, cases.EventOf(cases.Appeal)); len(ev) != 1 || !strings.Contains(ev[0].Note, "法院撤销") {
		t.Errorf("appeal events %+v, want one with the complainant's reasons", ev)
	}

	// After the window the same mail is refused as a late appeal, with a reply.
	o = d.process(completeComplaint("张三|late@example.cn", "late-open@example.cn"))
	d.act(o.Case, cases.Reject, time.Now().AddDate(0, 0, -16))
	before = len(d.caseMails(o.Case))
	d.process(testMail{from: "张三|late@example.cn", subject: "Re: [" + o.Case + "] 关于您的删帖申请的审核结果", messageID: "late-reply@example.cn",
		body:  "本人对驳回结果有异议，新的判决书见附件。",
		files: []file{{"法院判决书（二审）.pdf", "application/pdf", []byte("%PDF-1.4 late judgement")}}})
	if c := d.kase(o.Case); c.State != cases.Rejected {
		t.Errorf("late: state %s, want rejected", c.State)
	}
	if ms := d.caseMails(o.Case)[before:]; len(ms) != 1 || ms[0].kind != "appeal_refused" {
		t.Errorf("late: mails %v, want one appeal_refused", kindsOf(ms))
	}
}

// A mail that opens with a staff command word and is not from staff is refused as a
// forged command: nothing recorded but a security event. The complainant of the case,
// writing about it, is no forger — staff commands never run from a complainant's mail —
// yet 重开：材料已补齐，见附件 on their expired case was thrown away with its documents,
// unanswered. The command word stays on the case's record.
func TestComplainantsOwnMailOpeningWithACommandWordIsNotAForgery(t *testing.T) {
	d := newPDDesk(t)
	o := d.process(plainComplaint("王五|ww@example.cn", "rw-open@example.cn", "王五申请删除凤凰博客稿件"))
	d.act(o.Case, cases.Expire, time.Now())
	again := completeComplaint("王五|ww@example.cn", "rw-again@example.cn")
	again.subject = "Re: [" + o.Case + "] 您的删帖申请因材料未补齐已关闭"
	again.body = "重开：材料已补齐，见附件"
	out := d.process(again)
	if out.Role == "security" {
		t.Fatalf("the complainant's own mail was refused as a forged command: %s", out.Result)
	}
	if out.Case == "" || out.Case == o.Case {
		t.Fatalf("the documents did not make a new application: %+v", out)
	}
	if ms := d.caseMails(out.Case); len(ms) != 1 || ms[0].kind != "acknowledgement" {
		t.Errorf("new case mails %v, want one acknowledgement", kindsOf(ms))
	}
	if c := d.kase(o.Case); len(eventsOf(c, cases.EventSecurity)) != 1 {
		t.Errorf("security events %+v, want the command word on record once", eventsOf(c, cases.EventSecurity))
	}

	// A stranger opening with the same words still is one.
	out = d.process(testMail{from: "x|mallory@evil.example", subject: "Re: [" + o.Case + "]", messageID: "rw-evil@evil.example", body: "重开：材料已补齐"})
	if out.Role != "security" {
		t.Errorf("a stranger's 重开 on the case: role %s (%s), want security", out.Role, out.Result)
	}
}

// 申诉 on an incomplete case is refused (there is nothing to appeal), but the same mail
// brought the last documents: the case is complete all the same. The refusal returned
// before the check, and the complete case stayed incomplete until it expired (found
// in review of the flow).
func TestRefusedAppealStillCompletesTheCase(t *testing.T) {
	d := newPDDesk(t)
	o := d.process(testMail{from: "张三|inc@example.cn", subject: "张三申请删除凤凰资讯稿件", messageID: "inc-open@example.cn",
		body: "您好：\n\n本人申请删除以下新闻稿件。\n\n" + samplemail.ZhangsanForm + "\n\n张三"})
	if c := d.kase(o.Case); c.State != cases.Incomplete {
		t.Fatalf("setup: state %s, want incomplete", c.State)
	}
	full := completeComplaint("张三|inc@example.cn", "inc-docs@example.cn")
	full.subject = "Re: [" + o.Case + "] 材料不全"
	full.body = "申诉：材料已补齐，请尽快处理\n张三"
	d.process(full)
	c := d.kase(o.Case)
	if c.State != cases.PendingReview || len(c.Missing) != 0 {
		t.Errorf("state %s, missing %v: want the case complete (pending_review)", c.State, c.Missing)
	}
}

// An appeal that reached the mailbox inside its window but was read after it (the
// desk was down, the mail waited in quarantine) was refused as late: the window was
// checked against the time of reading. The topmost Received line, which the desk's
// own server adds at delivery, now says when it came (found in review of the flow).
func TestAppealThatCameInTimeIsNotLateWhenReadLate(t *testing.T) {
	d := newPDDesk(t, appealDays(15))
	o := d.process(completeComplaint("张三|down@example.cn", "down-open@example.cn"))
	rejected := time.Now().AddDate(0, 0, -16)
	d.act(o.Case, cases.Reject, rejected)
	came := rejected.AddDate(0, 0, 10).Format(time.RFC1123Z)
	d.process(testMail{from: "张三|down@example.cn", subject: "Re: [" + o.Case + "] 关于您的删帖申请的审核结果", messageID: "down-reply@example.cn",
		headers: []string{"Received: from mx.example.cn by desk.example.cn with LMTP id x; " + came},
		body:    "申诉：报道所称处罚已被法院撤销，新的判决书见附件。"})
	if c := d.kase(o.Case); c.State != cases.Appealed {
		t.Errorf("state %s, want appealed: the appeal came on day 10 of 15", c.State)
	}
}
