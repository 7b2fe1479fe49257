package mailmsg

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

func enc(t testing.TB, e encoding.Encoding, s string) string {
	t.Helper()
	b, err := e.NewEncoder().String(s)
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func pct(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

func mustParse(t testing.TB, raw string, lim Limits) (*Message, *MemSpool) {
	t.Helper()
	spool := &MemSpool{}
	m, err := Parse(strings.NewReader(raw), spool, lim)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checkUTF8(t, m)
	return m, spool
}

// withAttachment wraps one attachment part header in a multipart/mixed message.
func withAttachment(partHeader string) string {
	return "From: a@example.com\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n" +
		"--b\r\n" + partHeader + "\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64("data") + "\r\n--b--\r\n"
}

func TestChineseDecoding(t *testing.T) {
	gbk := simplifiedchinese.GBK
	name := enc(t, gbk, "身份证复印件.jpg")
	split := len(enc(t, gbk, "身份证")) + 1 // cuts the GBK pair of 复 in two
	gb18030Name := enc(t, simplifiedchinese.GB18030, "营业执照（副本）€.pdf")

	tests := []struct {
		name      string
		why       string
		raw       string
		wantSubj  string
		wantFiles []string
		wantText  string
	}{
		{
			name:     "raw GBK subject",
			why:      "Chinese clients and old servers put GBK bytes in headers without RFC 2047",
			raw:      "From: a@example.com\r\nSubject: " + enc(t, gbk, "张三(蒙牛奶业集团)申请删除凤凰资讯稿件") + "\r\n\r\nhi\r\n",
			wantSubj: "张三(蒙牛奶业集团)申请删除凤凰资讯稿件",
			wantText: "hi",
		},
		{
			name: "raw Big5 subject",
			why:  "Taiwanese senders: Big5 bytes must not be read as GBK mojibake",
			raw: "From: a@example.com\r\nSubject: " + enc(t, traditionalchinese.Big5, "申請刪除新聞稿件，身份證影本已附上") +
				"\r\n\r\nhi\r\n",
			wantSubj: "申請刪除新聞稿件，身份證影本已附上",
			wantText: "hi",
		},
		{
			name: "Foxmail GBK encoded-word filename split over folds",
			why:  "Foxmail/Outlook put RFC 2047 words in quoted names and fold between them, even inside a character",
			raw: withAttachment("Content-Type: image/jpeg;\r\n\tname=\"=?GBK?B?" + base64.StdEncoding.EncodeToString([]byte(name[:split])) +
				"?=\r\n =?GBK?B?" + base64.StdEncoding.EncodeToString([]byte(name[split:])) + "?=\"\r\nContent-Disposition: attachment"),
			wantSubj:  "x",
			wantFiles: []string{"身份证复印件.jpg"},
			wantText:  "body",
		},
		{
			name: "RFC 2231 GB18030 filename with continuations",
			why:  "RFC 2231 pieces may cut a multi-byte character; the charset is only on piece 0",
			raw: withAttachment("Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n filename*0*=GB18030''" +
				pct(gb18030Name[:5]) + ";\r\n filename*1*=" + pct(gb18030Name[5:]) + ""),
			wantSubj:  "x",
			wantFiles: []string{"营业执照（副本）€.pdf"},
			wantText:  "body",
		},
		{
			name: "zip named in GBK-encoded RFC 2047",
			why:  "complainants zip their scans; the name decides the document kind",
			raw: withAttachment("Content-Type: application/x-zip-compressed; name=\"=?gbk?B?" +
				base64.StdEncoding.EncodeToString([]byte(enc(t, gbk, "删帖申请材料.zip"))) + "?=\""),
			wantSubj:  "x",
			wantFiles: []string{"删帖申请材料.zip"},
			wantText:  "body",
		},
		{
			name: "gb2312 label on GBK-only characters",
			why:  "镕 and 堃 are GBK, not GB2312; a strict GB2312 decoder would give U+FFFD (SPEC §2 Charsets)",
			raw: "From: a@example.com\r\nSubject: =?gb2312?B?" + base64.StdEncoding.EncodeToString([]byte(enc(t, gbk, "朱镕基 王堃"))) +
				"?=\r\nContent-Type: text/plain; charset=gb2312\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + enc(t, gbk, "申请人：王堃\r\n"),
			wantSubj: "朱镕基 王堃",
			wantText: "申请人：王堃",
		},
		{
			name: "us-ascii label on GBK body",
			why:  "mislabelled bodies are detected from the bytes",
			raw: "From: a@example.com\r\nSubject: s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" +
				enc(t, gbk, "姓名：张三\r\n身份证号：110101199003071234\r\n"),
			wantSubj: "s",
			wantText: "姓名：张三",
		},
		{
			name:     "cp936 and x-gbk labels",
			why:      "Windows code-page names for GBK",
			raw:      "From: a@example.com\r\nSubject: =?cp936?B?" + base64.StdEncoding.EncodeToString([]byte(enc(t, gbk, "投诉"))) + "?= =?x-gbk?Q?" + qEncode(enc(t, gbk, "删帖")) + "?=\r\n\r\n.\r\n",
			wantSubj: "投诉删帖",
			wantText: ".",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := mustParse(t, tc.raw, Limits{})
			if m.Subject != tc.wantSubj {
				t.Errorf("Subject = %q, want %q (%s)", m.Subject, tc.wantSubj, tc.why)
			}
			var files []string
			for _, a := range m.Attachments {
				files = append(files, a.Filename)
			}
			if !slices.Equal(files, tc.wantFiles) {
				t.Errorf("files = %q, want %q (%s)", files, tc.wantFiles, tc.why)
			}
			if !strings.Contains(m.Text, tc.wantText) || strings.ContainsRune(m.Text, '\uFFFD') {
				t.Errorf("Text = %q, want %q without U+FFFD (%s)", m.Text, tc.wantText, tc.why)
			}
		})
	}
}

func qEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "=%02X", s[i])
	}
	return b.String()
}

