package mailmsg

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
)

// decodeText decodes an unstructured header value or a parameter value given as raw
// bytes: RFC 2047 encoded words anywhere (also inside quotes, as Outlook and Foxmail
// write file names), raw 8-bit bytes by decodeRaw. Whitespace between two encoded
// words is dropped (RFC 2047 §6.2); adjacent words in the same charset are joined
// before charset decoding, so a multi-byte character split across two words (or two
// folded lines) survives. Unknown charsets are reported in problems.
func decodeText(raw []byte) (string, []string) {
	var (
		out      strings.Builder
		problems []string
		pending  []byte // decoded bytes of consecutive words in pendCS
		pendCS   string
		gap      []byte // text between the last word and the next token
		lastWord bool
	)
	flush := func() {
		if pendCS == "" {
			return
		}
		s, known := decodeCharset(pendCS, pending)
		if !known {
			problems = append(problems, "unknown charset "+strings.ToValidUTF8(pendCS, "?")+" in encoded word")
		}
		out.WriteString(s)
		pending, pendCS = pending[:0], ""
	}
	for i := 0; i < len(raw); {
		cs, data, n := parseWord(raw[i:])
		if n == 0 {
			gap = append(gap, raw[i])
			i++
			continue
		}
		if lastWord && len(bytes.TrimSpace(gap)) == 0 && cs == pendCS {
			pending = append(pending, data...)
		} else {
			flush()
			if !(lastWord && len(bytes.TrimSpace(gap)) == 0) {
				out.WriteString(decodeRaw(gap))
			}
			pendCS = cs
			pending = append(pending[:0], data...)
		}
		gap = gap[:0]
		lastWord = true
		i += n
	}
	flush()
	out.WriteString(decodeRaw(gap))
	return out.String(), problems
}

// maxWordText bounds the encoded text of one word.
const maxWordText = 4096

// parseWord parses an RFC 2047 encoded word at the start of b. It returns the
// normalized charset, the transfer-decoded bytes and the length consumed (0 when b
// does not start with a word). Lenient: bad base64 padding, raw 8-bit bytes and
// spaces inside the encoded text are accepted.
func parseWord(b []byte) (cs string, data []byte, n int) {
	if len(b) < 8 || b[0] != '=' || b[1] != '?' {
		return "", nil, 0
	}
	q1 := bytes.IndexByte(b[2:], '?')
	if q1 <= 0 || q1 > 64 {
		return "", nil, 0
	}
	q1 += 2
	cs = normLabel(string(b[2:q1]))
	if cs == "" || strings.ContainsAny(cs, " \t\r\n") || len(b) < q1+3 || b[q1+2] != '?' {
		return "", nil, 0
	}
	enc := b[q1+1] | 0x20
	if enc != 'b' && enc != 'q' {
		return "", nil, 0
	}
	start := q1 + 3
	// RFC 2047 words are at most 75 bytes; allowing far more keeps broken encoders
	// working while keeping the scan linear in the header size.
	window := b[start:min(len(b), start+maxWordText)]
	end := bytes.Index(window, []byte("?="))
	if end < 0 {
		return "", nil, 0
	}
	text := b[start : start+end]
	if bytes.ContainsAny(text, "\r\n") {
		return "", nil, 0
	}
	if enc == 'b' {
		data, _ = decodeBase64(text)
	} else {
		data = decodeQWord(text)
	}
	return cs, data, start + end + 2
}

// decodeQWord decodes the "Q" encoding of RFC 2047 §4.2, leniently.
func decodeQWord(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]):
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// b64val maps a base64 alphabet byte to its value, 0xFF for anything else.
func b64val(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A'
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26
	case c >= '0' && c <= '9':
		return c - '0' + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	}
	return 0xFF
}

// decodeBase64 decodes base64 leniently: bytes outside the alphabet are skipped and
// counted in invalid (whitespace is not counted), padding may be missing or wrong.
func decodeBase64(src []byte) (out []byte, invalid int) {
	var d b64state
	out = make([]byte, 0, len(src)*3/4+3)
	out, invalid = d.feed(out, src)
	return d.finish(out), invalid
}

// b64state is an incremental lenient base64 decoder; it keeps at most 3 sextets.
type b64state struct {
	acc uint32
	n   int
}

func (d *b64state) feed(out, src []byte) ([]byte, int) {
	invalid := 0
	for i := 0; i < len(src); {
		// Fast path: between quanta, a run of alphabet characters (a line of a
		// well-formed body) is decoded in one go by the standard library; the
		// byte-at-a-time loop below handles line ends, padding and damage.
		if d.n == 0 {
			j := i
			for j < len(src) && b64alphabet[src[j]] {
				j++
			}
			if k := (j - i) &^ 3; k >= 4 {
				start := len(out)
				out = slices.Grow(out, k/4*3)[:start+k/4*3]
				n, err := base64.StdEncoding.Decode(out[start:], src[i:i+k])
				if err == nil {
					out = out[:start+n]
					i += k
					continue
				}
				out = out[:start]
			}
		}
		c := src[i]
		i++
		v := b64val(c)
		if v == 0xFF {
			switch c {
			case '=':
				// Padding ends a quantum; some encoders concatenate padded chunks.
				out = d.finish(out)
			case ' ', '\t', '\r', '\n':
			default:
				invalid++
			}
			continue
		}
		d.acc = d.acc<<6 | uint32(v)
		d.n++
		if d.n == 4 {
			out = append(out, byte(d.acc>>16), byte(d.acc>>8), byte(d.acc))
			d.acc, d.n = 0, 0
		}
	}
	return out, invalid
}

// b64alphabet marks the standard base64 alphabet (no padding).
var b64alphabet = func() (t [256]bool) {
	for c := range 256 {
		t[c] = b64val(byte(c)) != 0xFF
	}
	return t
}()

// finish flushes a partial final quantum (2 sextets → 1 byte, 3 → 2).
func (d *b64state) finish(out []byte) []byte {
	switch d.n {
	case 2:
		out = append(out, byte(d.acc>>4))
	case 3:
		out = append(out, byte(d.acc>>10), byte(d.acc>>2))
	}
	d.acc, d.n = 0, 0
	return out
}
