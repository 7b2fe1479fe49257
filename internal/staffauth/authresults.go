// SPDX-License-Identifier: MIT

package staffauth

import (
	"strings"
)

// arResult is one resinfo of an Authentication-Results header (RFC 8601 §2.2):
// "dkim=pass header.d=example.cn".
type arResult struct {
	method string            // lower case, without a version ("dkim")
	result string            // lower case ("pass")
	props  map[string]string // "header.d" -> "example.cn" (lower case, unquoted)
}

// authResults is one parsed Authentication-Results header.
type authResults struct {
	servID  string
	results []arResult
}

// parseAuthResults parses a header value (the "Authentication-Results:" name is
// tolerated). Comments are dropped, quoted strings kept; a malformed resinfo is
// skipped, never guessed at.
func parseAuthResults(v string) authResults {
	v = strings.TrimSpace(v)
	if len(v) >= 23 && strings.EqualFold(v[:23], "Authentication-Results:") {
		v = v[23:]
	}
	parts := splitSemicolons(stripComments(v))
	var ar authResults
	if len(parts) == 0 {
		return ar
	}
	if f := strings.Fields(parts[0]); len(f) > 0 {
		ar.servID = strings.ToLower(f[0])
	}
	for _, p := range parts[1:] {
		toks := tokens(p)
		if len(toks) == 0 {
			continue
		}
		eq := strings.IndexByte(toks[0], '=')
		if eq <= 0 {
			continue // "none" or garbage
		}
		r := arResult{
			method: strings.ToLower(toks[0][:eq]),
			result: strings.ToLower(unquote(toks[0][eq+1:])),
			props:  map[string]string{},
		}
		if slash := strings.IndexByte(r.method, '/'); slash >= 0 {
			r.method = r.method[:slash]
		}
		for _, t := range toks[1:] {
			eq := strings.IndexByte(t, '=')
			if eq <= 0 {
				continue
			}
			k := strings.ToLower(t[:eq])
			if _, dup := r.props[k]; !dup {
				r.props[k] = strings.ToLower(unquote(t[eq+1:]))
			}
		}
		ar.results = append(ar.results, r)
	}
	return ar
}

