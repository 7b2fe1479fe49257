package classify

import (
	"regexp"
	"strings"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailmsg"
	"github.com/complaintd/complaintd/internal/pii"
)

// entrustedByRE matches 受…委托 wording; group 1 is the principal.
var entrustedByRE = regexp.MustCompile(`受([^，。,.;；:\s]{1,40}?)(的)?(全权)?委托`)

// kinship words that precede a principal's name in 受我父亲张某某委托.
var kinship = []string{"我的", "我", "本人的", "本人", "父亲", "母亲", "爸爸", "妈妈", "妻子", "丈夫", "爱人", "儿子", "女儿", "哥哥", "姐姐", "弟弟", "妹妹", "爷爷", "奶奶", "外公", "外婆", "叔叔", "舅舅", "姑姑", "阿姨", "亲属", "家属", "朋友", "同事", "客户", "当事人", "委托人"}

// genericOrgRef are ways of saying "my organisation" in 受…委托.
var genericOrgRef = map[string]bool{"公司": true, "本公司": true, "我公司": true, "我司": true, "单位": true, "本单位": true, "我单位": true, "集团": true, "本集团": true, "领导": true, "公司领导": true, "单位领导": true}

func isLawFirm(org string) bool {
	return containsAny(fold(org), "律师事务所", "律所", "law firm", "律师行") != ""
}

// applicant fills res.Applicant and res.Principal (SPEC §2 policy details, Applicant).
func applicant(res *Result, msg *mailmsg.Message, vals map[string]string, primary string, fields Fields, sp subjectParts) {
	a := &res.Applicant
	why := func(s string) { res.Why = append(res.Why, s) }

	// Name and organisation.
	if res.Subject.Conforms {
		a.Name, a.Org = res.Subject.Name, res.Subject.Org
		why("applicant.name: subject convention")
	}
	if no := vals[FieldNameOrg]; no != "" && (a.Name == "" || a.Org == "") {
		n, o := splitNameOrg(no)
		if a.Name == "" {
			a.Name = n
		}
		if a.Org == "" {
			a.Org = o
		}
	}
	if a.Org == "" && vals[FieldOrg] != "" {
		a.Org = vals[FieldOrg]
		why("applicant.org: 单位名称 line")
	}
	if a.Name == "" {
		switch {
		case a.Org != "" && vals[FieldAgent] != "":
			a.Name = vals[FieldAgent]
			why("applicant.name: 经办人 line")
		case vals[FieldName] != "":
			a.Name = vals[FieldName]
			why("applicant.name: 姓名 line")
		case vals[FieldAgent] != "":
			a.Name = vals[FieldAgent]
			why("applicant.name: 经办人 line")
		default:
			why("applicant.name: not found (the From display name is not used)")
		}
	}

	// An ID number or a phone is never a name (issue 14: it became the To: display
	// name and the CSV's name column). ParseFields and ParseSubject already refuse
	// them; this holds for every other way a name gets here.
	if pii.ContainsNumber(a.Name) {
		a.Name = ""
		why("applicant.name: dropped, it holds an ID number or a phone")
	}
	if pii.ContainsNumber(a.Org) {
		a.Org = ""
		why("applicant.org: dropped, it holds an ID number or a phone")
	}

	// Contact and identity.
	if e := vals[FieldEmail]; e != "" {
		a.Email = strings.TrimSpace(e)
	} else {
		a.Email = msg.From.Address
	}
	a.Phone = vals[FieldPhone]
	if id := vals[FieldIDNo]; id != "" {
		a.IDNo = NormaliseIDNo(id)
		a.IDValid = ValidIDNo(a.IDNo)
	}

	// Type.
	a.Type = cases.Individual
	if a.Org != "" {
		a.Type = cases.Organisation
		why("applicant.type: organisation named (" + orgSource(res.Subject) + ")")
	} else {
		why("applicant.type: no organisation named")
	}
	var p cases.Party
	entrusted := ""
	if isLawFirm(a.Org) {
		entrusted = "law firm " + a.Org
	}
	// 委托 wording outside the reason (the reason often tells a story of other people).
	wording := nonReasonText(primary, fields) + "\n" + res.Subject.Name + res.Subject.Org
	fw := fold(msg.Subject) + "\n" + fold(wording)
	if m := entrustedByRE.FindStringSubmatch(fw); m != nil {
		if entrusted == "" {
			entrusted = "受…委托 wording"
		}
		x := original(m[1], wording, msg.Subject)
		if genericOrgRef[fold(strings.TrimSpace(x))] && a.Org != "" {
			p.Org = a.Org // 受公司委托: the applicant's own organisation
		} else {
			principalFromPhrase(&p, x)
		}
	} else if entrusted == "" {
		if w := entrustWording(fw); w != "" {
			entrusted = w + " wording"
		}
	}
	if sp.PrincipalName != "" || sp.PrincipalOrg != "" {
		// 甲代乙申请…: the subject names the principal; a 委托人 line below says more.
		p.Name, p.Org = sp.PrincipalName, sp.PrincipalOrg
		if entrusted == "" {
			entrusted = "subject 甲代乙"
		}
	}
	if v := vals[FieldPrincipal]; v != "" {
		p.Name = v
		if looksLikeOrg(v) {
			p.Name, p.Org = "", v
		}
		if entrusted == "" {
			entrusted = "委托人 line"
		}
	}
	if v := vals[FieldPrincipalOrg]; v != "" {
		p.Org = v
		if entrusted == "" {
			entrusted = "委托单位 line"
		}
	}
	p.Phone = vals[FieldPrincipalPhone]
	if id := vals[FieldPrincipalIDNo]; id != "" {
		p.IDNo = NormaliseIDNo(id)
		p.IDValid = ValidIDNo(p.IDNo)
	}
	if entrusted == "" && (p.Phone != "" || p.IDNo != "") {
		entrusted = "委托人 numbers"
	}
	if entrusted == "" {
		return
	}
	// An organisation's own agent "受公司委托" is an organisation applicant, not entrusted.
	if p.Org != "" && a.Org != "" && fold(p.Org) == fold(a.Org) && p.Name == "" && !isLawFirm(a.Org) {
		why("applicant.type: 委托 by the applicant's own organisation; not entrusted")
		return
	}
	a.Type = cases.Entrusted
	if pii.ContainsNumber(p.Name) {
		p.Name = ""
	}
	if pii.ContainsNumber(p.Org) {
		p.Org = ""
	}
	p.Type = cases.Individual
	if p.Org != "" {
		p.Type = cases.Organisation
	}
	if p.Name == "" && p.Org == "" {
		why("principal: not named; assumed individual")
	}
	res.Principal = &p
	why("applicant.type: entrusted (" + entrusted + ")")
}