func TestAutoDetection(t *testing.T) {
	const takedown = "Subject: 张三申请删除凤凰资讯稿件\r\n"
	tests := []struct {
		name       string
		why        string
		headers    string
		want       AutoKind
		wantReason string
	}{
		{"human", "an ordinary complaint", "From: zhang@example.com\r\n" + takedown, Human, ""},
		{"null sender", "bounces are sent from the null reverse-path (RFC 5321 §4.5.5)",
			"Return-Path: <>\r\nFrom: someone@example.com\r\n" + takedown, Bounce, "Return-Path: <>"},
		{"mailer-daemon", "some MTAs bounce with a real envelope but From MAILER-DAEMON",
			"From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\nSubject: Undelivered\r\n", Bounce, "From: MAILER-DAEMON@mx.example.com"},
		{"postmaster", "Domino and Exchange bounce from postmaster",
			"From: postmaster@example.com\r\nSubject: DELIVERY FAILURE\r\n", Bounce, "From: postmaster@example.com"},
		{"multipart/report", "DSN/MDN/ARF are multipart/report (RFC 6522), whatever the sender",
			"From: zhang@example.com\r\nList-Id: <x.example.com>\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n" + takedown, Bounce, "Content-Type: multipart/report; report-type=delivery-status"},
		{"auto-submitted", "RFC 3834 §5: any value but \"no\" is automatic",
			"Auto-Submitted: auto-replied\r\nFrom: zhang@example.com\r\n" + takedown, AutoReply, "Auto-Submitted: auto-replied"},
		{"auto-submitted no", "RFC 3834: \"no\" means a person wrote it",
			"Auto-Submitted: no\r\nFrom: zhang@example.com\r\n" + takedown, Human, ""},
		{"auto-reply with null sender", "RFC 3834 §3.3: responders use the null sender too; the reply kind is the truer one",
			"Return-Path: <>\r\nX-Auto-Response-Suppress: All\r\nFrom: zhang@example.com\r\nSubject: Automatic reply: x\r\n", AutoReply, "X-Auto-Response-Suppress: All"},
		{"chinese subject prefix", "Chinese Exchange/Coremail out-of-office without headers",
			"From: zhang@example.com\r\nSubject: 自动回复: 关于删帖申请\r\n", AutoReply, "Subject: 自动回复: …"},
		{"english subject prefix", "Exchange out-of-office without Auto-Submitted",
			"From: zhang@example.com\r\nSubject: Automatic reply: hello\r\n", AutoReply, "Subject: automatic reply: …"},
		{"list-id outranks takedown subject", "SPEC §2 Noise: list mail never makes a case, whatever its subject",
			"From: zhang@example.com\r\nList-Id: Chinese users <chinese.lists.example.org>\r\n" + takedown, List, "List-Id: Chinese users <chinese.lists.example.org>"},
		{"list-unsubscribe", "newsletters carry List-Unsubscribe (RFC 2369) without List-Id",
			"From: news@example.com\r\nList-Unsubscribe: <mailto:u@example.com>\r\nSubject: news\r\n", List, "List-Unsubscribe: <mailto:u@example.com>"},
		{"precedence bulk", "old list software only sets Precedence",
			"From: news@example.com\r\nPrecedence: bulk\r\nSubject: news\r\n", List, "Precedence: bulk"},
		{"auto-reply outranks list", "a vacation reply from a list member is still an auto-reply",
			"From: zhang@example.com\r\nPrecedence: bulk\r\nAuto-Submitted: auto-generated\r\nSubject: x\r\n", AutoReply, "Auto-Submitted: auto-generated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := mustParse(t, tc.headers+"\r\nbody\r\n", Limits{})
			if m.Auto != tc.want || m.AutoReason != tc.wantReason {
				t.Errorf("Auto = %q (%q), want %q (%q): %s", m.Auto, m.AutoReason, tc.want, tc.wantReason, tc.why)
			}
		})
	}
}

