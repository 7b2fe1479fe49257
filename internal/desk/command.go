// SPDX-License-Identifier: MIT

package desk

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/complaintd/complaintd/internal/cases"
)

// Command is one staff command found in a reply (SPEC §4).
type Command struct {
	Action cases.Action `json:"action"`
	// Arg is the argument as written, trimmed: the reason of 驳回, the items of 补充
	// (see ParseNeedItems), the note of 已处理/备注, the staff address or alias of 转交
	// (the caller resolves aliases), the author's address of 通知作者. For commands
	// without an argument (受理, 结案, 重开, 升级, 降级) it is the optional remark written
	// after the keyword on the same line, which the caller may record as the reason.
	// Multi-line arguments keep their line breaks ("\n").
	Arg string `json:"arg,omitempty"`
	// Line is the 1-based line number of the keyword in the body (CRLF counted as one break).
	Line int `json:"line"`
	// Raw is the command as written (keyword line and continuation lines), for the confirmation.
	Raw string `json:"raw"`
}

// Problem is a line that starts like a command but is not run.
type Problem struct {
	Line int // 1-based, as Command.Line
	// Incomplete: the keyword stands as a command ("驳回", "已处理：") but lacks the
	// argument it needs; the writer meant the command. Otherwise the keyword is glued
	// to other text ("受理后请尽快处理", a signature's "受理科"), which may be no
	// command at all.
	Incomplete bool
	Text       string // the explanation for the staff member, Chinese and English
}

// String returns the explanation.
func (p Problem) String() string { return p.Text }

// argKind says what a keyword takes after it.
type argKind int

const (
	argRemark  argKind = iota // nothing required; the rest of the line is an optional remark
	argText                   // required; continues on following lines
	argItems                  // required document items; continues on following lines
	argSingle                 // required; this line only (staff address or alias)
	argAddress                // required e-mail address; this line only
)

// keyword is one spelling of a command.
type keyword struct {
	word        string
	action      cases.Action
	english     bool // ASCII keyword matched case-insensitively
	arg         argKind
	complainant bool // a complainant's reply keyword, not a staff command
}

// keywords returns the command vocabulary. The first spelling per (action, language)
// is the canonical one shown in help and error messages. Traditional spellings are
// accepted because staff in Hong Kong or Taiwan offices may type them.
func keywords() []keyword {
	return []keyword{
		{word: "受理", action: cases.Accept},
		{word: "accept", action: cases.Accept, english: true},
		{word: "驳回", action: cases.Reject, arg: argText},
		{word: "驳回理由", action: cases.Reject, arg: argText},
		{word: "驳回原因", action: cases.Reject, arg: argText},
		{word: "駁回", action: cases.Reject, arg: argText},
		{word: "reject", action: cases.Reject, english: true, arg: argText},
		{word: "补充", action: cases.NeedMore, arg: argItems},
		{word: "补充材料", action: cases.NeedMore, arg: argItems},
		{word: "補充", action: cases.NeedMore, arg: argItems},
		{word: "need", action: cases.NeedMore, english: true, arg: argItems},
		{word: "need-more", action: cases.NeedMore, english: true, arg: argItems},
		{word: "need_more", action: cases.NeedMore, english: true, arg: argItems},
		{word: "已处理", action: cases.Resolve, arg: argText},
		{word: "已處理", action: cases.Resolve, arg: argText},
		{word: "resolve", action: cases.Resolve, english: true, arg: argText},
		{word: "resolved", action: cases.Resolve, english: true, arg: argText},
		{word: "转交", action: cases.Assign, arg: argSingle},
		{word: "轉交", action: cases.Assign, arg: argSingle},
		{word: "assign", action: cases.Assign, english: true, arg: argSingle},
		{word: "备注", action: cases.Note, arg: argText},
		{word: "備註", action: cases.Note, arg: argText},
		{word: "备註", action: cases.Note, arg: argText},
		{word: "note", action: cases.Note, english: true, arg: argText},
		{word: "结案", action: cases.Close},
		{word: "結案", action: cases.Close},
		{word: "close", action: cases.Close, english: true},
		{word: "重开", action: cases.Reopen},
		{word: "重開", action: cases.Reopen},
		{word: "reopen", action: cases.Reopen, english: true},
		{word: "升级", action: cases.Escalate},
		{word: "升級", action: cases.Escalate},
		{word: "escalate", action: cases.Escalate, english: true},
		{word: "降级", action: cases.Downgrade},
		{word: "降級", action: cases.Downgrade},
		{word: "downgrade", action: cases.Downgrade, english: true},
		{word: "通知作者", action: cases.NotifyAuthor, arg: argAddress},
		{word: "notify-author", action: cases.NotifyAuthor, english: true, arg: argAddress},
		{word: "notify_author", action: cases.NotifyAuthor, english: true, arg: argAddress},
		{word: "申诉", action: cases.Appeal, arg: argText, complainant: true},
		{word: "appeal", action: cases.Appeal, english: true, arg: argText, complainant: true},
		{word: "申诉理由", action: cases.Appeal, arg: argText, complainant: true},
		{word: "我要申诉", action: cases.Appeal, arg: argText, complainant: true},
		{word: "提出申诉", action: cases.Appeal, arg: argText, complainant: true},
		{word: "申訴", action: cases.Appeal, arg: argText, complainant: true},
		// The traditional spellings of the longer forms: without them 申訴理由 is a
		// near miss of 申訴 (glued to 理由) and nothing happens.
		{word: "申訴理由", action: cases.Appeal, arg: argText, complainant: true},
		{word: "我要申訴", action: cases.Appeal, arg: argText, complainant: true},
		{word: "提出申訴", action: cases.Appeal, arg: argText, complainant: true},
		{word: "撤回", action: cases.Withdraw, complainant: true},
		{word: "撤回申请", action: cases.Withdraw, complainant: true},
		{word: "撤回投诉", action: cases.Withdraw, complainant: true},
		{word: "撤销", action: cases.Withdraw, complainant: true},
		{word: "撤销申请", action: cases.Withdraw, complainant: true},
		{word: "撤销投诉", action: cases.Withdraw, complainant: true},
		{word: "撤銷", action: cases.Withdraw, complainant: true},
		{word: "撤回申請", action: cases.Withdraw, complainant: true},
		{word: "撤回投訴", action: cases.Withdraw, complainant: true},
		{word: "撤銷申請", action: cases.Withdraw, complainant: true},
		{word: "撤銷投訴", action: cases.Withdraw, complainant: true},
		{word: "withdraw", action: cases.Withdraw, english: true, complainant: true},
	}
}

