package classify

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/complaintd/complaintd/internal/pii"
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
	// The principal's own numbers: 委托人身份证号 lines, and the ID and phone written
	// after the name on a 委托人 line (委托人：王五，身份证号 …，电话 …).
	FieldPrincipalIDNo  = "principal_id_number"
	FieldPrincipalPhone = "principal_phone"
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
	"原文标题": FieldTitle, "稿件名称": FieldTitle, "文章名称": FieldTitle, "报道标题": FieldTitle,
	"文章作者": FieldAuthor, "作者": FieldAuthor, "发帖人": FieldAuthor, "文章作者/稿件来源": FieldAuthor,
	// 作者/来源 is how the staff template prints the field; applicants copy it back.
	"作者/来源": FieldAuthor, "来源/作者": FieldAuthor, "作者及来源": FieldAuthor, "稿件作者": FieldAuthor, "原文作者": FieldAuthor, "原作者": FieldAuthor,
	"发布者": FieldAuthor, "发布人": FieldAuthor,
	"稿件来源": FieldSource, "文章来源": FieldSource, "来源": FieldSource, "原文来源": FieldSource, "新闻来源": FieldSource, "出处": FieldSource,
	"文章链接": FieldURL, "链接": FieldURL, "网址": FieldURL, "文章地址": FieldURL, "链接地址": FieldURL, "文章网址": FieldURL, "url": FieldURL,
	"原文链接": FieldURL, "原文地址": FieldURL, "原文网址": FieldURL, "来源网址": FieldURL, "来源链接": FieldURL, "稿件链接": FieldURL,
	"新闻链接": FieldURL, "帖子链接": FieldURL, "稿件网址": FieldURL, "网页链接": FieldURL, "网页地址": FieldURL, "文章url": FieldURL,
	"文章发表时间": FieldPublished, "发表时间": FieldPublished, "发布时间": FieldPublished, "发表日期": FieldPublished,
	"发布日期": FieldPublished, "原文发布时间": FieldPublished, "刊发时间": FieldPublished,
	"删除原因": FieldReason, "申请删除原因": FieldReason, "删除理由": FieldReason, "原因": FieldReason,
	"委托人": FieldPrincipal, "委托人姓名": FieldPrincipal, "当事人": FieldPrincipal,
	"委托单位": FieldPrincipalOrg, "委托人单位": FieldPrincipalOrg, "委托单位名称": FieldPrincipalOrg,
	"委托人身份证号": FieldPrincipalIDNo, "委托人身份证号码": FieldPrincipalIDNo, "委托人身份证": FieldPrincipalIDNo,
	"委托人电话": FieldPrincipalPhone, "委托人联系电话": FieldPrincipalPhone, "委托人手机": FieldPrincipalPhone, "委托人手机号": FieldPrincipalPhone,
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

// inlineSep may precede a second label on a line: spaces, or the punctuation that ends a
// value (folded: ，→, ；→;), so that 委托人：王五，身份证号：… splits without spaces.
const inlineSep = `(?:\s|[,;。、])+`

// multiFieldRE finds a second "label:" inside a value ("姓名：张三  电话：138…",
// "王五，身份证号：3101…").
var multiFieldRE = regexp.MustCompile(inlineSep + `(` + labelAlternation(func(string) bool { return true }) + `)\s*:`)

// numberFields are the fields whose label may stand without a colon before its value,
// because the value's shape (an ID number, a phone, an address) says where it ends.
var numberFields = map[string]bool{FieldIDNo: true, FieldPhone: true, FieldEmail: true, FieldPrincipalIDNo: true, FieldPrincipalPhone: true}

// bareFieldRE finds such a label and the value after it inside a value ("王五，电话
// 13700001111"); group 2 runs to the next separator and is checked by shapeFits.
var bareFieldRE = regexp.MustCompile(inlineSep + `(` + labelAlternation(func(f string) bool { return numberFields[f] }) + `)\s*([^\s,;。、]+)`)

