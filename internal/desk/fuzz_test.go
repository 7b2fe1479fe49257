// SPDX-License-Identifier: MIT

package desk

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/complaintd/complaintd/internal/cases"
)

func addQuoteSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/quotes/*.txt")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{"", "受理", "驳回：\n理由", "On 1\nwrote:", "--", "补充 id_card、身份证", "\r\r\n>", "------------------&nbsp;Original&nbsp;"} {
		f.Add(s)
	}
}

// FuzzParseCommands: never panics; every command comes from a line of the unquoted
// part, at the line number it claims, and carries an action the table knows.
func FuzzParseCommands(f *testing.F) {
	addQuoteSeeds(f)
	f.Fuzz(func(t *testing.T, body string) {
		cmds, _ := ParseCommands(body)
		kept := splitLines(StripQuoted(body))
		for _, c := range cmds {
			if c.Line < 1 || c.Line > len(kept) {
				t.Fatalf("command %+v outside the unquoted part (%d lines)", c, len(kept))
			}
			first, _, _ := strings.Cut(c.Raw, "\n")
			if normalizeLine(kept[c.Line-1]) != first {
				t.Fatalf("command %+v: line %d is %q", c, c.Line, kept[c.Line-1])
			}
			if !slices.Contains(cases.Actions(), c.Action) || c.Action == cases.Appeal || c.Action == cases.Withdraw {
				t.Fatalf("command %+v has an unknown action", c)
			}
		}
	})
}

// FuzzStripQuoted: never panics, returns a prefix of the body's lines, and is idempotent.
func FuzzStripQuoted(f *testing.F) {
	addQuoteSeeds(f)
	f.Fuzz(func(t *testing.T, body string) {
		got := StripQuoted(body)
		norm := strings.Join(splitLines(body), "\n")
		if !strings.HasPrefix(norm, got) {
			t.Fatalf("StripQuoted(%q) = %q: not a prefix", body, got)
		}
		if again := StripQuoted(got); again != got {
			t.Fatalf("not idempotent: %q then %q", got, again)
		}
		if utf8.ValidString(body) && !utf8.ValidString(got) {
			t.Fatalf("split a rune: %q", got)
		}
		_, _, _ = ParseComplainantAction(body)
		_, _ = ParseNeedItems(nil, body)
	})
}
