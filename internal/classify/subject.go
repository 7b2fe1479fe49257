package classify

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/pii"
)

// caseTagRE matches a case tag such as [TS-2026-000123] (any prefix), also in 【】.
var caseTagRE = regexp.MustCompile(`\[[a-z0-9]{1,10}-\d{4}-\d{3,9}\]`)

// replyPrefixRE matches one reply or forward prefix at the start of a folded subject.
var replyPrefixRE = regexp.MustCompile(`^\s*(re|fw|fwd|aw|sv|回复|回覆|答复|转发|转寄|转|回)\s*(\[\d+\])?\s*:\s*`)

// subjectSuffixes are the words that may end the convention's tail (稿件 in the seed;
// 文章, 帖子 ... as written by applicants). Longer first.
var subjectSuffixes = []string{"相关稿件", "相关文章", "稿件", "文章", "帖子", "贴子", "跟帖", "评论", "博文", "新闻", "内容", "报道", "信息"}

// ParseSubject parses the subject convention
// `<applicant name>(<organisation>)申请删除<channel>稿件` (SPEC §2). Reply and forward
// prefixes and case tags are removed first; brackets may be half- or full-width and
// nested inside the organisation; the organisation is optional, and an organisation
// alone (no person) is accepted. Anything else yields Conforms false. For `甲代乙申请…`
// the subject is the agent 甲's; the principal and a 《title》 are returned by
// parseSubject, which Classify uses.
func ParseSubject(subject string) cases.Subject {
	return parseSubject(subject).Subject
}

// subjectParts is everything the subject convention says: the applicant (the agent
// when someone applies for another), the principal of `甲代乙申请…`, and the article's
// title when the channel is written as 《title》.
type subjectParts struct {
	cases.Subject
	PrincipalName, PrincipalOrg string
	Title                       string // without 《》
}

func parseSubject(subject string) subjectParts {
	rs := []rune(subject)
	f := foldRunes(rs)
	// Remove case tags and prefixes on the folded text, mirroring the cuts on rs.
	for {
		fs := string(f)
		loc := caseTagRE.FindStringIndex(fs)
		if loc == nil {
			break
		}
		a, b := runeIndex(fs, loc[0]), runeIndex(fs, loc[1])
		rs = append(append([]rune{}, rs[:a]...), rs[b:]...)
		f = append(append([]rune{}, f[:a]...), f[b:]...)
	}
	for {
		fs := string(f)
		loc := replyPrefixRE.FindStringIndex(fs)
		if loc == nil || loc[1] == 0 {
			break
		}
		n := runeIndex(fs, loc[1])
		rs, f = rs[n:], f[n:]
	}
	rs, f = squeezeSpaces(rs, f)

	fs := string(f)
	const verb = "申请删除"
	i := strings.Index(fs, verb)
	if i < 0 {
		return subjectParts{}
	}
	vi := runeIndex(fs, i)
	head, fhead := rs[:vi], f[:vi]
	tail, ftail := rs[vi+4:], f[vi+4:]

	// Tail: <channel><suffix>, trailing punctuation ignored; the channel may be, or
	// end with, the article's 《title》 (张三申请删除《某某报道》稿件), and then the
	// suffix may be left out (张三申请删除《某某报道》).
	for len(ftail) > 0 && strings.ContainsRune("。.!！?？~～", ftail[len(ftail)-1]) {
		tail, ftail = tail[:len(tail)-1], ftail[:len(ftail)-1]
	}
	channel := ""
	ok := false
	for _, suf := range subjectSuffixes {
		if strings.HasSuffix(string(ftail), suf) {
			n := len([]rune(suf))
			channel = strings.TrimSpace(string(tail[:len(tail)-n]))
			ok = true
			break
		}
	}
	if !ok && strings.HasSuffix(string(ftail), "》") {
		channel, ok = strings.TrimSpace(string(tail)), true
	}
	channel, title := cutTitle(channel)
	if !ok || len([]rune(channel)) > 20 || strings.ContainsAny(channel, "，,。;；《》") {
		return subjectParts{}
	}

	// Head: <agent>代<principal>, each side <name>(<org>) or <name> or (<org>) or <org>.
	var out subjectParts
	if agent, principal, ok := splitAgent(head, fhead); ok {
		pn, po, ok := headParty(principal, foldRunes(principal))
		if !ok {
			return subjectParts{}
		}
		out.PrincipalName, out.PrincipalOrg = pn, po
		head, fhead = agent, foldRunes(agent)
	}
	name, org, ok := headParty(head, fhead)
	if !ok {
		return subjectParts{}
	}
	// A number is never a name, an organisation or a channel: such a subject is not
	// the convention (issue 14: it became the display name of replies).
	for _, v := range []string{name, org, channel, out.PrincipalName, out.PrincipalOrg} {
		if pii.ContainsNumber(v) {
			return subjectParts{}
		}
	}
	if pii.ContainsNumber(title) {
		title = ""
	}
	out.Subject = cases.Subject{Conforms: true, Name: name, Org: org, Channel: channel}
	out.Title = title
	return out
}

