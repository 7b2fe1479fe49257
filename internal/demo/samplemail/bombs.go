package samplemail

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// The costly files of issue 13, 3, for the tests and benchmarks that prove each costs
// a bounded amount. Each is small on the wire.

// WordXML is the start of a WordprocessingML document.xml, up to <w:body>.
const WordXML = `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`

// Zip stores files (name, content pairs, in order) deflated in a zip archive.
func Zip(files ...[2]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f[0], Method: zip.Deflate})
		if err != nil {
			panic(err) // a bytes.Buffer does not fail
		}
		w.Write([]byte(f[1]))
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Docx is a .docx whose word/document.xml is xml.
func Docx(xml string) []byte { return Zip([2]string{"word/document.xml", xml}) }

// FormDocx is a one-line .docx titled 删帖申请表.
func FormDocx() []byte {
	return Docx(WordXML + `<w:p><w:r><w:t>删帖申请表</w:t></w:r></w:p></w:body></w:document>`)
}

// OverlappingZip is issue 13's bomb: n central-directory entries (s000.docx …) that all
// point at the data of one .docx, so a reader that opens entries one by one inflates
// the same bytes n times (24 KB, 200 entries: 74–130 s of CPU before the overlap check).
func OverlappingZip(docx []byte, n int) []byte {
	one := Zip([2]string{"a.docx", string(docx)})
	le := binary.LittleEndian
	eocd := bytes.LastIndex(one, []byte("PK\x05\x06"))
	cdOff, cdSize := int(le.Uint32(one[eocd+16:])), int(le.Uint32(one[eocd+12:]))
	entry := one[cdOff : cdOff+cdSize]
	nameLen := int(le.Uint16(entry[28:]))
	var cd bytes.Buffer
	for i := range n {
		name := []byte(fmt.Sprintf("s%03d.docx", i))
		e := append([]byte(nil), entry[:46]...)
		le.PutUint16(e[28:], uint16(len(name)))
		e = append(e, name...)
		cd.Write(append(e, entry[46+nameLen:]...))
	}
	out := append([]byte(nil), one[:cdOff]...)
	newCD := len(out)
	out = append(out, cd.Bytes()...)
	end := append([]byte(nil), one[eocd:]...)
	le.PutUint16(end[8:], uint16(n))
	le.PutUint16(end[10:], uint16(n))
	le.PutUint32(end[12:], uint32(cd.Len()))
	le.PutUint32(end[16:], uint32(newCD))
	return append(out, end...)
}

// NestedDocx is a .docx titled 删帖申请表 followed by 8 MiB of nested unclosed elements
// (it held ~200 MB per mail before the depth bound).
func NestedDocx() []byte {
	return Docx(WordXML + `<w:p><w:r><w:t>删帖申请表</w:t></w:r></w:p>` + strings.Repeat("<a>", 8<<20/3))
}

// HeavyArchives are z zip archives of n distinct .docx each whose document.xml is 8 MiB
// of paragraphs (1M elements: the token bound of one form): no entry overlaps another,
// so only the mail's budget stops the reading (about 20 s of CPU for 6×8 without it).
func HeavyArchives(z, n int) []File {
	var x strings.Builder
	x.WriteString(WordXML)
	for x.Len() < 8<<20 {
		x.WriteString(`<w:p><w:r><w:t>x</w:t></w:r></w:p>`)
	}
	heavy := string(Docx(x.String()))
	var out []File
	for a := range z {
		var entries [][2]string
		for i := range n {
			entries = append(entries, [2]string{fmt.Sprintf("附件%d-%d.docx", a, i), heavy})
		}
		out = append(out, File{Name: fmt.Sprintf("材料%d.zip", a), ContentType: "application/zip", Content: Zip(entries...)})
	}
	return out
}
