package classify

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field names, the keys of Fields.
const (
	FieldName          = "name"           // 姓名, 申请人姓名
	FieldNameOrg       = "name_org"       // the seed's combined 姓名单位名称 line
	FieldOrg           = "org"            // 单位名称
	FieldAgent         = "agent"          // 经办人
	FieldEmail         = "email"          // 联系邮箱
	FieldPhone         = "phone"          // 联系电话
	FieldIDNo          = "id_number"      // 身份证号
	FieldTitle         = "title"          // 文章标题
	FieldAuthor        = "author"         // 文章作者, 发帖人
	FieldSource        = "source"         // 来源, 稿件来源
	FieldURL           = "url"            // 文章链接
	FieldPublished     = "published"      // 文章发表时间
	FieldReason        = "reason"         // 删除原因, may span lines
	FieldPrincipal     = "principal"      // 委托人
	FieldPrincipalOrg  = "principal_org"  // 委托单位
	FieldPrincipalKind = "principal_type" // 委托人类型 (rare; kept for staff)
)

// fieldLabels maps folded labels (no spaces, parentheses removed) to field names.
var fieldLabels = map[string]string{
	"姓名": FieldName, "申请人姓名": FieldName, "申请人": FieldName, "联系人": FieldName, "name": FieldName,
	"姓名单位名称": FieldNameOrg, "姓名/单位名称": FieldNameOrg, "姓名或单位名称": FieldNameOrg, "申请人姓名/单位名称": FieldNameOrg,
	"单位名称": FieldOrg, "单位": FieldOrg, "公司名称": FieldOrg, "申请单位": FieldOrg, "申请单位名称": FieldOrg, "企业名称": FieldOrg,
	"经办人": FieldAgent, "经办人姓名": FieldAgent, "受托人": FieldAgent, "代理人": FieldAgent,
	"联系邮箱": FieldEmail, "邮箱": FieldEmail, "电子邮箱": FieldEmail, "电子邮件": FieldEmail, "email": FieldEmail, "e-mail": FieldEmail,
	"联系电话": FieldPhone, "电话": FieldPhone, "手机": FieldPhone, "手机号": FieldPhone, "手机号码": FieldPhone, "联系方式": FieldPhone,
	"身份证号": FieldIDNo, "身份证号码": FieldIDNo, "身份证": FieldIDNo, "证件号码": FieldIDNo, "经办人身份证号": FieldIDNo,
	"文章标题": FieldTitle, "标题": FieldTitle, "稿件标题": FieldTitle, "新闻标题": FieldTitle, "帖子标题": FieldTitle,
	"文章作者": FieldAuthor, "作者": FieldAuthor, "发帖人": FieldAuthor, "文章作者/稿件来源": FieldAuthor,
	"稿件来源": FieldSource, "文章来源": FieldSource, "来源": FieldSource,
	"文章链接": FieldURL, "链接": FieldURL, "网址": FieldURL, "文章地址": FieldURL, "链接地址": FieldURL, "文章网址": FieldURL, "url": FieldURL,
	"文章发表时间": FieldPublished, "发表时间": FieldPublished, "发布时间": FieldPublished, "发表日期": FieldPublished,
	"删除原因": FieldReason, "申请删除原因": FieldReason, "删除理由": FieldReason, "原因": FieldReason,
	"委托人": FieldPrincipal, "委托人姓名": FieldPrincipal, "当事人": FieldPrincipal,
	"委托单位": FieldPrincipalOrg, "委托人单位": FieldPrincipalOrg, "委托单位名称": FieldPrincipalOrg,
}

// Fields holds form values by field name, and which lines of the text they came from.
type Fields struct {
	Values map[string]string
	// Lines marks the line indexes consumed by field labels and the reason, so that
	// content-kind detection can skip them.
	Lines map[int]bool
	// ReasonLines marks the lines that belong to the reason.
	ReasonLines map[int]bool
}

// bulletRunes may lead a form line (the seed uses ⏹).
const bulletRunes = "■□⏹●○•·◆◇▪▫☐☑✔✓-*+>#◎※►▶→"

// numberingRE matches line numbering such as 1、 1. (1) （一） 一、.
var numberingRE = regexp.MustCompile(`^(\(?[0-9一二三四五六七八九十]{1,3}[)、.．]|\([0-9一二三四五六七八九十]{1,3}\))\s*`)