func TestHeaderFields(t *testing.T) {
	raw := "Authentication-Results: mx.desk.example; dkim=pass\r\n header.d=example.com\r\n" +
		"Authentication-Results: relay.example; spf=fail\r\n" +
		"Return-Path: <Zhang@Example.COM>\r\n" +
		"Message-ID: <abc@example.com>\r\n" +
		"In-Reply-To: <TS-1@desk.example>\r\n" +
		"References: <one@x>\r\n <two@\r\n x> three@y\r\n" +
		"Date: Mon, 2 Mar 2026 10:00:00 +0800 (CST)\r\n" +
		"From: \"Zhang San\" <zhang@EXAMPLE.com>\r\nTo: desk@example.com, \"Li, Si\" <li@example.com>\r\n" +
		"X-Mailer: Foxmail 7.2\r\nX-QQ-mid: bizesmtp123\r\nX-Secret: not kept\r\nSubject: hi\r\n\r\nbody\r\n"
	m, _ := mustParse(t, raw, Limits{})
	want := []TraceField{{Value: "mx.desk.example; dkim=pass header.d=example.com"}, {Value: "relay.example; spf=fail"}}
	if !slices.Equal(m.Trace, want) {
		t.Errorf("Trace = %+v, want %+v (topmost first, unfolded)", m.Trace, want)
	}
	if m.Sender != "Zhang@example.com" || m.NullSender {
		t.Errorf("Sender = %q NullSender=%v", m.Sender, m.NullSender)
	}
	if m.MessageID != "abc@example.com" || !slices.Equal(m.InReplyTo, []string{"TS-1@desk.example"}) {
		t.Errorf("MessageID = %q InReplyTo = %q", m.MessageID, m.InReplyTo)
	}
	// "<two@ x>" was folded inside the brackets (Apple Mail); "three@y" has none and is
	// after a bracketed one, so only bracketed IDs count.
	if want := []string{"one@x", "two@x"}; !slices.Equal(m.References, want) {
		t.Errorf("References = %q, want %q", m.References, want)
	}
	if m.Date.IsZero() || m.Date.UTC().Hour() != 2 {
		t.Errorf("Date = %v", m.Date)
	}
	if m.From != (Address{Name: "Zhang San", Address: "zhang@example.com"}) {
		t.Errorf("From = %+v", m.From)
	}
	if len(m.To) != 2 || m.To[1] != (Address{Name: "Li, Si", Address: "li@example.com"}) {
		t.Errorf("To = %+v", m.To)
	}
	if m.Mailer != "Foxmail 7.2" || m.Headers["X-QQ-mid"] != "bizesmtp123" {
		t.Errorf("Mailer = %q Headers = %q", m.Mailer, m.Headers)
	}
	if _, ok := m.Headers["X-Secret"]; ok {
		t.Errorf("Headers kept a header not on the list: %q", m.Headers)
	}
	if ids := parseIDs([]byte("a@b c@d")); !slices.Equal(ids, []string{"a@b", "c@d"}) {
		t.Errorf("IDs without brackets = %q", ids)
	}
}

