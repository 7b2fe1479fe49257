package outbox

import (
	"bytes"
	"strings"
	"testing"
)

// Found in review: mailAddress (compose.go:321-326) checks only ASCII controls; a C1 control
// (U+0085 NEL) or U+2028/U+2029 in the complainant's address passes net/mail (RFC 6532
// atext) and is written raw into the To header, against the package invariant
// "addresses ... containing CR, LF or other control characters are refused".
func TestAddressLineBreakRunesRefused(t *testing.T) {
	for _, addr := range []string{"zhang\u0085san@example.cn", "zhang\u2028san@example.cn", "zhang\u2029san@example.cn", "zhang\u009bsan@example.cn"} {
		m := sampleMail()
		m.To = []Address{{Name: "张三", Address: addr}}
		var b bytes.Buffer
		err := WriteTo(&b, m)
		if err == nil {
			head, _, _ := strings.Cut(b.String(), "\r\n\r\n")
			for _, l := range strings.Split(head, "\r\n") {
				if strings.HasPrefix(l, "To:") {
					t.Errorf("address %q accepted; written as %q", addr, l)
				}
			}
		}
	}
}

// Found in review: display names are never clipped (only the subject is, compose.go:394) and
// net/mail quotes an ASCII name as one word, which go-mail cannot fold: a long name
// without spaces makes a header line over RFC 5322's 998-character limit.
func TestLongDisplayNameKeepsLinesShort(t *testing.T) {
	m := sampleMail()
	m.To = []Address{{Name: strings.Repeat("Z", 1200), Address: "zhangsan@qq.com"}}
	var b bytes.Buffer
	if err := WriteTo(&b, m); err != nil {
		t.Skipf("refused: %v", err)
	}
	head, _, _ := strings.Cut(b.String(), "\r\n\r\n")
	for _, l := range strings.Split(head, "\r\n") {
		if len(l) > 998 {
			t.Errorf("header line of %d characters (> 998): %.40q…", len(l), l)
		}
	}
}

// Found in review: a forwarded mail (.eml, message/rfc822 by mime.TypeByExtension, as
// intake/staff.go:367 sets it) is written with Content-Transfer-Encoding base64
// (compose.go:516), which RFC 2046 §5.2.1 forbids for message/rfc822.
func TestForwardedMailIsNotBase64MessageRFC822(t *testing.T) {
	m := sampleMail()
	m.Attachments = []Attachment{{Filename: "原始投诉.eml", ContentType: "message/rfc822", Data: []byte("From: a@b.c\r\nSubject: x\r\n\r\nhi\r\n")}}
	var b bytes.Buffer
	if err := WriteTo(&b, m); err != nil {
		t.Fatal(err)
	}
	raw := b.String()
	i := strings.Index(raw, "Content-Type: message/rfc822")
	if i < 0 {
		// Sent as a file instead, which base64 suits.
		if !strings.Contains(raw, "Content-Type: application/octet-stream") {
			t.Errorf("the forwarded mail is neither message/rfc822 nor a file:\n%s", raw)
		}
		return
	}
	part, _, _ := strings.Cut(raw[i:], "\r\n\r\n")
	if !strings.Contains(part, "Content-Transfer-Encoding: base64") {
		// go-mail may order part headers differently; look before the type too
		start := strings.LastIndex(raw[:i], "\r\n\r\n")
		part = raw[start:i] + part
	}
	if strings.Contains(part, "Content-Transfer-Encoding: base64") {
		t.Errorf("message/rfc822 part is base64-encoded (RFC 2046 §5.2.1 allows 7bit/8bit/binary only):\n%s", part)
	}
}

// A file name with bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE) shows in a
// mail client as something it is not: "报告\u202Efdp.exe" reads "报告exe.pdf". The staff
// notification carries complainants' files under their names; the controls are
// dropped.
func TestAttachmentNameLosesBidiControls(t *testing.T) {
	m := sampleMail()
	m.Attachments = []Attachment{{Filename: "报告\u202efdp.exe", ContentType: "application/octet-stream", Data: []byte("MZ")}}
	var b bytes.Buffer
	if err := WriteTo(&b, m); err != nil {
		t.Fatal(err)
	}
	if got := cleanFilename("报告\u202efdp.exe"); got != "报告fdp.exe" {
		t.Errorf("cleanFilename = %q, want the override dropped", got)
	}
	if strings.Contains(b.String(), "\u202e") {
		t.Error("the mail carries U+202E")
	}
}
