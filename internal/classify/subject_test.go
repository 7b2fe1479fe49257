package classify

import (
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
)

func TestParseSubject(t *testing.T) {
	tests := []struct {
		why  string
		in   string
		want cases.Subject
	}{
		{"the seed's own example", "张三(蒙牛奶业集团)申请删除凤凰资讯稿件", cases.Subject{Conforms: true, Name: "张三", Org: "蒙牛奶业集团", Channel: "凤凰资讯"}},
		{"full-width brackets", "张三（蒙牛奶业集团）申请删除凤凰资讯稿件", cases.Subject{Conforms: true, Name: "张三", Org: "蒙牛奶业集团", Channel: "凤凰资讯"}},
		{"organisation optional for individuals", "张三申请删除凤凰资讯稿件", cases.Subject{Conforms: true, Name: "张三", Channel: "凤凰资讯"}},
		{"nested brackets inside the organisation", "李四（北京某某（集团）有限公司）申请删除凤凰资讯稿件", cases.Subject{Conforms: true, Name: "李四", Org: "北京某某（集团）有限公司", Channel: "凤凰资讯"}},
		{"mixed bracket widths, nested", "李四(北京某某（集团）有限公司)申请删除凤凰资讯稿件", cases.Subject{Conforms: true, Name: "李四", Org: "北京某某（集团）有限公司", Channel: "凤凰资讯"}},
		{"reply prefix and case tag removed first", "Re: [TS-2026-000123] 张三申请删除凤凰资讯稿件", cases.Subject{Conforms: true, Name: "张三", Channel: "凤凰资讯"}},
		{"Chinese reply prefix with full-width colon, tag after", "回复：张三申请删除凤凰资讯稿件 [TS-2026-000123]", cases.Subject{Conforms: true, Name: "张三", Channel: "凤凰资讯"}},
		{"stacked prefixes", "转发: RE: 回复: 张三申请删除凤凰资讯稿件", cases.Subject{Conforms: true, Name: "张三", Channel: "凤凰资讯"}},
		{"Fw: prefix", "Fw:张三申请删除凤凰资讯稿件", cases.Subject{Conforms: true, Name: "张三", Channel: "凤凰资讯"}},
		{"full-width spaces everywhere", "　张　三　（某某公司）　申请删除　凤凰资讯　稿件　", cases.Subject{Conforms: true, Name: "张三", Org: "某某公司", Channel: "凤凰资讯"}},
		{"文章 variant", "张三申请删除凤凰网文章", cases.Subject{Conforms: true, Name: "张三", Channel: "凤凰网"}},
		{"帖子 variant", "张三申请删除凤凰论坛帖子", cases.Subject{Conforms: true, Name: "张三", Channel: "凤凰论坛"}},
		{"empty channel still conforms", "张三申请删除稿件", cases.Subject{Conforms: true, Name: "张三"}},
		{"organisation-only subject in brackets", "(某某科技有限公司)申请删除凤凰资讯稿件", cases.Subject{Conforms: true, Org: "某某科技有限公司", Channel: "凤凰资讯"}},
		{"organisation-only subject without brackets", "北京某某科技有限公司申请删除凤凰资讯稿件", cases.Subject{Conforms: true, Org: "北京某某科技有限公司", Channel: "凤凰资讯"}},
		{"traditional characters", "陳大文申請刪除鳳凰資訊稿件", cases.Subject{Conforms: true, Name: "陳大文", Channel: "鳳凰資訊"}},
		{"Latin name keeps its space", "Li Lei申请删除凤凰资讯稿件", cases.Subject{Conforms: true, Name: "Li Lei", Channel: "凤凰资讯"}},
		{"trailing punctuation ignored", "张三申请删除凤凰资讯稿件！", cases.Subject{Conforms: true, Name: "张三", Channel: "凤凰资讯"}},
		{"no 申请删除: off convention", "删帖申请", cases.Subject{}},
		{"a sentence before 申请删除 is not a name", "您好，我想申请删除凤凰资讯稿件", cases.Subject{}},
		{"tail with no convention noun", "关于申请删除不实报道的函", cases.Subject{}},
		{"unbalanced bracket", "张三)申请删除凤凰资讯稿件", cases.Subject{}},
		{"nothing before 申请删除", "申请删除凤凰资讯稿件", cases.Subject{}},
		{"empty subject", "", cases.Subject{}},
		// Issue 14: a number is never a name, an organisation or a channel; the
		// subject then is not the convention, and nothing of it is used.
		{"a phone in place of the name", "13700001111申请删除凤凰资讯稿件", cases.Subject{}},
		{"an ID number in the organisation brackets", "张三(310101198001010018)申请删除凤凰资讯稿件", cases.Subject{}},
		{"a phone glued to the name", "张三13700001111申请删除凤凰资讯稿件", cases.Subject{}},
	}
	for _, c := range tests {
		if got := ParseSubject(c.in); got != c.want {
			t.Errorf("%s: ParseSubject(%q) = %+v, want %+v", c.why, c.in, got, c.want)
		}
	}
}