func TestHTMLBody(t *testing.T) {
	raw := "From: a@example.com\r\nSubject: s\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		"<html><head><title>T</title><style>p{color:red}</style></head><body>" +
		"<p>姓名：张三</p><div>链接：<a href=\"x\">http://example.com/a?x=1&amp;y=2</a></div>" +
		"<script>alert(1)</script>line<br>next&nbsp;&lt;ok&gt;<!-- hidden --></body></html>"
	m, _ := mustParse(t, raw, Limits{})
	want := "姓名：张三\n\n链接：http://example.com/a?x=1&y=2\nline\nnext <ok>"
	if m.Text != want || !m.HTML {
		t.Errorf("Text = %q HTML=%v, want %q", m.Text, m.HTML, want)
	}
}

// TestPlainPreferredOverHTML: alternative parts usually come plain first, but the
// plain one must win even when HTML comes first.
func TestPlainPreferredOverHTML(t *testing.T) {
	raw := "From: a@example.com\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b--\r\n"
	m, _ := mustParse(t, raw, Limits{})
	if m.Text != "plain" || m.HTML {
		t.Errorf("Text = %q HTML=%v", m.Text, m.HTML)
	}
}

func TestEmbeddedMessageAttachmentsListed(t *testing.T) {
	inner := "From: zhang@example.com\r\nSubject: 删帖申请/材料\r\nContent-Type: multipart/mixed; boundary=in\r\n\r\n" +
		"--in\r\nContent-Type: text/plain\r\n\r\ninner text\r\n" +
		"--in\r\nContent-Type: image/jpeg; name=\"scan.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64("JPEGDATA") + "\r\n--in--\r\n"
	raw := "From: fwd@example.com\r\nSubject: Fwd\r\nContent-Type: multipart/mixed; boundary=out\r\n\r\n" +
		"--out\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--out\r\nContent-Type: message/rfc822\r\n\r\n" + inner + "\r\n--out--\r\n"
	m, spool := mustParse(t, raw, Limits{})
	if len(m.Attachments) != 2 {
		t.Fatalf("Attachments = %+v", m.Attachments)
	}
	emb, scan := m.Attachments[0], m.Attachments[1]
	// The slash would be a path separator: the subject is sanitised to a base name.
	if !emb.Embedded || emb.Filename != "材料.eml" || emb.ContentType != "message/rfc822" {
		t.Errorf("embedded = %+v", emb)
	}
	if scan.Filename != "scan.jpg" || scan.Size != 8 {
		t.Errorf("inner attachment = %+v", scan)
	}
	r, _ := spool.Open(emb.SpoolID)
	b, _ := io.ReadAll(r)
	if string(b) != inner {
		t.Errorf("stored .eml differs from the attached message:\n%q\n%q", b, inner)
	}
	if m.Text != "see attached" {
		t.Errorf("Text = %q: the outer text must win over the attached message's", m.Text)
	}
	checkSpool(t, m, spool)
}

