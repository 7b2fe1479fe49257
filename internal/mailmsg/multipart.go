package mailmsg

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// multipartReader splits a multipart body at its boundary (RFC 2046 §5.1.1) one line
// at a time, so a part is never held in memory. Lenient: a missing close delimiter
// ends the last part at EOF (unterminated), a boundary that never appears yields no
// parts (noParts). A delimiter line must be "--boundary" followed only by "--" and
// whitespace, so an inner boundary that has the outer one as a prefix is not taken
// for it.
type multipartReader struct {
	br           *bufio.Reader
	dash         []byte // "--" + boundary
	nlDash       []byte // "\n--" + boundary: where a delimiter line can begin
	lineByLine   bool   // tests: no bulk path, every line goes through delim
	started      bool
	done         bool
	unterminated bool
	noParts      bool
	err          error // read error of the underlying reader (not EOF)
	cur          *partReader
}

func newMultipartReader(r io.Reader, boundary string) *multipartReader {
	return &multipartReader{
		br:     bufio.NewReaderSize(r, 8<<10),
		dash:   append([]byte("--"), boundary...),
		nlDash: append([]byte("\n--"), boundary...),
	}
}

// delim reports whether line (a complete line) is a delimiter, and a close one.
func (m *multipartReader) delim(line []byte) (isDelim, isClose bool) {
	l := trimEOL(line)
	if !bytes.HasPrefix(l, m.dash) {
		return false, false
	}
	rest := l[len(m.dash):]
	if bytes.HasPrefix(rest, []byte("--")) {
		isClose = true
		rest = rest[2:]
	}
	if len(bytes.Trim(rest, " \t")) != 0 {
		return false, false
	}
	return true, isClose
}

// next returns the body of the next part, or io.EOF. The previous part is drained.
func (m *multipartReader) next() (*partReader, error) {
	if m.cur != nil {
		if _, err := io.Copy(io.Discard, m.cur); err != nil {
			return nil, err
		}
		m.cur = nil
	}
	if m.err != nil {
		return nil, m.err
	}
	if m.done {
		return nil, io.EOF
	}
	if !m.started {
		m.started = true
		atStart := true
		for {
			chunk, err := m.br.ReadSlice('\n')
			if atStart && len(chunk) > 0 && !errors.Is(err, bufio.ErrBufferFull) {
				if ok, isClose := m.delim(chunk); ok {
					if isClose {
						m.done, m.noParts = true, true
						return nil, io.EOF
					}
					break
				}
			}
			atStart = err == nil
			if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
				m.done, m.noParts = true, true
				if !errors.Is(err, io.EOF) {
					m.err = err
					return nil, err
				}
				return nil, io.EOF
			}
		}
	}
	m.cur = &partReader{m: m, atStart: true}
	return m.cur, nil
}

// partReader reads one part body; the line break before the next delimiter belongs to
// the delimiter and is not returned.
type partReader struct {
	m       *multipartReader
	atStart bool
	eof     bool
	held    []byte // line break of the previous line, returned only if more content follows
	pend    []byte
	// after is content bulk took, still in m.br's buffer: returned after pend. It
	// stays valid because nothing reads m.br before this reader has returned it
	// (next drains the part first); copying it out cost one more copy of every
	// attachment's bytes.
	after []byte
	buf   []byte
}

func (p *partReader) Read(b []byte) (int, error) {
	m := p.m
	for len(p.pend) == 0 {
		if len(p.after) > 0 {
			p.pend, p.after = p.after, nil
			break
		}
		if m.err != nil {
			return 0, m.err
		}
		if p.eof {
			return 0, io.EOF
		}
		if p.bulk() {
			continue
		}
		chunk, err := m.br.ReadSlice('\n')
		full := errors.Is(err, bufio.ErrBufferFull)
		if full && chunk[len(chunk)-1] == '\r' {
			// A CR at the cut of a long line may begin the line break: it is
			// read again with what follows.
			m.br.UnreadByte()
			chunk = chunk[:len(chunk)-1]
		}
		lineStart := p.atStart
		p.atStart = err == nil
		if lineStart && len(chunk) > 0 && !full {
			if ok, isClose := m.delim(chunk); ok {
				p.eof = true
				m.done = isClose
				p.held = p.held[:0]
				continue
			}
		}
		if err != nil && !full {
			p.eof = true
			m.done, m.unterminated = true, true
			if !errors.Is(err, io.EOF) {
				m.err = err
			}
			// The final line break is content when no delimiter follows.
			p.buf = append(append(p.buf[:0], p.held...), chunk...)
			p.held = p.held[:0]
			p.pend = p.buf
			continue
		}
		body, eol := chunk, []byte(nil)
		if err == nil {
			l := trimEOL(chunk)
			body, eol = chunk[:len(l)], chunk[len(l):]
		}
		p.buf = append(append(p.buf[:0], p.held...), body...)
		p.held = append(p.held[:0], eol...)
		p.pend = p.buf
	}
	n := copy(b, p.pend)
	p.pend = p.pend[n:]
	return n, nil
}

// bulk takes from the buffered input, in one piece, every byte that cannot belong to
// a delimiter line, so that a megabyte of base64 is not handled line by line. It
// stops before the line break that precedes a possible delimiter, which the line path
// then decides on, and returns false when it took nothing.
func (p *partReader) bulk() bool {
	m := p.m
	if m.lineByLine {
		return false
	}
	if m.br.Buffered() == 0 {
		if _, err := m.br.Peek(1); err != nil {
			return false // end of input or an error: the line path reports it
		}
	}
	d, _ := m.br.Peek(m.br.Buffered())
	if p.atStart && startsDash(d, m.dash) {
		return false // this very line may be a delimiter
	}
	var take, keep int // d[:take] is content; d[take:keep] the held line break
	if i := indexDelimiter(d, m.nlDash); i >= 0 {
		keep = i + 1
	} else if i := bytes.LastIndexByte(d, '\n'); i >= 0 {
		keep = i + 1 // the last, partial line may begin a delimiter
	} else {
		// One line's middle. A final CR stays: it may begin the line break.
		take = len(d)
		if d[take-1] == '\r' {
			take--
		}
		keep = take
	}
	if take == 0 && keep > 0 {
		take = keep - 1
		if take > 0 && d[take-1] == '\r' {
			take--
		}
	}
	if keep == 0 {
		return false
	}
	p.buf = append(p.buf[:0], p.held...)
	p.pend, p.after = p.buf, d[:take]
	p.held = append(p.held[:0], d[take:keep]...)
	p.atStart = take < keep
	m.br.Discard(keep)
	return true
}

// startsDash reports whether d begins with dash, or is a beginning of it.
func startsDash(d, dash []byte) bool {
	n := min(len(d), len(dash))
	return bytes.Equal(d[:n], dash[:n])
}

// indexDelimiter is bytes.Index(d, nlDash), nlDash being "\n--" and a boundary,
// found from its dashes: base64, most of what a part holds, has none, so one
// IndexByte crosses the buffer, where bytes.Index stops at every line break
// (2.6% of the daemon's CPU in a 10,000-mail backlog).
func indexDelimiter(d, nlDash []byte) int {
	for from := 1; from < len(d); {
		j := bytes.IndexByte(d[from:], '-')
		if j < 0 {
			return -1
		}
		i := from + j - 1 // where the delimiter would begin, at its "\n"
		if bytes.HasPrefix(d[i:], nlDash) {
			return i
		}
		from += j + 1
	}
	return -1
}
