package mailmsg

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
)

// field is one header field. raw is the value exactly as sent (8-bit bytes kept),
// unfolded (line breaks removed, the folding whitespace kept) and trimmed.
type field struct {
	name string // lower-case
	raw  []byte
}

// header is one header block in the order it was sent (topmost first).
type header struct {
	fields []field
}

// get returns the first value of name (lower-case), nil when absent.
func (h *header) get(name string) []byte {
	for _, f := range h.fields {
		if f.name == name {
			return f.raw
		}
	}
	return nil
}

func (h *header) has(name string) bool {
	for _, f := range h.fields {
		if f.name == name {
			return true
		}
	}
	return false
}

// errHeaderTooBig is returned by readHeader when a header block exceeds its limit.
var errHeaderTooBig = errors.New("header block too big")

// readHeader reads one header block of at most max bytes from br, leniently:
//   - a UTF-8 BOM, an mbox "From " line and whitespace-only lines before the first
//     field are skipped (top-level only for the first two);
//   - a line without a colon right after Content-Type or Content-Disposition that
//     looks like "param=value" continues that field (Outlook forgets the indent);
//   - any other line without a colon ends the header and starts the body; it is
//     returned in pushback so the caller can put it back in front of the body.
//
// The block is never read past max bytes: errHeaderTooBig is returned instead.
// io.EOF before the blank line is not an error (the body is empty).
func readHeader(br *bufio.Reader, max int, top bool) (h header, pushback []byte, err error) {
	total := 0
	first := true
	var line []byte
	for {
		line, err = readLine(br, line[:0], max-total)
		total += len(line)
		if err != nil && !errors.Is(err, io.EOF) {
			return h, nil, err
		}
		if len(line) == 0 {
			return trimFields(h), nil, nil
		}
		l := trimEOL(line)
		if first {
			first = false
			if top {
				l = bytes.TrimPrefix(l, []byte("\xEF\xBB\xBF"))
				if bytes.HasPrefix(l, []byte("From ")) {
					if err != nil {
						return trimFields(h), nil, nil
					}
					continue
				}
			}
		}
		switch {
		case len(l) == 0:
			return trimFields(h), nil, nil
		case l[0] == ' ' || l[0] == '\t':
			if len(h.fields) == 0 {
				break // continuation of nothing (a leading whitespace line): skip
			}
			last := &h.fields[len(h.fields)-1]
			if len(bytes.TrimSpace(l)) > 0 {
				last.raw = append(last.raw, l...)
			}
		default:
			if colon := bytes.IndexByte(l, ':'); colon > 0 {
				name := strings.ToLower(string(bytes.TrimSpace(l[:colon])))
				if name != "" {
					val := bytes.TrimLeft(l[colon+1:], " \t")
					h.fields = append(h.fields, field{name: name, raw: append([]byte(nil), val...)})
					break
				}
			}
			if n := len(h.fields); n > 0 && looksLikeParam(l) {
				if name := h.fields[n-1].name; name == "content-type" || name == "content-disposition" {
					h.fields[n-1].raw = append(append(h.fields[n-1].raw, ' '), l...)
					break
				}
			}
			// Not a header line: the body starts here (mime4j behaviour).
			return trimFields(h), append([]byte(nil), line...), nil
		}
		if err != nil {
			break
		}
	}
	return trimFields(h), nil, nil
}

func trimFields(h header) header {
	for i := range h.fields {
		h.fields[i].raw = bytes.TrimSpace(h.fields[i].raw)
	}
	return h
}

// looksLikeParam reports whether a colon-less line is a MIME parameter, e.g.
// `boundary="abc"` or `name="x.zip"`.
func looksLikeParam(l []byte) bool {
	eq := bytes.IndexByte(l, '=')
	if eq <= 0 {
		return false
	}
	for _, c := range bytes.TrimSpace(l[:eq]) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '*') {
			return false
		}
	}
	return true
}

// readLine appends one line (with its end-of-line) from br to buf, refusing to grow
// it past limit bytes: then it returns errHeaderTooBig without reading further.
func readLine(br *bufio.Reader, buf []byte, limit int) ([]byte, error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > limit {
			return buf, errHeaderTooBig
		}
		buf = append(buf, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return buf, err
	}
}

func trimEOL(l []byte) []byte {
	l = bytes.TrimSuffix(l, []byte("\n"))
	return bytes.TrimSuffix(l, []byte("\r"))
}