// match is a keyword found at the start of a line.
type match struct {
	kw   keyword
	rest string // text after the keyword and its separator, trimmed
	near bool   // a Chinese keyword glued to following text: not executed, reported
}

// vocabulary is keywords(), built once: matchKeyword runs on every line of every
// mail's body, and rebuilt per line the list was the largest single allocation of
// a backlog (issue 18).
var vocabulary = keywords()

// matchKeyword finds the longest keyword (of the staff or the complainant set) at the
// start of line. The keyword must be followed by the end of the line, white space, a
// colon (: or ：) or a punctuation mark (，。,.!！;；、～~); an English keyword followed by a
// letter is another word ("notes", "Accepted") and does not match; a Chinese keyword
// followed by other text ("受理后…") is a near miss.
func matchKeyword(line string, complainant bool) (match, bool) {
	var best match
	found := false
	for _, k := range vocabulary {
		if k.complainant != complainant {
			continue
		}
		if len(line) < len(k.word) || (found && len(k.word) <= len(best.kw.word)) {
			continue
		}
		head := line[:len(k.word)]
		if k.english && !strings.EqualFold(head, k.word) || !k.english && head != k.word {
			continue
		}
		rest := line[len(k.word):]
		m := match{kw: k}
		switch r, size := utf8.DecodeRuneInString(rest); {
		case rest == "":
		case r == ':' || r == '：':
			m.rest = rest[size:]
		case unicode.IsSpace(r):
			m.rest = strings.TrimLeft(strings.TrimLeftFunc(rest, unicode.IsSpace), ":：")
		case strings.ContainsRune("，。,.!！;；、～~", r):
			m.rest = rest[size:]
		case k.english || r == '-' || r == '_' || unicode.IsLetter(r) && r < utf8.RuneSelf:
			continue // part of a longer word
		default:
			m.near = true
		}
		m.rest = strings.TrimSpace(m.rest)
		best, found = m, true
	}
	return best, found
}

