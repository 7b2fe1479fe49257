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
	started      bool
	done         bool
	unterminated bool
	noParts      bool
	err          error // read error of the underlying reader (not EOF)
	cur          *partReader
}

func newMultipartReader(r io.Reader, boundary string) *multipartReader {
	return &multipartReader{
		br:   bufio.NewReaderSize(r, 8<<10),
		dash: append([]byte("--"), boundary...),
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
	buf     []byte
}

func (p *partReader) Read(b []byte) (int, error) {
	m := p.m
	for len(p.pend) == 0 {
		if m.err != nil {
			return 0, m.err
		}
		if p.eof {
			return 0, io.EOF
		}
		chunk, err := m.br.ReadSlice('\n')
		full := errors.Is(err, bufio.ErrBufferFull)
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
