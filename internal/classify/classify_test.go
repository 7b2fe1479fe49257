package classify

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailmsg"
	"github.com/complaintd/complaintd/internal/policy"
)

func msgWith(subject, text string, atts ...mailmsg.Attachment) *mailmsg.Message {
	return &mailmsg.Message{Subject: subject, Text: text, From: mailmsg.Address{Name: "小猫咪", Address: "nick@example.com"}, Attachments: atts}
}

func att(name, spoolID string, size int64) mailmsg.Attachment {
	return mailmsg.Attachment{Filename: name, SpoolID: spoolID, Size: size, SHA256: "sha-" + name}
}

func names(ns ...string) []mailmsg.Attachment {
	var out []mailmsg.Attachment
	for i, n := range ns {
		out = append(out, att(n, string(rune('a'+i)), 100))
	}
	return out
}

// TestApplicant covers SPEC §2 policy details, Applicant.
func TestApplicant(t *testing.T) {
	type want struct {
		typ       cases.ApplicantType
		name, org string
		principal *cases.Party // Name, Org, Type compared
		email     string
	}
	tests := []struct {
		why     string
		subject string
		text    string
		want    want
	}{
		{"name from a conforming subject, never the From display name", "张三申请删除凤凰资讯稿件", "", want{cases.Individual, "张三", "", nil, "nick@example.com"}},
		{"subject beats the 姓名 line", "张三申请删除凤凰资讯稿件", "姓名：李四", want{cases.Individual, "张三", "", nil, ""}},
		{"off-convention: name from the 姓名 line", "删帖申请", "姓名：李四", want{cases.Individual, "李四", "", nil, ""}},
		{"off-convention: name from the 申请人姓名 line", "删帖申请", "申请人姓名：王五", want{cases.Individual, "王五", "", nil, ""}},
		{"off-convention, no name line: empty, not the nickname", "删帖申请", "请删除", want{cases.Individual, "", "", nil, ""}},
		{"organisation in subject brackets", "张三(某某科技有限公司)申请删除凤凰资讯稿件", "", want{cases.Organisation, "张三", "某某科技有限公司", nil, ""}},
		{"organisation from the 单位名称 line", "张三申请删除凤凰资讯稿件", "单位名称：某某科技有限公司", want{cases.Organisation, "张三", "某某科技有限公司", nil, ""}},
		{"organisation-only subject: name from 经办人", "(某某科技有限公司)申请删除凤凰资讯稿件", "经办人：赵六\n姓名：不用", want{cases.Organisation, "赵六", "某某科技有限公司", nil, ""}},
		{"law firm makes it entrusted even with an organisation named", "钱律师(某某律师事务所)申请删除凤凰资讯稿件", "", want{cases.Entrusted, "钱律师", "某某律师事务所", &cases.Party{Type: cases.Individual}, ""}},
		{"受…委托 wording names the principal organisation", "钱律师(某某律师事务所)申请删除凤凰资讯稿件", "本所受北京某某有限公司委托", want{cases.Entrusted, "钱律师", "某某律师事务所", &cases.Party{Org: "北京某某有限公司", Type: cases.Organisation}, ""}},
		{"a relative: principal individual, agent has no org", "李明申请删除凤凰资讯稿件", "我受父亲李大山委托申请", want{cases.Entrusted, "李明", "", &cases.Party{Name: "李大山", Type: cases.Individual}, ""}},
		{"委托人 line", "删帖申请", "姓名：黄磊\n委托人：黄建国", want{cases.Entrusted, "黄磊", "", &cases.Party{Name: "黄建国", Type: cases.Individual}, ""}},
		{"委托单位 line: principal organisation", "删帖申请", "姓名：黄磊\n委托单位：某某餐饮有限公司", want{cases.Entrusted, "黄磊", "", &cases.Party{Org: "某某餐饮有限公司", Type: cases.Organisation}, ""}},
		{"bare 委托 wording", "张三申请删除凤凰资讯稿件", "现委托张三代为申请", want{cases.Entrusted, "张三", "", &cases.Party{Type: cases.Individual}, ""}},
		// Once the reason ended at its paragraph (issue 14), a postscript after the
		// signature was read as entrustment wording: a lawyer sending a letter is not
		// someone applying for the complainant.
		{"委托 of a lawyer for a 律师函 is not entrustment", "张三申请删除凤凰资讯稿件", "删除原因：失实。\n\n张三\n我方已委托律师发出律师函。", want{cases.Individual, "张三", "", nil, ""}},
		{"受公司委托 by the applicant's own organisation is not entrusted", "周涛(某某传媒有限公司)申请删除凤凰资讯稿件", "本人受公司委托提交", want{cases.Organisation, "周涛", "某某传媒有限公司", nil, ""}},
		{"委托 inside the reason tells a story, not an entrustment", "张三申请删除凤凰资讯稿件", "删除原因：某公司委托水军发布不实信息", want{cases.Individual, "张三", "", nil, ""}},
		{"委托 in a quoted reply does not count", "Re: 张三申请删除凤凰资讯稿件", "好的\n\n------------------ 原始邮件 ------------------\n委托律师事务所代为申请的需提供委托书", want{cases.Individual, "张三", "", nil, ""}},
		{"联系邮箱 beats From", "张三申请删除凤凰资讯稿件", "联系邮箱：zs@example.org", want{cases.Individual, "张三", "", nil, "zs@example.org"}},
		{"the seed's combined 姓名单位名称 line", "删帖申请", "姓名单位名称：宋佳/某某网络科技有限公司", want{cases.Organisation, "宋佳", "某某网络科技有限公司", nil, ""}},
		// Issue 14: the whole head 北京某某律师事务所代王五 was the applicant's name and
		// the display name in To:.
		{"甲代乙 in the subject: a law firm (organisation) for a person", "北京某某律师事务所代王五申请删除凤凰娱乐稿件", "",
			want{cases.Entrusted, "", "北京某某律师事务所", &cases.Party{Name: "王五", Type: cases.Individual}, ""}},
		{"甲代乙 in the subject between two people is entrusted without other wording", "张三代王五申请删除凤凰资讯稿件", "",
			want{cases.Entrusted, "张三", "", &cases.Party{Name: "王五", Type: cases.Individual}, ""}},
		{"the 委托人 line ends at its punctuation", "删帖申请", "姓名：黄磊\n委托人：王五，身份证号 310101198001010018，电话 13700001111",
			want{cases.Entrusted, "黄磊", "", &cases.Party{Name: "王五", Type: cases.Individual}, ""}},
		{"a phone on the name line is never the name (nor the display name)", "删帖申请", "姓名：13700001111",
			want{cases.Individual, "", "", nil, ""}},
	}
	for _, c := range tests {
		r := Classify(msgWith(c.subject, c.text), nil, Options{})
		a := r.Applicant
		if a.Type != c.want.typ || a.Name != c.want.name || a.Org != c.want.org {
			t.Errorf("%s: applicant %s/%q/%q, want %s/%q/%q (why %q)", c.why, a.Type, a.Name, a.Org, c.want.typ, c.want.name, c.want.org, r.Why)
		}
		switch {
		case c.want.principal == nil && r.Principal != nil:
			t.Errorf("%s: unexpected principal %+v", c.why, *r.Principal)
		case c.want.principal != nil && r.Principal == nil:
			t.Errorf("%s: no principal, want %+v", c.why, *c.want.principal)
		case c.want.principal != nil:
			p := *r.Principal
			if p.Name != c.want.principal.Name || p.Org != c.want.principal.Org || p.Type != c.want.principal.Type {
				t.Errorf("%s: principal %+v, want %+v", c.why, p, *c.want.principal)
			}
		}
		if c.want.email != "" && a.Email != c.want.email {
			t.Errorf("%s: email %q, want %q", c.why, a.Email, c.want.email)
		}
		if !slices.ContainsFunc(r.Why, func(s string) bool { return strings.HasPrefix(s, "applicant.type") }) {
			t.Errorf("%s: no applicant.type reason in %q", c.why, r.Why)
		}
	}
}

