package mailmsg

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// maxAddresses bounds the mailboxes kept from one header.
const maxAddresses = 1000

// parseAddressList parses an address header leniently, on raw bytes so 8-bit GBK or
// UTF-8 display names survive (RFC 6532 and plain misbehaviour alike):
//   - a missing comma between two "Name <addr>" mailboxes (mal08) gives two;
//   - comments stay part of the display name, decoded: `Jason Lee (=?GB2312?...?=)`;
//   - group syntax `undisclosed:;` yields nothing; a phrase with no address gives an
//     Address with only Name;
//   - encoded words are decoded inside quotes too.
func parseAddressList(raw []byte) []Address {
	var out []Address
	for _, elem := range splitTopLevel(raw, ',') {
		elem = bytes.TrimSpace(elem)
		// Group syntax: "name:" prefix and ";" suffix.
		if c := indexTopLevel(elem, ':'); c >= 0 && bytes.IndexByte(elem[:c], '<') < 0 && bytes.IndexByte(elem[:c], '@') < 0 {
			elem = bytes.TrimSpace(elem[c+1:])
		}
		elem = bytes.TrimSpace(bytes.TrimRight(elem, "; \t"))
		if len(elem) == 0 {
			continue
		}
		out = append(out, parseMailboxes(elem)...)
		if len(out) >= maxAddresses {
			return out[:maxAddresses]
		}
	}
	return out
}

// parseMailboxes parses one comma-free element, which may still hold several
// "Name <addr>" pairs.
func parseMailboxes(elem []byte) []Address {
	var out []Address
	rest := elem
	for {
		lt := indexTopLevel(rest, '<')
		if lt < 0 {
			break
		}
		gt := bytes.IndexByte(rest[lt:], '>')
		if gt < 0 {
			break
		}
		out = append(out, Address{
			Name:    decodeName(rest[:lt]),
			Address: normAddr(rest[lt+1 : lt+gt]),
		})
		rest = rest[lt+gt+1:]
	}
	if len(out) > 0 {
		if name := decodeName(rest); name != "" && out[len(out)-1].Name == "" {
			out[len(out)-1].Name = name // "<addr> (Name)"
		}
		return out
	}
	// No angle brackets: "addr", "addr (Name)", or a bare phrase.
	for _, tok := range bytes.Fields(stripComment(elem)) {
		if bytes.IndexByte(tok, '@') > 0 {
			name := ""
			if o := bytes.IndexByte(elem, '('); o >= 0 {
				if c := bytes.LastIndexByte(elem, ')'); c > o {
					name = decodeName(elem[o+1 : c])
				}
			}
			return []Address{{Name: name, Address: normAddr(tok)}}
		}
	}
	return []Address{{Name: decodeName(elem)}}
}

// decodeName decodes a display name: quotes and backslash escapes removed, encoded
// words (also inside quotes) and raw 8-bit bytes decoded.
func decodeName(b []byte) string {
	b = bytes.TrimSpace(b)
	if bytes.IndexByte(b, '"') >= 0 {
		var u []byte
		inQ := false
		for i := 0; i < len(b); i++ {
			switch c := b[i]; {
			case c >= 0x80:
				w := charWidth(b, i)
				u = append(u, b[i:i+w]...)
				i += w - 1
			case c == '"':
				inQ = !inQ
			case c == '\\' && inQ && i+1 < len(b) && (b[i+1] == '"' || b[i+1] == '\\'):
				// Only \" and \\ are escapes: Windows paths and stray backslashes stay.
				i++
				u = append(u, b[i])
			default:
				u = append(u, c)
			}
		}
		b = u
	}
	s, _ := decodeText(b)
	return strings.TrimSpace(collapseSpace(s))
}

// normAddr trims an addr-spec, decodes 8-bit bytes and lower-cases the domain.
func normAddr(b []byte) string {
	b = bytes.Trim(bytes.TrimSpace(b), "\"'")
	b = bytes.TrimPrefix(b, []byte("mailto:"))
	s := decodeRaw(b)
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		s = s[:at] + strings.ToLower(s[at:])
	}
	return s
}

// charWidth is the length of the character that starts at b[i], a byte >= 0x80 of a
// raw 8-bit header: a valid UTF-8 sequence, else a GBK or Big5 pair (lead 0x81-0xFE,
// trail 0x40 and up), else the byte alone. Header scanners step over it whole:
// 0x5C, the backslash, is a trail byte of Big5 (功 A5 5C, 許 B3 5C, 珮 AF 5C) and of
// GBK, and taken for a quoted-pair it escaped the quote closing "陳建功", so the
// address became "<chen@example.com.tw>" and the next mailbox was swallowed.
func charWidth(b []byte, i int) int {
	if r, n := utf8.DecodeRune(b[i:]); r != utf8.RuneError || n > 1 {
		return n
	}
	if c := b[i]; c >= 0x81 && c <= 0xFE && i+1 < len(b) && b[i+1] >= 0x40 && b[i+1] != 0x7F {
		return 2
	}
	return 1
}

// splitTopLevel splits b at sep outside quotes, comments and angle brackets.
func splitTopLevel(b []byte, sep byte) [][]byte {
	var out [][]byte
	start := 0
	inQ, depth, angle := false, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= 0x80:
			i += charWidth(b, i) - 1
		case c == '\\' && (inQ || depth > 0):
			i++
		case c == '"' && depth == 0:
			inQ = !inQ
		case inQ:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case c == sep && !angle:
			out = append(out, b[start:i])
			start = i + 1
		}
	}
	return append(out, b[start:])
}

// indexTopLevel returns the index of the first c outside quotes and comments.
func indexTopLevel(b []byte, c byte) int {
	inQ, depth := false, 0
	for i := 0; i < len(b); i++ {
		switch x := b[i]; {
		case x >= 0x80:
			i += charWidth(b, i) - 1
		case x == '\\' && (inQ || depth > 0):
			i++
		case x == '"' && depth == 0:
			inQ = !inQ
		case inQ:
		case x == '(':
			depth++
		case x == ')' && depth > 0:
			depth--
		case depth == 0 && x == c:
			return i
		}
	}
	return -1
}

// MessageIDs reads the IDs of a Message-ID, In-Reply-To or References header value as
// intake records them: what another package that finds a mail again by its Message-ID
// must compare against (imapsource's erasure and quarantine retry).
func MessageIDs(value string) []string { return parseIDs([]byte(value)) }

// parseIDs extracts message IDs from Message-ID, In-Reply-To or References, without
// angle brackets. IDs without brackets (broken clients) are taken as whitespace- or
// comma-separated tokens.
func parseIDs(raw []byte) []string {
	var ids []string
	s := strings.ToValidUTF8(string(stripComment(raw)), "")
	if strings.IndexByte(s, '<') >= 0 {
		for {
			lt := strings.IndexByte(s, '<')
			if lt < 0 {
				break
			}
			gt := strings.IndexByte(s[lt:], '>')
			if gt < 0 {
				if id := strings.TrimSpace(s[lt+1:]); id != "" {
					ids = append(ids, strings.Join(strings.Fields(id), ""))
				}
				break
			}
			// Folding may put whitespace inside an ID (Apple Mail): drop it.
			if id := strings.Join(strings.Fields(s[lt+1:lt+gt]), ""); id != "" {
				ids = append(ids, id)
			}
			s = s[lt+gt+1:]
		}
		return ids
	}
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == ',' || r == '\r' || r == '\n'
	}) {
		if tok = strings.Trim(tok, "<>\"'"); tok != "" {
			ids = append(ids, tok)
		}
	}
	return ids
}
