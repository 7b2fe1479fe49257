// SPDX-License-Identifier: MIT

package desk

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// StripQuoted returns the part of a reply body written by its sender: the lines above
// the first quote marker, with trailing blank lines removed. The result is always a
// prefix of body's lines (line breaks normalised to "\n"), so line numbers stay valid.
//
// Quote markers recognised (SPEC §4):
//   - a line starting with ">" (plain quoting);
//   - an attribution ending in "wrote:" or "写道：/写道:" that carries a date (a digit),
//     possibly wrapped over two lines: Gmail and Apple Mail in English
//     ("On Mon, Jan 2, 2026 at 10:00 AM X <a@b> wrote:"), Gmail zh
//     ("2026年11月27日周五 10:00，X <a@b> 写道："), Apple Mail zh and NetEase 163/126
//     ("在 2026年11月27日，10:00，X <a@b> 写道：", "在 2026-11-27 10:00:00，"X" <a@b> 写道：");
//   - a separator line of dashes around "Original Message", "原始邮件", "Original"
//     (Foxmail/QQ, also with &nbsp;), "回复的原邮件" (NetEase), "Forwarded message",
//     "转发邮件" (Outlook en/zh, Foxmail, QQ Mail, NetEase);
//   - a header block: a line "From:" / "发件人:" / "寄件者:" (full-width colon too, and
//     Outlook's "*From:*" from HTML) followed within five lines by at least one of
//     Sent/Date/To/Subject/发送时间/日期/时间/收件人/主题 — Outlook's reply header; a line of
//     underscores just above it (Outlook's rule) is cut as well.
//
// A "发自我的iPhone" line is not a quote marker: it stays (ParseCommands stops there).
func StripQuoted(body string) string {
	lines := splitLines(body)
	end := quoteStart(lines)
	for end > 0 && normalizeLine(lines[end-1]) == "" {
		end--
	}
	return strings.Join(lines[:end], "\n")
}

// quoteStart returns the index of the first quoted line, or len(lines).
func quoteStart(lines []string) int {
	for i := range lines {
		line := normalizeLine(lines[i])
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, ">") || strings.HasPrefix(line, "&gt;") || isSeparator(line) {
			return i
		}
		if isAttribution(line) {
			return i
		}
		if i+1 < len(lines) && startsAttribution(line) {
			// Gmail wraps a long attribution: "On …, X <" / "a@b> wrote:". The second
			// half alone may look like an attribution too, so test the pair first; but a
			// next line that starts an attribution of its own is not a continuation.
			if next := normalizeLine(lines[i+1]); !startsAttribution(next) && isAttribution(line+" "+next) {
				return i
			}
		}
		if isHeaderBlock(lines, i) {
			if j := prevNonBlank(lines, i); j >= 0 && isRule(normalizeLine(lines[j])) {
				return j
			}
			return i
		}
	}
	return len(lines)
}

func prevNonBlank(lines []string, i int) int {
	for j := i - 1; j >= 0; j-- {
		if normalizeLine(lines[j]) != "" {
			return j
		}
	}
	return -1
}

// isRule reports a line of underscores (Outlook) or of dashes/equals signs.
func isRule(line string) bool {
	if utf8.RuneCountInString(line) < 8 {
		return false
	}
	return strings.Trim(line, "_") == "" || strings.Trim(line, "-") == "" || strings.Trim(line, "=") == ""
}

// isSeparator recognises "-----Original Message-----" and its relatives.
func isSeparator(line string) bool {
	if !strings.HasPrefix(line, "--") {
		return false
	}
	inner := strings.TrimSpace(strings.Trim(line, "-"))
	inner = strings.Join(strings.Fields(inner), " ")
	switch strings.ToLower(inner) {
	case "original message", "original", "原始邮件", "原始郵件", "回复的原邮件", "回復的原郵件",
		"forwarded message", "转发邮件", "转发的邮件", "轉寄郵件", "邮件原文", "邮件原件", "原邮件", "reply message":
		return true
	}
	return false
}

// startsAttribution reports whether line can be the first half of a wrapped
// attribution: "On …", "在 …" or a line starting with a year ("2026年…", "2026-11-27…").
func startsAttribution(line string) bool {
	if strings.HasPrefix(line, "On ") || strings.HasPrefix(line, "在 ") || strings.HasPrefix(line, "在") && startsWithYear(strings.TrimPrefix(line, "在")) {
		return true
	}
	return startsWithYear(line)
}

// startsWithYear reports a line starting with four digits followed by 年, - or /.
func startsWithYear(s string) bool {
	if len(s) < 5 {
		return false
	}
	for i := 0; i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return strings.HasPrefix(s[4:], "年") || s[4] == '-' || s[4] == '/'
}

// isAttribution reports an "… wrote:" / "… 写道：" line that carries a date.
func isAttribution(line string) bool {
	l := strings.TrimRightFunc(line, unicode.IsSpace)
	ok := false
	for _, suf := range []string{"wrote:", "写道：", "写道:", "寫道：", "寫道:"} {
		if len(l) >= len(suf) && strings.EqualFold(l[len(l)-len(suf):], suf) {
			ok = true
			break
		}
	}
	if !ok || !strings.ContainsAny(l, "0123456789") {
		return false
	}
	return startsAttribution(l) || strings.Contains(l, "@")
}

// headerName returns the header name a line of a quoted reply header starts with
// ("from", "sent", …) or "". Asterisks from HTML bold (*From:*) are ignored.
func headerName(line string) string {
	line = strings.TrimLeft(strings.ReplaceAll(line, "*", ""), " |")
	for _, h := range []struct{ name, canon string }{
		{"From", "from"}, {"发件人", "from"}, {"寄件者", "from"}, {"發件人", "from"},
		{"Sent", "sent"}, {"Date", "sent"}, {"发送时间", "sent"}, {"日期", "sent"}, {"时间", "sent"}, {"寄件日期", "sent"}, {"發送時間", "sent"},
		{"To", "to"}, {"收件人", "to"}, {"Cc", "to"}, {"抄送", "to"},
		{"Subject", "subject"}, {"主题", "subject"}, {"主旨", "subject"}, {"主題", "subject"},
	} {
		if len(line) <= len(h.name) || !strings.EqualFold(line[:len(h.name)], h.name) {
			continue
		}
		rest := strings.TrimLeft(line[len(h.name):], " |")
		if strings.HasPrefix(rest, ":") || strings.HasPrefix(rest, "：") || strings.HasPrefix(line[len(h.name):], " |") {
			return h.canon
		}
	}
	return ""
}

// isHeaderBlock reports whether lines[i] starts a quoted header block: a From line and
// another header line within the next five lines.
func isHeaderBlock(lines []string, i int) bool {
	if headerName(normalizeLine(lines[i])) != "from" {
		return false
	}
	for j := i + 1; j < len(lines) && j <= i+5; j++ {
		switch headerName(normalizeLine(lines[j])) {
		case "sent", "to", "subject":
			return true
		}
	}
	return false
}