// otherMandate are words of a clause whose 委托 gives a lawyer another task than this
// application: 我方已委托律师发出律师函 (a letter, a lawsuit) says nothing about who applies.
var otherMandate = []string{"律师函", "起诉", "诉讼", "报警", "发函", "律師函"}

// entrustWording returns the word that says someone applies on another's behalf
// (委托, 代为申请, 代理人 …) in folded text, or "".
func entrustWording(fw string) string {
	clauses := strings.FieldsFunc(fw, func(r rune) bool { return strings.ContainsRune("\n。!?;,，；！？", r) })
	for _, c := range clauses {
		if w := containsAny(c, "代为申请", "代为提交", "代理律师", "代理人"); w != "" {
			return w
		}
		if strings.Contains(c, "委托") && containsAny(c, otherMandate...) == "" {
			return "委托"
		}
	}
	return ""
}

func orgSource(s cases.Subject) string {
	if s.Conforms && s.Org != "" {
		return "subject brackets"
	}
	return "单位名称 line"
}

// splitNameOrg splits the seed's combined 姓名单位名称 value: "张三/某某公司", "张三 某某公司".
func splitNameOrg(v string) (name, org string) {
	parts := strings.FieldsFunc(v, func(r rune) bool {
		return r == '/' || r == '／' || r == '、' || r == ',' || r == '，' || r == ' ' || r == '\u3000' || r == '|'
	})
	for _, p := range parts {
		if looksLikeOrg(p) && org == "" {
			org = p
		} else if name == "" {
			name = p
		}
	}
	return name, org
}

// original maps a folded phrase back to the original text when it can be found there.
func original(folded string, texts ...string) string {
	for _, t := range texts {
		rs := []rune(t)
		f := string(foldRunes(rs))
		if i := strings.Index(f, folded); i >= 0 {
			s := runeIndex(f, i)
			return string(rs[s : s+len([]rune(folded))])
		}
	}
	return folded
}

// principalFromPhrase fills p from the X of 受X委托.
func principalFromPhrase(p *cases.Party, x string) {
	x = strings.TrimSpace(x)
	for changed := true; changed; {
		changed = false
		for _, k := range kinship {
			if strings.HasPrefix(fold(x), k) && len([]rune(x)) > len([]rune(k)) {
				x = string([]rune(x)[len([]rune(k)):])
				changed = true
			}
		}
	}
	if looksLikeOrg(x) {
		p.Org = x
	} else if containsAny(fold(x), "我", "本人", "他人") == "" {
		p.Name = x
	}
}

