package intake_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/complaintd/complaintd/internal/store"
)

// processRaw hands a raw mail to the desk as the next mail of the mailbox.
func (d *pdDesk) processRaw(raw string) inbound.Outcome {
	d.t.Helper()
	d.seq++
	out, err := d.p.Process(context.Background(), inbound.Source{Stream: d.box, Epoch: 1, Seq: d.seq}, bytes.NewReader([]byte(raw)))
	if err != nil {
		d.t.Fatal(err)
	}
	return out
}

// signatureReply is a plain reply to a case from a client (Outlook, Foxmail) whose
// signature carries the organisation's logo as an inline image.
func signatureReply(from, caseID, messageID, text string) string {
	logo := base64.StdEncoding.EncodeToString(append([]byte("\x89PNG\r\n\x1a\n"), []byte("logo of "+messageID)...))
	body := base64.StdEncoding.EncodeToString([]byte(text))
	return fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: =?UTF-8?B?%s?=\r\nMessage-ID: <%s>\r\nDate: %s\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/related; boundary=\"b1\"\r\n\r\n"+
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n"+
		"--b1\r\nContent-Type: image/png; name=\"image001.png\"\r\nContent-Disposition: inline; filename=\"image001.png\"\r\nContent-ID: <image001.png@01DA>\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n"+
		"--b1--\r\n",
		from, deskAddr, base64.StdEncoding.EncodeToString([]byte("Re: ["+caseID+"] 关于您的删帖申请的审核结果")), messageID,
		time.Now().Format(time.RFC1123Z), body, logo)
}

// The rejection mail asks for an appeal to come with new evidence, and a reply to a
// rejection that brings new documents is taken as one even without 申诉. The logo of
// a signature, an inline image every mail of an organisation's client carries, is no
// evidence: "收到，谢谢" must not reopen the case for review (nor, after the window,
// be answered with the refusal of an appeal nobody made).
func TestThanksWithASignatureLogoAfterARejectionIsNoAppeal(t *testing.T) {
	d := newPDDesk(t, appealDays(15))
	for i, rejected := range []time.Time{time.Now(), time.Now().AddDate(0, 0, -16)} {
		addr := fmt.Sprintf("logo%d@example.cn", i)
		o := d.process(completeComplaint("张三|"+addr, "logo-open-"+addr))
		d.act(o.Case, cases.Reject, rejected)
		before := len(d.caseMails(o.Case))
		d.processRaw(signatureReply("张三 <"+addr+">", o.Case, "logo-thanks-"+addr, "好的，收到，谢谢。\r\n\r\n张三\r\n某某科技有限公司\r\n"))
		if c := d.kase(o.Case); c.State != cases.Rejected {
			t.Errorf("rejected %s: a thank-you with a signature logo made the case %s", rejected.Format(time.DateOnly), c.State)
		}
		if ms := d.caseMails(o.Case)[before:]; len(ms) != 0 {
			t.Errorf("rejected %s: a thank-you with a signature logo was answered with %v", rejected.Format(time.DateOnly), kindsOf(ms))
		}
	}
}

// The expired notice asks for a new application with every document; the complainant
// answers it, and a mailbox's size limit makes them send the documents in two mails
// (附件太大，分两封发送), both replies to the notice. The first opens a new case; the
// second is part of that application: it must join it, not open a third case that
// holds half the documents and expires again.
func TestReapplicationSentInTwoMailsIsOneNewCase(t *testing.T) {
	d := newPDDesk(t)
	const addr = "split@example.cn"
	o := d.process(plainComplaint("王五|"+addr, "split-open@example.cn", "王五申请删除凤凰博客稿件"))
	d.act(o.Case, cases.Expire, time.Now())
	full := completeComplaint("王五|"+addr, "split-1@example.cn")
	first, second := full, full
	first.files, second.files = full.files[:2], full.files[2:]
	first.subject = "Re: [" + o.Case + "] 您的删帖申请因材料未补齐已关闭"
	second.subject, second.messageID, second.body = first.subject, "split-2@example.cn", "附件太大，其余材料见本邮件。\n王五"
	a := d.process(first)
	b := d.process(second)
	if a.Case == o.Case || b.Case == o.Case {
		t.Fatalf("a mail joined the expired case: %+v %+v", a, b)
	}
	if a.Case != b.Case {
		t.Errorf("the two mails of one re-application opened two cases, %s (%d documents) and %s (%d documents)",
			a.Case, len(d.kase(a.Case).Documents), b.Case, len(d.kase(b.Case).Documents))
	}
	if c := d.kase(a.Case); c.State != cases.PendingReview || len(c.Documents) != 5 {
		t.Errorf("new case %s: state %s, %d documents; want pending_review with all 5", c.ID, c.State, len(c.Documents))
	}
}

// After 补充 with free-text items only, the case waits for a document; a mail of the
// complainant without one keeps it incomplete. The logo of the complainant's
// signature, an inline picture in the body, is no document sent: "好的，本周寄出"
// with it made the case complete, told the complainant 材料齐全 and notified staff.
func TestSignatureLogoDoesNotAnswerFreeTextNeedMore(t *testing.T) {
	d := newPDDesk(t)
	const addr = "need@example.cn"
	o := d.process(completeComplaint("张三|"+addr, "need-open@example.cn"))
	asked := time.Now()
	if err := d.st.Update(func(tx *store.Tx) error {
		c, err := tx.Case(o.Case)
		if err != nil {
			return err
		}
		// As 补充 请提供加盖公章的原件 leaves it (staff.go: apply NeedMore).
		c.State, c.RequestedItems, c.RequestedAt = cases.Incomplete, []string{"请提供加盖公章的原件"}, &asked
		return tx.PutCase(c)
	}); err != nil {
		t.Fatal(err)
	}
	before := len(d.caseMails(o.Case))
	d.processRaw(signatureReply("张三 <"+addr+">", o.Case, "need-reply@example.cn", "好的，原件本周寄出。\r\n\r\n张三\r\n某某科技有限公司\r\n"))
	if c := d.kase(o.Case); c.State != cases.Incomplete {
		t.Errorf("a reply with only a signature logo made the case %s", c.State)
	}
	if ms := d.caseMails(o.Case)[before:]; len(ms) != 1 || ms[0].kind != "missing_items" {
		t.Errorf("mails %v, want one missing_items", kindsOf(ms))
	}
}