// TestContentKindAndRepost covers SPEC §2 policy details, Content kind.
func TestContentKindAndRepost(t *testing.T) {
	tests := []struct {
		why      string
		subject  string
		text     string
		kind     cases.ContentKind
		reposted bool
	}{
		{"凤凰资讯 channel is news", "张三申请删除凤凰资讯稿件", "", cases.News, false},
		{"稿件 alone is news", "张三申请删除稿件", "", cases.News, false},
		{"新闻 in the body", "删帖申请", "贵网一篇新闻", cases.News, false},
		{"自媒体", "张三申请删除凤凰网文章", "这是一篇自媒体文章", cases.SelfMedia, false},
		{"凤凰号 in the subject", "张三申请删除凤凰号文章", "", cases.SelfMedia, false},
		{"跟帖 beats 新闻", "张三申请删除凤凰网新闻跟帖", "", cases.Comment, false},
		{"评论", "删帖申请", "请删除文章下方的评论", cases.Comment, false},
		{"博客", "张三申请删除凤凰博客文章", "", cases.Blog, false},
		{"博文", "删帖申请", "我的博文被盗用", cases.Blog, false},
		{"no kind word", "张三申请删除凤凰网文章", "", cases.Unknown, false},
		{"a self-media article in the 资讯 channel: the specific kind wins", "张三申请删除凤凰资讯稿件", "该自媒体文章失实", cases.SelfMedia, false},
		{"评论 in the reason does not make a comment", "张三申请删除凤凰资讯稿件", "删除原因：引发大量评论", cases.News, false},
		{"the seed's section header 贴文博文 is not a blog", "张三申请删除凤凰网文章", "二、申请删除贴文博文资料：", cases.Unknown, false},
		{"the applicant's name never feeds the kind (name 新闻)", "李新闻申请删除凤凰网文章", "", cases.Unknown, false},
		{"转载自 → reposted", "张三申请删除凤凰网文章", "该文转载自某某晚报", cases.Unknown, true},
		{"贵网转载 → reposted", "张三申请删除凤凰网文章", "贵网转载了某某日报的报道", cases.News, true},
		{"该文系转载 → reposted", "张三申请删除凤凰网文章", "该文系转载，原发媒体已撤稿", cases.Unknown, true},
		{"被凤凰网转载 names the portal → reposted", "张三申请删除凤凰网文章", "某某晚报的文章被凤凰网转载", cases.Unknown, true},
		{"来源 another site → reposted", "张三申请删除凤凰网文章", "来源：某某晚报", cases.Unknown, true},
		{"来源 the portal itself is not a repost", "张三申请删除凤凰网文章", "来源：凤凰网财经", cases.Unknown, false},
		{"reason text counts for the repost direction", "张三申请删除凤凰网文章", "删除原因：该文章转载自某某网，内容失实", cases.Unknown, true},
		{"others copied the portal's article: not a repost", "张三申请删除凤凰网文章", "贵网文章已被多家网站转载", cases.Unknown, false},
		{"other sites reposted our article: not a repost", "张三申请删除凤凰网文章", "其他网站转载了贵网的文章", cases.Unknown, false},
		{"转载贵网: not a repost", "张三申请删除凤凰网文章", "某某网转载贵网报道", cases.News, false},
		{"another publisher's reporter as author → reposted", "张三申请删除凤凰网文章", "文章作者：某某日报记者 王某", cases.Unknown, true},
		{"the portal's reporter is not a repost", "张三申请删除凤凰网文章", "文章作者：凤凰网记者 王某", cases.Unknown, false},

		// Issue 14: a link's host alone made the article news (and so demanded a
		// withdrawal letter) when the complainant said nothing of it. The host routes;
		// the kind is what the complainant states.
		{"a news.ifeng.com link line alone: unknown", "删帖申请", "文章链接：https://news.ifeng.com/c/8abc", cases.Unknown, false},
		{"a blog host in free text alone: unknown", "删帖申请", "请删除 https://blog.ifeng.com/article/1.html", cases.Unknown, false},
		{"a bare host without a scheme: unknown", "删帖申请", "请删除 news.ifeng.com/c/2 这篇", cases.Unknown, false},
		{"a comment host alone: unknown", "删帖申请", "地址：http://comment.ifeng.com/view/1", cases.Unknown, false},
		{"the statement decides over the host", "删帖申请", "请删除这篇博客 https://news.ifeng.com/c/1", cases.Blog, false},
		{"English words still state a kind", "removal request", "Please remove this news article.", cases.News, false},
		{"the reason naming the article itself states its kind", "删帖申请", "文章链接：https://ishare.ifeng.com/c/s/8Yq\n删除原因：该大风号自媒体文章捏造裁员信息。", cases.SelfMedia, false},
		{"a kind word in the reason's story, not of the article: not read", "删帖申请", "删除原因：文章发布后引发大量评论。", cases.Unknown, false},
	}
	for _, c := range tests {
		r := Classify(msgWith(c.subject, c.text), nil, Options{})
		if r.Request.ContentKind != c.kind || r.Request.Reposted != c.reposted {
			t.Errorf("%s: kind %s reposted %v, want %s %v (why %q)", c.why, r.Request.ContentKind, r.Request.Reposted, c.kind, c.reposted, r.Why)
		}
		if !slices.ContainsFunc(r.Why, func(s string) bool { return strings.HasPrefix(s, "content_kind") }) {
			t.Errorf("%s: no content_kind reason", c.why)
		}
	}
}

