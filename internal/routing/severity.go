package routing

import (
	"crypto/sha256"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// maxFieldBytes bounds how much of one text the rules read: a complaint states its
// grounds early, and a pasted megabyte must not cost a megabyte per rule.
const maxFieldBytes = 256 << 10

// SeverityInput is what severity is decided on. Body must be the complainant's own
// text, with quoted replies removed (desk.StripQuoted): the desk's own replies list
// 判决书 and 报警回执 as examples of proof, and a quote of them must not count. The
// body's lines that describe the article (title, author, source, link fields) are not
// read by any rule: they are the article's words.
type SeverityInput struct {
	Subject        string
	Body           string
	Attachments    []string // file names, zip entries included
	ApplicantOrg   string   // the applicant's organisation (a law firm for entrusted requests)
	PrincipalOrg   string   // the principal's organisation, entrusted requests only
	ApplicantEmail string
	// Earlier cases within RepeatWindowDays (not counting this one): about the same
	// NormaliseLink key, and from the same applicant.
	SameLink      int
	SameApplicant int
}

// SeverityDecision is the level and every reason for it, in rule order.
type SeverityDecision struct {
	Level   string // Ordinary or Major
	Reasons []string
}

type rule struct {
	name, level string
	re, exclude *regexp.Regexp
	fields      []string
	gate        []string // literals one of which a match holds (gate.go); nil: none known
}

func compileRule(c SeverityRule) (rule, error) {
	var parts []string
	if c.Pattern != "" {
		parts = append(parts, "(?:"+c.Pattern+")")
	}
	for _, k := range c.Keywords {
		if k = strings.TrimSpace(k); k != "" {
			parts = append(parts, regexp.QuoteMeta(fold(k)))
		}
	}
	if len(parts) == 0 {
		return rule{}, fmt.Errorf("rule %q needs a pattern or keywords", c.Name)
	}
	expr := "(?i)" + strings.Join(parts, "|")
	re, err := regexp.Compile(expr)
	if err != nil {
		return rule{}, fmt.Errorf("pattern: %w", err)
	}
	ru := rule{name: c.Name, level: c.Level, re: re, fields: c.Fields}
	if lits, ok := gateLiterals(expr); ok {
		ru.gate = lits
	}
	if ru.level == "" {
		ru.level = Major
	}
	if len(ru.fields) == 0 {
		ru.fields = []string{"subject", "body", "attachments"}
	}
	if c.Exclude != "" {
		if ru.exclude, err = regexp.Compile("(?i)(?:" + c.Exclude + ")"); err != nil {
			return rule{}, fmt.Errorf("exclude: %w", err)
		}
	}
	return ru, nil
}

// articleLabels are the labels a takedown form gives the lines that describe the
// article: its title, author, source and link (the variants package classify reads,
// traditional spellings included). Such a line is the article's words, not the
// complainant's: 文章作者：记者 李四 is no threat of media exposure, 文章标题：张三起诉
// 李四案 no threat to sue.
var articleLabels = []string{
	// title
	"标题", "標題", "文章标题", "文章標題", "稿件标题", "新闻标题", "帖子标题", "原文标题", "报道标题", "稿件名称", "文章名称", "title",
	// author
	"作者", "文章作者", "稿件作者", "原文作者", "原作者", "发帖人", "發帖人", "发布者", "发布人", "author", "reporter",
	"作者/来源", "来源/作者", "作者及来源", "文章作者/稿件来源",
	// source
	"来源", "來源", "稿件来源", "文章来源", "原文来源", "新闻来源", "出处", "出處", "source",
	// link
	"链接", "鏈接", "連結", "网址", "網址", "文章链接", "文章鏈接", "原文链接", "原文鏈接", "原文地址", "原文网址", "来源网址", "来源链接",
	"稿件链接", "新闻链接", "帖子链接", "稿件网址", "网页链接", "网页地址", "文章地址", "文章网址", "链接地址", "url", "link",
}

// articleLineRE matches a whole line that is one of those fields, after width folding:
// leading bullets and numbering (⏹, 1、, (2)), the label, an instruction in brackets,
// then a colon or a tab (a table row from a .docx or a spreadsheet).
var articleLineRE = func() *regexp.Regexp {
	labels := make([]string, len(articleLabels))
	for i, l := range articleLabels {
		labels[i] = regexp.QuoteMeta(l)
	}
	// Longest first, so that 文章作者/稿件来源 is not cut at 文章作者.
	sort.Slice(labels, func(i, j int) bool { return len(labels[i]) > len(labels[j]) })
	const lead = `[ \t\x{3000}]*[■□⏹●○•·◆◇▪▫☐☑✔✓*+>#◎※►▶→-]*[ \t]*(?:\(?[0-9一二三四五六七八九十]{1,3}[)、.][ \t]*)?`
	return regexp.MustCompile(`(?im)^` + lead + `(?:` + strings.Join(labels, "|") + `)[ \t]*(?:\([^)\n]*\))?[ \t]*[:\t].*$`)
}()

// withoutArticleLines blanks the lines of t that describe the article (articleLineRE);
// t is width-folded. Line count is kept, so quotes stay where they were.
func withoutArticleLines(t string) string {
	return articleLineRE.ReplaceAllString(t, "")
}

// fold makes full-width letters, digits and punctuation half-width (ＬＡＷ, ：).
func fold(s string) string { return width.Fold.String(s) }

// Warm matches the rules against a mail's subject and body ahead of Severity (the
// intake calls it while it parses the mail, on its parallel workers), so that the
// decision made in the store's single commit finds the matches made.
func (r *Router) Warm(subject, body string) {
	r.texts.of(r, "subject", subject)
	r.texts.of(r, "body", body)
}

// subjectTitleRE is an article's 《title》 in a subject.
var subjectTitleRE = regexp.MustCompile(`《[^《》]*》`)

// foldField is a field's text as the rules see it. The subject's 《title》 is blanked
// as the body's article lines are: the convention names the article by its title
// (张三申请删除《某公司被起诉案》稿件, SPEC §2), and the article's words are no threat
// of the complainant's.
func foldField(f, t string) string {
	t = fold(clip(t, maxFieldBytes))
	switch f {
	case "body":
		t = withoutArticleLines(t)
	case "subject":
		t = subjectTitleRE.ReplaceAllString(t, "《…》")
	}
	return t
}

// textMatches is one subject or body as the rules see it and each rule's first
// match in it (by rule index; ok false: no match, or the rule does not look there).
type textMatches struct {
	folded string
	rules  []struct {
		a, b int
		ok   bool
	}
}

// textMemo remembers the matches in recent subjects and bodies, by digest; bounded.
type textMemo struct {
	mu sync.Mutex
	m  map[[32]byte]*textMatches
}

const textMemoSize = 512

// textKey identifies a field's text in the memo.
func textKey(field, text string) [32]byte {
	h := sha256.New()
	io.WriteString(h, field)
	h.Write([]byte{0})
	io.WriteString(h, text)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (tm *textMemo) of(r *Router, field, text string) *textMatches {
	k := textKey(field, text)
	if tm != nil {
		tm.mu.Lock()
		got := tm.m[k]
		tm.mu.Unlock()
		if got != nil {
			return got
		}
	}
	got := &textMatches{folded: foldField(field, text)}
	got.rules = make([]struct {
		a, b int
		ok   bool
	}, len(r.rules))
	var caseFolded *string // made for the first rule with a gate
	for i, ru := range r.rules {
		if got.folded == "" || !slices.Contains(ru.fields, field) {
			continue
		}
		if ru.gate != nil {
			if caseFolded == nil {
				cf := caseFold(got.folded)
				caseFolded = &cf
			}
			if !gateOpen(*caseFolded, ru.gate) {
				continue
			}
		}
		got.rules[i].a, got.rules[i].b, got.rules[i].ok = ru.match(got.folded)
	}
	if tm != nil {
		tm.mu.Lock()
		if tm.m == nil || len(tm.m) >= textMemoSize {
			tm.m = map[[32]byte]*textMatches{}
		}
		tm.m[k] = got
		tm.mu.Unlock()
	}
	return got
}

// Severity decides the level of a case from the configured rules and repetition.
// The intake decides twice for each mail (its commit runs a first pass that finds the
// replies to render before the transaction); the rules' regular expressions over the
// subject and the body, a fifth of that serial commit's time, run once per text,
// ahead (Warm), and are remembered (issue 18).
func (r *Router) Severity(in SeverityInput) SeverityDecision {
	texts := map[string][]string{
		"subject":         {in.Subject},
		"body":            {in.Body},
		"attachments":     in.Attachments,
		"applicant_org":   {strings.TrimSpace(in.ApplicantOrg), strings.TrimSpace(in.PrincipalOrg)},
		"applicant_email": {strings.ToLower(strings.TrimSpace(in.ApplicantEmail))},
	}
	folded := map[string][]string{}
	// The subject and the body are matched through the text memo (Warm fills it
	// ahead, off the commit); the other fields are short.
	long := map[string]*textMatches{"subject": r.texts.of(r, "subject", in.Subject), "body": r.texts.of(r, "body", in.Body)}
	out := SeverityDecision{Level: Ordinary}
	for i, ru := range r.rules {
		for _, f := range ru.fields {
			if folded[f] == nil {
				if tm := long[f]; tm != nil {
					folded[f] = []string{tm.folded}
				}
				for _, t := range texts[f] {
					if long[f] != nil {
						break
					}
					folded[f] = append(folded[f], foldField(f, t))
				}
			}
			for _, t := range folded[f] {
				if t == "" {
					continue
				}
				var a, b int
				var ok bool
				if tm := long[f]; tm != nil {
					a, b, ok = tm.rules[i].a, tm.rules[i].b, tm.rules[i].ok
				} else if ru.gate == nil || gateOpen(caseFold(t), ru.gate) {
					a, b, ok = ru.match(t)
				}
				if !ok {
					continue
				}
				out.Reasons = append(out.Reasons, fmt.Sprintf("%s: %q in %s %s", ru.name, t[a:b], fieldLabel(f), quote(f, t, a, b)))
				if ru.level == Major {
					out.Level = Major
				}
			}
		}
	}
	if in.SameLink >= r.threshold {
		out.Level = Major
		out.Reasons = append(out.Reasons, fmt.Sprintf("repeat_link: %d earlier case(s) about the same article link within %d days (threshold %d)", in.SameLink, r.window, r.threshold))
	}
	if in.SameApplicant >= r.threshold {
		out.Level = Major
		out.Reasons = append(out.Reasons, fmt.Sprintf("repeat_applicant: %d earlier case(s) from the same applicant within %d days (threshold %d)", in.SameApplicant, r.window, r.threshold))
	}
	return out
}

// match returns the first match of the rule in t that no exclude match contains.
func (ru rule) match(t string) (int, int, bool) {
	ms := ru.re.FindAllStringIndex(t, -1)
	if len(ms) == 0 {
		return 0, 0, false
	}
	var ex [][]int
	if ru.exclude != nil {
		ex = ru.exclude.FindAllStringIndex(t, -1)
	}
next:
	for _, m := range ms {
		if m[0] == m[1] {
			continue // an empty match says nothing
		}
		for _, e := range ex {
			if e[0] <= m[0] && m[1] <= e[1] {
				continue next
			}
		}
		return m[0], m[1], true
	}
	return 0, 0, false
}

func fieldLabel(f string) string {
	switch f {
	case "attachments":
		return "attachment"
	}
	return f
}

// quote shows where a match was: the whole file name or organisation, the domain of
// an address, or a few characters around it in a text, with digit runs of six or more
// masked (phone and ID numbers must not leak into reasons).
func quote(field, t string, a, b int) string {
	switch field {
	case "applicant_email":
		if _, dom, ok := strings.Cut(t, "@"); ok {
			return fmt.Sprintf("%q", "@"+dom)
		}
		return `""`
	case "attachments", "applicant_org":
		return fmt.Sprintf("%q", maskDigits(clipRunes(t, 80)))
	}
	const around = 12
	pre, post := []rune(t[:a]), []rune(t[b:])
	lead, tail := "", ""
	if len(pre) > around {
		pre, lead = pre[len(pre)-around:], "…"
	}
	if len(post) > around {
		post, tail = post[:around], "…"
	}
	s := lead + string(pre) + t[a:b] + string(post) + tail
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == '\t' }), " ")
	return fmt.Sprintf("%q", maskDigits(s))
}

func maskDigits(s string) string {
	rs := []rune(s)
	for i := 0; i < len(rs); {
		j := i
		for j < len(rs) && unicode.IsDigit(rs[j]) {
			j++
		}
		if j-i >= 6 {
			for k := i; k < j; k++ {
				rs[k] = '*'
			}
		}
		if j == i {
			j++
		}
		i = j
	}
	return string(rs)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func clipRunes(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n]) + "…"
}
