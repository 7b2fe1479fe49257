package mailmsg

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// Big5 (and GBK) trail bytes include 0x5C, the backslash: 功 is A5 5C, 許 B3 5C, 珮 AF 5C.
// A raw 8-bit display name ending in such a character, in quotes, ends in `\"`: read as
// a quoted-pair, the closing quote vanished, the address was taken from the rest as
// "<chen@example.com.tw>" (which the outbox refuses: the complainant got no reply) and
// the next mailbox of a list was swallowed.
func TestBig5DisplayNameEndingInBackslashTrailByteKeepsTheAddress(t *testing.T) {
	const (
		chenJianGong = "\xb3\xaf\xab\xd8\xa5\x5c" // 陳建功 in Big5
		linMeiPei    = "\xaa\x4c\xac\xfc\xaf\x5c" // 林美珮 in Big5
	)
	raw := "From: \"" + chenJianGong + "\" <chen@example.com.tw>\r\n" +
		"To: \"" + linMeiPei + "\" <lin@example.com.tw>, desk <desk@example.org>\r\n" +
		"Subject: x\r\n\r\nbody\r\n"
	m, err := Parse(bytes.NewReader([]byte(raw)), &MemSpool{}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Address{Name: "陳建功", Address: "chen@example.com.tw"}); m.From != want {
		t.Errorf("From = %+v, want %+v", m.From, want)
	}
	want := []Address{{Name: "林美珮", Address: "lin@example.com.tw"}, {Name: "desk", Address: "desk@example.org"}}
	if len(m.To) != len(want) {
		t.Fatalf("To = %+v, want %+v", m.To, want)
	}
	for i := range want {
		if m.To[i] != want[i] {
			t.Errorf("To[%d] = %+v, want %+v", i, m.To[i], want[i])
		}
	}
	// A real quoted-pair after a UTF-8 character is still one.
	if got := parseAddressList([]byte(`"张\"三\\" <z@example.cn>`)); len(got) != 1 || got[0] != (Address{Name: `张"三\`, Address: "z@example.cn"}) {
		t.Errorf("UTF-8 name with quoted-pairs = %+v", got)
	}
}

// The same trail byte at the end of a quoted file name ended the value at the next quote.
func TestBig5FileNameEndingInBackslashTrailByte(t *testing.T) {
	mv := parseMediaValue([]byte("attachment; filename=\"\xa6\xa8\xa5\x5c\"; size=3"))
	if got := mv.params["filename"]; got != "成功" {
		t.Errorf("filename = %q, want 成功", got)
	}
	if got := mv.params["size"]; got != "3" {
		t.Errorf("size = %q, want 3", got)
	}
}

// A body that begins with a byte order mark (Notepad's UTF-8, GB18030's 84 31 95 33,
// UTF-16LE's FF FE) kept U+FEFF in Text: the first line then read "\uFEFF姓名：张三",
// whose label is no label, and the applicant's name was lost.
func TestBodyByteOrderMarkIsNotText(t *testing.T) {
	for _, c := range []struct {
		media, charset string
		body           []byte
	}{
		{"text/plain", "utf-8", []byte("\xEF\xBB\xBF姓名：张三\r\n")},
		{"text/plain", "", []byte("\xEF\xBB\xBF姓名：张三\r\n")},
		{"text/plain", "gb2312", []byte("\xEF\xBB\xBF姓名：张三\r\n")}, // UTF-8 under a GB label
		{"text/plain", "gb18030", []byte("\x84\x31\x95\x33\xd0\xd5\xc3\xfb\xa3\xba\xd5\xc5\xc8\xfd\r\n")},
		{"text/plain", "utf-16le", []byte("\xFF\xFE\xd3\x59\x0d\x54\x1a\xff\x20\x5f\x09\x4e\r\x00\n\x00")},
		{"text/html", "utf-8", []byte("\xEF\xBB\xBF姓名：张三<br>")},
	} {
		raw := "Subject: x\r\nContent-Type: " + c.media + "; charset=" + c.charset +
			"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString(c.body) + "\r\n"
		m, err := Parse(strings.NewReader(raw), &MemSpool{}, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(m.Text, "姓名：张三") {
			t.Errorf("%s %s: Text = %q, want it to begin 姓名：张三", c.media, c.charset, m.Text)
		}
	}
}

// Senders that label UTF-8 as gb2312 in the body (Outlook Express; the body is read
// by its bytes) do it in encoded words and RFC 2231 names too, as do the many web
// forms that write "=?GB2312?B?" + base64(UTF-8). Read as GB18030 the subject became
// the well-known mojibake 寮犱笁鐢宠... (no applicant, no convention) and 身份证.jpg a
// name of no kind (the ID card reported missing although attached).
func TestUTF8UnderAGBLabelInHeadersIsReadAsUTF8(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	raw := "From: a@example.com\r\n" +
		"Subject: =?GB2312?B?" + b64([]byte("张三申请删除凤凰资讯稿件")) + "?=\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n" +
		"--b\r\nContent-Type: image/jpeg; name=\"=?gb2312?B?" + b64([]byte("身份证.jpg")) + "?=\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n" +
		"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=gbk''" +
		pct("营业执照.pdf") + "\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0x\r\n" +
		"--b--\r\n"
	m, err := Parse(strings.NewReader(raw), &MemSpool{}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "张三申请删除凤凰资讯稿件" {
		t.Errorf("Subject = %q", m.Subject)
	}
	var names []string
	for _, a := range m.Attachments {
		names = append(names, a.Filename)
	}
	if strings.Join(names, "|") != "身份证.jpg|营业执照.pdf" {
		t.Errorf("attachments = %q, want 身份证.jpg and 营业执照.pdf", names)
	}
}

// Windows drops trailing dots and spaces from a file name: 身份证.jpg.exe. is saved and
// run as 身份证.jpg.exe. Its extension read as "." it was no program, so it counted as
// the ID card and was attached to the staff notification.
func TestProgramNameWithTrailingDotsIsAProgram(t *testing.T) {
	raw := "From: a@example.com\r\nSubject: s\r\nContent-Type: application/octet-stream; name=\"身份证.jpg.exe.\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n"
	m, err := Parse(strings.NewReader(raw), &MemSpool{}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Executable == "" {
		t.Fatalf("attachments = %+v, want one flagged as a program", m.Attachments)
	}
	for _, name := range []string{"说明函.pdf.scr..", "申请表.js. . ."} {
		if ProgramName(name) == "" {
			t.Errorf("ProgramName(%q) = \"\", want a program", name)
		}
	}
}
