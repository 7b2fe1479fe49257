package classify

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
)

// TestZipGBKNames: names stored in GBK without the UTF-8 flag are decoded; flagged
// UTF-8 names are kept; junk is skipped.
func TestZipGBKNames(t *testing.T) {
	z := buildZip(t,
		zipFile{name: "身份证正面.jpg", gbk: true, data: []byte("a")},
		zipFile{name: "材料/营业执照.pdf", gbk: true, data: []byte("b")},
		zipFile{name: "工作证.jpg", data: []byte("c")}, // UTF-8 flagged by the writer
		zipFile{name: "__MACOSX/._工作证.jpg", data: []byte("d")},
		zipFile{name: "材料/", data: nil},
		zipFile{name: ".DS_Store", data: []byte("e")},
	)
	// Prove the test zip really carries raw GBK without the flag.
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	if zr.File[0].Flags&0x800 != 0 || zr.File[0].Name == "身份证正面.jpg" {
		t.Fatalf("test zip not GBK-encoded: flags %x name %q", zr.File[0].Flags, zr.File[0].Name)
	}
	entries, truncated, err := ListZip(bytes.NewReader(z), int64(len(z)), 200, 1<<30)
	if err != nil || truncated {
		t.Fatalf("ListZip: %v truncated=%v", err, truncated)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	want := "身份证正面.jpg|材料/营业执照.pdf|工作证.jpg"
	if got := strings.Join(names, "|"); got != want {
		t.Fatalf("names %q, want %q", got, want)
	}
}

// TestZipBounds: listing stops at the entry count and at the declared total size; the
// caller learns it was truncated.
func TestZipBounds(t *testing.T) {
	var files []zipFile
	for i := 0; i < 10; i++ {
		files = append(files, zipFile{name: strings.Repeat("x", i+1) + ".jpg", data: bytes.Repeat([]byte{0}, 1000)})
	}
	z := buildZip(t, files...)
	e, tr, err := ListZip(bytes.NewReader(z), int64(len(z)), 3, 1<<30)
	if err != nil || !tr || len(e) != 3 {
		t.Errorf("entry bound: %d entries truncated=%v err=%v", len(e), tr, err)
	}
	e, tr, err = ListZip(bytes.NewReader(z), int64(len(z)), 200, 2500)
	if err != nil || !tr || len(e) != 2 {
		t.Errorf("size bound: %d entries truncated=%v err=%v", len(e), tr, err)
	}
	if _, _, err := ListZip(bytes.NewReader([]byte("not a zip")), 9, 200, 1<<30); err == nil {
		t.Error("garbage accepted as zip")
	}
}

// TestZipBombNotExtracted: entries are listed by their declared size and never
// inflated. The entries declare 200 MiB and 1 TiB while holding a few bytes, so any
// extraction would fail the CRC or take forever; the 1 TiB one exceeds the total bound.
func TestZipBombNotExtracted(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range []struct {
		name string
		size uint64
	}{{"营业执照.pdf", 200 << 20}, {"身份证.jpg", 1 << 40}} {
		w, err := zw.CreateRaw(&zip.FileHeader{Name: e.name, Method: zip.Deflate, CompressedSize64: 2, UncompressedSize64: e.size, CRC32: 1})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte{3, 0})
	}
	zw.Close()
	z := buf.Bytes()
	op := &memOpener{files: map[string][]byte{"z": z}}
	msg := msgWith("张三申请删除凤凰资讯稿件", "", att("bomb.zip", "z", int64(len(z))))
	r := Classify(msg, op, Options{})
	if len(r.Documents) != 2 || r.Documents[1].Kind != cases.BusinessLicense || r.Documents[1].Size != 200<<20 || r.Documents[1].Container != "bomb.zip" {
		t.Fatalf("documents %+v", r.Documents)
	}
	if !strings.Contains(r.Documents[0].Why, "listing stopped") {
		t.Errorf("total bound not reported: %q", r.Documents[0].Why)
	}
}