// stripComments removes RFC 5322 comments (nested parentheses, backslash escapes),
// leaving quoted strings alone.
func stripComments(s string) string {
	var b strings.Builder
	depth, inQuote := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && (depth > 0 || inQuote):
			if depth == 0 {
				b.WriteByte(c)
				if i+1 < len(s) {
					b.WriteByte(s[i+1])
				}
			}
			i++
		case inQuote:
			b.WriteByte(c)
			if c == '"' {
				inQuote = false
			}
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
			b.WriteByte(' ')
		case depth > 0:
		case c == '"':
			inQuote = true
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// splitSemicolons splits at ';' outside quoted strings.
func splitSemicolons(s string) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			inQuote = !inQuote
		case ';':
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// tokens splits a resinfo into "key=value" words, joining "key = value" (CFWS around
// '=' is legal) and keeping quoted values whole.
func tokens(s string) []string {
	var words []string
	var cur strings.Builder
	inQuote := false
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && inQuote && i+1 < len(s):
			cur.WriteByte(c)
			cur.WriteByte(s[i+1])
			i++
		case c == '"':
			inQuote = !inQuote
			cur.WriteByte(c)
		case !inQuote && (c == ' ' || c == '\t' || c == '\r' || c == '\n'):
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	var out []string
	for _, w := range words {
		if n := len(out); n > 0 && (w == "=" || strings.HasPrefix(w, "=") || strings.HasSuffix(out[n-1], "=")) {
			out[n-1] += w
			continue
		}
		out = append(out, w)
	}
	return out
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
		s = strings.ReplaceAll(s, `\"`, `"`)
		s = strings.ReplaceAll(s, `\\`, `\`)
	}
	return s
}

// domainOf returns the domain of "user@d", "@d" or "d".
func domainOf(s string) string {
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		s = s[at+1:]
	}
	return strings.TrimSuffix(strings.ToLower(s), ".")
}

// checkAuthResults accepts a pass in the topmost header when it is ours: dkim=pass
// whose header.d or header.i domain is the From domain (strict alignment, as no public
// suffix list is available to compute organisational domains), spf=pass whose
// smtp.mailfrom domain is the From domain, or dmarc=pass whose header.from is the
// From domain.
func checkAuthResults(cfg Config, trace []Trace, fromDomain string) (bool, string) {
	if strings.TrimSpace(cfg.AuthServID) == "" {
		return false, "no authserv-id configured"
	}
	headers, why := ourAuthResults(cfg, trace)
	if len(headers) == 0 {
		return false, why
	}
	top := parseAuthResults(headers[0])
	if !strings.EqualFold(top.servID, strings.TrimSpace(cfg.AuthServID)) {
		return false, "topmost Authentication-Results is not ours (authserv-id " + quote(top.servID) + ")"
	}
	var unaligned string
	for _, r := range top.results {
		if r.result != "pass" {
			continue
		}
		switch r.method {
		case "dkim":
			for _, k := range []string{"header.d", "header.i"} {
				if v, ok := r.props[k]; ok && domainOf(v) == fromDomain {
					return true, "dkim=pass " + k + "=" + v
				}
			}
			unaligned = "dkim=pass for another domain " + quote(domainOf(r.props["header.d"]))
		case "spf":
			if v, ok := r.props["smtp.mailfrom"]; ok && domainOf(v) == fromDomain {
				return true, "spf=pass smtp.mailfrom=" + domainOf(v)
			}
			unaligned = "spf=pass for another domain " + quote(domainOf(r.props["smtp.mailfrom"]))
		case "dmarc":
			if v, ok := r.props["header.from"]; ok && domainOf(v) == fromDomain {
				return true, "dmarc=pass header.from=" + domainOf(v)
			}
		}
	}
	if unaligned != "" {
		return false, "no dkim/spf pass in our Authentication-Results for the From domain (" + unaligned + ")"
	}
	return false, "no dkim/spf pass in our Authentication-Results"
}

// ourAuthResults are the Authentication-Results headers our own border added: those
// above the Received header it wrote (RFC 8601 §5: a receiver trusts only what its own
// border added, above the sender's headers). A header written by the sender sits below
// that line; a mail without it (delivered around our border) has none we trust.
func ourAuthResults(cfg Config, trace []Trace) ([]string, string) {
	hop := strings.ToLower(strings.TrimSpace(cfg.TrustedHop))
	border := -1
	for i, t := range trace {
		if t.Received && (hop == "" || receivedByHop(t.Value, hop)) {
			border = i
			break
		}
	}
	if border < 0 {
		if hop != "" {
			return nil, "no Received header by our border " + quote(hop) + ": no Authentication-Results can be trusted"
		}
		return nil, "no Received header: no Authentication-Results can be trusted"
	}
	var ours []string
	for _, t := range trace[:border] {
		if !t.Received {
			ours = append(ours, t.Value)
		}
	}
	if len(ours) == 0 {
		return nil, "no Authentication-Results added by our border (above its Received header)"
	}
	return ours, ""
}

// receivedByHop reports whether a Received header says "by hop" anywhere. The client
// writes part of the line: the name it gave in HELO comes right after "from", as sent,
// and may be several words ("HELO x by evil.example"), "by" itself, or hold a
// parenthesis or a quote. Reading only the first "by" of the line let such a HELO hide
// our border's line, so a Received line the sender wrote lower down was taken for it
// and the sender's own Authentication-Results trusted (found in review). The pair
// anywhere in the line cannot be hidden; a client can only add it to our own line, and
// the topmost line that has it is taken.
func receivedByHop(v, hop string) bool {
	f := strings.Fields(v)
	for i := 0; i+1 < len(f); i++ {
		if strings.EqualFold(f[i], "by") && strings.EqualFold(strings.TrimRight(f[i+1], ";"), hop) {
			return true
		}
	}
	return false
}