func TestAttachmentTooLarge(t *testing.T) {
	big := strings.Repeat("A", 3000) // 2250 decoded bytes
	raw := "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: application/pdf; name=big.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + big + "\r\n" +
		"--b\r\nContent-Type: application/pdf; name=small.pdf\r\n\r\nsmall\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nafter\r\n--b--\r\n"
	m, spool := mustParse(t, raw, Limits{MaxAttachmentBytes: 1000})
	if len(m.Attachments) != 2 {
		t.Fatalf("Attachments = %+v", m.Attachments)
	}
	a := m.Attachments[0]
	if a.Skipped != "too large" || a.SpoolID != "" || a.SHA256 != "" || a.Size <= 1000 {
		t.Errorf("big attachment = %+v, want skipped with the size seen", a)
	}
	if m.Attachments[1].Skipped != "" || m.Text != "after" {
		t.Errorf("parsing did not go on after the big attachment: %+v text %q", m.Attachments[1], m.Text)
	}
	if n := len(spool.Files()); n != 1 {
		t.Errorf("spool holds %d files, want only the small one", n)
	}
}

func TestSpoolErrorsReturned(t *testing.T) {
	raw := withAttachment("Content-Type: application/pdf; name=a.pdf")
	boom := errors.New("disk full")
	for _, spool := range []*MemSpool{{FailCreate: boom}, {FailWrite: boom}} {
		_, err := Parse(strings.NewReader(raw), spool, Limits{})
		if !errors.Is(err, boom) {
			t.Errorf("Parse error = %v, want it to wrap the spool error", err)
		}
	}
}

// infiniteHeader produces "X-Long: aaaa..." forever and counts what was read.
type infiniteHeader struct {
	n int64
}

func (r *infiniteHeader) Read(p []byte) (int, error) {
	for i := range p {
		switch {
		case r.n < 8:
			p[i] = "X-Long: "[r.n]
		default:
			p[i] = 'a'
		}
		r.n++
	}
	return len(p), nil
}

func TestLimits(t *testing.T) {
	t.Run("header block of 19 MB is refused without reading it", func(t *testing.T) {
		r := &infiniteHeader{}
		_, err := Parse(io.LimitReader(r, 19<<20), &MemSpool{}, Limits{})
		var le *LimitError
		if !errors.As(err, &le) || le.Limit != "MaxHeaderBytes" {
			t.Fatalf("err = %v, want *LimitError MaxHeaderBytes", err)
		}
		if r.n > 1<<20 {
			t.Errorf("read %d bytes of a header limited to %d", r.n, DefaultLimits.MaxHeaderBytes)
		}
	})
	t.Run("message bigger than MaxMessageBytes", func(t *testing.T) {
		raw := "From: a@example.com\r\n\r\n" + strings.Repeat("x", 5000)
		_, err := Parse(strings.NewReader(raw), &MemSpool{}, Limits{MaxMessageBytes: 1000})
		var le *LimitError
		if !errors.As(err, &le) || le.Limit != "MaxMessageBytes" || le.Max != 1000 {
			t.Fatalf("err = %v, want *LimitError MaxMessageBytes 1000", err)
		}
	})
	t.Run("part header too big stops walking", func(t *testing.T) {
		raw := "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
			"--b\r\nContent-Type: text/plain\r\n\r\nfirst\r\n" +
			"--b\r\nX-Big: " + strings.Repeat("y", 4000) + "\r\n\r\nsecond\r\n--b--\r\n"
		m, _ := mustParse(t, raw, Limits{MaxHeaderBytes: 1000})
		if m.Text != "first" || !hasProblem(m, "part header bigger") {
			t.Errorf("Text %q Problems %q", m.Text, m.Problems)
		}
	})
	t.Run("5000 nested multiparts", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: a@example.com\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
		for i := 0; i < 5000; i++ {
			fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i, i+1)
		}
		b.WriteString("--b5000\r\nContent-Type: text/plain\r\n\r\ndeepest\r\n")
		for i := 5000; i >= 0; i-- {
			fmt.Fprintf(&b, "--b%d--\r\n", i)
		}
		m, _ := mustParse(t, b.String(), Limits{})
		if !hasProblem(m, "nesting deeper than 20") || m.Text != "" || m.Subject != "deep" {
			t.Errorf("Problems = %q Text = %q", m.Problems, m.Text)
		}
	})
	t.Run("5000 parts", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n")
		for i := 0; i < 5000; i++ {
			fmt.Fprintf(&b, "--b\r\nContent-Type: application/octet-stream; name=f%d.bin\r\n\r\nx\r\n", i)
		}
		b.WriteString("--b--\r\n")
		m, spool := mustParse(t, b.String(), Limits{})
		// The top-level entity is part 1, so 499 files fit under MaxParts 500.
		if !hasProblem(m, "too many parts") || len(m.Attachments) != DefaultLimits.MaxParts-1 {
			t.Errorf("Problems = %q, %d attachments", m.Problems, len(m.Attachments))
		}
		checkSpool(t, m, spool)
	})
	t.Run("text truncated at MaxTextBytes", func(t *testing.T) {
		raw := "From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + strings.Repeat("投诉", 1000)
		m, _ := mustParse(t, raw, Limits{MaxTextBytes: 100})
		if len(m.Text) > 100 || !m.TextTruncated || !strings.HasPrefix(m.Text, "投诉投诉") {
			t.Errorf("Text = %q (%d bytes) truncated=%v", m.Text, len(m.Text), m.TextTruncated)
		}
	})
}

