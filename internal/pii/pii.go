// SPDX-License-Identifier: MIT

// Package pii recognises and masks the personal numbers the desk handles (PIPL): the
// resident ID number (GB 11643, 18 characters; the old 15-digit form) and phone
// numbers (mainland mobiles, landlines with an area code). It is pure and has no state.
//
// Invariants:
//   - Masking keeps enough to tell two values apart on a screen (the ID number's first
//     4 and last 4 characters, the phone's first 3 and last 4 digits) and never the
//     birth date or the whole subscriber number.
//   - Full-width digits (１３７…) are recognised as digits: Chinese input methods
//     produce them.
//   - LogHash is one-way and stable within a build, so a log line can be matched to a
//     record without holding the value.
package pii

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"unicode/utf8"
)

// digitClass matches an ASCII or full-width digit.
const digitClass = `[0-9０-９]`

// separatorClass may sit between the groups of a written phone number.
const separatorClass = `[ \-－—.．]?`

var (
	// idNoRE: 17 digits and a check character, or the 15-digit first-generation form.
	idNoRE = regexp.MustCompile(digitClass + `{17}[0-9０-９XxＸｘ]|` + digitClass + `{15}`)
	// mobileRE: a mainland mobile, optionally +86, written 13700001111, 137-0000-1111
	// or 137 0000 1111.
	mobileRE = regexp.MustCompile(`(?:(?:\+|＋)?(?:86|８６)` + separatorClass + `)?[1１][3-9３-９]` + digitClass +
		separatorClass + digitClass + `{4}` + separatorClass + digitClass + `{4}`)
	// landlineRE: an area code (0 and 2-3 digits, or in parentheses) and 7-8 digits.
	landlineRE = regexp.MustCompile(`(?:[(（][0０]` + digitClass + `{2,3}[)）]|[0０]` + digitClass + `{2,3}[\-－—])` +
		separatorClass + digitClass + `{7,8}`)
)

// IsIDNo reports whether s, trimmed, is shaped like a resident ID number.
func IsIDNo(s string) bool {
	s = strings.TrimSpace(s)
	loc := idNoRE.FindStringIndex(s)
	return loc != nil && loc[0] == 0 && loc[1] == len(s)
}

// IsPhone reports whether s, trimmed, is shaped like a phone number.
func IsPhone(s string) bool {
	s = strings.TrimSpace(s)
	for _, re := range []*regexp.Regexp{mobileRE, landlineRE} {
		if loc := re.FindStringIndex(s); loc != nil && loc[0] == 0 && loc[1] == len(s) {
			return true
		}
	}
	return false
}

// ContainsNumber reports whether s holds something shaped like an ID number or a phone
// number, bounded by non-digits: such a string is never a name, a title or a header.
func ContainsNumber(s string) bool {
	return len(numberSpans(s)) > 0
}

// MaskIDNo masks an ID number: 3101**********0018. A value that is not ID-shaped is
// masked all but its first and last character, so a typo is not shown either.
func MaskIDNo(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	rs := []rune(s)
	if IsIDNo(s) {
		return string(rs[:4]) + strings.Repeat("*", len(rs)-8) + string(rs[len(rs)-4:])
	}
	return maskMiddle(rs, 1, 1)
}

// MaskPhone masks a phone number: 137****1111, 010****5678; separators are dropped.
func MaskPhone(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	var digits []rune
	for _, r := range s {
		if d, ok := digit(r); ok {
			digits = append(digits, d)
		}
	}
	if len(digits) >= 11 && mobileRE.MatchString(s) {
		digits = digits[len(digits)-11:] // drop +86
		return string(digits[:3]) + "****" + string(digits[7:])
	}
	if len(digits) >= 7 {
		return maskMiddle(digits, 3, 4)
	}
	return maskMiddle([]rune(s), 1, 1)
}

// MaskText masks every ID number and phone number found in free text (a reason, a
// note, a subject), leaving the rest as it is.
func MaskText(s string) string {
	spans := numberSpans(s)
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp.start])
		v := s[sp.start:sp.end]
		if sp.id {
			b.WriteString(MaskIDNo(v))
		} else {
			b.WriteString(MaskPhone(v))
		}
		last = sp.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// LogHash is what a log line carries instead of a personal value (an address, a
// Message-ID that holds one): "h:" and 12 hex digits of SHA-256.
func LogHash(s string) string {
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("complaintd/log/" + strings.ToLower(strings.TrimSpace(s))))
	return "h:" + hex.EncodeToString(sum[:6])
}

type span struct {
	start, end int
	id         bool
}

// numberSpans finds the ID and phone numbers of s in order, each bounded by non-digits
// (a longer run of digits is an order number or a URL part, not a personal number).
func numberSpans(s string) []span {
	var out []span
	taken := func(a, b int) bool {
		for _, sp := range out {
			if a < sp.end && b > sp.start {
				return true
			}
		}
		return false
	}
	for i, re := range []*regexp.Regexp{idNoRE, mobileRE, landlineRE} {
		for _, loc := range re.FindAllStringIndex(s, -1) {
			if !bounded(s, loc[0], loc[1]) || taken(loc[0], loc[1]) {
				continue
			}
			out = append(out, span{loc[0], loc[1], i == 0})
		}
	}
	// In text order, for MaskText.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].start < out[j-1].start; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// bounded reports whether s[a:b] is not part of a longer run of digits or letters.
func bounded(s string, a, b int) bool {
	if a > 0 {
		r, _ := utf8.DecodeLastRuneInString(s[:a])
		if _, ok := digit(r); ok || isASCIILetter(r) {
			return false
		}
	}
	if b < len(s) {
		r, _ := utf8.DecodeRuneInString(s[b:])
		if _, ok := digit(r); ok || isASCIILetter(r) {
			return false
		}
	}
	return true
}

func isASCIILetter(r rune) bool { return r < 0x80 && (r|0x20) >= 'a' && (r|0x20) <= 'z' }

// digit folds an ASCII or full-width digit to ASCII.
func digit(r rune) (rune, bool) {
	switch {
	case r >= '0' && r <= '9':
		return r, true
	case r >= '０' && r <= '９':
		return '0' + r - '０', true
	}
	return 0, false
}

func maskMiddle(rs []rune, keepHead, keepTail int) string {
	if len(rs) <= keepHead+keepTail {
		return strings.Repeat("*", len(rs))
	}
	return string(rs[:keepHead]) + strings.Repeat("*", len(rs)-keepHead-keepTail) + string(rs[len(rs)-keepTail:])
}

// addressRE finds what looks like a mail address in free text (an SMTP reply, an
// error message), internationalised ones too (张三@example.cn, wangwu@例子.中国: intake
// accepts them as reply addresses). In Chinese text without spaces it takes the
// letters around the address with it: more is hidden, never less.
var addressRE = regexp.MustCompile(`[\p{L}\p{N}._%+\-=]+@[\p{L}\p{N}.\-]+\.[\p{L}]{2,}`)

// RedactAddresses replaces every address in s by its LogHash: SMTP replies name the
// recipient ("550 5.1.1 <wangwu@example.cn>: Recipient address rejected"), and such
// text is logged and kept as a reply's last error.
func RedactAddresses(s string) string {
	return addressRE.ReplaceAllStringFunc(s, LogHash)
}
