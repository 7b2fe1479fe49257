package mailmsg

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/complaintd/complaintd/internal/mailtest"
)

// readParts splits body at boundary and returns every part's bytes and the reader's
// final flags, reading through wrap (which may cut the input into small pieces).
func readParts(body []byte, boundary string, lineByLine bool, wrap func(io.Reader) io.Reader) ([]string, [3]bool) {
	return readPartsWith(body, boundary, lineByLine, wrap, func(_ int, p io.Reader) string {
		b, _ := io.ReadAll(p)
		return string(b)
	})
}

// readPartsWith is readParts with each part read by consume (the part's index, its
// reader), which may leave some of it unread for next to drain.
func readPartsWith(body []byte, boundary string, lineByLine bool, wrap func(io.Reader) io.Reader, consume func(int, io.Reader) string) ([]string, [3]bool) {
	mr := newMultipartReader(wrap(bytes.NewReader(body)), boundary)
	mr.lineByLine = lineByLine
	var parts []string
	for i := 0; ; i++ {
		p, err := mr.next()
		if err != nil {
			break
		}
		parts = append(parts, consume(i, p))
	}
	return parts, [3]bool{mr.done, mr.unterminated, mr.noParts}
}

// byteByByte reads a part one byte per Read, and every third part only its first
// five bytes (the rest is left to next): the bulk path hands out content that is
// still in the multipart reader's buffer, which must outlast such reads.
func byteByByte(i int, p io.Reader) string {
	r := iotest.OneByteReader(p)
	if i%3 == 2 {
		b := make([]byte, 5)
		n, _ := io.ReadFull(r, b)
		return string(b[:n])
	}
	b, _ := io.ReadAll(r)
	return string(b)
}

// checkBulkSame asserts that the bulk path splits body exactly like the line path,
// whatever the sizes of the reads beneath.
func checkBulkSame(t *testing.T, body []byte, boundary string) {
	t.Helper()
	want, wantFlags := readParts(body, boundary, true, func(r io.Reader) io.Reader { return r })
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"whole":   func(r io.Reader) io.Reader { return r },
		"onebyte": iotest.OneByteReader,
		"half":    iotest.HalfReader,
	} {
		got, gotFlags := readParts(body, boundary, false, wrap)
		if !slices.Equal(got, want) || gotFlags != wantFlags {
			t.Fatalf("%s: bulk path differs on %q\n got %q %v\nwant %q %v", name, clipped(body), clippedAll(got), gotFlags, clippedAll(want), wantFlags)
		}
	}
	want, wantFlags = readPartsWith(body, boundary, true, func(r io.Reader) io.Reader { return r }, byteByByte)
	got, gotFlags := readPartsWith(body, boundary, false, iotest.HalfReader, byteByByte)
	if !slices.Equal(got, want) || gotFlags != wantFlags {
		t.Fatalf("parts read a byte at a time: bulk path differs on %q\n got %q %v\nwant %q %v", clipped(body), clippedAll(got), gotFlags, clippedAll(want), wantFlags)
	}
}

// pieces that stress delimiter recognition at and across buffer boundaries.
var bulkPieces = []string{
	"--b", "--b--", "--bx", "--b  ", "-", "--", "\r\n", "\n", "\r", "\r\r\n", " ",
	"QUJD", "line", "中文", "=\r\n",
}

func randomMultipart(rng *rand.Rand) []byte {
	var b bytes.Buffer
	for range rng.IntN(60) {
		switch r := rng.IntN(20); {
		case r == 0:
			b.Write(bytes.Repeat([]byte("x"), 7000+rng.IntN(3000))) // around the 8 KiB buffer
		case r < 4:
			b.WriteString("\r\n--b\r\n")
		default:
			b.WriteString(bulkPieces[rng.IntN(len(bulkPieces))])
		}
	}
	return b.Bytes()
}

func TestMultipartBulkMatchesLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for range 3000 {
		checkBulkSame(t, randomMultipart(rng), "b")
	}
	// A base64 attachment between two parts, the common case the bulk path is for.
	var att bytes.Buffer
	for i := range 20000 {
		att.WriteString("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx")
		att.WriteString([]string{"\r\n", "\n"}[i%2])
	}
	checkBulkSame(t, []byte("pre\r\n--b\r\nContent-Type: a\r\n\r\n"+att.String()+"--b\r\n\r\nx\r\n--b--\r\n"), "b")
}

func FuzzMultipartBulk(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		f.Add(randomMultipart(rng))
	}
	f.Add([]byte("a\r\n--b\r\nx\r\r\n--b--"))
	f.Fuzz(func(t *testing.T, body []byte) {
		mailtest.Cost(t, fuzzTime(len(body)), 4<<20+uint64(32*len(body)), func() { checkBulkSame(t, body, "b") })
	})
}

// clip shortens long runs for failure messages.
func clipped[T ~string | ~[]byte](s T) string {
	if len(s) <= 200 {
		return string(s)
	}
	return fmt.Sprintf("%s…(%d bytes)…%s", s[:80], len(s), s[len(s)-80:])
}

func clippedAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = clipped(s)
	}
	return out
}

// TestIndexDelimiterIsBytesIndex: the delimiter search finds what bytes.Index finds,
// in bodies of base64, of dashes, and of near-delimiters.
func TestIndexDelimiterIsBytesIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	nlDash := []byte("\n------=_NextPart_000_0001")
	pieces := []string{"QUJD", "\r\n", "\n", "-", "--", "\n--", "\n------=_NextPart_000_000", "\n------=_NextPart_000_0001", "------=_NextPart_000_0001", "x"}
	for range 20000 {
		var d []byte
		for range rng.IntN(12) {
			d = append(d, pieces[rng.IntN(len(pieces))]...)
		}
		if got, want := indexDelimiter(d, nlDash), bytes.Index(d, nlDash); got != want {
			t.Fatalf("indexDelimiter(%q) = %d, bytes.Index = %d", d, got, want)
		}
	}
}
