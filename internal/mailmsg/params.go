package mailmsg

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
)

// maxParamPieces bounds RFC 2231 continuations per parameter.
const maxParamPieces = 256

// mediaValue is a parsed Content-Type or Content-Disposition value.
type mediaValue struct {
	value    string            // lower-case, e.g. "text/plain", "attachment"
	params   map[string]string // decoded values, lower-case names, continuations joined
	raw      map[string]string // undecoded plain values (boundary must not be decoded)
	problems []string
}

type paramPiece struct {
	ext bool
	val []byte
}

// parseMediaValue parses `value; name=val; ...` leniently, unlike mime.ParseMediaType:
// unquoted values with tspecials or 8-bit bytes, unterminated quotes, duplicates
// (the first wins) and RFC 2047 words in quoted values (Outlook, Foxmail, QQ) are
// accepted. RFC 2231: name*=charset'lang'%XX and name*0, name*1* continuations.
// Precedence for one name: name* > name > name*0... (what mail clients do).
func parseMediaValue(b []byte) mediaValue {
	mv := mediaValue{params: map[string]string{}, raw: map[string]string{}}
	semi := bytes.IndexByte(b, ';')
	if semi < 0 {
		semi = len(b)
	}
	mv.value = strings.ToLower(strings.TrimSpace(string(stripComment(b[:semi]))))
	plain := map[string][]byte{}
	single := map[string][]byte{}
	pieces := map[string]map[int]paramPiece{}
	i := semi
	for i < len(b) {
		for i < len(b) && (b[i] == ';' || b[i] == ' ' || b[i] == '\t') {
			i++
		}
		start := i
		for i < len(b) && b[i] != '=' && b[i] != ';' {
			i++
		}
		if i >= len(b) || b[i] == ';' {
			continue // a name without a value: ignore
		}
		name := strings.ToLower(strings.TrimSpace(string(b[start:i])))
		i++ // '='
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		var val []byte
		if i < len(b) && b[i] == '"' {
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] >= 0x80 {
					// A GBK or Big5 pair whole: its trail byte may be 0x5C (功 A5 5C).
					w := charWidth(b, i)
					val = append(val, b[i:i+w]...)
					i += w
					continue
				}
				// Only \" and \\ are taken as escapes: Netscape and Outlook put
				// Windows paths (C:\TEMP\x.png) in quoted file names.
				if b[i] == '\\' && i+1 < len(b) && (b[i+1] == '"' || b[i+1] == '\\') {
					i++
				}
				val = append(val, b[i])
				i++
			}
			i++ // closing quote (or past the end)
			for i < len(b) && b[i] != ';' {
				i++ // junk after the quoted string
			}
		} else {
			start := i
			for i < len(b) && b[i] != ';' {
				i++
			}
			val = bytes.TrimSpace(b[start:i])
			val = bytes.Trim(val, "'")
		}
		if name == "" {
			continue
		}
		switch star := strings.IndexByte(name, '*'); {
		case star < 0:
			if _, dup := plain[name]; !dup {
				plain[name] = val
			}
		case star == len(name)-1:
			if _, dup := single[name[:star]]; !dup {
				single[name[:star]] = val
			}
		default:
			base, rest := name[:star], name[star+1:]
			ext := strings.HasSuffix(rest, "*")
			n, err := strconv.Atoi(strings.TrimSuffix(rest, "*"))
			if err != nil || n < 0 || n >= maxParamPieces {
				continue
			}
			if pieces[base] == nil {
				pieces[base] = map[int]paramPiece{}
			}
			if _, dup := pieces[base][n]; !dup {
				pieces[base][n] = paramPiece{ext: ext, val: val}
			}
		}
	}
	for name, v := range plain {
		mv.raw[name] = string(v)
	}
	for name, ps := range pieces {
		if _, ok := plain[name]; ok {
			continue
		}
		if _, ok := single[name]; ok {
			continue
		}
		mv.params[name] = mv.joinPieces(ps)
	}
	for name, v := range plain {
		if _, ok := single[name]; ok {
			continue
		}
		s, probs := decodeText(v)
		mv.params[name] = s
		mv.problems = append(mv.problems, probs...)
	}
	for name, v := range single {
		mv.params[name] = mv.decode2231(v, true)
	}
	return mv
}

// decode2231 decodes an RFC 2231 extended value charset'lang'%XX%XX.
func (mv *mediaValue) decode2231(v []byte, withCharset bool) string {
	cs := ""
	if withCharset {
		if a := bytes.IndexByte(v, '\''); a >= 0 {
			if b := bytes.IndexByte(v[a+1:], '\''); b >= 0 {
				cs = string(v[:a])
				v = v[a+1+b+1:]
			}
		}
	}
	return mv.decodeIn(cs, pctDecode(v))
}

func (mv *mediaValue) decodeIn(cs string, b []byte) string {
	if normLabel(cs) == "" {
		s, probs := decodeText(b)
		mv.problems = append(mv.problems, probs...)
		return s
	}
	s, known := decodeCharset(cs, b)
	if !known {
		mv.problems = append(mv.problems, "unknown charset "+strings.ToValidUTF8(normLabel(cs), "?")+" in parameter")
	}
	return s
}

// joinPieces joins RFC 2231 continuations 0, 1, 2, ... (stopping at a gap); the
// charset comes from piece 0 when it is extended.
func (mv *mediaValue) joinPieces(ps map[int]paramPiece) string {
	keys := make([]int, 0, len(ps))
	for k := range ps {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var buf []byte
	cs := ""
	for i, k := range keys {
		if k != i {
			break
		}
		p := ps[k]
		v := p.val
		if p.ext {
			if k == 0 {
				if a := bytes.IndexByte(v, '\''); a >= 0 {
					if b := bytes.IndexByte(v[a+1:], '\''); b >= 0 {
						cs = string(v[:a])
						v = v[a+1+b+1:]
					}
				}
			}
			v = pctDecode(v)
		}
		buf = append(buf, v...)
	}
	return mv.decodeIn(cs, buf)
}

func pctDecode(v []byte) []byte {
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
			out = append(out, unhex(v[i+1])<<4|unhex(v[i+2]))
			i += 2
			continue
		}
		out = append(out, v[i])
	}
	return out
}

// stripComment removes RFC 5322 comments "(...)" from a short token such as a media
// type or transfer encoding.
func stripComment(b []byte) []byte {
	if bytes.IndexByte(b, '(') < 0 {
		return b
	}
	var out []byte
	depth := 0
	for _, c := range b {
		switch {
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			out = append(out, c)
		}
	}
	return out
}
