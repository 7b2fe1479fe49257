package classify

import (
	"archive/zip"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// ZipEntry is one file listed from a .zip without extracting it.
type ZipEntry struct {
	Name string // decoded to UTF-8 (GB18030 when not flagged UTF-8 and not valid UTF-8)
	Size int64  // declared uncompressed size
	// Overlaps is true when the entry's data shares bytes with another entry's: no
	// archiver writes that, a zip bomb does (one small compressed stream, inflated once
	// per name). Such entries are never opened.
	Overlaps bool
	file     *zip.File
}

// ListZip lists the files of a zip archive: directories and OS junk (__MACOSX/,
// .DS_Store, Thumbs.db) are skipped, at most maxEntries are returned and listing
// stops once the declared uncompressed sizes exceed maxTotal. Nothing is extracted.
// truncated reports that entries were left out.
func ListZip(r io.ReaderAt, size int64, maxEntries int, maxTotal int64) (entries []ZipEntry, truncated bool, err error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, false, fmt.Errorf("read zip: %w", err)
	}
	var total int64
	for _, f := range zr.File {
		name := ZipName(f)
		if strings.HasSuffix(name, "/") || strings.HasPrefix(name, "__MACOSX/") || strings.Contains(name, "/__MACOSX/") {
			continue
		}
		base := name[strings.LastIndex(name, "/")+1:]
		if base == ".DS_Store" || strings.EqualFold(base, "Thumbs.db") || base == "" {
			continue
		}
		if len(entries) >= maxEntries {
			return entries, true, nil
		}
		sz := int64(f.UncompressedSize64)
		if f.UncompressedSize64 > 1<<62 {
			sz = 1 << 62
		}
		if total+sz > maxTotal || total+sz < total {
			return entries, true, nil
		}
		total += sz
		entries = append(entries, ZipEntry{Name: name, Size: sz, file: f})
	}
	markOverlaps(entries)
	return entries, false, nil
}

// markOverlaps sets Overlaps on entries whose compressed data ranges intersect.
func markOverlaps(entries []ZipEntry) {
	type span struct {
		from, to int64
		i        int
	}
	spans := make([]span, 0, len(entries))
	for i, e := range entries {
		off, err := e.file.DataOffset()
		if err != nil {
			entries[i].Overlaps = true // a header we cannot place is not opened either
			continue
		}
		spans = append(spans, span{off, off + int64(min(e.file.CompressedSize64, 1<<62)), i})
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	for k := 1; k < len(spans); k++ {
		if prev := spans[k-1]; spans[k].from < prev.to || spans[k].from == prev.from {
			entries[prev.i].Overlaps, entries[spans[k].i].Overlaps = true, true
		}
	}
}

// ZipName returns an entry's name in UTF-8. Chinese Windows tools store names in GBK
// without the UTF-8 flag (0x800); such names are decoded as GB18030. An Info-ZIP Unicode
// Path extra field (0x7075) takes precedence when present.
func ZipName(f *zip.File) string {
	if u := unicodePathExtra(f.Extra); u != "" {
		return u
	}
	name := f.Name
	if f.Flags&0x800 == 0 && !utf8.ValidString(name) {
		if d, err := simplifiedchinese.GB18030.NewDecoder().String(name); err == nil {
			return d
		}
	}
	return strings.ToValidUTF8(name, "\uFFFD")
}

// unicodePathExtra returns the UTF-8 name of an Info-ZIP Unicode Path extra field.
func unicodePathExtra(extra []byte) string {
	for len(extra) >= 4 {
		tag := binary.LittleEndian.Uint16(extra)
		n := int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if n > len(extra) {
			return ""
		}
		if tag == 0x7075 && n >= 5 && extra[0] == 1 {
			if s := string(extra[5:n]); utf8.ValidString(s) {
				return s
			}
		}
		extra = extra[n:]
	}
	return ""
}

// DocxText returns the text of a .docx (word/document.xml): paragraphs become lines,
// the cells of a table row are joined by tabs, one row per line. At most maxXML bytes
// of XML are read, so a compression bomb costs no more than that.
func DocxText(r io.ReaderAt, size int64, maxXML int64) (string, error) {
	return docxText(r, size, maxXML, unlimited())
}

// docxText is DocxText with the inflated XML counted against the message's budget b.
func docxText(r io.ReaderAt, size int64, maxXML int64, b *budget) (string, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return "", fmt.Errorf("read docx: %w", err)
	}
	for _, f := range zr.File {
		if f.Name != "word/document.xml" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return "", fmt.Errorf("open document.xml: %w", err)
		}
		defer rc.Close()
		return docxXMLText(b.reader(io.LimitReader(rc, maxXML)), b)
	}
	return "", errors.New("no word/document.xml")
}

// Bounds of a document.xml: a real form nests a few dozen elements deep; 8 MiB of
// nested unclosed elements made the decoder hold ~200 MB (issue 13, 3).
const (
	maxDocxDepth  = 256
	maxDocxTokens = 1 << 20
)

// docxXMLText extracts text from WordprocessingML. A truncated, broken or too deeply
// nested document, or one whose reading spent the message's budget b (errBudget),
// yields the text read so far together with the error.
func docxXMLText(r io.Reader, bud *budget) (string, error) {
	dec := xml.NewDecoder(r)
	dec.Strict = false
	var b strings.Builder
	cellDepth := 0
	inText := false
	depth, tokens := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if errors.Is(err, errBudget) {
			return strings.TrimSpace(b.String()), errBudget
		}
		if err != nil {
			return strings.TrimSpace(b.String()), fmt.Errorf("parse document.xml: %w", err)
		}
		if tokens++; tokens > maxDocxTokens {
			return strings.TrimSpace(b.String()), errors.New("document.xml: too many elements")
		}
		if tokens%budgetCheckTokens == 0 && bud.spent() {
			return strings.TrimSpace(b.String()), errBudget
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth++; depth > maxDocxDepth {
				return strings.TrimSpace(b.String()), errors.New("document.xml: nested too deeply")
			}
			switch t.Name.Local {
			case "t":
				inText = true
			case "tab":
				b.WriteByte(' ')
			case "br", "cr":
				if cellDepth > 0 {
					b.WriteByte(' ')
				} else {
					b.WriteByte('\n')
				}
			case "tc":
				cellDepth++
			}
		case xml.EndElement:
			depth--
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				if cellDepth > 0 {
					b.WriteByte(' ')
				} else {
					b.WriteByte('\n')
				}
			case "tc":
				if cellDepth > 0 {
					cellDepth--
				}
				b.WriteByte('\t')
			case "tr":
				b.WriteByte('\n')
			}
		case xml.CharData:
			if inText {
				b.Write(bytes.ReplaceAll(t, []byte{'\n'}, []byte{' '}))
			}
		}
	}
	// Tidy: trim spaces around tabs and line ends.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		cells := strings.Split(l, "\t")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		lines[i] = strings.TrimRight(strings.Join(cells, "\t"), "\t")
	}
	return strings.TrimSpace(strings.Join(lines, "\n")), nil
}