// bareLineRE is a whole line made of such a label and value ("电话 13900001111"): a
// field line although it has no colon, so that it ends a reason.
var bareLineRE = regexp.MustCompile(`^(` + labelAlternation(func(f string) bool { return numberFields[f] }) + `)\s*([^\s,;。、]+)\s*$`)

// labelAlternation is the labels of the fields keep accepts, longest first (so that
// 联系电话 is found before 电话), as a regular-expression alternation.
func labelAlternation(keep func(field string) bool) string {
	var labels []string
	for l, f := range fieldLabels {
		if len([]rune(l)) >= 2 && keep(f) {
			labels = append(labels, regexp.QuoteMeta(l))
		}
	}
	sort.Slice(labels, func(i, j int) bool {
		if len(labels[i]) != len(labels[j]) {
			return len(labels[i]) > len(labels[j])
		}
		return labels[i] < labels[j]
	})
	return strings.Join(labels, "|")
}

// shapeFits reports whether v is shaped like a value of a number field: an ID number, a
// phone, an address. Without a colon only the value's shape tells a label from a word.
func shapeFits(field, v string) bool {
	switch field {
	case FieldIDNo, FieldPrincipalIDNo:
		return pii.IsIDNo(v)
	case FieldPhone, FieldPrincipalPhone:
		return pii.IsPhone(v)
	case FieldEmail:
		at := strings.IndexByte(v, '@')
		return at > 0 && at < len(v)-1
	}
	return false
}