// TestPrincipalNumbers: the ID number and phone on a 委托人 line are the principal's,
// never part of the name (issue 14: they reached the leadership mail in the name).
func TestPrincipalNumbers(t *testing.T) {
	r := Classify(msgWith("删帖申请", "姓名：黄磊\n委托人：王五，身份证号 310101198001010018，电话 13700001111"), nil, Options{})
	if r.Principal == nil {
		t.Fatalf("no principal (why %q)", r.Why)
	}
	p := *r.Principal
	if p.Name != "王五" || p.IDNo != "310101198001010018" || !p.IDValid || p.Phone != "13700001111" {
		t.Errorf("principal %+v", p)
	}
	if r.Applicant.IDNo != "" || r.Applicant.Phone != "" {
		t.Errorf("the principal's numbers became the applicant's: %+v", r.Applicant)
	}
}

// TestRequestFields: titles without 《》, link validity recorded, ID validity recorded.
func TestRequestFields(t *testing.T) {
	r := Classify(msgWith("张三申请删除凤凰资讯稿件", "文章标题：《某某》\n文章链接：news.ifeng.com/c/1\n身份证号：110105194912310021\n文章作者：王五\n发表时间：2026-01-01\n删除原因：失实\n多行"), nil, Options{})
	rq := r.Request
	if rq.Title != "某某" || rq.URL != "news.ifeng.com/c/1" || rq.URLValid || rq.Author != "王五" || rq.Published != "2026-01-01" || rq.Reason != "失实\n多行" || rq.Channel != "凤凰资讯" {
		t.Errorf("request %+v", rq)
	}
	if r.Applicant.IDNo != "110105194912310021" || r.Applicant.IDValid {
		t.Errorf("id %q valid %v", r.Applicant.IDNo, r.Applicant.IDValid)
	}
	// A bad ID or link is not a missing document.
	m := policy.Missing(policy.DefaultRules(), Facts(r))
	if slices.Contains(m, "id_card") == false || len(m) != 5 {
		t.Errorf("missing %v", m)
	}
	// A link's host alone demands no withdrawal letter (issue 14).
	r = Classify(msgWith("删帖申请", "文章链接：https://news.ifeng.com/c/8abc"), nil, Options{})
	if slices.Contains(policy.Missing(policy.DefaultRules(), Facts(r)), cases.WithdrawalLetter) {
		t.Errorf("a news host alone demands a withdrawal letter (kind %s)", r.Request.ContentKind)
	}
	// A 律师函 is recognised but demanded by no default rule.
	for _, f := range []policy.Facts{{ApplicantType: cases.Individual}, {ApplicantType: cases.Organisation, Entrusted: true, ContentKind: cases.News, Reposted: true}} {
		if slices.Contains(policy.Missing(policy.DefaultRules(), f), cases.LawyerLetter) {
			t.Errorf("the default policy demands a 律师函 for %+v", f)
		}
	}
	// A link in free text is used when there is no 文章链接 line.
	r = Classify(msgWith("删帖申请", "请删除 https://news.ifeng.com/c/2 这篇"), nil, Options{})
	if r.Request.URL != "https://news.ifeng.com/c/2" || !r.Request.URLValid {
		t.Errorf("free-text link %q %v", r.Request.URL, r.Request.URLValid)
	}
	// The brief's 《title》 subject gives the title (issue 14: it gave the channel
	// 《某某报道》 and an empty title); a 文章标题 line still wins.
	r = Classify(msgWith("张三(某公司)申请删除《某某报道》稿件", ""), nil, Options{})
	if r.Request.Title != "某某报道" || r.Request.Channel != "" {
		t.Errorf("subject title: title %q channel %q", r.Request.Title, r.Request.Channel)
	}
	r = Classify(msgWith("张三(某公司)申请删除《某某报道》稿件", "文章标题：《完整的标题》"), nil, Options{})
	if r.Request.Title != "完整的标题" {
		t.Errorf("title line: %q", r.Request.Title)
	}
	// A number is never a title (the title becomes a mail's subject).
	r = Classify(msgWith("删帖申请", "文章标题：身份证310101198001010018"), nil, Options{})
	if r.Request.Title != "" {
		t.Errorf("number title: %q", r.Request.Title)
	}
	// 15-digit old ID: recorded, not valid.
	r = Classify(msgWith("删帖申请", "身份证号：110105491231002"), nil, Options{})
	if r.Applicant.IDNo != "110105491231002" || r.Applicant.IDValid {
		t.Errorf("old id %q %v", r.Applicant.IDNo, r.Applicant.IDValid)
	}
}

