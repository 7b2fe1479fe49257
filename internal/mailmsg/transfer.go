package mailmsg

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
)

// Content-Transfer-Encodings after normCTE.
const (
	cteIdentity = ""
	cteBase64   = "base64"
	cteQP       = "quoted-printable"
	cteUU       = "uuencode"
)

// cteSeparators are dropped from an encoding's name (built once, not per part).
var cteSeparators = strings.NewReplacer(" ", "", "_", "", "-", "")

// normCTE maps a Content-Transfer-Encoding value to one of the cte constants; known
// is false for an encoding we cannot decode (the bytes are then kept as they are).
// Lenient spellings seen in the wild: "quoted printable", "x-uuencode", an empty value.
func normCTE(b []byte) (cte string, known bool) {
	s := strings.ToLower(strings.TrimSpace(string(stripComment(b))))
	s = strings.Trim(s, "\"'")
	switch cteSeparators.Replace(s) {
	case "", "7bit", "8bit", "binary", "none":
		return cteIdentity, true
	case "base64", "xbase64":
		return cteBase64, true
	case "quotedprintable", "qp":
		return cteQP, true
	case "xuuencode", "uuencode", "xuue", "uue":
		return cteUU, true
	}
	return cteIdentity, false
}

// transferDecoder streams the decoding of cte over r. Every decoder is lenient and
// never fails on bad input, only on errors of r.
func transferDecoder(r io.Reader, cte string) io.Reader {
	var fn func(out, line []byte, eof bool) []byte
	switch cte {
	case cteBase64:
		return &b64Reader{r: r}
	case cteQP:
		fn = func(out, line []byte, eof bool) []byte { return qpLine(out, line, eof) }
	case cteUU:
		var st uuState
		fn = st.line
	default:
		return r
	}
	return &lineDecoder{br: bufio.NewReaderSize(r, 8<<10), fn: fn}
}

// lineDecoder applies fn to r one line (or one buffer-full) at a time.
type lineDecoder struct {
	br   *bufio.Reader
	fn   func(out, line []byte, eof bool) []byte
	out  []byte
	pend []byte
	err  error
}

func (d *lineDecoder) Read(p []byte) (int, error) {
	for len(d.pend) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		chunk, err := d.br.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			d.err = err
		}
		d.out = d.fn(d.out[:0], chunk, d.err != nil)
		d.pend = d.out
	}
	n := copy(p, d.pend)
	d.pend = d.pend[n:]
	return n, nil
}

// b64Reader decodes base64 a block at a time: a well-formed body (the alphabet in
// lines of any length, CRLF or LF) goes through the standard library's decoder in one
// call per block; a block it rejects (spaces, damage, padding in the middle) goes
// through the lenient b64state. Blocks end at a line break, so a partial quantum
// rarely spans two of them; when it does, b64state carries it.
type b64Reader struct {
	r    io.Reader
	st   b64state
	in   []byte // the block being filled; in[:n] read, not yet decoded
	n    int
	out  []byte
	pend []byte
	err  error
}

const b64Block = 32 << 10

// b64Buffers recycles the blocks of a b64Reader (read and decoded, 32 KiB each): made
// per attachment they were a seventh of the bytes the daemon allocated during a
// backlog (issue 18). A reader gives them back when it reaches the end of its input;
// one abandoned earlier leaves them to the collector.
var b64Buffers = sync.Pool{New: func() any { b := make([]byte, b64Block); return &b }}

func (d *b64Reader) recycle() {
	for _, b := range []*[]byte{&d.in, &d.out} {
		if cap(*b) == b64Block {
			full := (*b)[:b64Block]
			b64Buffers.Put(&full)
		}
		*b = nil
	}
	d.pend = nil
}

