package mailmsg

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/complaintd/complaintd/internal/mailtest"
)

// lineBase64 is the line-at-a-time lenient decoder the block decoder replaced; it
// stays as the reference the block decoder must agree with.
func lineBase64(r io.Reader) io.Reader {
	var st b64state
	return &lineDecoder{br: bufio.NewReaderSize(r, 8<<10), fn: func(out, line []byte, eof bool) []byte {
		out, _ = st.feed(out, line)
		if eof {
			out = st.finish(out)
		}
		return out
	}}
}

func checkBase64Same(t *testing.T, in []byte) {
	t.Helper()
	want, _ := io.ReadAll(lineBase64(bytes.NewReader(in)))
	for name, r := range map[string]io.Reader{
		"read":    iotest.OneByteReader(transferDecoder(iotest.HalfReader(bytes.NewReader(in)), cteBase64)),
		"writeto": transferDecoder(iotest.OneByteReader(bytes.NewReader(in)), cteBase64),
	} {
		var got bytes.Buffer
		if _, err := io.Copy(&got, r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("%s: block decoder differs on %q:\n got %q\nwant %q", name, clipped(in), clipped(got.Bytes()), clipped(want))
		}
	}
}

func randomBase64Body(rng *rand.Rand) []byte {
	raw := make([]byte, rng.IntN(120000))
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	width := []int{76, 72, 64, 60, 1 << 20, 3 + rng.IntN(100)}[rng.IntN(6)]
	eol := []string{"\r\n", "\n", "\r\n"}[rng.IntN(3)]
	var b strings.Builder
	for len(enc) > 0 {
		n := min(width, len(enc))
		b.WriteString(enc[:n])
		b.WriteString(eol)
		enc = enc[n:]
	}
	out := []byte(b.String())
	// Damage: what senders and relays do to base64 bodies.
	for range rng.IntN(4) {
		if len(out) == 0 {
			break
		}
		i := rng.IntN(len(out))
		switch rng.IntN(5) {
		case 0:
			out[i] = ' '
		case 1:
			out[i] = '='
		case 2:
			out[i] = '*'
		case 3:
			out = append(out[:i:i], append([]byte("QQ==\r\n"), out[i:]...)...)
		case 4:
			out = out[:i] // truncated
		}
	}
	return out
}

func TestBase64BlockMatchesLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for range 300 {
		checkBase64Same(t, randomBase64Body(rng))
	}
	for _, s := range []string{"", "\r\n", "QQ", "QQ=", "QQ==", "QUJD=", "QQ==QUI=", "aGVs\r\nbG8*\r\n", "  aGVs bG8=  "} {
		checkBase64Same(t, []byte(s))
	}
}

func FuzzBase64Block(f *testing.F) {
	rng := rand.New(rand.NewPCG(9, 9))
	for range 10 {
		f.Add(randomBase64Body(rng))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		mailtest.Cost(t, fuzzTime(len(in)), 4<<20+uint64(32*len(in)), func() { checkBase64Same(t, in) })
	})
}

// TestDecodeLinesAgreesWithTheStandardLibrary: the lines decodeLines takes decode
// as the standard library decodes them, and it takes no line the standard library
// would read otherwise (padding, a character outside the alphabet, a broken quantum).
func TestDecodeLinesAgreesWithTheStandardLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 17))
	for i := range 3000 {
		in := randomBase64Body(rng)
		if i%3 == 0 && len(in) > 0 { // damage near the start too, where lines are taken
			in[rng.IntN(min(len(in), 400))] = "=*- \r\x00\xe4A"[rng.IntN(8)]
		}
		got, used := decodeLines(make([]byte, 0, 3), in)
		if used > len(in) {
			t.Fatalf("used %d of %d bytes", used, len(in))
		}
		want := make([]byte, len(in[:used]))
		n, err := base64.StdEncoding.Decode(want, in[:used])
		if err != nil {
			t.Fatalf("decodeLines took %q, which the standard library refuses: %v", clipped(in[:used]), err)
		}
		if !bytes.Equal(got, want[:n]) {
			t.Fatalf("decodeLines differs on %q", clipped(in[:used]))
		}
		// It stops only at a line it must not take: the line after what it used.
		if used < len(in) {
			line, _, _ := bytes.Cut(in[used:], []byte("\n"))
			line = bytes.TrimSuffix(line, []byte("\r"))
			if len(line)%4 == 0 && bytes.IndexFunc(line, func(r rune) bool { return r > 0x7f || !b64alphabet[r] }) < 0 {
				t.Fatalf("decodeLines stopped before a clean line %q", clipped(line))
			}
		}
	}
}