func TestDocxText(t *testing.T) {
	d := buildDocx(t, []string{"删帖申请表", "一、申请人资料"}, []string{"姓名|张三|联系电话|13800000000", "文章标题：|《某某》", "删除原因|内容 & 事实不符"})
	text, err := DocxText(bytes.NewReader(d), int64(len(d)), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := "删帖申请表\n一、申请人资料\n姓名\t张三\t联系电话\t13800000000\n文章标题：\t《某某》\n删除原因\t内容 & 事实不符"
	if text != want {
		t.Fatalf("text:\n%q\nwant\n%q", text, want)
	}
	f := ParseFields(text).Values
	if f[FieldName] != "张三" || f[FieldPhone] != "13800000000" || f[FieldTitle] != "《某某》" || f[FieldReason] != "内容 & 事实不符" {
		t.Fatalf("fields from docx: %q", f)
	}
	// The XML cap: a tiny cap yields an error, not a hang or a panic.
	if _, err := DocxText(bytes.NewReader(d), int64(len(d)), 10); err == nil {
		t.Error("truncated XML not reported")
	}
	// Not a docx.
	z := buildZip(t, zipFile{name: "a.txt", data: []byte("x")})
	if _, err := DocxText(bytes.NewReader(z), int64(len(z)), 1<<20); err == nil {
		t.Error("zip without word/document.xml accepted")
	}
}

// overlappingZip is a small archive whose n central-directory entries all point at
// the local data of one .docx: each entry names a "new" file, so a reader that opens
// entries one by one inflates the same bytes n times (issue 13, 3: 24 KB, 200 entries,
// 74–130 s of CPU).
func overlappingZip(t *testing.T, docx []byte, n int) []byte {
	t.Helper()
	one := buildZip(t, zipFile{name: "a.docx", data: docx})
	eocd := bytes.LastIndex(one, []byte("PK\x05\x06"))
	cdOff := int(binary.LittleEndian.Uint32(one[eocd+16:]))
	cdSize := int(binary.LittleEndian.Uint32(one[eocd+12:]))
	entry := one[cdOff : cdOff+cdSize]
	nameLen := int(binary.LittleEndian.Uint16(entry[28:]))
	var cd bytes.Buffer
	for i := range n {
		name := []byte(fmt.Sprintf("s%03d.docx", i)) // each 9 bytes, like a.docx's 6? rewrite the length
		e := append([]byte(nil), entry[:46]...)
		binary.LittleEndian.PutUint16(e[28:], uint16(len(name)))
		e = append(e, name...)
		e = append(e, entry[46+nameLen:]...)
		cd.Write(e)
	}
	out := append([]byte(nil), one[:cdOff]...)
	newCD := len(out)
	out = append(out, cd.Bytes()...)
	end := append([]byte(nil), one[eocd:]...)
	binary.LittleEndian.PutUint16(end[8:], uint16(n))
	binary.LittleEndian.PutUint16(end[10:], uint16(n))
	binary.LittleEndian.PutUint32(end[12:], uint32(cd.Len()))
	binary.LittleEndian.PutUint32(end[16:], uint32(newCD))
	return append(out, end...)
}

// An archive whose entries overlap (many names, one piece of data) is a bomb: its
// entries are listed by name, their contents never opened, and the archive is marked;
// the cost stays that of reading the directory.
func TestOverlappingZipIsListedNotOpened(t *testing.T) {
	docx := buildDocx(t, []string{"删帖申请表"}, []string{"文章标题：|《某某》"})
	z := overlappingZip(t, docx, 200)
	entries, _, err := ListZip(bytes.NewReader(z), int64(len(z)), 500, 1<<30)
	if err != nil || len(entries) != 200 {
		t.Fatalf("listing the crafted zip: %d entries, %v", len(entries), err)
	}
	op := &memOpener{files: map[string][]byte{"z": z}}
	msg := msgWith("张三申请删除凤凰资讯稿件", "", att("bomb.zip", "z", int64(len(z))))
	var r Result
	allocs := testing.AllocsPerRun(1, func() { r = Classify(msg, op, Options{}) })
	if len(r.Documents) != 201 {
		t.Fatalf("%d documents, want the archive and its 200 names", len(r.Documents))
	}
	if !strings.Contains(r.Documents[0].Why, "overlapping") {
		t.Errorf("the archive is not marked: %q", r.Documents[0].Why)
	}
	for _, d := range r.Documents[1:] {
		if d.Kind != cases.Unclassified || strings.Contains(d.Why, "content") {
			t.Fatalf("an overlapping entry was opened: %+v", d)
		}
	}
	if allocs > 20000 {
		t.Errorf("%.0f allocations to classify a 200-entry overlapping zip: its entries were inflated", allocs)
	}
}

// A document.xml of 8 MiB of nested unclosed elements is refused at a fixed depth: its
// memory stays small (it held ~200 MB per mail).
func TestDeeplyNestedDocxIsBounded(t *testing.T) {
	xmlBomb := `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>删帖申请表</w:t></w:r></w:p>` +
		strings.Repeat("<a>", 8<<20/3)
	d := buildZip(t, zipFile{name: "word/document.xml", data: []byte(xmlBomb)})
	var text string
	var err error
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	text, err = DocxText(bytes.NewReader(d), int64(len(d)), 8<<20)
	runtime.ReadMemStats(&ms)
	if err == nil || !strings.Contains(err.Error(), "nested too deeply") || text != "删帖申请表" {
		t.Errorf("text %q, err %v: want the text before the bomb and the reason", text, err)
	}
	if grew := ms.TotalAlloc - before; grew > 32<<20 {
		t.Errorf("%d MB allocated reading a nested-element bomb", grew>>20)
	}
}
