package app

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// sampleFile is one attachment of a demo mail.
type sampleFile struct {
	name    string
	ctype   string
	content []byte
}

// sampleMail builds a realistic complaint mail. With gbk set it is encoded the way
// Foxmail does: GBK body in base64 and GBK encoded-word file names.
type sampleMail struct {
	from, to, subject, messageID, inReplyTo string
	body                                    string
	files                                   []sampleFile
	gbk                                     bool
	mailer                                  string
	extraHeaders                            []string
	date                                    time.Time
}

func (m sampleMail) bytes() []byte {
	charset := "UTF-8"
	enc := func(s string) string { return s }
	if m.gbk {
		charset = "GBK"
		enc = func(s string) string {
			b, err := simplifiedchinese.GBK.NewEncoder().String(s)
			if err != nil {
				return s
			}
			return b
		}
	}
	word := func(s string) string {
		if isASCII(s) {
			return s
		}
		return "=?" + charset + "?B?" + base64.StdEncoding.EncodeToString([]byte(enc(s))) + "?="
	}
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	name, addr, _ := strings.Cut(m.from, "|")
	h("From", fmt.Sprintf("%s <%s>", word(name), addr))
	h("To", m.to)
	h("Subject", word(m.subject))
	date := m.date
	if date.IsZero() {
		date = time.Now()
	}
	h("Date", date.Format(time.RFC1123Z))
	h("Message-ID", "<"+m.messageID+">")
	if m.inReplyTo != "" {
		h("In-Reply-To", "<"+m.inReplyTo+">")
		h("References", "<"+m.inReplyTo+">")
	}
	if m.mailer != "" {
		h("X-Mailer", m.mailer)
	}
	for _, x := range m.extraHeaders {
		b.WriteString(x + "\r\n")
	}
	h("MIME-Version", "1.0")
	body := base64.StdEncoding.EncodeToString([]byte(enc(m.body)))
	if len(m.files) == 0 {
		h("Content-Type", "text/plain; charset="+charset)
		h("Content-Transfer-Encoding", "base64")
		b.WriteString("\r\n" + wrap76(body))
		return b.Bytes()
	}
	boundary := "----=_001_NextPart" + fmt.Sprintf("%08x", len(m.subject)*7919+len(m.files))
	h("Content-Type", fmt.Sprintf("multipart/mixed; boundary=\"%s\"", boundary))
	b.WriteString("\r\nThis is a multi-part message in MIME format.\r\n\r\n")
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: base64\r\n\r\n%s", boundary, charset, wrap76(body))
	for _, f := range m.files {
		// Foxmail and QQ put an encoded word inside the quoted filename; Apple Mail and
		// Thunderbird use RFC 2231. The demo sends one of each style.
		disp := `filename="` + word(f.name) + `"`
		if !m.gbk && !isASCII(f.name) {
			disp = "filename*=UTF-8''" + url.PathEscape(f.name)
		}
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; name=\"%s\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; %s\r\n\r\n%s",
			boundary, f.ctype, word(f.name), disp, wrap76(base64.StdEncoding.EncodeToString(f.content)))
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s + "\r\n")
	return b.String()
}

// fakeScan makes distinct bytes that look like a small JPEG or PDF.
func fakeScan(kind, label string) []byte {
	if kind == "pdf" {
		return []byte("%PDF-1.4\n% demo document: " + label + "\n%%EOF\n")
	}
	return append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, []byte("demo scan: "+label)...)
}

const demoForm = `申请人姓名：张三
联系邮箱：zhangsan@example.cn
联系电话：13800138000
身份证号：11010519491231002X
文章标题：《某某公司涉嫌虚假宣传》
文章作者：凤凰网资讯
文章链接：https://news.ifeng.com/c/8abcDEF123
文章发表时间：2026年11月20日
删除原因：文章所述内容与事实严重不符，已对本人名誉造成损害，详见事件说明函及法院判决书。`
