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

