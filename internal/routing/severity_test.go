package routing

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

// ruleNames are the distinct rule names a decision's reasons cite.
func ruleNames(d SeverityDecision) []string {
	var out []string
	for _, r := range d.Reasons {
		name, _, _ := strings.Cut(r, ":")
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Every default rule, with the traps each one must not fall into. Decisions taken:
//   - A law firm applying (entrusted, SPEC §2) is routine, not serious: 律师事务所 in a
//     signature or as the applicant's organisation does not make a case major; a
//     律师函 (a formal letter before action) does, whoever sends it.
//   - 法院 in a street name (法院路, 法院东路, 法院街) is an address, not a court.
//   - A negated lawsuit (未起诉, 尚未提起诉讼, 不起诉) does not count; a hedged threat
//     (不排除起诉, 保留起诉的权利) does.
//   - A 判决书 or 报警回执 attached as proof of the reason makes the case major: the
//     issue names courts and the police as serious, and the rule does not guess why
//     a document is there. Staff 降级 when it is routine.
//   - A government body counts only as the applicant or principal (organisation or a
//     .gov.cn address); a body merely mentioned in the text does not.
//   - The article's own 作者/来源/标题 lines and 本报记者 describe the article, not a
//     threat of media exposure.
func TestSeverityDefaultRules(t *testing.T) {
	r := newRouter(t)
	tests := []struct {
		why  string
		in   SeverityInput
		want []string // rule names cited; empty: ordinary
	}{
		// lawyer_letter
		{"a 律师函 attached", SeverityInput{Attachments: []string{"申请表.pdf", "律师函.pdf"}}, []string{"lawyer_letter"}},
		{"律師函 in traditional characters in the body", SeverityInput{Body: "本所已向貴網發出律師函。"}, []string{"lawyer_letter"}},
		{"律师函 in the subject", SeverityInput{Subject: "关于律师函所涉稿件的删除申请"}, []string{"lawyer_letter"}},
		{"English: cease and desist", SeverityInput{Body: "Please treat this mail as a Cease and Desist notice."}, []string{"lawyer_letter"}},
		{"trap: a law firm as applicant, 律师事务所 in the signature, is routine",
			SeverityInput{Body: "特此申请。\n北京市某某律师事务所\n王律师", ApplicantOrg: "北京市某某律师事务所"}, nil},

		// litigation
		{"a threat to sue", SeverityInput{Body: "如贵网不删除，我方将依法提起诉讼。"}, []string{"litigation"}},
		{"reserving the right to sue is a threat", SeverityInput{Body: "我方保留起诉的权利"}, []string{"litigation"}},
		{"trap: 未起诉 says there is no lawsuit", SeverityInput{Body: "本人目前未起诉，只希望删除该文。"}, nil},
		{"trap: 尚未提起诉讼", SeverityInput{Body: "我们尚未提起诉讼"}, nil},
		{"trap within a trap: 不排除起诉 is a threat although it has 不", SeverityInput{Body: "否则不排除起诉"}, []string{"litigation"}},
		{"a negated and a real mention: the real one counts", SeverityInput{Body: "此前未起诉。现已向法院起诉。"}, []string{"court", "litigation"}},
		{"full-width English is folded", SeverityInput{Body: "we will file a ＬＡＷＳＵＩＴ"}, []string{"litigation"}},

		// court
		// A judgement sent as proof of the reason is SPEC §2's ordinary reason_proof,
		// not a sign of a serious case (nearly every individual complaint has one).
		{"trap: a judgment attached as proof", SeverityInput{Attachments: []string{"民事判决书.pdf"}}, nil},
		{"trap: the body points to the judgement as proof", SeverityInput{Body: "详见事件说明函及法院判决书。"}, nil},
		{"the court is named in the text", SeverityInput{Body: "法院已经受理此案"}, []string{"court"}},
		{"trap: 法院路 is a street", SeverityInput{Body: "联系地址：某市法院路12号"}, nil},
		{"trap: 法院东路 too", SeverityInput{Body: "公司位于法院东路"}, nil},
		{"trap: 评判决定 contains 判决", SeverityInput{Body: "请贵网公正评判决定"}, nil},

		// police
		{"trap: a police receipt attached as proof", SeverityInput{Attachments: []string{"报警回执.jpg"}}, nil},
		{"trap: the body names the receipt", SeverityInput{Body: "附派出所报警回执一份"}, nil},
		{"reported to a police station", SeverityInput{Body: "已向派出所报案"}, []string{"police"}},
		{"trap: 办公安排 contains 公安", SeverityInput{Body: "因办公安排调整，请发至新邮箱"}, nil},

		// cyberspace_admin
		{"reported to the 网信办", SeverityInput{Body: "已向网信办举报"}, []string{"cyberspace_admin"}},
		{"the 12377 hotline", SeverityInput{Body: "将向12377举报"}, []string{"cyberspace_admin"}},
		{"trap: 互联网信息 contains 网信", SeverityInput{Body: "违反《互联网信息服务管理办法》"}, nil},
		{"trap: 12377 inside a phone number", SeverityInput{Body: "联系电话 13812377654"}, nil},
		{"the administration's full name contains 联网信 but is itself the body", SeverityInput{Body: "已致函国家互联网信息办公室"}, []string{"cyberspace_admin"}},

		// minor
		{"a minor's photo", SeverityInput{Body: "文章泄露了一名未成年人的照片"}, []string{"minor"}},
		{"a schoolchild", SeverityInput{Body: "当事人是初中生"}, []string{"minor"}},
		{"trap: English 'minor' as an adjective", SeverityInput{Body: "there is a minor error in the title"}, nil},

		// government_applicant
		{"a bureau applies", SeverityInput{ApplicantOrg: "北京市朝阳区市场监督管理局"}, []string{"government_applicant"}},
		{"a people's government is the principal of a law firm", SeverityInput{ApplicantOrg: "某某律师事务所", PrincipalOrg: "某某县人民政府"}, []string{"government_applicant"}},
		{"a .gov.cn sender", SeverityInput{ApplicantEmail: "Xinxi@BJ.gov.cn"}, []string{"government_applicant"}},
		{"trap: 中华书局 is a publisher", SeverityInput{ApplicantOrg: "中华书局"}, nil},
		{"trap: a restaurant ends in 厅", SeverityInput{ApplicantOrg: "某某餐厅"}, nil},
		{"trap: a company", SeverityInput{ApplicantOrg: "某某集团有限公司"}, nil},
		{"trap: a bureau mentioned in the body is not the applicant", SeverityInput{Body: "此事已由市场监督管理局处理完毕", ApplicantOrg: ""}, nil},

		// media_exposure
		{"threat of media exposure", SeverityInput{Body: "如不处理，我将联系媒体曝光"}, []string{"media_exposure"}},
		{"a journalist called", SeverityInput{Body: "已有记者联系我"}, []string{"media_exposure"}},
		{"trap: the article's author line", SeverityInput{Body: "标题：某某事件调查\n作者：新京报记者 张三\n链接：https://news.ifeng.com/c/8Nx3ZkQ0abc"}, nil},
		{"trap: 本报记者 quoted from the article", SeverityInput{Body: "文中写道：本报记者 李四 报道"}, nil},
		// Issue 14: the article's own byline made a case major. The lines a form uses
		// to describe the article (title, author, source, link — however labelled,
		// bulleted or numbered) are the article's words, and no rule reads them.
		{"the brief's threat: 我已联系记者曝光", SeverityInput{Body: "删除原因：内容失实。\n我已联系记者曝光"}, []string{"media_exposure"}},
		{"trap: 文章作者：记者 李四 is the article's byline", SeverityInput{Body: "文章标题：某某事件\n文章作者：记者 李四\n删除原因：内容失实。"}, nil},
		{"trap: a bulleted, numbered byline", SeverityInput{Body: "⏹文章作者：记者 李四\n2、作者/来源：新京报记者 王五\n(3)原文标题：记者调查某某\n■来源网址：https://news.ifeng.com/c/jizhe"}, nil},
		{"trap: a source line naming a TV programme", SeverityInput{Body: "稿件来源： 央视焦点访谈"}, nil},
		{"trap: a byline as a table row", SeverityInput{Body: "文章作者\t记者 李四"}, nil},
		{"trap: a title reporting a lawsuit is the article's, not a threat", SeverityInput{Body: "文章标题：张三起诉李四案开庭"}, nil},
		{"a byline does not hide the complainant's own threat", SeverityInput{Body: "文章作者：记者 李四\n如不删除，我将向媒体曝光。"}, []string{"media_exposure"}},
		{"a 作者 that is no label (作者称…) is the complainant's text", SeverityInput{Body: "作者称已联系记者"}, []string{"media_exposure"}},

		// nothing
		{"an ordinary request", SeverityInput{Subject: "张三申请删除凤凰资讯稿件", Body: "该文章内容失实，侵犯本人名誉权，请删除。", Attachments: []string{"身份证.jpg", "申请表.pdf"}}, nil},
		{"several rules at once", SeverityInput{Body: "已报警，并向法院起诉"}, []string{"court", "litigation", "police"}},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		d := r.Severity(tc.in)
		got := ruleNames(d)
		want := slices.Clone(tc.want)
		sort.Strings(want)
		wantLevel := Ordinary
		if len(want) > 0 {
			wantLevel = Major
		}
		if !slices.Equal(got, want) || d.Level != wantLevel {
			t.Errorf("%s: level %s, rules %v; want %s %v\nreasons: %q", tc.why, d.Level, got, wantLevel, want, d.Reasons)
		}
		for _, n := range tc.want {
			covered[n] = true
		}
	}
	for _, ru := range DefaultSeverityRules() {
		if !covered[ru.Name] {
			t.Errorf("default rule %s has no positive case", ru.Name)
		}
	}
}

func TestSeverityRepetition(t *testing.T) {
	r := newRouter(t) // threshold 2 within 30 days
	tests := []struct {
		why  string
		in   SeverityInput
		want []string
	}{
		{"one earlier complaint about the article is not yet a pattern", SeverityInput{SameLink: 1}, nil},
		{"the threshold reached by link", SeverityInput{SameLink: 2}, []string{"repeat_link"}},
		{"the threshold reached by applicant", SeverityInput{SameApplicant: 3}, []string{"repeat_applicant"}},
		{"both", SeverityInput{SameLink: 2, SameApplicant: 2}, []string{"repeat_applicant", "repeat_link"}},
	}
	for _, tc := range tests {
		d := r.Severity(tc.in)
		if got := ruleNames(d); !slices.Equal(got, tc.want) || (d.Level == Major) != (len(tc.want) > 0) {
			t.Errorf("%s: %s %v, want %v", tc.why, d.Level, got, tc.want)
		}
	}
	if d := r.Severity(SeverityInput{SameLink: 2}); !strings.Contains(d.Reasons[0], "2 earlier case(s) about the same article link within 30 days") {
		t.Errorf("reason does not say what repeated: %q", d.Reasons)
	}
}

// Reasons are shown to staff: they say where the match was, and never carry a phone
// or ID number in full.
func TestSeverityReasons(t *testing.T) {
	r := newRouter(t)
	d := r.Severity(SeverityInput{
		Body:           "本人电话13812345678，身份证110101199003071234，已于昨日报警，请尽快删除相关稿件内容。",
		Attachments:    []string{"律师函-13812345678.pdf"},
		ApplicantEmail: "someone@bj.gov.cn",
	})
	all := strings.Join(d.Reasons, "\n")
	for _, leak := range []string{"13812345678", "110101199003071234", "someone"} {
		if strings.Contains(all, leak) {
			t.Errorf("reasons leak %q:\n%s", leak, all)
		}
	}
	for _, want := range []string{`lawyer_letter: "律师函" in attachment "律师函-***********.pdf"`, `police: "报警" in body "…`, `government_applicant: ".gov.cn" in applicant_email "@bj.gov.cn"`} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
}

// Admins write their own rules: keywords as plain text, an ordinary level that only
// records a reason, and fields that limit where a rule looks.
func TestSeverityCustomRules(t *testing.T) {
	c := testConfig()
	c.Severity.Rules = []SeverityRule{
		{Name: "vip", Keywords: []string{"Ｃ.E.O", "董事长"}, Fields: []string{"body"}, Level: "major"},
		{Name: "note_only", Keywords: []string{"加急"}, Fields: []string{"subject"}, Level: "ordinary"},
	}
	r, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if d := r.Severity(SeverityInput{Body: "our c.e.o asks"}); d.Level != Major {
		t.Errorf("keyword (width and case folded) not matched: %+v", d)
	}
	if d := r.Severity(SeverityInput{Body: "ceo"}); d.Level != Ordinary {
		t.Errorf("a keyword's dot is not a wildcard: %+v", d)
	}
	if d := r.Severity(SeverityInput{Subject: "董事长"}); d.Level != Ordinary {
		t.Errorf("rule looked outside its fields: %+v", d)
	}
	if d := r.Severity(SeverityInput{Subject: "加急：申请删除"}); d.Level != Ordinary || len(d.Reasons) != 1 {
		t.Errorf("an ordinary rule records a reason without raising the level: %+v", d)
	}
}

// A long pasted body costs each rule one linear scan of at most maxFieldBytes.
func BenchmarkSeverityLongBody(b *testing.B) {
	r, err := New(testConfig())
	if err != nil {
		b.Fatal(err)
	}
	body := strings.Repeat("该文章内容失实，侵犯本人名誉权，请删除。联系地址：某市法院路12号。", 4000) // ~400 KiB, clipped to 256 KiB
	in := SeverityInput{Subject: "张三申请删除凤凰资讯稿件", Body: body, Attachments: []string{"申请表.pdf", "身份证.jpg"}}
	b.ResetTimer()
	for b.Loop() {
		if d := r.Severity(in); d.Level != Ordinary {
			b.Fatal(d)
		}
	}
}
