// Package samplemail builds complaint mails the way common mail clients write
// them (UTF-8 with RFC 2231 file names like Apple Mail and Thunderbird, or GBK
// with encoded-word file names like Foxmail), for the demo's sample mails and
// the intake tests. It imports no package testing.
package samplemail

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// defaultDate is the Date of a [Mail] that sets none: fixed, so that tests
// built on it are reproducible.
func defaultDate() time.Time {
	return time.Date(2026, 11, 20, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
}

// File is one attachment.
type File struct {
	Name        string
	ContentType string
	Content     []byte
}

// Mail is a complaint mail to build with [Mail.Bytes].
type Mail struct {
	// From is "Name|address"; the name is encoded when not ASCII.
	From string
	To   string
	// Subject is encoded as RFC 2047 words when not ASCII; RawSubject, when
	// set, is written verbatim instead (for malformed subjects).
	Subject    string
	RawSubject string
	// MessageID, InReplyTo and References are message IDs without the angle
	// brackets. An empty MessageID leaves the header out.
	MessageID  string
	InReplyTo  string
	References []string
	// Body is the text part; Files are attached after it.
	Body  string
	Files []File
	// GBK encodes the mail the way Foxmail does: GBK body in base64, GBK
	// encoded words in the subject, the sender's name and the file names.
	GBK bool
	// Mailer is the X-Mailer header; empty leaves it out.
	Mailer string
	// Headers are extra header lines ("Received: …"), written first, where a
	// server puts its trace headers.
	Headers []string
	// Date is the Date header; zero means 2026-11-20 10:00 +0800.
	Date time.Time
}

// Bytes returns the mail as it arrives in a mailbox, with CRLF line ends.
func (m Mail) Bytes() []byte {
	charset, enc := "UTF-8", func(s string) string { return s }
	if m.GBK {
		charset = "GBK"
		enc = func(s string) string {
			b, err := simplifiedchinese.GBK.NewEncoder().String(s)
			if err != nil {
				return s // a character GBK lacks: the sample stays readable as UTF-8
			}
			return b
		}
	}
	// mime.BEncoding splits long UTF-8 words and keeps a GBK one whole, as the
	// clients imitated here do.
	word := func(s string) string { return mime.BEncoding.Encode(charset, enc(s)) }

	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	for _, x := range m.Headers {
		b.WriteString(x + "\r\n")
	}
	name, addr, _ := strings.Cut(m.From, "|")
	h("From", fmt.Sprintf("%s <%s>", word(name), addr))
	h("To", m.To)
	if m.RawSubject != "" {
		h("Subject", m.RawSubject)
	} else {
		h("Subject", word(m.Subject))
	}
	date := m.Date
	if date.IsZero() {
		date = defaultDate()
	}
	h("Date", date.Format(time.RFC1123Z))
	if m.MessageID != "" {
		h("Message-ID", "<"+m.MessageID+">")
	}
	if m.InReplyTo != "" {
		h("In-Reply-To", "<"+m.InReplyTo+">")
	}
	if len(m.References) > 0 {
		refs := make([]string, len(m.References))
		for i, r := range m.References {
			refs[i] = "<" + r + ">"
		}
		h("References", strings.Join(refs, " "))
	}
	if m.Mailer != "" {
		h("X-Mailer", m.Mailer)
	}
	h("MIME-Version", "1.0")
	body := wrap76(base64.StdEncoding.EncodeToString([]byte(enc(m.Body))))
	if len(m.Files) == 0 {
		h("Content-Type", "text/plain; charset="+charset)
		h("Content-Transfer-Encoding", "base64")
		b.WriteString("\r\n" + body)
		return b.Bytes()
	}
	// Attachments are base64, so a fixed boundary cannot occur inside them.
	const boundary = "----=_001_NextPart_sample"
	h("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
	b.WriteString("\r\nThis is a multi-part message in MIME format.\r\n\r\n")
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: base64\r\n\r\n%s", boundary, charset, body)
	for _, f := range m.Files {
		content := wrap76(base64.StdEncoding.EncodeToString(f.Content))
		if m.GBK {
			// Foxmail and QQ put an encoded word inside the quoted name.
			fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; name=\"%s\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"%s\"\r\n\r\n%s",
				boundary, f.ContentType, word(f.Name), word(f.Name), content)
			continue
		}
		// Apple Mail and Thunderbird use RFC 2231.
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename*=UTF-8''%s\r\n\r\n%s",
			boundary, f.ContentType, url.PathEscape(f.Name), content)
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}

// wrap76 breaks base64 text into lines of 76 characters, each ending in CRLF,
// as MIME requires.
func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s + "\r\n")
	return b.String()
}

// Scan makes distinct bytes that look like a small scan: a JPEG (kind "jpg") or a PDF
// ("pdf") by their first bytes, so that content sniffing takes them for what their
// names say; label makes each one different.
func Scan(kind, label string) []byte {
	if kind == "pdf" {
		return []byte("%PDF-1.4\n% sample document: " + label + "\n%%EOF\n")
	}
	return append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, []byte("sample scan: "+label)...)
}

// ZhangsanForm is the takedown form of the sample individual complaint, as 字段：值
// lines in the body: every field of SPEC §2, a valid ID number and a phone.
const ZhangsanForm = `申请人姓名：张三
联系邮箱：zhangsan@example.cn
联系电话：13800138000
身份证号：11010519491231002X
文章标题：《某某公司涉嫌虚假宣传》
文章作者：凤凰网资讯
文章链接：https://news.ifeng.com/c/8abcDEF123
文章发表时间：2026年11月20日
删除原因：文章所述内容与事实严重不符，已对本人名誉造成损害。`
