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
	}
	for _, c := range tests {
		if got := ParseSubject(c.in); got != c.want {
			t.Errorf("%s: ParseSubject(%q) = %+v, want %+v", c.why, c.in, got, c.want)
		}
	}
}
