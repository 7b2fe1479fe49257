package classify

import "testing"

func TestParseFields(t *testing.T) {
	cases := []struct {
		why  string
		in   string
		want map[string]string
	}{
		{"full-width colon", "姓名：张三", map[string]string{FieldName: "张三"}},
		{"half-width colon and spaces", "  姓名 : 张三 ", map[string]string{FieldName: "张三"}},
		{"seed bullet ⏹", "⏹文章标题：某某报道", map[string]string{FieldTitle: "某某报道"}},
		{"other bullets", "■联系电话：138\n● 联系邮箱：a@b.cn\n· 文章作者：王五\n- 发表时间：2026-01-01\n* 身份证号：1", map[string]string{FieldPhone: "138", FieldEmail: "a@b.cn", FieldAuthor: "王五", FieldPublished: "2026-01-01", FieldIDNo: "1"}},
		{"numbering 1、 and (2)", "1、姓名：张三\n(2)单位名称：某某公司\n三、经办人：李四", map[string]string{FieldName: "张三", FieldOrg: "某某公司", FieldAgent: "李四"}},
		{"the seed's placeholder is not a value", "⏹文章标题：(必填完整标题)\n⏹文章链接：（必填文章绝对链接地址）", map[string]string{}},
		{"placeholder followed by a real value", "⏹文章标题：(必填完整标题)《真实标题》", map[string]string{FieldTitle: "《真实标题》"}},
		{"label with parenthetical instructions before the colon", "⏹删除原因(必须包括要求删除原因的详细说明，如:恶意诽谤):\n内容失实", map[string]string{FieldReason: "内容失实"}},
		{"multi-line reason until the next field", "删除原因：第一行\n第二行\n\n第三行\n联系电话：139", map[string]string{FieldReason: "第一行\n第二行\n\n第三行", FieldPhone: "139"}},
		{"reason ends at 此致", "删除原因：失实\n此致\n敬礼", map[string]string{FieldReason: "失实"}},
		// A name alone after a blank line at the end of the mail (or before 发自我的iPhone)
		// is the signature, not part of the reason (seen in the demo's iPhone mail).
		{"a signature after the reason", "删除原因：内容失实。\n\n张三\n发自我的iPhone", map[string]string{FieldReason: "内容失实。"}},
		{"a signature at the very end", "删除原因：内容失实。\n\n张三 敬上", map[string]string{FieldReason: "内容失实。"}},
		{"reason ends at a signature line", "删除原因：失实\n亲笔签名：张三", map[string]string{FieldReason: "失实"}},
		{"first value wins", "姓名：张三\n姓名：李四", map[string]string{FieldName: "张三"}},
		{"empty values and 无 are not values", "身份证号：\n联系电话：无", map[string]string{}},
		{"two fields on one line", "姓名：石磊  电话：139  联系邮箱：s@126.com", map[string]string{FieldName: "石磊", FieldPhone: "139", FieldEmail: "s@126.com"}},
		{"table row with tabs (docx)", "文章标题\t某某\t发表时间\t2026-01-01", map[string]string{FieldTitle: "某某", FieldPublished: "2026-01-01"}},
		{"table label cell with colon", "文章链接：\thttps://x.cn/a", map[string]string{FieldURL: "https://x.cn/a"}},
		{"traditional labels", "文章標題：某某\n聯繫電話：123\n刪除原因：失實", map[string]string{FieldTitle: "某某", FieldPhone: "123", FieldReason: "失實"}},
		{"url value keeps its own colon", "文章链接：https://news.ifeng.com/c/a", map[string]string{FieldURL: "https://news.ifeng.com/c/a"}},
		{"unknown labels are ignored", "备注：无关\n时间：今天", map[string]string{}},
		{"principal lines", "委托人：黄建国\n委托单位：某某公司", map[string]string{FieldPrincipal: "黄建国", FieldPrincipalOrg: "某某公司"}},
		{"a line that only looks like a field", "我的姓名是张三", map[string]string{}},
	}
	for _, c := range cases {
		got := ParseFields(c.in).Values
		if len(got) != len(c.want) {
			t.Errorf("%s: got %q, want %q", c.why, got, c.want)
			continue
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", c.why, k, got[k], v)
			}
		}
	}
}

// TestReasonLinesMarked: content-kind detection relies on knowing which lines are the reason.
func TestReasonLinesMarked(t *testing.T) {
	f := ParseFields("您好\n删除原因：a\nb\n联系电话：1\n谢谢")
	for i, want := range []bool{false, true, true, false, false} {
		if f.ReasonLines[i] != want {
			t.Errorf("line %d reason=%v want %v", i, f.ReasonLines[i], want)
		}
	}
	if !f.Lines[3] || f.Lines[0] || f.Lines[4] {
		t.Errorf("field lines wrong: %v", f.Lines)
	}
}