// nonReasonText returns the lines of text that are not part of the reason field.
func nonReasonText(text string, fields Fields) string {
	lines := strings.Split(text, "\n")
	var b strings.Builder
	for i, l := range lines {
		if !fields.ReasonLines[i] {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// urlRE finds a link in free text.
var urlRE = regexp.MustCompile(`https?://[^\s<>"'，。；、）)》]+`)

// fillRequest fills res.Request from the form fields (SPEC §2 form fields).
func fillRequest(res *Result, vals map[string]string, primary string, sp subjectParts) {
	rq := &res.Request
	rq.Title = CleanTitle(vals[FieldTitle])
	if rq.Title == "" && sp.Title != "" {
		rq.Title = sp.Title
		res.Why = append(res.Why, "request.title: subject 《》")
	}
	if pii.ContainsNumber(rq.Title) {
		rq.Title = "" // never a title, and so never a mail's subject
		res.Why = append(res.Why, "request.title: dropped, it holds an ID number or a phone")
	}
	rq.Author = vals[FieldAuthor]
	rq.Published = vals[FieldPublished]
	rq.Reason = vals[FieldReason]
	rq.Channel = res.Subject.Channel
	if u := vals[FieldURL]; u != "" {
		if m := urlRE.FindString(u); m != "" {
			u = m
		}
		rq.URL = CleanURL(u)
	} else if m := urlRE.FindString(primary); m != "" {
		rq.URL = CleanURL(m)
		res.Why = append(res.Why, "request.url: first link in the body")
	}
	rq.URLValid = rq.URL != "" && ValidURL(rq.URL)
}

// Content kind words, folded. Checked most specific first. No host is among them: a
// link's host routes the case (package routing) but is not the complainant saying
// what the content is (issue 14: news.ifeng.com alone made an article news, and so
// demanded a withdrawal letter).
var kindWords = []struct {
	kind  cases.ContentKind
	words []string
}{
	{cases.Comment, []string{"跟帖", "评论", "留言", "回帖", "comment"}},
	{cases.Blog, []string{"博客", "博文", "blog"}},
	{cases.SelfMedia, []string{"自媒体", "凤凰号", "大风号", "公众号", "self-media", "self media"}},
	{cases.News, []string{"新闻", "资讯", "稿件", "报道", "通稿", "news"}},
}

// linkRE finds links and host names in folded text (https://news.ifeng.com/c/1,
// blog.ifeng.com/x, a@news.example.cn), which say nothing of the content kind.
var linkRE = regexp.MustCompile(`(?:[a-z][a-z0-9+.-]*://)?(?:[a-z0-9_-]+\.)+[a-z]{2,}(?:[/?#][^\s，。；、）)》]*)?`)

// seedBoilerplate are form lines whose words would mislead the content kind.
var seedBoilerplate = []string{"贴文博文", "申请人单位资料", "新闻稿件、自媒体文章、新闻跟帖"}

// contentKind fills Request.ContentKind from what the complainant states: the subject,
// the author/source fields and the body lines that are neither form labels nor the
// reason (the reason tells a story: "引发大量网友评论" does not make the article a
// comment). Links and host names are left out: without a stated kind it is unknown.
func contentKind(res *Result, subject string, vals map[string]string, primary string, fields Fields) {
	var b strings.Builder
	b.WriteString(fold(subjectTail(subject)) + "\n")
	for _, k := range []string{FieldAuthor, FieldSource} {
		b.WriteString(fold(vals[k]) + "\n")
	}
	lines := strings.Split(primary, "\n")
	for i, l := range lines {
		if fields.Lines[i] {
			continue
		}
		f := fold(l)
		if containsAny(f, seedBoilerplate...) != "" {
			continue
		}
		b.WriteString(f + "\n")
	}
	text := linkRE.ReplaceAllString(b.String(), " ")
	for _, kw := range kindWords {
		if w := containsAny(text, kw.words...); w != "" {
			res.Request.ContentKind = kw.kind
			res.Why = append(res.Why, "content_kind: "+string(kw.kind)+" ("+w+")")
			return
		}
	}
	// The reason tells a story, but "该大风号自媒体文章…", "这篇报道…" name the article
	// itself: a kind word in the clause of a determiner counts when nothing else said.
	if k, w := reasonKind(fold(vals[FieldReason])); k != "" {
		res.Request.ContentKind = k
		res.Why = append(res.Why, "content_kind: "+string(k)+" ("+w+" in the reason)")
		return
	}
	res.Request.ContentKind = cases.Unknown
	res.Why = append(res.Why, "content_kind: unknown (no kind word)")
}

// articleRefRE is a determiner that points at the article in a reason, and the rest of
// its clause (a few characters): 该大风号自媒体文章, 这篇报道, 贵网发布的博文.
var articleRefRE = regexp.MustCompile(`(该|此|这篇|这条|这则|这个|本篇|所涉|涉事|贵网发布的|贵网刊登的|贵网的)([^,，。;；!！?？\n]{0,8})`)

// reasonKind finds a kind word the reason says of the article itself.
func reasonKind(reason string) (cases.ContentKind, string) {
	reason = linkRE.ReplaceAllString(reason, " ")
	for _, m := range articleRefRE.FindAllStringSubmatch(reason, -1) {
		for _, kw := range kindWords {
			if w := containsAny(m[2], kw.words...); w != "" {
				return kw.kind, m[1] + "…" + w
			}
		}
	}
	return "", ""
}

// subjectTail returns the part of a subject after 申请删除 (the channel and its noun:
// 凤凰资讯稿件, 博客文章), or the whole subject when it has no 申请删除, so that an
// applicant's name never feeds the content kind.
func subjectTail(subject string) string {
	f := fold(subject)
	if i := strings.Index(f, "申请删除"); i >= 0 {
		f = f[i+len("申请删除"):]
	}
	// A 《title》 is the article's words (《某某报道》 is no statement that it is news).
	for {
		a := strings.Index(f, "《")
		b := strings.Index(f, "》")
		if a < 0 || b < a {
			return f
		}
		f = f[:a] + " " + f[b+len("》"):]
	}
}