// normalizeLine folds the invisible differences mail clients introduce: non-breaking
// and ideographic spaces, HTML-converted &nbsp;, zero-width characters and a BOM.
func normalizeLine(s string) string {
	if strings.Contains(s, "&nbsp;") {
		s = strings.ReplaceAll(s, "&nbsp;", " ")
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\u00a0', '\u3000', '\t':
			return ' '
		case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// splitLines splits body into lines, treating CRLF and lone CR as breaks.
func splitLines(body string) []string {
	body = strings.ReplaceAll(body, "\r\n", "\n")
	body = strings.ReplaceAll(body, "\r", "\n")
	return strings.Split(body, "\n")
}

// isSignatureStart reports whether a (normalized) line ends the author's text: the
// "-- " delimiter (RFC 3676 §4.3) or a mobile client's "sent from" line.
func isSignatureStart(line string) bool {
	if line == "--" || line == "—" || line == "——" {
		return true
	}
	if utf8.RuneCountInString(line) > 40 {
		return false
	}
	for _, p := range []string{"发自我的", "發自我的", "来自我的", "来自网易邮箱", "来自QQ邮箱", "从我的", "发自 ", "Sent from my", "Get Outlook for", "获取 Outlook for", "从 Outlook"} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// ParseCommands reads the staff commands of a reply body (plain text).
//
// Rules:
//   - Only the text above the quoted part counts (StripQuoted), and only up to a
//     signature ("-- " or a "发自我的iPhone" line).
//   - A command is a line starting with a keyword of SPEC §4 (Chinese or English,
//     English case-insensitive), followed by the end of the line, white space, a colon
//     (: or ：) or punctuation. Several commands may stand in one mail, one per line;
//     they are returned in order and the caller runs them in that order.
//   - The argument of 驳回/reject, 补充/need, 已处理/resolve and 备注/note is the rest of
//     the keyword line plus the following lines up to the first blank line, command line
//     or signature. The argument of 转交/assign and 通知作者/notify-author is the rest of
//     the line. Other commands take no argument; text after them on the same line is an
//     optional remark (Command.Arg).
//   - Other lines (greetings, thanks, names) are ignored. Problems lists the lines
//     that start like a command but are not run: a command without the argument it
//     needs (Problem.Incomplete: the caller refuses the whole mail, as for an illegal
//     command, so that a mail never runs in part) and a Chinese keyword glued to other
//     text such as "受理后…" (perhaps no command: the caller reports it).
func ParseCommands(body string) (cmds []Command, problems []Problem) {
	lines := splitLines(StripQuoted(body))
	for i := 0; i < len(lines); i++ {
		line := normalizeLine(lines[i])
		if isSignatureStart(line) {
			break
		}
		m, ok := matchKeyword(line, false)
		if !ok {
			continue
		}
		lineNo := i + 1
		if m.near {
			problems = append(problems, Problem{Line: lineNo, Text: fmt.Sprintf("第%d行「%s」以命令词「%s」开头，但命令词后没有空格或冒号，未执行 / line %d starts with the command %q without a space or colon after it; not executed",
				lineNo, clip(line), m.kw.word, lineNo, m.kw.word)})
			continue
		}
		arg, raw := m.rest, []string{line}
		if m.kw.arg == argText || m.kw.arg == argItems {
			for i+1 < len(lines) {
				next := normalizeLine(lines[i+1])
				if next == "" || isSignatureStart(next) {
					break
				}
				if _, isCmd := matchKeyword(next, false); isCmd {
					break
				}
				raw = append(raw, next)
				if arg == "" {
					arg = next
				} else {
					arg += "\n" + next
				}
				i++
			}
		}
		c := Command{Action: m.kw.action, Arg: arg, Line: lineNo, Raw: strings.Join(raw, "\n")}
		if p := checkArg(c, m.kw); p != "" {
			problems = append(problems, Problem{Line: lineNo, Incomplete: true, Text: p})
			continue
		}
		cmds = append(cmds, c)
	}
	return cmds, problems
}

// checkArg returns a problem when c lacks the argument its keyword requires.
func checkArg(c Command, k keyword) string {
	switch k.arg {
	case argText:
		if c.Arg == "" {
			return fmt.Sprintf("第%d行：「%s」需要写明内容（例如 %s：理由），未执行 / line %d: %q needs text after it; not executed", c.Line, k.word, k.word, c.Line, k.word)
		}
	case argItems:
		if codes, free := ParseNeedItems(nil, c.Arg); len(codes) == 0 && len(free) == 0 {
			return fmt.Sprintf("第%d行：「%s」需要列出材料（如 身份证、营业执照 或 id_card），未执行 / line %d: %q needs the items to ask for (e.g. id_card, business_license); not executed", c.Line, k.word, c.Line, k.word)
		}
	case argSingle:
		if c.Arg == "" {
			return fmt.Sprintf("第%d行：「%s」需要写明转交给谁（邮箱或别名），未执行 / line %d: %q needs a staff address or alias; not executed", c.Line, k.word, c.Line, k.word)
		}
	case argAddress:
		if !strings.Contains(c.Arg, "@") {
			return fmt.Sprintf("第%d行：「%s」需要作者的邮箱地址，未执行 / line %d: %q needs the author's e-mail address; not executed", c.Line, k.word, c.Line, k.word)
		}
	}
	return ""
}

// clip shortens s for quoting in a problem message.
func clip(s string) string {
	const max = 30
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}

// needFiller is trimmed from an item before it is compared with the labels, so that
// "身份证复印件" or "营业执照扫描件" still name their kind.
func needFiller() []string {
	return []string{"复印件", "扫描件", "原件", "照片", "正反面", "一份", "等"}
}

// docCode returns the kind an item names (a code, case-insensitive with - or _, or a
// label or synonym of the catalogue), or "".
func docCode(cat *cases.Catalogue, item string) cases.Kind {
	item = strings.Trim(item, " 。.！!")
	norm := strings.ReplaceAll(strings.ToLower(item), "-", "_")
	kinds := cat.Kinds()
	for _, k := range kinds {
		if norm == string(k.Code) {
			return k.Code
		}
	}
	for _, cut := range []bool{false, true} {
		s := item
		if cut {
			for _, f := range needFiller() {
				s = strings.TrimSuffix(s, f)
			}
		}
		for _, k := range kinds {
			if s == k.LabelZH || strings.EqualFold(s, k.LabelEN) || slices.Contains(k.Synonyms, s) {
				return k.Code
			}
		}
	}
	return ""
}

// ParseNeedItems splits the argument of 补充/need into document codes and free-text
// items. Items are separated by 、，,;； and line breaks. An item that is a code
// (id_card, ID-CARD) or a Chinese label of one (身份证, 在职证明, 公证书, 营业执照复印件)
// becomes that code; a segment made only of codes and labels separated by spaces
// ("id_card business_license") gives each; anything else is kept whole as a free item
// ("加盖公章的授权书原件"). Codes are returned once each, in order of appearance.
//
// The kinds are those of cat (nil: the built-in ones), admins' own included.
func ParseNeedItems(cat *cases.Catalogue, arg string) (codes []cases.Kind, free []string) {
	if cat == nil {
		cat = cases.DefaultCatalogue()
	}
	seen := map[cases.Kind]bool{}
	addCode := func(c cases.Kind) {
		if !seen[c] {
			seen[c] = true
			codes = append(codes, c)
		}
	}
	segments := strings.FieldsFunc(arg, func(r rune) bool {
		return strings.ContainsRune("、，,;；\n\r", r)
	})
	for _, seg := range segments {
		seg = strings.Trim(normalizeLine(seg), " 。.")
		if seg == "" {
			continue
		}
		if c := docCode(cat, seg); c != "" {
			addCode(c)
			continue
		}
		words := strings.Fields(seg)
		var wc []cases.Kind
		for _, w := range words {
			if c := docCode(cat, w); c != "" {
				wc = append(wc, c)
			}
		}
		if len(words) > 1 && len(wc) == len(words) {
			for _, c := range wc {
				addCode(c)
			}
			continue
		}
		// "营业执照 请提供原件照片": leading document names, then a remark about them.
		lead := 0
		for lead < len(words) && docCode(cat, words[lead]) != "" {
			lead++
		}
		if lead > 0 && lead < len(words) {
			for _, w := range words[:lead] {
				addCode(docCode(cat, w))
			}
			free = append(free, strings.Join(words[lead:], " "))
			continue
		}
		free = append(free, seg)
	}
	return codes, free
}

// CommandHelp lists the staff commands for locale, one per line, for replies to a
// mail that contained no command or an illegal one.
func CommandHelp(locale string) string {
	if cases.IsEnglish(locale) {
		return strings.Join([]string{
			"accept",
			"reject <reason>",
			"need <items: document codes such as id_card, or free text>",
			"resolve <what was done>",
			"assign <staff address or alias>",
			"note <internal note>",
			"close / reopen / escalate / downgrade",
			"notify-author <author's address>",
		}, "\n")
	}
	return strings.Join([]string{
		"受理",
		"驳回 <理由>",
		"补充 <材料：如 身份证、营业执照，或文字说明>",
		"已处理 <处理说明>",
		"转交 <同事邮箱或别名>",
		"备注 <内部备注，投诉人看不到>",
		"结案 / 重开 / 升级 / 降级",
		"通知作者 <作者邮箱>",
	}, "\n")
}
