package classify

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// memOpener is an in-memory Opener with failure injection.
type memOpener struct {
	files map[string][]byte
	fail  error // returned by every Open when set
	opens int
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func (m *memOpener) Open(id string) (ReaderAtCloser, int64, error) {
	m.opens++
	if m.fail != nil {
		return nil, 0, m.fail
	}
	b, ok := m.files[id]
	if !ok {
		return nil, 0, fmt.Errorf("no spool file %q", id)
	}
	return nopCloser{bytes.NewReader(b)}, int64(len(b)), nil
}

// zipFile is one entry for buildZip; GBK names are written as raw GBK bytes without
// the UTF-8 flag, the way Chinese Windows archivers do.
type zipFile struct {
	name string
	gbk  bool
	data []byte
}

func buildZip(t testing.TB, files ...zipFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		name := f.name
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		if f.gbk {
			b, err := simplifiedchinese.GBK.NewEncoder().String(name)
			if err != nil {
				t.Fatal(err)
			}
			h.Name = b
			h.NonUTF8 = true // keeps the writer from setting flag 0x800
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// buildDocx makes a minimal .docx whose body has one paragraph per entry of paras and,
// when rows is not empty, a table (one row per entry, cells split on "|").
func buildDocx(t testing.TB, paras []string, rows []string) []byte {
	t.Helper()
	var x strings.Builder
	x.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	for _, p := range paras {
		fmt.Fprintf(&x, `<w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">%s</w:t></w:r></w:p>`, xmlEscape(p))
	}
	if len(rows) > 0 {
		x.WriteString(`<w:tbl>`)
		for _, r := range rows {
			x.WriteString(`<w:tr>`)
			for _, c := range strings.Split(r, "|") {
				// Split each cell into two runs to prove runs are joined.
				h := len(c) / 2
				for h > 0 && !utf8Start(c[h]) {
					h--
				}
				fmt.Fprintf(&x, `<w:tc><w:p><w:r><w:t>%s</w:t></w:r><w:r><w:t>%s</w:t></w:r></w:p></w:tc>`, xmlEscape(c[:h]), xmlEscape(c[h:]))
			}
			x.WriteString(`</w:tr>`)
		}
		x.WriteString(`</w:tbl>`)
	}
	x.WriteString(`</w:body></w:document>`)
	return buildZip(t,
		zipFile{name: "[Content_Types].xml", data: []byte(`<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`)},
		zipFile{name: "word/document.xml", data: []byte(x.String())},
	)
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
