package mailmsg

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// discardSpool measures parsing, not the spool: it keeps nothing.
type discardSpool struct{}

func (discardSpool) Create() (SpoolFile, error) { return discardFile{}, nil }

type discardFile struct{}

func (discardFile) Write(p []byte) (int, error) { return len(p), nil }
func (discardFile) Commit() (string, error)     { return "x", nil }
func (discardFile) Abort()                      {}

// realisticMessage builds a 1.4 MB complaint: GBK body, a 1.3 MB base64 PDF-like scan.
func realisticMessage(b testing.TB) []byte {
	body, err := simplifiedchinese.GBK.NewEncoder().String(strings.Repeat(
		"申请人姓名：张三\r\n单位名称：蒙牛奶业集团\r\n身份证号：110101199003071234\r\n文章标题：《某某新闻稿件》\r\n删除理由：内容失实，侵犯名誉权。\r\n", 400))
	if err != nil {
		b.Fatal(err)
	}
	pdf := make([]byte, 975_000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range pdf {
		pdf[i] = byte(rng.Uint32())
	}
	copy(pdf, "%PDF-1.4\n")
	enc := base64.StdEncoding.EncodeToString(pdf)
	var lines strings.Builder
	for len(enc) > 76 {
		lines.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	lines.WriteString(enc + "\r\n")
	name := base64.StdEncoding.EncodeToString([]byte(mustGBK(b, "申请表（签字盖章）.pdf")))
	var m bytes.Buffer
	m.WriteString("Return-Path: <zhang@example.com>\r\nFrom: =?GBK?B?" + base64.StdEncoding.EncodeToString([]byte(mustGBK(b, "张三"))) + "?= <zhang@example.com>\r\n" +
		"To: desk@example.com\r\nSubject: =?GBK?B?" + base64.StdEncoding.EncodeToString([]byte(mustGBK(b, "张三(蒙牛奶业集团)申请删除凤凰资讯稿件"))) + "?=\r\n" +
		"Message-ID: <bench@example.com>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0800\r\nX-Mailer: Foxmail 7.2\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"----=_NextPart_bench\"\r\n\r\n" +
		"------=_NextPart_bench\r\nContent-Type: text/plain; charset=\"gb2312\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	m.WriteString(body)
	m.WriteString("\r\n------=_NextPart_bench\r\nContent-Type: application/pdf; name=\"=?GBK?B?" + name + "?=\"\r\n" +
		"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"=?GBK?B?" + name + "?=\"\r\n\r\n")
	m.WriteString(lines.String())
	m.WriteString("------=_NextPart_bench--\r\n")
	return m.Bytes()
}

func mustGBK(b testing.TB, s string) string {
	out, err := simplifiedchinese.GBK.NewEncoder().String(s)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func BenchmarkParse(b *testing.B) {
	raw := realisticMessage(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := Parse(bytes.NewReader(raw), discardSpool{}, Limits{})
		if err != nil || len(m.Attachments) != 1 || m.Attachments[0].Filename != "申请表（签字盖章）.pdf" {
			b.Fatalf("err %v, %+v", err, m)
		}
	}
}

func BenchmarkParseCorpus(b *testing.B) {
	files := corpusFiles(b)
	var raws [][]byte
	var total int64
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, raw)
		total += int64(len(raw))
	}
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for _, raw := range raws {
			if _, err := Parse(bytes.NewReader(raw), discardSpool{}, Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkBase64Body decodes a 32 KiB block of a base64 body in 76-character CRLF
// lines, as mail clients write them: the standard library's Decode alone, against
// the block decoder's line path (decodeLines) that replaced it for such lines.
func BenchmarkBase64Body(b *testing.B) {
	raw := make([]byte, 24<<10)
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	var lines bytes.Buffer
	for len(enc) > 0 {
		n := min(76, len(enc))
		lines.WriteString(enc[:n] + "\r\n")
		enc = enc[n:]
	}
	in := lines.Bytes()
	out := make([]byte, 0, len(in))
	b.Run("stdlib", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			if _, err := base64.StdEncoding.Decode(out[:cap(out)], in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lines", func(b *testing.B) {
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			if got, used := decodeLines(out, in); used != len(in) || len(got) != len(raw) {
				b.Fatalf("decoded %d bytes, used %d of %d", len(got), used, len(in))
			}
		}
	})
}