// TestDocuments covers SPEC §2 policy details, Documents, through Classify and Facts.
func TestDocuments(t *testing.T) {
	tests := []struct {
		why   string
		text  string
		atts  []mailmsg.Attachment
		have  []cases.Kind
		kinds []cases.Kind
	}{
		{"only attachments count, not documents named in the body", "附件：身份证、申请表、说明函", nil, nil, nil},
		{"two files of one kind count once", "", names("身份证正面.jpg", "身份证反面.jpg"), []cases.Kind{cases.IDCard}, []cases.Kind{cases.IDCard, cases.IDCard}},
		{"unclassified counts for nothing", "", names("IMG_2031.jpg", "扫描件.pdf"), nil, []cases.Kind{cases.Unclassified, cases.Unclassified}},
		{"a file without a name is unclassified", "", names(""), nil, []cases.Kind{cases.Unclassified}},
		{"embedded .eml classified by name", "", []mailmsg.Attachment{{Filename: "撤稿函.eml", Embedded: true, SpoolID: "x"}}, []cases.Kind{cases.WithdrawalLetter}, []cases.Kind{cases.WithdrawalLetter}},
		{"a skipped (too large) attachment is still classified by name", "", []mailmsg.Attachment{{Filename: "营业执照.pdf", Skipped: "too large"}}, []cases.Kind{cases.BusinessLicense}, []cases.Kind{cases.BusinessLicense}},
		// Issue 14: 律师函.pdf was unclassified although the same word makes the case major.
		{"律师函 is a document kind", "", names("律师函.pdf", "Lawyer_Letter.pdf"), []cases.Kind{cases.LawyerLetter}, []cases.Kind{cases.LawyerLetter, cases.LawyerLetter}},
	}
	for _, c := range tests {
		r := Classify(msgWith("张三申请删除凤凰资讯稿件", c.text, c.atts...), nil, Options{})
		var kinds []cases.Kind
		for _, d := range r.Documents {
			kinds = append(kinds, d.Kind)
			if d.Why == "" {
				t.Errorf("%s: %s has no why", c.why, d.Filename)
			}
		}
		if !reflect.DeepEqual(kinds, c.kinds) {
			t.Errorf("%s: kinds %v, want %v", c.why, kinds, c.kinds)
		}
		f := Facts(r)
		var have []cases.Kind
		for k := range f.Have {
			have = append(have, k)
		}
		slices.Sort(have)
		if !reflect.DeepEqual(have, c.have) {
			t.Errorf("%s: have %v, want %v", c.why, have, c.have)
		}
	}
}