// TestParseSubjectParts: what the convention says besides the applicant (issue 14).
func TestParseSubjectParts(t *testing.T) {
	tests := []struct {
		why  string
		in   string
		want subjectParts
	}{
		{"a law firm for a person: the agent is the firm, the principal the person (it was all one name)",
			"北京某某律师事务所代王五申请删除凤凰娱乐稿件",
			subjectParts{Subject: cases.Subject{Conforms: true, Org: "北京某某律师事务所", Channel: "凤凰娱乐"}, PrincipalName: "王五"}},
		{"甲代乙 between two people", "张三代王五申请删除凤凰资讯稿件",
			subjectParts{Subject: cases.Subject{Conforms: true, Name: "张三", Channel: "凤凰资讯"}, PrincipalName: "王五"}},
		{"代为 and an agent with its organisation in brackets", "钱律师(某某律师事务所)代为某某科技有限公司申请删除凤凰资讯稿件",
			subjectParts{Subject: cases.Subject{Conforms: true, Name: "钱律师", Org: "某某律师事务所", Channel: "凤凰资讯"}, PrincipalOrg: "某某科技有限公司"}},
		{"a principal with an organisation in brackets", "张三代李四(某某公司)申请删除凤凰资讯稿件",
			subjectParts{Subject: cases.Subject{Conforms: true, Name: "张三", Channel: "凤凰资讯"}, PrincipalName: "李四", PrincipalOrg: "某某公司"}},
		{"代 inside a name is no agent (李代沫)", "李代沫申请删除凤凰资讯稿件",
			subjectParts{Subject: cases.Subject{Conforms: true, Name: "李代沫", Channel: "凤凰资讯"}}},
		{"代 inside an organisation's name is no agent", "新时代文化有限公司申请删除凤凰资讯稿件",
			subjectParts{Subject: cases.Subject{Conforms: true, Org: "新时代文化有限公司", Channel: "凤凰资讯"}}},
		{"the brief's 《title》 form gives the title and no channel (it gave the channel 《某某报道》)",
			"张三(某公司)申请删除《某某报道》稿件",
			subjectParts{Subject: cases.Subject{Conforms: true, Name: "张三", Org: "某公司", Channel: ""}, Title: "某某报道"}},
		{"a channel and a title", "张三申请删除凤凰资讯《某某报道，续》稿件",
			subjectParts{Subject: cases.Subject{Conforms: true, Name: "张三", Channel: "凤凰资讯"}, Title: "某某报道，续"}},
		{"a title without the suffix", "张三申请删除《某某报道》",
			subjectParts{Subject: cases.Subject{Conforms: true, Name: "张三"}, Title: "某某报道"}},
		{"a phone in the title: no title, the rest stands", "张三申请删除《13700001111是谁》稿件",
			subjectParts{Subject: cases.Subject{Conforms: true, Name: "张三"}}},
	}
	for _, c := range tests {
		if got := parseSubject(c.in); got != c.want {
			t.Errorf("%s: parseSubject(%q) = %+v, want %+v", c.why, c.in, got, c.want)
		}
	}
}
