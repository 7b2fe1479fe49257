// SPDX-License-Identifier: MIT

package render

import (
	"strings"
	"testing"
)

func TestWrapLine(t *testing.T) {
	long := strings.Repeat("中", 50) // 100 columns
	tests := []struct {
		why  string
		in   string
		want []string
	}{
		{"short lines stay", "您好！", []string{"您好！"}},
		{"CJK counts two columns: 38 characters fit, 39 do not",
			strings.Repeat("中", 39),
			[]string{strings.Repeat("中", 38), "中"}},
		{"English breaks at spaces",
			strings.Repeat("word ", 20),
			[]string{strings.TrimSpace(strings.Repeat("word ", 15)), strings.TrimSpace(strings.Repeat("word ", 5))}},
		{"a URL is never split, even when longer than the line",
			"链接：https://news.example.com/" + strings.Repeat("a", 80),
			[]string{"链接：", "https://news.example.com/" + strings.Repeat("a", 80)}},
		{"quoted lines are kept as written", "> " + long, []string{"> " + long}},
		{"indented lines are kept as written", "  " + long, []string{"  " + long}},
		{"closing punctuation never starts a line",
			strings.Repeat("中", 38) + "。后文",
			[]string{strings.Repeat("中", 37), "中。后文"}},
		{"list items get a hanging indent",
			"1. " + long,
			[]string{"1. " + strings.Repeat("中", 36), "   " + strings.Repeat("中", 14)}},
		{"a date and its time stay together",
			strings.Repeat("中", 33) + "在 2026-03-10 18:00 前",
			[]string{strings.Repeat("中", 33) + "在", "2026-03-10 18:00 前"}},
	}
	for _, tt := range tests {
		got := wrapLine(tt.in, wrapWidth)
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s:\ngot  %q\nwant %q", tt.why, got, tt.want)
		}
		for _, l := range got {
			if displayWidth(l) > wrapWidth && !strings.Contains(l, "://") && l[0] != '>' && l[0] != ' ' {
				t.Errorf("%s: line %q is %d columns", tt.why, l, displayWidth(l))
			}
		}
	}
}

func TestNormalizeText(t *testing.T) {
	tests := []struct{ why, in, want string }{
		{"CRLF and CR become LF", "a\r\nb\rc", "a\nb\nc\n"},
		{"blank runs collapse and edges are trimmed", "\n\n a\n\n\n\nb  \n\n", " a\n\nb\n"},
		{"empty stays empty", "\n \n", ""},
	}
	for _, tt := range tests {
		if got := normalizeText(tt.in); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.why, got, tt.want)
		}
	}
}

// Wrapping is linear: a 400 KB one-word line (a complainant's field) is built with a
// handful of allocations, not one per character (issue 13, 4: 68 s of CPU inside the
// write transaction). Allocations, not time, so the bound holds on any machine.
func TestWrapLongWordIsLinear(t *testing.T) {
	line := "标题：" + strings.Repeat("a", 400<<10)
	allocs := testing.AllocsPerRun(3, func() { normalizeText(line) })
	if allocs > 200 {
		t.Errorf("%.0f allocations to wrap a 400 KB word: quadratic", allocs)
	}
}

func BenchmarkWrapLongWord(b *testing.B) {
	line := "标题：" + strings.Repeat("a", 400<<10)
	b.ReportAllocs()
	for b.Loop() {
		normalizeText(line)
	}
}