func hasProblem(m *Message, sub string) bool {
	return slices.ContainsFunc(m.Problems, func(p string) bool { return strings.Contains(p, sub) })
}

func TestDecodeRawChoice(t *testing.T) {
	tests := []struct {
		name, in, want, why string
	}{
		{"utf8", "身份证", "身份证", "valid UTF-8 is kept"},
		{"gbk", enc(t, simplifiedchinese.GBK, "营业执照复印件"), "营业执照复印件", "GB2312-range pairs score 0 as GBK"},
		{"big5", enc(t, traditionalchinese.Big5, "營業執照影本，說明函"), "營業執照影本，說明函", "Big5 trail bytes below 0xA1 are rare in GBK"},
		{"latin1", "caf\xe9 cr\xe8me", "café crème", "lone 8-bit bytes between ASCII are Latin-1"},
		{"utf8 with a stray byte", "Юникод\xff", "Юникод\uFFFD", "mostly UTF-8 stays UTF-8"},
	}
	for _, tc := range tests {
		if got := decodeRaw([]byte(tc.in)); got != tc.want {
			t.Errorf("%s: decodeRaw = %q, want %q (%s)", tc.name, got, tc.want, tc.why)
		}
	}
}

func TestTransferDecoders(t *testing.T) {
	qp := "a=3Db =E4=BD=A0\r\nsoft=\r\nbreak =ZZ bad\r\n"
	got, _ := io.ReadAll(transferDecoder(strings.NewReader(qp), cteQP))
	if string(got) != "a=b 你\r\nsoftbreak =ZZ bad\r\n" {
		t.Errorf("qp = %q", got)
	}
	uu := "begin 644 x.txt\n#86)C\n`\nend\n"
	got, _ = io.ReadAll(transferDecoder(strings.NewReader(uu), cteUU))
	if string(got) != "abc" {
		t.Errorf("uu = %q", got)
	}
	got, _ = io.ReadAll(transferDecoder(strings.NewReader("aGVs\r\nbG8*\r\n"), cteBase64))
	if string(got) != "hello" {
		t.Errorf("base64 = %q", got)
	}
	for _, v := range []string{"Quoted Printable", "x-uuencode", "BASe64", ""} {
		if _, known := normCTE([]byte(v)); !known {
			t.Errorf("normCTE(%q) unknown", v)
		}
	}
}

