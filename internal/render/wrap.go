// SPDX-License-Identifier: MIT

package render

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// wrapWidth is the display width prose lines of the text part are wrapped
// at: it stays under the 78 characters RFC 5322 §2.1.1 recommends, counting a
// CJK character as two columns as terminals and mail clients render it.
const wrapWidth = 76

// runeWidth is the display width of r: 2 for East Asian wide and fullwidth
// characters, 0 for combining marks and controls, 1 otherwise.
func runeWidth(r rune) int {
	if r < 0x20 || unicode.Is(unicode.Mn, r) {
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// displayWidth is the display width of s.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// closers may not start a line; openers may not end one (the basic rules of
// Chinese line breaking, 避头尾).
const (
	closers = "，。、；：？！）」』》】〉”’…—,.;:!?)]}%"
	openers = "（「『《【〈“‘([{"
)

// listPrefix matches the marker of a list item; continuation lines are
// indented under the item's text.
var listPrefix = regexp.MustCompile(`^(?:[-*•·]|\d{1,3}[.、)]|（\d{1,3}）|\(\d{1,3}\))[ \t]*`)

// normalizeText turns a rendered text part into its final form: \n line
// endings, no trailing blanks, runs of blank lines collapsed to one (template
// conditionals leave them), prose lines wrapped at wrapWidth, one final
// newline. Quoted lines (starting with ">") and indented lines are kept as
// written, and no word (a URL, an address) is ever split.
func normalizeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var out []string
	blank := true // drop leading blank lines
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRightFunc(line, unicode.IsSpace)
		if line == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		blank = false
		out = append(out, wrapLine(line, wrapWidth)...)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

// token is an unbreakable piece of a line. Its text grows by appending (a
// 400 KB one-word line must not be rebuilt rune by rune: that was quadratic).
type token struct {
	text       []byte
	width      int
	spaceAfter bool // a space separated it from the next token
}

// wrapLine wraps one line at limit display columns.
func wrapLine(line string, limit int) []string {
	if displayWidth(line) <= limit {
		return []string{line}
	}
	first, _ := utf8.DecodeRuneInString(line)
	if first == '>' || unicode.IsSpace(first) {
		return []string{line}
	}
	indent := ""
	if m := listPrefix.FindString(line); m != "" {
		indent = strings.Repeat(" ", displayWidth(m))
	}
	toks := tokenize(line)
	var lines []string
	var cur strings.Builder
	curW := 0
	sep := false // the previous token on cur was followed by a space
	for i, t := range toks {
		need := t.width
		if sep {
			need++
		}
		if curW > 0 && curW+need > limit && curW > len(indent) {
			lines = append(lines, cur.String())
			cur.Reset()
			cur.WriteString(indent)
			curW = len(indent)
			sep = false
			need = t.width
		}
		if sep {
			cur.WriteByte(' ')
		}
		cur.Write(t.text)
		curW += need
		sep = t.spaceAfter && i < len(toks)-1
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// tokenize splits a line into unbreakable tokens: runs of narrow characters
// between spaces are words, each wide character is a token of its own, and
// closing/opening punctuation sticks to its neighbour.
func tokenize(line string) []token {
	var toks []token
	wide := false // the last token ends in a wide character
	glue := false // the next rune joins the last token (after an opener)
	space := true
	for _, r := range line {
		if r == ' ' || r == '\t' {
			if len(toks) > 0 {
				toks[len(toks)-1].spaceAfter = true
			}
			space, glue = true, false
			continue
		}
		w := runeWidth(r)
		isWide := w == 2
		if space && unicode.IsDigit(r) && len(toks) > 0 && endsInDigit(toks[len(toks)-1].text) {
			// "2026-03-10 18:00": a date and its time stay on one line.
			t := &toks[len(toks)-1]
			t.text = utf8.AppendRune(append(t.text, ' '), r)
			t.width += 1 + w
			t.spaceAfter = false
			wide, glue, space = false, false, false
			continue
		}
		join := false
		switch {
		case len(toks) == 0 || space:
			join = false
		case glue:
			join = true
		case strings.ContainsRune(closers, r):
			join = true
		case !isWide && !wide:
			join = true // continue a word
		}
		if join {
			t := &toks[len(toks)-1]
			t.text = utf8.AppendRune(t.text, r)
			t.width += w
		} else {
			toks = append(toks, token{text: utf8.AppendRune(nil, r), width: w})
		}
		wide = isWide
		glue = strings.ContainsRune(openers, r)
		space = false
	}
	return toks
}

func endsInDigit(b []byte) bool {
	r, _ := utf8.DecodeLastRune(b)
	return unicode.IsDigit(r)
}