// ParseFields reads `字段：值` lines (full- and half-width colons, leading bullets and
// numbering, table rows whose cells are separated by tabs), and further fields on the
// same line after spaces or punctuation (委托人：王五，身份证号 3101…，电话 137…). The
// first value of a field wins; the seed's placeholder text in brackets is not a value;
// names end at punctuation and never hold an ID number or a phone; the reason continues
// over the following lines until a blank line, the next field, a signature or a
// closing line.
func ParseFields(text string) Fields {
	fs := Fields{Values: map[string]string{}, Lines: map[int]bool{}, ReasonLines: map[int]bool{}}
	lines := strings.Split(text, "\n")
	inReason := false
	var reason []string
	// started: the reason has a non-blank line. Kept as lines come, not recomputed from
	// the reason at each line, which cost a body of many short lines quadratic time.
	started := false
	flushReason := func() {
		if inReason {
			v := strings.TrimSpace(strings.Join(reason, "\n"))
			if v != "" && fs.Values[FieldReason] == "" {
				fs.Values[FieldReason] = v
			}
		}
		inReason, reason, started = false, nil, false
	}
	prevBlank := false
	for i, raw := range lines {
		line := strings.TrimRight(raw, "\r")
		pairs := lineFields(line)
		blank := strings.TrimSpace(line) == ""
		if inReason {
			fl := strings.TrimSpace(fold(line))
			// A blank line once the reason has begun ends it: what follows is another
			// paragraph (a signature, a closing, a new topic), not the reason. A blank
			// line straight after the label is only layout.
			if len(pairs) > 0 || (blank && started) || stopRE.MatchString(fl) || stopRE.MatchString(fold(stripLead(line))) || sectionRE.MatchString(strings.TrimSpace(line)) ||
				(prevBlank && isSignatureLine(fl) && signatureFollows(lines[i+1:])) {
				flushReason()
			} else {
				reason = append(reason, strings.TrimSpace(line))
				started = started || !blank
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
				started = started || strings.TrimSpace(p.value) != ""
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
		// "电话 13900001111" alone on a line: a field without its colon.
		s := stripLead(line)
		f := fold(s)
		if loc := bareLineRE.FindStringSubmatchIndex(f); loc != nil {
			if field := fieldLabels[f[loc[2]:loc[3]]]; shapeFits(field, f[loc[4]:loc[5]]) {
				v := string([]rune(s)[runeIndex(f, loc[4]):runeIndex(f, loc[5])])
				return finishLine([]fieldPair{{field, v}})
			}
		}
		return nil
	}
	field, ok := fieldLabels[label]
	if !ok {
		return nil
	}
	var out []fieldPair
	// More fields on the same line: "姓名：张三  电话：138…", "委托人：王五，身份证号
	// 3101…". Each field costs a pass over the rest of the line, so a line is read for
	// at most maxInlineFields of them.
	for n := 1; n < maxInlineFields; n++ {
		cut, next, nextField, ok := nextInlineField(field, value)
		if !ok {
			break
		}
		out = append(out, fieldPair{field, cleanValue(value[:cut])})
		field, value = nextField, value[next:]
	}
	return finishLine(append(out, fieldPair{field, cleanValue(value)}))
}

// maxInlineFields bounds the fields read from one line: a form line holds a few; a
// line of thousands of labels (a body up to 1 MiB) would cost minutes, each field a
// pass over the rest of the line, while the mail's time budget does not stop it.
const maxInlineFields = 16

// nextInlineField finds the next field inside value, the value of field: where value
// ends (cut) and where the next field's value starts (next), as byte offsets in value.
// A "label:" always starts a field; a colon-less label only for a number field whose
// value has that number's shape, and never inside a reason (prose: 我的电话 13…).
//
// In a name, a label inside brackets belongs to the bracket (张三（身份证号：…，电话：…）:
// finishLine reads it), and a bracket ends the name like a space does (张三（男）电话：…).
//
// Matches are looked for one at a time, up to the first that counts: a line of
// thousands of labels costs one pass, not one per label.
func nextInlineField(field, value string) (cut, next int, nextField string, ok bool) {
	fv := fold(value)
	var br *bracketScan
	if nameFields[field] && strings.ContainsAny(fv, "()[]") {
		br = &bracketScan{s: fv, lastClose: strings.LastIndexAny(fv, ")]")}
		fv = strings.Map(func(r rune) rune {
			if r == '(' || r == ')' || r == '[' || r == ']' {
				return ' '
			}
			return r
		}, fv)
	}
	cut = -1
	for off := 0; off < len(fv); {
		loc := multiFieldRE.FindStringSubmatchIndex(fv[off:])
		if loc == nil {
			break
		}
		if !br.inside(off + loc[2]) {
			cut, next, nextField = off+loc[0], off+loc[1], fieldLabels[fv[off+loc[2]:off+loc[3]]]
			break
		}
		off += loc[1]
	}
	if field != FieldReason {
		if br != nil {
			br = &bracketScan{s: br.s, lastClose: br.lastClose}
		}
		// The earliest that fits: a later one is found once the value is cut here.
		for off := 0; off < len(fv) && (cut < 0 || off < cut); {
			loc := bareFieldRE.FindStringSubmatchIndex(fv[off:])
			if loc == nil || (cut >= 0 && off+loc[0] >= cut) {
				break
			}
			f := fieldLabels[fv[off+loc[2]:off+loc[3]]]
			if !br.inside(off+loc[2]) && shapeFits(f, fv[off+loc[4]:off+loc[5]]) {
				cut, next, nextField = off+loc[0], off+loc[3], f
				break
			}
			off += loc[1]
		}
	}
	if cut < 0 {
		return 0, 0, "", false
	}
	// Folding keeps rune counts, not byte lengths: map the offsets back to value.
	return byteOffset(value, runeIndex(fv, cut)), byteOffset(value, runeIndex(fv, next)), nextField, true
}

// bracketScan tells, for offsets of a folded value asked in increasing order, whether
// one lies inside brackets that close after it. An unclosed bracket hides no label:
// 张三（男 电话：… still splits.
type bracketScan struct {
	s          string
	pos, depth int
	lastClose  int // the last closing bracket of s
}

func (b *bracketScan) inside(off int) bool {
	if b == nil {
		return false
	}
	for ; b.pos < off && b.pos < len(b.s); b.pos++ {
		switch b.s[b.pos] {
		case '(', '[':
			b.depth++
		case ')', ']':
			b.depth = max(b.depth-1, 0)
		}
	}
	return b.depth > 0 && off < b.lastClose
}

// byteOffset converts a rune index in s to a byte offset (an invalid byte counts as
// one rune, as in []rune(s)).
func byteOffset(s string, runeIdx int) int {
	off := 0
	for ; runeIdx > 0 && off < len(s); runeIdx-- {
		_, n := utf8.DecodeRuneInString(s[off:])
		off += n
	}
	return off
}

// nameFields hold a person's or an organisation's name: they end at punctuation, and a
// number in them is never part of the name.
var nameFields = map[string]bool{FieldName: true, FieldAgent: true, FieldOrg: true, FieldPrincipal: true, FieldPrincipalOrg: true, FieldNameOrg: true}

// finishLine cleans the values of one line's fields: a name ends at punctuation (王五，
// 男 → 王五); an ID number or phone written in a name field is moved to the number
// field it belongs to (the principal's on a 委托人 line), and a name that still holds a
// number is no name; the numbers written after a principal on the same line are the
// principal's.
func finishLine(pairs []fieldPair) []fieldPair {
	var out []fieldPair
	principal := false
	for _, p := range pairs {
		if p.field == FieldPrincipal || p.field == FieldPrincipalOrg {
			principal = true
		}
		if principal {
			switch p.field {
			case FieldIDNo:
				p.field = FieldPrincipalIDNo
			case FieldPhone:
				p.field = FieldPrincipalPhone
			}
		}
		if !nameFields[p.field] {
			out = append(out, p)
			continue
		}
		name, found := splitName(p.field, p.value)
		for _, f := range found {
			if principal {
				switch f.field {
				case FieldIDNo:
					f.field = FieldPrincipalIDNo
				case FieldPhone:
					f.field = FieldPrincipalPhone
				case FieldEmail:
					continue // the principal's address is not the applicant's, and has no field
				}
			}
			out = append(out, f)
		}
		p.value = name
		if pii.ContainsNumber(p.value) {
			p.value = "" // 王五13700001111: no name can be told from the number
		}
		out = append(out, p)
	}
	return out
}

// personFields name a person: a note in brackets after the name (男, 先生) is no part
// of it. An organisation's brackets are its own (某某（北京）科技有限公司).
var personFields = map[string]bool{FieldName: true, FieldAgent: true, FieldPrincipal: true}

// splitName reads the value of a name field: the name, and the numbers and address
// written with it, which belong to their own fields (ID number, phone, e-mail), the
// way a separate 身份证号： or 电话： line fills them. They come in brackets
// (张三（身份证号：…，手机：…）, 张三（138…）), after a space or a slash (张三 138 0013 8000,
// 张三/138…, 张三 +86 138…, 张三 a@b.cn) or after the punctuation that ends the name
// (张三，138…). A note on the person in brackets after the name (张三（男）) is dropped.
// What cannot be told apart stays in the name, which finishLine then refuses if it
// holds a number.
func splitName(field, v string) (string, []fieldPair) {
	v, found := nameBrackets(field, v)
	if field != FieldNameOrg {
		var rest string
		v, rest = endAtPunctuation(v)
		_, more, _ := nameNumbers(rest, true)
		found = append(found, more...)
	}
	if kept, more, ok := nameNumbers(v, false); ok {
		// 张三, 138…: the separator before a number taken out is no part of the name.
		v, found = strings.TrimRight(kept, " ,;，；、"), append(found, more...)
	}
	return strings.TrimSpace(v), found
}

// nameNumbers takes the ID numbers, phones and addresses out of s, split at spaces
// and slashes (and at punctuation when punct): the rest joined by spaces, what was
// taken, and whether anything was. A number may span several parts (138 0013 8000,
// +86 138…, an ID number in groups).
func nameNumbers(s string, punct bool) (string, []fieldPair, bool) {
	sep := func(r rune) bool {
		r = foldRune(r)
		return unicode.IsSpace(r) || r == '/' || r == '|' || (punct && strings.ContainsRune(",;、。", r))
	}
	// The parts, as byte offsets: s[starts[i]:ends[i]].
	var starts, ends []int
	for i, r := range s {
		switch {
		case sep(r) && len(starts) > len(ends):
			ends = append(ends, i)
		case !sep(r) && len(starts) == len(ends):
			starts = append(starts, i)
		}
	}
	if len(starts) > len(ends) {
		ends = append(ends, len(s))
	}
	numeric := make([]bool, len(starts))
	for i := range starts {
		numeric[i] = numberPart(s[starts[i]:ends[i]])
	}
	var kept []string
	var found []fieldPair
	for i := 0; i < len(starts); {
		if numeric[i] {
			run := i
			for run < len(starts) && numeric[run] && run-i < maxNumberParts {
				run++
			}
			if f, j := numberAt(s, starts[i], ends[i:run]); j > 0 {
				found = append(found, fieldPair{f, s[starts[i]:ends[i+j-1]]})
				kept = dropNumberLabel(kept)
				i += j
				continue
			}
		}
		t := s[starts[i]:ends[i]]
		if a := strings.TrimRight(strings.Trim(t, "<>()（）《》〈〉\"'“”‘’[]【】"), ".,;"); shapeFits(FieldEmail, a) {
			found = append(found, fieldPair{FieldEmail, a})
			kept = dropNumberLabel(kept)
		} else {
			kept = append(kept, t)
		}
		i++
	}
	return strings.Join(kept, " "), found, len(found) > 0
}

// dropNumberLabel drops the last of kept when it is the label of the number taken after
// it (张三 电话 138 0013 8000: 电话 is no part of the name).
func dropNumberLabel(kept []string) []string {
	if n := len(kept); n > 0 {
		if f, ok := fieldLabels[strings.TrimRight(normLabel(kept[n-1]), ":")]; ok && numberFields[f] {
			return kept[:n-1]
		}
	}
	return kept
}

// maxNumberParts is the most parts a written number is read from (+86 138 0013 8000).
const maxNumberParts = 6

// numberAt reads the longest number made of the first parts of s[start:], which end
// at ends: as written (pii knows single spaces and dashes between the groups of a
// phone), else without its spaces and dashes (an ID number in groups). It returns the
// field and how many parts the number takes, 0 when they make no number.
func numberAt(s string, start int, ends []int) (string, int) {
	for _, compact := range []bool{false, true} {
		for n := len(ends); n > 0; n-- {
			v := s[start:ends[n-1]]
			if len(v) > 64 {
				continue
			}
			if compact {
				v = strings.Map(func(r rune) rune {
					if unicode.IsSpace(r) || strings.ContainsRune("-－—.．", r) {
						return -1
					}
					return r
				}, v)
			}
			switch {
			case pii.IsIDNo(v):
				return FieldIDNo, n
			case pii.IsPhone(v):
				return FieldPhone, n
			}
		}
	}
	return "", 0
}

// numberPart reports whether t can be a part of a written number: digits and the
// signs written with them (+86, 138-0013, (010), an ID number's X).
func numberPart(t string) bool {
	digits := false
	for _, r := range t {
		switch r = foldRune(r); {
		case r >= '0' && r <= '9':
			digits = true
		case strings.ContainsRune("+-—.()x", r):
		default:
			return false
		}
	}
	return digits
}

// nameBrackets takes the bracketed parts of a name apart: the numbers and addresses in
// one, labelled or not (（身份证号：…，电话：…）, （138…）), are taken out of it and
// returned as fields; a note on a person after the name (（男）, （先生）) is dropped;
// what else a bracket holds (某某（北京）科技有限公司, （单位：…）) stays as written.
func nameBrackets(field, v string) (string, []fieldPair) {
	rs := []rune(v)
	fr := foldRunes(rs)
	type part struct {
		text string
		note bool // a bracket holding only a note
	}
	var parts []part
	var found []fieldPair
	last, changed := 0, false
	for i := 0; i < len(rs); i++ {
		if fr[i] != '(' && fr[i] != '[' {
			continue
		}
		end, depth := len(rs), 0 // an unclosed bracket runs to the end
		for j := i; j < len(rs); j++ {
			switch fr[j] {
			case '(', '[':
				depth++
			case ')', ']':
				depth--
			}
			if depth == 0 {
				end = j
				break
			}
		}
		closing := string(rs[min(end, len(rs)):min(end+1, len(rs))])
		pairs, note, other := bracketFields(string(rs[i+1 : end]))
		if len(pairs) > 0 || other == "" {
			parts = append(parts, part{text: string(rs[last:i])})
			found = append(found, pairs...)
			switch {
			case other != "":
				parts = append(parts, part{text: string(rs[i]) + strings.TrimSpace(note+other) + closing})
			case note != "":
				parts = append(parts, part{text: string(rs[i:min(end+1, len(rs))]), note: true})
			default:
				parts = append(parts, part{text: " "}) // still parts what stood around it
			}
			last, changed = min(end+1, len(rs)), true
		}
		i = end
	}
	if !changed {
		return v, nil
	}
	parts = append(parts, part{text: string(rs[last:])})
	// A note is dropped from a person's name when only numbers follow it and a name
	// stays without it; an organisation's (某某有限公司（筹）) is its own.
	var name strings.Builder
	for _, p := range parts {
		if !p.note {
			name.WriteString(p.text)
		}
	}
	dropNotes := personFields[field] && strings.TrimSpace(name.String()) != "" && !looksLikeOrg(name.String())
	tail := true // nothing but numbers after this part
	for i := len(parts) - 1; i >= 0; i-- {
		p := &parts[i]
		switch {
		case p.note && dropNotes && tail:
			p.text = " "
		case !p.note:
			if kept, _, _ := nameNumbers(p.text, false); strings.TrimSpace(kept) != "" {
				tail = false
			}
		}
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.text)
	}
	return strings.TrimSpace(b.String()), found
}

// bracketFields reads the inside of a bracket in a name: its numbers and addresses,
// labelled (身份证号：…，电话 138…) or not, as fields; the rest before the first label, a
// note such as 男; and the labelled parts of other fields (单位：…), which are not
// read here, as written.
func bracketFields(s string) (pairs []fieldPair, note, other string) {
	s = " " + s // a label at the start needs a separator before it
	// Each piece runs from its separator and label (from) over its value (val) to the
	// next piece; the first is what precedes any label.
	type piece struct {
		field          string
		from, val, end int
	}
	var p piece
	var pieces []piece
	for len(pieces) < maxInlineFields {
		cut, next, nextField, found := nextInlineField(p.field, s[p.val:])
		if !found {
			break
		}
		p.end = p.val + cut
		pieces = append(pieces, p)
		p = piece{field: nextField, from: p.val + cut, val: p.val + next}
	}
	p.end = len(s)
	pieces = append(pieces, p)
	var rest strings.Builder
	for _, p := range pieces[1:] {
		if numberFields[p.field] {
			pairs = append(pairs, fieldPair{p.field, cleanValue(s[p.val:p.end])})
		} else {
			rest.WriteString(s[p.from:p.end])
		}
	}
	note, more, _ := nameNumbers(s[:pieces[0].end], true)
	return append(pairs, more...), strings.TrimSpace(note), strings.TrimSpace(rest.String())
}

// endAtPunctuation cuts a name at the first punctuation that ends it: the Chinese
// ，；。、 and ; always, a half-width , or . only before a Chinese character or a digit
// (王五,身份证号 and 王五,137… but "Example Co.,Ltd." and "J. Smith"). rest is what
// follows the punctuation.
func endAtPunctuation(v string) (name, rest string) {
	rs := []rune(v)
	for i, r := range rs {
		switch r {
		case '，', '；', '。', '、', '｡', '､', ';':
			return strings.TrimSpace(string(rs[:i])), string(rs[i+1:])
		case ',', '.':
			if i+1 < len(rs) && (rs[i+1] >= 0x80 || unicode.IsDigit(rs[i+1])) {
				return strings.TrimSpace(string(rs[:i])), string(rs[i+1:])
			}
		}
	}
	return v, ""
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
	return finishLine(out)
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
