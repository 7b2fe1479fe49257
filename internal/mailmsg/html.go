package mailmsg

import (
	"html"
	"strings"
)

// htmlToText converts an HTML mail body to plain text, good enough for reading a
// complaint and finding "字段：值" lines: tags are dropped, script/style/head/title
// content is skipped, entities are decoded, whitespace runs collapse as a browser
// would, and block elements (br, p, div, tr, li, h1-h6, ...) become line breaks.
// Text a reader cannot see — an element styled display:none, visibility:hidden,
// font-size:0 or mso-hide:all, or with the hidden attribute — is dropped with its
// content: what the staff member or complainant did not see must not count (a hidden
// "受理" in a forged mail).
// It is a scanner, not a parser: malformed HTML cannot make it fail or loop.
func htmlToText(s string) string {
	var out strings.Builder
	skip := ""
	hidden, hiddenDepth := "", 0 // the element whose content is invisible, and its nesting
	text := func(t string) {
		if skip != "" || hidden != "" || t == "" {
			return
		}
		out.WriteString(collapseSpace(html.UnescapeString(t)))
	}
	for i := 0; i < len(s); {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			text(s[i:])
			break
		}
		text(s[i : i+lt])
		i += lt
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			continue
		}
		gt := strings.IndexByte(s[i:], '>')
		if gt < 0 {
			break
		}
		tag := s[i+1 : i+gt]
		i += gt + 1
		closing := strings.HasPrefix(tag, "/")
		name := strings.ToLower(strings.TrimLeft(tag, "/!"))
		if j := strings.IndexAny(name, " \t\r\n/"); j >= 0 {
			name = name[:j]
		}
		if skip != "" {
			if closing && name == skip {
				skip = ""
			}
			continue
		}
		if hidden != "" {
			switch {
			case name != hidden || strings.HasSuffix(tag, "/"):
			case closing:
				if hiddenDepth--; hiddenDepth == 0 {
					hidden = ""
				}
			default:
				hiddenDepth++
			}
			continue
		}
		if !closing && !voidElement(name) && !strings.HasSuffix(tag, "/") && invisible(tag) {
			hidden, hiddenDepth = name, 1
			continue
		}
		switch name {
		case "script", "style", "head", "title":
			if !closing {
				skip = name
			}
		case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6",
			"table", "blockquote", "ul", "ol", "hr", "pre", "dt", "dd":
			out.WriteByte('\n')
		case "td", "th":
			out.WriteByte(' ')
		}
	}
	return tidyLines(out.String())
}

// voidElement reports an element that has no content and no closing tag.
func voidElement(name string) bool {
	switch name {
	case "br", "img", "hr", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr":
		return true
	}
	return false
}

// invisible reports whether an opening tag's attributes hide its content.
func invisible(tag string) bool {
	t := strings.ToLower(tag)
	if !strings.ContainsAny(t, "=") && !strings.Contains(t, "hidden") {
		return false
	}
	for _, f := range strings.Fields(t) {
		if f == "hidden" || strings.HasPrefix(f, "hidden=") {
			return true
		}
	}
	style := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, t)
	for _, p := range []string{"display:none", "visibility:hidden", "mso-hide:all"} {
		if strings.Contains(style, p) {
			return true
		}
	}
	for i := 0; ; {
		j := strings.Index(style[i:], "font-size:0")
		if j < 0 {
			return false
		}
		i += j + len("font-size:0")
		if i >= len(style) || style[i] != '.' && (style[i] < '0' || style[i] > '9') {
			return true // 0, 0px, 0pt, 0em — not 0.9em or 05px
		}
	}
}

// collapseSpace turns each run of whitespace into one space.
func collapseSpace(s string) string {
	if !strings.ContainsAny(s, " \t\r\n\u00a0") {
		return s
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == '\u00a0' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

// tidyLines trims every line and keeps at most one empty line in a row.
func tidyLines(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	empty := 0
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			empty++
			if empty > 1 || len(out) == 0 {
				continue
			}
		} else {
			empty = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