// next decodes the next block into d.out; false when nothing is left.
func (d *b64Reader) next() bool {
	if d.in == nil {
		d.in = *b64Buffers.Get().(*[]byte)
		d.out = (*b64Buffers.Get().(*[]byte))[:0]
	}
	for d.err == nil && d.n < len(d.in) {
		m, err := d.r.Read(d.in[d.n:])
		d.n += m
		if err != nil {
			d.err = err
		}
	}
	block := d.in[:d.n]
	if d.err == nil {
		if i := bytes.LastIndexByte(block, '\n'); i >= 0 {
			block = block[:i+1]
		}
	}
	if len(block) == 0 && d.err != nil {
		d.out = d.st.finish(d.out[:0])
		d.pend = d.out
		return len(d.out) > 0
	}
	d.out = d.decode(d.out[:0], block)
	if d.err != nil && len(block) == d.n {
		d.out = d.st.finish(d.out)
	}
	d.n = copy(d.in, d.in[len(block):d.n])
	d.pend = d.out
	return true
}

func (d *b64Reader) decode(out, block []byte) []byte {
	start := len(out)
	if d.st.n == 0 {
		out = slices.Grow(out, len(block)/4*3+3)
		// The whole lines first, then whatever they left (the padded end, an
		// irregular line) through the standard library: together they accept
		// exactly what it accepts on the whole block, and decode it the same.
		var used int
		out, used = decodeLines(out, block)
		if used == len(block) {
			return out
		}
		n0 := len(out)
		if n, err := base64.StdEncoding.Decode(out[n0:cap(out)], block[used:]); err == nil {
			return out[:n0+n]
		}
		out = out[:start]
	}
	out, _ = d.st.feed(out, block)
	return out
}

// b64Quantum maps a character of the base64 alphabet to its six bits, placed where
// the character's position in a quantum puts them; any other byte to b64Invalid.
// Four look-ups and an OR make a quantum's three bytes: the standard library's
// decoder takes a slower path at every line break, which base64 bodies have every
// 76 characters (its Decode was 15% of the daemon's CPU in a 10,000-mail backlog).
var b64Quantum [4][256]uint32

const b64Invalid = 0xFF000000

func init() {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range b64Quantum {
		for c := range b64Quantum[i] {
			b64Quantum[i][c] = b64Invalid
		}
	}
	for v, c := range []byte(alphabet) {
		for i := range b64Quantum {
			b64Quantum[i][c] = uint32(v) << (18 - 6*i)
		}
	}
}

// decodeLines decodes the whole lines at the start of src (ending in "\n", "\r\n" or
// at the end of src) that are made of complete quanta of the alphabet, without
// padding, and appends them to dst. It stops at the first line that is not, and
// reports how many bytes of src it consumed.
func decodeLines(dst, src []byte) (_ []byte, used int) {
	// Lines of a body have one length: the next is first taken to be as long as
	// the last (its end checked, its content checked by decodeQuanta, which refuses
	// a line break), and only searched for when it is not.
	width := 0 // the last line's, with its line break
	for used < len(src) {
		rest := src[used:]
		line, next := rest, len(rest)
		if width > 0 && width <= len(rest) && rest[width-1] == '\n' {
			line, next = rest[:width-1], width
		} else if end := bytes.IndexByte(rest, '\n'); end >= 0 {
			line, next = rest[:end], end+1
		}
		body := line
		if len(body) > 0 && body[len(body)-1] == '\r' {
			body = body[:len(body)-1]
		}
		if len(body)%4 == 0 {
			n0, m := len(dst), len(body)/4*3
			dst = slices.Grow(dst, m+2) // decodeQuanta stores 8 bytes for 6
			if decodeQuanta(dst[n0:n0+m+2], body) {
				dst = dst[:n0+m]
				used += next
				width = next
				continue
			}
		}
		if width == 0 || next != width {
			break // the line as found: not one to take
		}
		width = 0 // the guess was wrong: find where this line ends
	}
	return dst, used
}