// cutTitle takes a 《title》 out of a subject's channel: 《某某报道》 → "", 某某报道;
// 凤凰资讯《某某报道》 → 凤凰资讯, 某某报道.
func cutTitle(channel string) (rest, title string) {
	open := strings.Index(channel, "《")
	if open < 0 {
		return channel, ""
	}
	end := strings.LastIndex(channel, "》")
	if end < open {
		return channel, ""
	}
	title = strings.TrimSpace(channel[open+len("《") : end])
	rest = strings.TrimSpace(channel[:open] + channel[end+len("》"):])
	return rest, title
}

// agentWords join agent and principal in `甲代乙申请…`, longer first.
var agentWords = []string{"代表", "代为", "代"}

// splitAgent splits a subject's head at 代 outside brackets: 北京某某律师事务所代王五 →
// 北京某某律师事务所, 王五. Both sides must be two characters or more (李代沫 is a
// name), and 代 inside an organisation's name (新时代文化有限公司) is not a split: when
// the whole head reads as an organisation, the agent must read as one too.
func splitAgent(head, fhead []rune) (agent, principal []rune, ok bool) {
	depth := 0
	for i := 0; i < len(fhead); i++ {
		switch fhead[i] {
		case '(':
			depth++
			continue
		case ')':
			depth--
			continue
		}
		if depth != 0 || fhead[i] != '代' {
			continue
		}
		n := 1
		for _, w := range agentWords {
			if strings.HasPrefix(string(fhead[i:]), w) {
				n = len([]rune(w))
				break
			}
		}
		a, p := head[:i], head[i+n:]
		if len(a) < 2 || len(p) < 2 {
			continue
		}
		an, ao, aok := headParty(a, fhead[:i])
		if !aok || (looksLikeOrg(string(head)) && !looksLikeOrg(ao) && !looksLikeOrg(an)) {
			continue
		}
		return a, p, true
	}
	return nil, nil, false
}

// headParty reads one party of a subject's head: <name>(<org>), <name>, (<org>) or
// <org>; ok is false when the brackets do not balance or the parts are too long or
// hold sentence punctuation.
func headParty(head, fhead []rune) (name, org string, ok bool) {
	name = string(head)
	if n := len(fhead); n > 0 && fhead[n-1] == ')' {
		depth := 0
		open := -1
		for j := n - 1; j >= 0; j-- {
			switch fhead[j] {
			case ')':
				depth++
			case '(':
				depth--
			}
			if depth == 0 {
				open = j
				break
			}
		}
		if open < 0 {
			return "", "", false
		}
		name = string(head[:open])
		org = string(head[open+1 : n-1])
	}
	name, org = strings.TrimSpace(name), strings.TrimSpace(org)
	if name == "" && org == "" {
		return "", "", false
	}
	// A colon or square brackets in the name are a note or label around it
	// (补充材料：张三, 【张三】): taken whole they became the name replies greet.
	if len([]rune(name)) > 30 || strings.ContainsAny(fold(name), ",.;:!?()[]，。；！？") || len([]rune(org)) > 60 {
		return "", "", false
	}
	if org == "" && looksLikeOrg(name) {
		name, org = "", name
	}
	return name, org, true
}

// runeIndex converts a byte offset in s to a rune index.
func runeIndex(s string, byteOff int) int {
	return utf8.RuneCountInString(s[:byteOff]) // as len([]rune(…)), without the copy
}

// squeezeSpaces trims rs and removes whitespace next to non-ASCII runes or brackets,
// keeping single spaces between ASCII words ("Li Lei"). f is kept index-aligned.
func squeezeSpaces(rs, f []rune) ([]rune, []rune) {
	var outR, outF []rune
	for i := 0; i < len(f); i++ {
		if !unicode.IsSpace(f[i]) {
			outR, outF = append(outR, rs[i]), append(outF, f[i])
			continue
		}
		j := i
		for j < len(f) && unicode.IsSpace(f[j]) {
			j++
		}
		if len(outF) > 0 && j < len(f) && isWordASCII(outF[len(outF)-1]) && isWordASCII(f[j]) {
			outR, outF = append(outR, ' '), append(outF, ' ')
		}
		i = j - 1
	}
	return outR, outF
}

func isWordASCII(r rune) bool {
	return r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// orgSuffixes end the names of organisations (公司, 集团, 律师事务所 ...).
var orgSuffixes = []string{"公司", "集团", "有限", "事务所", "律所", "协会", "学会", "委员会", "研究院", "研究所", "中心", "医院", "学校", "大学", "学院", "银行", "酒店", "工厂", "厂", "局", "银行", "基金会", "合作社", "商行", "门店", "工作室", "俱乐部", "报社", "杂志社", "电视台", "网站", "平台", "group", "ltd", "inc", "co.", "limited"}

// looksLikeOrg reports whether name ends like an organisation's name.
func looksLikeOrg(name string) bool {
	f := strings.TrimRight(fold(name), " .")
	if len([]rune(f)) < 3 {
		return false
	}
	for _, s := range orgSuffixes {
		if strings.HasSuffix(f, s) {
			return true
		}
	}
	return false
}