// TestMultipartStreaming checks that a part's bytes come through exactly, including
// a final line break that belongs to the delimiter and long lines.
func TestMultipartStreaming(t *testing.T) {
	long := strings.Repeat("z", 20000)
	body := "pre\r\n--b\r\n\r\nline1\r\n" + long + "\r\n\r\n--b\r\n\r\nsecond\n--b--\r\nepilogue"
	mr := newMultipartReader(strings.NewReader(body), "b")
	var parts []string
	for {
		p, err := mr.next()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, string(b))
	}
	want := []string{"\r\nline1\r\n" + long + "\r\n", "\r\nsecond"}
	if !slices.Equal(parts, want) || mr.unterminated {
		t.Errorf("parts = %q (unterminated %v)", parts, mr.unterminated)
	}
}

func TestMemSpool(t *testing.T) {
	s := &MemSpool{}
	f, _ := s.Create()
	f.Write([]byte("abc"))
	id, err := f.Commit()
	if err != nil {
		t.Fatal(err)
	}
	g, _ := s.Create()
	g.Write([]byte("gone"))
	g.Abort()
	r, err := s.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	if string(b) != "abc" || len(s.Files()) != 1 || !bytes.Equal(s.Files()[id], []byte("abc")) {
		t.Errorf("spool = %q", s.Files())
	}
	if _, err := s.Open("nope"); err == nil {
		t.Error("Open of an unknown id succeeded")
	}
}

// What the reader cannot see does not count (issue 13, 7): hidden elements are dropped
// with their content, nested ones included; visible text around them stays; small but
// visible text stays.
func TestHTMLHiddenTextIsDropped(t *testing.T) {
	tests := []struct{ why, html, want string }{
		{"display:none", `<div style="display: none">受理</div><p>我的投诉</p>`, "我的投诉"},
		{"visibility:hidden, upper case", `<SPAN STYLE="VISIBILITY:HIDDEN">受理</SPAN>正文`, "正文"},
		{"font-size:0", `<span style="font-size:0px;color:#fff">结案</span>你好`, "你好"},
		{"the hidden attribute", `<p hidden>重开</p><p>谢谢</p>`, "谢谢"},
		{"Outlook's mso-hide", `<div style='mso-hide:all'>驳回 无理</div>内容`, "内容"},
		{"nested elements inside the hidden one", `<div style="display:none"><div>受理</div><div>升级</div></div><div>可见</div>`, "可见"},
		{"small but visible stays", `<span style="font-size:0.9em">可见的小字</span>`, "可见的小字"},
		{"a hidden void element hides nothing after it", `<img hidden src="x">可见`, "可见"},
		{"unclosed hidden element hides to the end, never loops", `<div style="display:none">受理`, ""},
	}
	for _, tc := range tests {
		if got := htmlToText(tc.html); got != tc.want {
			t.Errorf("%s: htmlToText(%q) = %q, want %q", tc.why, tc.html, got, tc.want)
		}
	}
}

// The trace keeps Received and Authentication-Results headers in their order, topmost
// first: staff authentication needs to know which side of our border's Received line
// an Authentication-Results header stands on.
func TestTraceKeepsHeaderOrder(t *testing.T) {
	raw := "Authentication-Results: mx.example.cn; dkim=pass header.d=example.cn\r\n" +
		"Received: from a by mx.example.cn; Mon, 1 Dec 2026 10:00:00 +0800\r\n" +
		"Authentication-Results: mx.example.cn; dkim=pass header.d=forged.example\r\n" +
		"Received: from b by relay.example.net; Mon, 1 Dec 2026 09:59:00 +0800\r\n" +
		"From: a@example.cn\r\nSubject: x\r\n\r\nbody\r\n"
	m, err := Parse(strings.NewReader(raw), nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range m.Trace {
		kind := "ar"
		if f.Received {
			kind = "received"
		}
		got = append(got, kind)
	}
	if strings.Join(got, ",") != "ar,received,ar,received" || !strings.Contains(m.Trace[2].Value, "forged.example") {
		t.Errorf("trace %v: %+v", got, m.Trace)
	}
}
