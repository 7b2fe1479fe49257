// SPDX-License-Identifier: MIT

package render

import (
	"regexp"
	"unicode"
)

// notLanguage matches what says nothing about the writer's language: URLs,
// mail addresses and case tags.
var notLanguage = regexp.MustCompile(`\S+://\S+|\S+@\S+|\[[A-Za-z]+-\d{4}-\d+\]`)

// ChooseLocale picks the locale of the replies to a complainant from what
// they wrote: "en" when subject and text contain no CJK characters and are
// mostly Latin letters (an English-only mail gets English), defaultLocale
// otherwise (including when there is nothing to judge by: URLs, addresses and
// case tags do not count, nor do fewer than six letters). Pass the text
// without quoted replies, which may quote the desk's own Chinese mail.
func ChooseLocale(text, subject, defaultLocale string) string {
	latin, other := 0, 0
	for _, s := range []string{subject, text} {
		for _, r := range notLanguage.ReplaceAllString(s, " ") {
			switch {
			case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Bopomofo):
				return defaultLocale
			case unicode.Is(unicode.Latin, r):
				latin++
			case unicode.IsSpace(r), unicode.IsDigit(r), unicode.IsPunct(r), unicode.IsSymbol(r):
				// neutral: URLs, dates and case numbers say nothing about the language
			default:
				other++ // Cyrillic, Arabic, …: not English
			}
		}
	}
	if latin >= 6 && latin > 4*other {
		return "en"
	}
	return defaultLocale
}