// sectionRE matches the seed's section headers (一、申请人单位资料：).
var sectionRE = regexp.MustCompile(`^[一二三四五六七八九十]+、`)

// stopRE matches lines that end a multi-line reason.
var stopRE = regexp.MustCompile(`^(此致|敬礼|附件|附:|谢谢|顺祝|祝好|亲笔签名|签名|签字|日期|申请人签|--\s*$|—+\s*$|发自我的|sent from|best regards|regards|------|在.*写道|on .* wrote)`)

// placeholderRE matches the seed's own instructions in brackets: (必填完整标题) ...
var placeholderRE = regexp.MustCompile(`^\([^()]*(必填|选填|填写|请填|请输入|如:|例如|公章|签字)[^()]*\)`)

// multiFieldRE finds a second "label:" inside a value ("姓名：张三  电话：138…").
var multiFieldRE = func() *regexp.Regexp {
	var labels []string
	for l := range fieldLabels {
		if len([]rune(l)) >= 2 {
			labels = append(labels, regexp.QuoteMeta(l))
		}
	}
	sort.Slice(labels, func(i, j int) bool { return len(labels[i]) > len(labels[j]) })
	return regexp.MustCompile(`\s+(` + strings.Join(labels, "|") + `)\s*:`)
}()

// ParseFields reads `字段：值` lines (full- and half-width colons, leading bullets and
// numbering, table rows whose cells are separated by tabs). The first value of a field
// wins; the seed's placeholder text in brackets is not a value; the reason continues
// over the following lines until the next field or a closing line.
func ParseFields(text string) Fields {
	fs := Fields{Values: map[string]string{}, Lines: map[int]bool{}, ReasonLines: map[int]bool{}}
	lines := strings.Split(text, "\n")
	inReason := false
	var reason []string
	flushReason := func() {
		if inReason {
			v := strings.TrimSpace(strings.Join(reason, "\n"))
			if v != "" && fs.Values[FieldReason] == "" {
				fs.Values[FieldReason] = v
			}
		}
		inReason, reason = false, nil
	}
	prevBlank := false
	for i, raw := range lines {
		line := strings.TrimRight(raw, "\r")
		pairs := lineFields(line)
		blank := strings.TrimSpace(line) == ""
		if inReason {
			fl := strings.TrimSpace(fold(line))
			if len(pairs) > 0 || stopRE.MatchString(fl) || stopRE.MatchString(fold(stripLead(line))) || sectionRE.MatchString(strings.TrimSpace(line)) ||
				(prevBlank && isSignatureLine(fl) && signatureFollows(lines[i+1:])) {
				flushReason()
			} else {
				reason = append(reason, strings.TrimSpace(line))
				fs.Lines[i], fs.ReasonLines[i] = true, true
				prevBlank = blank
				continue
			}
		}
		prevBlank = blank
		for _, p := range pairs {
			fs.Lines[i] = true
			if p.field == FieldReason {
				inReason = true
				fs.ReasonLines[i] = true
				reason = append(reason, p.value)
				continue
			}
			if p.value != "" && fs.Values[p.field] == "" {
				fs.Values[p.field] = p.value
			}
		}
	}
	flushReason()
	return fs
}

// isSignatureLine tells a signature after a blank line ("张三", "张三 敬上", a date
// like "2026.11.20") from a paragraph of the reason: short, and no sentence punctuation.
func isSignatureLine(folded string) bool {
	if folded == "" || utf8.RuneCountInString(folded) > 6 {
		return false
	}
	return !strings.ContainsAny(folded, ",.;:!?，。；：！？、")
}

// signatureFollows reports whether what comes after a short line ends the mail the
// way a signature does: nothing more, or a closing such as 发自我的iPhone.
func signatureFollows(rest []string) bool {
	for _, l := range rest {
		l = strings.TrimSpace(fold(strings.TrimRight(l, "\r")))
		if l == "" {
			continue
		}
		return stopRE.MatchString(l)
	}
	return true
}

type fieldPair struct{ field, value string }

