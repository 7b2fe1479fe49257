package routing

import (
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A literal gate is a necessary condition for a rule's pattern to match: one of a few
// literal strings that every match contains occurs in the text (both compared
// case-folded). Most texts hold none of a rule's literals, and a look for a few
// strings costs far less than running the pattern, which has no literal prefix to
// skip ahead with (its alternatives begin differently) and so is tried at every
// position: the rules were 3.5% of the daemon's CPU during a backlog (issue 18).
//
// gateLiterals returns the literals, case-folded (caseFold), or ok false when the
// pattern does not require any (a rule without a gate is always run).
func gateLiterals(expr string) (lits []string, ok bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, false
	}
	set, ok := required(re.Simplify())
	if !ok {
		return nil, false
	}
	for _, s := range set {
		if s == "" {
			return nil, false // an empty literal is in every text
		}
		lits = append(lits, caseFold(s))
	}
	return lits, true
}

// maxGateLiterals bounds the literals of one gate: past it the look costs more than
// it saves.
const maxGateLiterals = 64

// required is a set of strings, one of which every match of re contains; ok false
// when there is none to tell (re can match without any literal text).
func required(re *syntax.Regexp) (set []string, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{string(re.Rune)}, true
	case syntax.OpCharClass:
		// A small class ([师師], a letter in either case) is a set of one-rune
		// literals.
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(set) == 8 {
					return nil, false
				}
				set = append(set, string(r))
			}
		}
		return set, len(set) > 0
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			s, ok := required(sub)
			if !ok || len(set)+len(s) > maxGateLiterals {
				return nil, false
			}
			set = append(set, s...)
		}
		return set, true
	case syntax.OpConcat:
		// Any element's set will do; the one whose shortest literal is longest
		// rules out the most texts.
		best := -1
		for _, sub := range re.Sub {
			s, ok := required(sub)
			if !ok {
				continue
			}
			if m := shortest(s); m > best {
				set, best = s, m
			}
		}
		return set, best > 0
	}
	return nil, false
}

func shortest(set []string) int {
	m := -1
	for _, s := range set {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}

// caseFold maps every rune of s to the least rune of its case-folding orbit (the
// runes (?i) takes for one another: k, K and the Kelvin sign K), so that a text
// holds a literal case-insensitively exactly when its fold holds the literal's.
func caseFold(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			// The least of an ASCII letter's orbit is its capital (k and s have
			// non-ASCII members, K and ſ, which are greater).
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
		i += n
	}
	return b.String()
}

// gateOpen reports whether folded (a text through caseFold) holds one of lits.
func gateOpen(folded string, lits []string) bool {
	for _, l := range lits {
		if strings.Contains(folded, l) {
			return true
		}
	}
	return false
}
