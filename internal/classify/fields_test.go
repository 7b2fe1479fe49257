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
		{"multi-line reason until the next field", "删除原因：第一行\n第二行\n联系电话：139", map[string]string{FieldReason: "第一行\n第二行", FieldPhone: "139"}},
		// Issue 14: the reason ran on into the next paragraph and the signature. A blank
		// line ends it; the next paragraph is the mail's, not the reason's.
		{"reason ends at a blank line", "删除原因：第一行\n第二行\n\n第三段另起\n联系电话：139", map[string]string{FieldReason: "第一行\n第二行", FieldPhone: "139"}},
		{"a blank line straight after the label is layout, not the end", "删除原因：\n\n内容失实。\n\n另一段", map[string]string{FieldReason: "内容失实。"}},
		{"reason ends at a colon-less number field line", "删除原因：内容失实\n电话 13900001111", map[string]string{FieldReason: "内容失实", FieldPhone: "13900001111"}},
		{"a reason's own mention of a phone is prose, not a field", "删除原因：文章公布了我的电话 13900001111，请删除", map[string]string{FieldReason: "文章公布了我的电话 13900001111，请删除"}},
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

		// Issue 14, clean fields: the principal's line swallowed the ID number and the
		// phone into the name, which then reached mails, the CLI and the CSV in clear.
		{"principal line: ID and phone after 、 split off and are the principal's", "委托人：王五，身份证号 310101198001010018，电话 13700001111",
			map[string]string{FieldPrincipal: "王五", FieldPrincipalIDNo: "310101198001010018", FieldPrincipalPhone: "13700001111"}},
		{"principal line with colons and no spaces", "委托人：王五，身份证号：310101198001010018，电话：13700001111",
			map[string]string{FieldPrincipal: "王五", FieldPrincipalIDNo: "310101198001010018", FieldPrincipalPhone: "13700001111"}},
		{"principal line, half-width punctuation", "委托人:王五,身份证号 310101198001010018,电话 13700001111",
			map[string]string{FieldPrincipal: "王五", FieldPrincipalIDNo: "310101198001010018", FieldPrincipalPhone: "13700001111"}},
		{"a label glued to its number", "委托人：王五，电话13700001111", map[string]string{FieldPrincipal: "王五", FieldPrincipalPhone: "13700001111"}},
		{"the applicant's own line keeps the numbers the applicant's", "姓名：张三，身份证号 310101198001010018，手机 13700001111",
			map[string]string{FieldName: "张三", FieldIDNo: "310101198001010018", FieldPhone: "13700001111"}},
		{"委托人身份证号 on a line of its own is the principal's", "委托人身份证号：310101198001010018", map[string]string{FieldPrincipalIDNo: "310101198001010018"}},
		{"a name ends at punctuation", "姓名：张三。\n经办人：李四；王五\n委托人：赵六、钱七", map[string]string{FieldName: "张三", FieldAgent: "李四", FieldPrincipal: "赵六"}},
		{"half-width comma and period before a space stay in an English name", "单位名称：Example Co., Ltd.", map[string]string{FieldOrg: "Example Co., Ltd."}},
		{"a colon-less label needs a number's shape: 电话 followed by words is text", "委托人：王五，电话不详", map[string]string{FieldPrincipal: "王五"}},
		{"a phone in the name field is a phone, never a name", "姓名：13700001111", map[string]string{FieldPhone: "13700001111"}},
		{"an ID number in the organisation field is never an organisation", "单位名称：310101198001010018", map[string]string{FieldIDNo: "310101198001010018"}},
		{"a number after a space in a name is split off", "委托人：王五 13700001111", map[string]string{FieldPrincipal: "王五", FieldPrincipalPhone: "13700001111"}},
		{"a number glued to a name leaves no name", "姓名：王五13700001111", map[string]string{}},
		{"a title keeps its punctuation", "文章标题：张三，你好。", map[string]string{FieldTitle: "张三，你好。"}},

		// Issue 14: common label variants, 作者/来源 as the staff template prints it.
		{"作者/来源 (full- and half-width slash)", "作者/来源：记者 王五\n原文标题：某某报道", map[string]string{FieldAuthor: "记者 王五", FieldTitle: "某某报道"}},
		{"作者／来源 full-width slash", "作者／来源：凤凰网", map[string]string{FieldAuthor: "凤凰网"}},
		{"文章作者 with a reporter", "文章作者：记者 李四", map[string]string{FieldAuthor: "记者 李四"}},
		{"原文链接", "原文链接：https://news.ifeng.com/c/a", map[string]string{FieldURL: "https://news.ifeng.com/c/a"}},
		{"来源网址", "来源网址：https://news.ifeng.com/c/b", map[string]string{FieldURL: "https://news.ifeng.com/c/b"}},
		{"出处 and 发布日期", "出处：某某晚报\n发布日期：2026-01-01", map[string]string{FieldSource: "某某晚报", FieldPublished: "2026-01-01"}},
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
