package classify

import (
	"strings"

	"github.com/complaintd/complaintd/internal/hanzi"
)

// foldRune maps one rune to the form this package matches on: full-width ASCII to ASCII,
// the ideographic space to a space, traditional to simplified, ASCII upper to lower case.
// It maps one rune to one rune, so indexes into the folded rune slice are indexes into
// the original.
func foldRune(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		r -= 0xFEE0
	case r == 0x3000 || r == 0x00A0:
		return ' '
	case r == '【' || r == '〔' || r == '［':
		return '['
	case r == '】' || r == '〕' || r == '］':
		return ']'
	case r == '﹕' || r == '︰':
		return ':'
	}
	if s := hanzi.Simplify(r); s != r {
		return s
	}
	if r >= 'A' && r <= 'Z' {
		r += 'a' - 'A'
	}
	return r
}

// fold returns s with every rune folded by foldRune.
func fold(s string) string {
	return strings.Map(foldRune, s)
}

// foldRunes returns the folded runes of s, index-aligned with []rune(s).
func foldRunes(rs []rune) []rune {
	out := make([]rune, len(rs))
	for i, r := range rs {
		out[i] = foldRune(r)
	}
	return out
}

// containsAny returns the first of words contained in s, or "".
func containsAny(s string, words ...string) string {
	for _, w := range words {
		if strings.Contains(s, w) {
			return w
		}
	}
	return ""
}