// lineFields returns the fields on one line.
func lineFields(line string) []fieldPair {
	if strings.Contains(line, "\t") {
		return cellFields(strings.Split(line, "\t"))
	}
	label, value, ok := splitLabel(line)
	if !ok {
		return nil
	}
	field, ok := fieldLabels[label]
	if !ok {
		return nil
	}
	out := []fieldPair{}
	// A second field on the same line: "姓名：张三  电话：138…". Offsets found in the
	// folded value are mapped back through rune indexes (folding changes byte lengths).
	for {
		fv := fold(value)
		loc := multiFieldRE.FindStringSubmatchIndex(fv)
		if loc == nil {
			break
		}
		rs := []rune(value)
		out = append(out, fieldPair{field, cleanValue(string(rs[:runeIndex(fv, loc[0])]))})
		rest := string(rs[runeIndex(fv, loc[2]):])
		l2, v2, ok := splitLabel(rest)
		if !ok {
			return out
		}
		field, value = fieldLabels[l2], v2
	}
	return append(out, fieldPair{field, cleanValue(value)})
}

// cellFields reads a table row: "label<TAB>value<TAB>label<TAB>value" or cells holding
// "label：value" each.
func cellFields(cells []string) []fieldPair {
	var out []fieldPair
	for i := 0; i < len(cells); i++ {
		c := strings.TrimSpace(cells[i])
		if c == "" {
			continue
		}
		if label, value, ok := splitLabel(c); ok {
			if f, ok := fieldLabels[label]; ok {
				if value == "" && i+1 < len(cells) && !isLabelCell(cells[i+1]) {
					value = cells[i+1]
					i++
				}
				out = append(out, fieldPair{f, cleanValue(value)})
				continue
			}
		}
		if f, ok := fieldLabels[normLabel(c)]; ok && i+1 < len(cells) && !isLabelCell(cells[i+1]) {
			out = append(out, fieldPair{f, cleanValue(cells[i+1])})
			i++
		}
	}
	return out
}

func isLabelCell(c string) bool {
	c = strings.TrimSpace(c)
	if l, _, ok := splitLabel(c); ok {
		if _, ok := fieldLabels[l]; ok {
			return true
		}
	}
	_, ok := fieldLabels[normLabel(c)]
	return ok
}

// stripLead removes leading whitespace, bullets and numbering.
func stripLead(line string) string {
	s := strings.TrimLeftFunc(line, func(r rune) bool {
		return unicode.IsSpace(r) || r == 0x3000 || strings.ContainsRune(bulletRunes, r)
	})
	f := fold(s)
	if loc := numberingRE.FindStringIndex(f); loc != nil {
		s = string([]rune(s)[runeIndex(f, loc[1]):])
	}
	return strings.TrimLeftFunc(s, unicode.IsSpace)
}

// splitLabel splits "label：value" at the first colon outside brackets; label is
// normalised by normLabel.
func splitLabel(line string) (label, value string, ok bool) {
	s := stripLead(line)
	rs := []rune(s)
	depth := 0
	for i, r := range rs {
		switch foldRune(r) {
		case '(', '[':
			depth++
		case ')', ']':
			if depth > 0 {
				depth--
			}
		case ':':
			if depth == 0 {
				if i == 0 || i > 40 {
					return "", "", false
				}
				return normLabel(string(rs[:i])), strings.TrimSpace(string(rs[i+1:])), true
			}
		}
	}
	return "", "", false
}

// normLabel folds a label, removes bracketed parts, spaces and required-markers.
func normLabel(s string) string {
	f := fold(s)
	var b strings.Builder
	depth := 0
	for _, r := range f {
		switch {
		case r == '(' || r == '[':
			depth++
		case r == ')' || r == ']':
			if depth > 0 {
				depth--
			}
		case depth > 0, unicode.IsSpace(r), r == '*', r == '⏹', r == '■':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// emptyValues are written by applicants for "nothing".
var emptyValues = map[string]bool{"无": true, "暂无": true, "/": true, "-": true, "--": true, "——": true, "略": true, "n/a": true, "none": true}

// cleanValue trims a value and removes the seed's placeholder instructions.
func cleanValue(v string) string {
	v = strings.TrimFunc(v, func(r rune) bool { return unicode.IsSpace(r) || r == 0x3000 })
	for {
		f := fold(v)
		loc := placeholderRE.FindStringIndex(f)
		if loc == nil {
			break
		}
		v = strings.TrimSpace(string([]rune(v)[runeIndex(f, loc[1]):]))
	}
	if emptyValues[fold(v)] {
		return ""
	}
	return v
}
