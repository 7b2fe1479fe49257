package desk

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// ParseScore reads a satisfaction score (1–5) from the reply to a survey. Only the
// first non-empty line above any quoted text counts (the quoted survey lists every
// option), and the score must open that line, followed by nothing or by a separator
// (space or punctuation) and free comment. Full-width digits and punctuation are
// folded first. Accepted forms:
//
//	5, 5分, 5 分, 5星, 5颗星, 评分：5, 打分 5, score: 5      → the digit (1–5)
//	五分, 五星, 四颗星, 两分, 二星, 一分 …                   → the Chinese numeral (一/二/两/三/四/五)
//	★★★★★ (or ⭐)                                          → the number of stars (1–5)
//	非常满意, 很满意, 十分满意                               → 5
//	满意, 比较满意, 基本满意                                 → 4
//	一般, 还行, 还可以                                       → 3
//	不满意, 不太满意                                         → 2
//	非常不满意, 很不满意, 极不满意                           → 1
//	very satisfied 5, satisfied 4, neutral 3, dissatisfied/unsatisfied 2, very dissatisfied 1
//
// A bare 满意 means 4, not 5: the usual five-level scale (非常满意 … 非常不满意) puts it
// second. Anything else, a digit outside 1–5 (0, 6, 10) or a digit not followed by a
// separator (2026年…), is not a score.
func ParseScore(text string) (score int, ok bool) {
	score, _, ok = ParseSurveyAnswer(text)
	return score, ok
}

// ParseSurveyAnswer reads a survey answer whole: the score (as ParseScore) and the
// comment — what follows the score on its line, and the lines after it above any
// quoted text and before a signature. The comment keeps what the complainant wrote.
func ParseSurveyAnswer(text string) (score int, comment string, ok bool) {
	lines := strings.Split(StripQuoted(text), "\n")
	first := -1
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			first = i
			break
		}
	}
	if first < 0 {
		return 0, "", false
	}
	orig := strings.TrimSpace(lines[first])
	score, rest, ok := scoreOfLine(orig)
	if !ok {
		return 0, "", false
	}
	// The folded line keeps the original's runes one for one: the comment is the
	// original's tail of the same length.
	r := []rune(orig)
	parts := []string{strings.TrimLeft(string(r[len(r)-min(len(r), utf8.RuneCountInString(rest)):]), " ,，.。:：;；!！-—")}
	for _, l := range lines[first+1:] {
		if isSignatureStart(normalizeLine(l)) {
			break
		}
		parts = append(parts, strings.TrimSpace(l))
	}
	return score, strings.TrimSpace(strings.Join(parts, "\n")), true
}

// scoreOfLine reads the score opening line and returns what follows it (folded).
func scoreOfLine(line string) (score int, rest string, ok bool) {
	line = strings.ToLower(width.Fold.String(line))
	for _, p := range []string{"评分", "打分", "分数", "score", "rating"} {
		if after, found := strings.CutPrefix(line, p); found {
			line = strings.TrimLeft(after, " :：\t")
			break
		}
	}
	// Stars.
	if n := countStars(line); n > 0 {
		if after := line[starBytes(line):]; n <= 5 && endsToken(after) {
			return n, after, true
		}
		return 0, "", false
	}
	// A digit or Chinese numeral, optionally with 分 / 星 / 颗星.
	r, size := utf8.DecodeRuneInString(line)
	n := 0
	switch {
	case r >= '1' && r <= '5':
		n = int(r - '0')
	case strings.ContainsRune("一二两三四五", r):
		n = map[rune]int{'一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5}[r]
	}
	if n > 0 {
		after := line[size:]
		rest := strings.TrimLeft(after, " ")
		unit := ""
		for _, u := range []string{"颗星", "分", "星"} {
			if strings.HasPrefix(rest, u) {
				unit = u
				break
			}
		}
		if unit != "" {
			rest = rest[len(unit):]
		} else {
			rest = after // "5 很满意": the space is the separator before the comment
		}
		isDigit := r >= '0' && r <= '9'
		if (isDigit || unit != "") && endsToken(rest) {
			return n, rest, true
		}
		if !isDigit && unit == "" {
			// 一般 starts with 一 but is a phrase; fall through.
		} else {
			return 0, "", false
		}
	}
	for _, p := range phrases() {
		if after, found := strings.CutPrefix(line, p.text); found && endsToken(after) {
			return p.score, after, true
		}
	}
	return 0, "", false
}

// phrases are tried in order, longest (most specific) first.
func phrases() []struct {
	text  string
	score int
} {
	return []struct {
		text  string
		score int
	}{
		{"very dissatisfied", 1}, {"very unsatisfied", 1}, {"very satisfied", 5},
		{"dissatisfied", 2}, {"unsatisfied", 2}, {"satisfied", 4}, {"neutral", 3},
		{"非常不满意", 1}, {"很不满意", 1}, {"极不满意", 1}, {"不太满意", 2}, {"不满意", 2},
		{"非常满意", 5}, {"十分满意", 5}, {"很满意", 5}, {"比较满意", 4}, {"基本满意", 4}, {"满意", 4},
		{"还可以", 3}, {"一般", 3}, {"还行", 3},
	}
}

// endsToken reports whether rest, what follows a score, ends it: nothing, or a
// space or punctuation before any comment.
func endsToken(rest string) bool {
	if rest == "" {
		return true
	}
	r, _ := utf8.DecodeRuneInString(rest)
	return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) && r != '★' && r != '⭐'
}

func countStars(s string) int {
	n := 0
	for _, r := range s {
		if r != '★' && r != '⭐' {
			break
		}
		n++
	}
	return n
}

func starBytes(s string) int {
	i := 0
	for _, r := range s {
		if r != '★' && r != '⭐' {
			break
		}
		i += utf8.RuneLen(r)
	}
	return i
}