// TestDocumentsFromContent: docx text and zip entries, with the Opener's limits.
func TestDocumentsFromContent(t *testing.T) {
	form := buildDocx(t, []string{"删帖申请表"}, []string{"姓名|周杰", "文章标题|《某某》", "删除原因|失实"})
	expl := buildDocx(t, []string{"事件说明函", "凤凰网："}, nil)
	z := buildZip(t, zipFile{name: "身份证.jpg", gbk: true, data: []byte("x")}, zipFile{name: "附件1.docx", gbk: true, data: form}, zipFile{name: "内层.zip", gbk: true, data: buildZip(t, zipFile{name: "撤稿函.pdf"})})
	op := &memOpener{files: map[string][]byte{"f": form, "e": expl, "z": z}}
	msg := msgWith("删帖申请", "姓名：本人\n", att("附件1.docx", "f", int64(len(form))), att("附件2.docx", "e", int64(len(expl))), att("材料.zip", "z", int64(len(z))))
	r := Classify(msg, op, Options{})
	got := map[string]string{}
	for _, d := range r.Documents {
		got[d.Container+"/"+d.Filename] = string(d.Kind) + " | " + d.Why
	}
	want := map[string]cases.Kind{
		"/附件1.docx":       cases.ApplicationForm,
		"/附件2.docx":       cases.ExplanationLetter,
		"/材料.zip":         cases.Unclassified,
		"材料.zip/身份证.jpg":  cases.IDCard,
		"材料.zip/附件1.docx": cases.ApplicationForm,
		"材料.zip/内层.zip":   cases.Unclassified,
	}
	if len(got) != len(want) {
		t.Fatalf("documents %q", got)
	}
	for k, v := range want {
		if !strings.HasPrefix(got[k], string(v)+" |") {
			t.Errorf("%s: got %q, want kind %s", k, got[k], v)
		}
	}
	if !strings.Contains(got["/附件1.docx"], "content") || !strings.Contains(got["材料.zip/内层.zip"], "nested archive not opened") {
		t.Errorf("why does not explain content/nesting: %q", got)
	}
	// Body first, the docx fills gaps.
	if r.Applicant.Name != "本人" || r.Request.Title != "某某" || r.Request.Reason != "失实" {
		t.Errorf("fields: name %q title %q reason %q", r.Applicant.Name, r.Request.Title, r.Request.Reason)
	}

	// nil Opener: names only.
	r = Classify(msg, nil, Options{})
	if len(r.Documents) != 3 || r.Documents[0].Kind != cases.Unclassified {
		t.Errorf("nil opener: %+v", r.Documents)
	}
	// Over MaxInspectBytes: names only, Opener not called.
	op.opens = 0
	r = Classify(msg, op, Options{MaxInspectBytes: 10})
	if op.opens != 0 || len(r.Documents) != 3 {
		t.Errorf("size limit: opens %d docs %d", op.opens, len(r.Documents))
	}
	// A failing Opener degrades to names, no panic.
	r = Classify(msg, &memOpener{fail: errors.New("disk gone")}, Options{})
	if len(r.Documents) != 3 || !strings.Contains(r.Documents[2].Why, "unreadable") {
		t.Errorf("failing opener: %+v", r.Documents)
	}
	// Entry bound applies to attachments.
	r = Classify(msg, op, Options{MaxZipEntries: 1})
	if len(r.Documents) != 4 || !strings.Contains(r.Documents[2].Why, "listing stopped") {
		t.Errorf("entry bound: %+v", r.Documents)
	}
}

