package classify

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/complaintd/complaintd/internal/cases"
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
// alone (no person) is accepted. Anything else yields Conforms false.
func ParseSubject(subject string) cases.Subject {
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
		return cases.Subject{}
	}
	vi := runeIndex(fs, i)
	head, fhead := rs[:vi], f[:vi]
	tail, ftail := rs[vi+4:], f[vi+4:]

	// Tail: <channel><suffix>, trailing punctuation ignored.
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
	if !ok || len([]rune(channel)) > 20 || strings.ContainsAny(channel, "，,。;；") {
		return cases.Subject{}
	}

	// Head: <name>(<org>) or <name> or (<org>) or <org>.
	name, org := string(head), ""
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
			return cases.Subject{}
		}
		name = string(head[:open])
		org = string(head[open+1 : n-1])
	}
	name, org = strings.TrimSpace(name), strings.TrimSpace(org)
	if name == "" && org == "" {
		return cases.Subject{}
	}
	if len([]rune(name)) > 30 || strings.ContainsAny(fold(name), ",.;!?()，。；！？") || len([]rune(org)) > 60 {
		return cases.Subject{}
	}
	if org == "" && looksLikeOrg(name) {
		name, org = "", name
	}
	return cases.Subject{Conforms: true, Name: name, Org: org, Channel: channel}
}

// runeIndex converts a byte offset in s to a rune index.
func runeIndex(s string, byteOff int) int {
	return len([]rune(s[:byteOff]))
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
