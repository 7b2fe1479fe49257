package main

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"fmt"
	"mime/quotedprintable"
	"net/url"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// enc returns the encoder for a charset label.
func enc(charset string) *encoding.Encoder {
	switch strings.ToLower(charset) {
	case "gbk", "gb2312":
		return simplifiedchinese.GBK.NewEncoder()
	case "gb18030":
		return simplifiedchinese.GB18030.NewEncoder()
	case "big5":
		return traditionalchinese.Big5.NewEncoder()
	}
	return nil // utf-8
}

// encode converts s to charset bytes; it panics on characters the charset lacks, so a
// scenario can't silently carry '?'. Callers check with encodable first.
func encode(charset, s string) []byte {
	e := enc(charset)
	if e == nil {
		return []byte(s)
	}
	b, err := e.Bytes([]byte(s))
	if err != nil {
		panic(fmt.Sprintf("encode %q as %s: %v", s, charset, err))
	}
	return b
}

// pickCharset returns charset when it can carry s, else utf-8 — what real clients do
// (Foxmail switches to UTF-8 for the seed form's ⏹ bullets).
func pickCharset(charset, s string) string {
	e := enc(charset)
	if e == nil {
		return charset
	}
	if _, err := e.Bytes([]byte(s)); err != nil {
		fmt.Fprintf(os.Stderr, "note: %s cannot carry %.40q, using utf-8\n", charset, s)
		return "utf-8"
	}
	return charset
}

// encWords encodes s as RFC 2047 B words of at most ~45 input bytes, split on rune
// boundaries (as Foxmail and QQ do for long names).
func encWords(charset, s string) string {
	if isASCII(s) {
		return s
	}
	charset = pickCharset(charset, s)
	var words []string
	for len(s) > 0 {
		n := 0
		for n < len(s) && n < 30 {
			_, sz := utf8.DecodeRuneInString(s[n:])
			n += sz
		}
		words = append(words, "=?"+charset+"?B?"+base64.StdEncoding.EncodeToString(encode(charset, s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, "\r\n ")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// rfc2231 returns filename*=utf-8”… or, when cont, filename*0*=…; filename*1*=… .
func rfc2231(param, s string, cont bool) string {
	esc := strings.ReplaceAll(url.PathEscape(s), "+", "%2B")
	if !cont {
		return param + "*=utf-8''" + esc
	}
	var parts []string
	for i := 0; len(esc) > 0; i++ {
		n := min(len(esc), 40)
		// don't split a %XX escape
		for n < len(esc) && n > 0 && (esc[n-1] == '%' || (n >= 2 && esc[n-2] == '%')) {
			n--
		}
		prefix := ""
		if i == 0 {
			prefix = "utf-8''"
		}
		parts = append(parts, fmt.Sprintf("%s*%d*=%s%s", param, i, prefix, esc[:n]))
		esc = esc[n:]
	}
	return strings.Join(parts, ";\r\n\t")
}

// b64 wraps base64 at 76 columns.
func b64(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	out.WriteString(s + "\r\n")
	return out.String()
}

func qp(b []byte) string {
	var buf bytes.Buffer
	w := quotedprintable.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return strings.ReplaceAll(strings.ReplaceAll(buf.String(), "\r\n", "\n"), "\n", "\r\n") + "\r\n"
}

func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// zipEntry is one file of a generated zip; gbk writes the name as raw GBK bytes without
// the UTF-8 flag, like WinRAR/360压缩 on Chinese Windows.
type zipEntry struct {
	name string
	gbk  bool
	data []byte
}

func buildZip(entries ...zipEntry) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.Modified = fixedDate
		if e.gbk {
			h.Name = string(encode("gbk", e.name))
			h.NonUTF8 = true
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			panic(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// buildDocx makes a minimal Word document: paragraphs, then a table whose rows are
// cells separated by "|".
func buildDocx(paras []string, rows []string) []byte {
	esc := func(s string) string { return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s) }
	var x strings.Builder
	x.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	for _, p := range paras {
		fmt.Fprintf(&x, `<w:p><w:r><w:rPr><w:rFonts w:hint="eastAsia"/></w:rPr><w:t xml:space="preserve">%s</w:t></w:r></w:p>`, esc(p))
	}
	if len(rows) > 0 {
		x.WriteString(`<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr>`)
		for _, r := range rows {
			x.WriteString(`<w:tr>`)
			for _, c := range strings.Split(r, "|") {
				fmt.Fprintf(&x, `<w:tc><w:tcPr><w:tcW w:w="4000" w:type="dxa"/></w:tcPr><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:tc>`, esc(c))
			}
			x.WriteString(`</w:tr>`)
		}
		x.WriteString(`</w:tbl>`)
	}
	x.WriteString(`<w:sectPr/></w:body></w:document>`)
	return buildZip(
		zipEntry{name: "[Content_Types].xml", data: []byte(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`)},
		zipEntry{name: "_rels/.rels", data: []byte(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>`)},
		zipEntry{name: "word/document.xml", data: []byte(x.String())},
	)
}

// fakeJPEG / fakePDF are small stand-ins with the right magic numbers and distinct
// content per name (so SHA-256 values differ).
func fakeJPEG(seed string) []byte {
	return append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, []byte("scan of "+seed+strings.Repeat(".", 64))...)
}

func fakePDF(seed string) []byte {
	return []byte("%PDF-1.4\n% " + seed + "\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
}