func TestFacts(t *testing.T) {
	r := Result{Applicant: cases.Party{Type: cases.Entrusted}, Principal: &cases.Party{Org: "x", Type: cases.Organisation}, Request: cases.Request{ContentKind: cases.Blog, Reposted: true},
		Documents: []Document{{Kind: cases.IDCard}, {Kind: cases.IDCard}, {Kind: cases.Unclassified}}}
	f := Facts(r)
	if f.ApplicantType != cases.Organisation || !f.Entrusted || f.ContentKind != cases.Blog || !f.Reposted || len(f.Have) != 1 || !f.Have[cases.IDCard] {
		t.Errorf("facts %+v", f)
	}
	// Entrusted without a principal: individual (the principal's documents are an ID card and a reason proof).
	if f := Facts(Result{Applicant: cases.Party{Type: cases.Entrusted}}); f.ApplicantType != cases.Individual || f.ContentKind != cases.Unknown {
		t.Errorf("facts %+v", f)
	}
}

// TestCatalogueKeywordsReachTheirKind: every keyword of the built-in catalogue gives
// its own kind to a file named after it (a longer keyword of another kind would
// otherwise hide it), and the admins' own kinds are classified too.
func TestCatalogueKeywordsReachTheirKind(t *testing.T) {
	cat, err := cases.NewCatalogue([]cases.KindInfo{{Code: "lawyer_licence", LabelZH: "律师执业证", LabelEN: "lawyer's licence", Keywords: []string{"律师执业证", "執業證"}}})
	if err != nil {
		t.Fatal(err)
	}
	n := newNamer(cat)
	for _, k := range cat.Kinds() {
		for _, w := range k.Keywords {
			if got, why := n.classify(w + ".jpg"); got != k.Code {
				t.Errorf("file %q: kind %s (%s), want %s", w+".jpg", got, why, k.Code)
			}
		}
	}
	if got, _ := n.classify("张律师执业證.pdf"); got != "lawyer_licence" {
		t.Errorf("traditional spelling of an admin's keyword: %s", got)
	}
}

func TestNilMessage(t *testing.T) {
	r := Classify(nil, nil, Options{})
	if r.Applicant.Type != cases.Individual || r.Request.ContentKind != cases.Unknown {
		t.Errorf("nil message: %+v", r)
	}
}