// decodeQuanta decodes in (whole quanta) into out, which has two bytes to spare,
// and reports whether every character was of the alphabet. It checks once at the
// end, not per quantum: out holds garbage when it reports false.
func decodeQuanta(out, in []byte) bool {
	t0, t1, t2, t3 := &b64Quantum[0], &b64Quantum[1], &b64Quantum[2], &b64Quantum[3]
	var bad uint32
	for len(in) >= 16 && len(out) >= 14 {
		x := t0[in[0]] | t1[in[1]] | t2[in[2]] | t3[in[3]]
		y := t0[in[4]] | t1[in[5]] | t2[in[6]] | t3[in[7]]
		z := t0[in[8]] | t1[in[9]] | t2[in[10]] | t3[in[11]]
		w := t0[in[12]] | t1[in[13]] | t2[in[14]] | t3[in[15]]
		bad |= x | y | z | w
		binary.BigEndian.PutUint64(out, uint64(x)<<40|uint64(y)<<16)
		binary.BigEndian.PutUint64(out[6:], uint64(z)<<40|uint64(w)<<16)
		in, out = in[16:], out[12:]
	}
	for len(in) >= 4 && len(out) >= 3 {
		x := t0[in[0]] | t1[in[1]] | t2[in[2]] | t3[in[3]]
		bad |= x
		out[0], out[1], out[2] = byte(x>>16), byte(x>>8), byte(x)
		in, out = in[4:], out[3:]
	}
	return bad&b64Invalid == 0
}

func (d *b64Reader) Read(p []byte) (int, error) {
	for len(d.pend) == 0 {
		if d.err != nil && d.n == 0 {
			d.recycle()
			if errors.Is(d.err, io.EOF) {
				return 0, io.EOF
			}
			return 0, d.err
		}
		d.next()
	}
	k := copy(p, d.pend)
	d.pend = d.pend[k:]
	return k, nil
}

// WriteTo hands each decoded block to w without a copy (io.Copy uses it).
func (d *b64Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(d.pend) > 0 {
			k, err := w.Write(d.pend)
			total += int64(k)
			d.pend = d.pend[k:]
			if err != nil {
				return total, err
			}
			continue
		}
		if d.err != nil && d.n == 0 {
			d.recycle()
			if errors.Is(d.err, io.EOF) {
				return total, nil
			}
			return total, d.err
		}
		d.next()
	}
}

// qpLine decodes one line of quoted-printable (RFC 2045 §6.7), leniently: a bad
// escape is kept literally, 8-bit and control bytes pass through, trailing
// whitespace is dropped, "=" at the end of a line is a soft break.
func qpLine(out, line []byte, eof bool) []byte {
	body := trimEOL(line)
	eol := line[len(body):]
	if len(eol) > 0 || eof {
		body = bytes.TrimRight(body, " \t")
	}
	soft := false
	if (len(eol) > 0 || eof) && len(body) > 0 && body[len(body)-1] == '=' {
		soft = true
		body = body[:len(body)-1]
	}
	for i := 0; i < len(body); i++ {
		if body[i] == '=' && i+2 < len(body) && isHex(body[i+1]) && isHex(body[i+2]) {
			out = append(out, unhex(body[i+1])<<4|unhex(body[i+2]))
			i += 2
			continue
		}
		out = append(out, body[i])
	}
	if !soft {
		out = append(out, eol...)
	}
	return out
}

// uuState decodes a uuencoded body ("begin 644 name" ... "end").
type uuState struct {
	begun, ended bool
}

func (u *uuState) line(out, line []byte, _ bool) []byte {
	l := bytes.TrimRight(trimEOL(line), " \t")
	switch {
	case u.ended:
		return out
	case !u.begun:
		u.begun = bytes.HasPrefix(l, []byte("begin "))
		return out
	case bytes.Equal(l, []byte("end")):
		u.ended = true
		return out
	case len(l) == 0:
		return out
	}
	n := int((l[0] - ' ') & 63)
	l = l[1:]
	for i := 0; n > 0 && i+1 < len(l); i += 4 {
		var q [4]byte
		for j := 0; j < 4; j++ {
			if i+j < len(l) {
				q[j] = (l[i+j] - ' ') & 63
			}
		}
		b := [3]byte{q[0]<<2 | q[1]>>4, q[1]<<4 | q[2]>>2, q[2]<<6 | q[3]}
		k := min(n, 3)
		out = append(out, b[:k]...)
		n -= k
	}
	return out
}
