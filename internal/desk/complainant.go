// SPDX-License-Identifier: MIT

package desk

import (
	"strings"
	"unicode/utf8"

	"github.com/complaintd/complaintd/internal/cases"
)

// ParseComplainantAction recognises a complainant's reply keyword: 申诉 / appeal (the
// rest of the text is the reasons) and 撤回 / 撤销申请 / withdraw. Only the text above
// the quoted part is read, and only its first line that is not empty or a greeting
// ("您好", "Hi", "尊敬的工作人员：") may carry the keyword, at its start — so a sentence
// that mentions 撤回 in the middle, or a quoted notification explaining "回复 申诉 …",
// does nothing. reason is the rest of the keyword line and the following lines up to a
// signature, trimmed; for withdraw it is the optional remark.
//
// Whether the action is legal (state, appeal window) is the caller's question:
// Transition and AppealAllowed.
func ParseComplainantAction(body string) (a cases.Action, reason string, ok bool) {
	lines := splitLines(StripQuoted(body))
	for i := 0; i < len(lines); i++ {
		line := normalizeLine(lines[i])
		if line == "" || isGreeting(line) {
			continue
		}
		if isSignatureStart(line) {
			return "", "", false
		}
		line = unbracket(afterGreeting(line))
		m, found := matchKeyword(line, true)
		if !found || m.near {
			return "", "", false
		}
		parts := []string{}
		if m.rest != "" {
			parts = append(parts, m.rest)
		}
		for _, l := range lines[i+1:] {
			l = normalizeLine(l)
			if isSignatureStart(l) {
				break
			}
			parts = append(parts, l)
		}
		return m.kw.action, strings.TrimSpace(strings.Join(parts, "\n")), true
	}
	return "", "", false
}

// afterGreeting drops a salutation that opens the keyword's own line ("您好，撤回",
// "工作人员你好！申诉：…"): what follows its punctuation is read as a line.
func afterGreeting(line string) string {
	i := strings.IndexAny(line, "，,！!：:。 ")
	if i <= 0 {
		return line
	}
	if !isGreeting(line[:i]) {
		return line
	}
	_, size := utf8.DecodeRuneInString(line[i:])
	return strings.TrimSpace(line[i+size:])
}

// unbracket reads a keyword written in brackets (【撤回】, [申诉]) as the keyword
// followed by a colon.
func unbracket(line string) string {
	for _, p := range [][2]string{{"【", "】"}, {"[", "]"}, {"［", "］"}} {
		if rest, ok := strings.CutPrefix(line, p[0]); ok {
			if kw, after, ok := strings.Cut(rest, p[1]); ok && kw != "" && !strings.ContainsAny(kw, " \n") {
				return kw + "：" + strings.TrimSpace(after)
			}
		}
	}
	return line
}

// isGreeting reports a short salutation line: 您好 / 你好 (possibly after a title, as
// in 工作人员您好), 尊敬的…, Hi / Hello / Dear ….
func isGreeting(line string) bool {
	if utf8.RuneCountInString(line) > 20 {
		return false
	}
	l := strings.TrimRight(line, " ,，:：!！.。~")
	lower := strings.ToLower(l)
	for _, p := range []string{"hi", "hello", "dear", "good morning", "good afternoon", "尊敬的"} {
		if lower == p || strings.HasPrefix(lower, p+" ") || (p == "尊敬的" && strings.HasPrefix(l, p)) {
			return true
		}
	}
	for _, s := range []string{"您好", "你好", "你们好", "您们好", "大家好"} {
		if strings.HasSuffix(l, s) {
			return true
		}
	}
	return false
}
