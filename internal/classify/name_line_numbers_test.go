package classify

import (
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailtest"
)

// TestNameLineNumbersReachTheirFields: complainants write their ID number, phone or
// address on the name line, in brackets or after a separator. The name must be the
// name alone and every number must land in the field a separate 身份证号： / 电话：
// line fills; before, such lines lost the name, the number or both, or kept (男) or
// +86 in the name that then addressed replies.
func TestNameLineNumbersReachTheirFields(t *testing.T) {
	const id, phone = "310101198001010018", "13800138000"
	tests := []struct {
		why  string
		in   string
		want map[string]string
	}{
		// The reviewer's first case: both the name and the ID number were lost, because
		// the bracket's label split the value and the name then held an unclosed bracket.
		{"ID number in full-width brackets with a label", "申请人：张三（身份证号：" + id + "）",
			map[string]string{FieldName: "张三", FieldIDNo: id}},
		// The same with half-width brackets and colon, as typed on an English keyboard.
		{"ID number in half-width brackets with a label", "申请人：张三(身份证号:" + id + ")",
			map[string]string{FieldName: "张三", FieldIDNo: id}},
		// Two labelled numbers in one bracket: the phone kept the closing bracket
		// ("13800138000）") and the name and ID number were lost.
		{"ID number and phone in one bracket", "姓名：张三（身份证：" + id + "，电话：" + phone + "）",
			map[string]string{FieldName: "张三", FieldIDNo: id, FieldPhone: phone}},
		// The other labels of the form inside the bracket.
		{"手机 label in the bracket", "姓名：张三（手机：" + phone + "）", map[string]string{FieldName: "张三", FieldPhone: phone}},
		{"联系电话 without a colon in the bracket", "姓名：张三（联系电话 " + phone + "）", map[string]string{FieldName: "张三", FieldPhone: phone}},
		{"证件号码 label in the bracket", "姓名：张三（证件号码：" + id + "）", map[string]string{FieldName: "张三", FieldIDNo: id}},
		// A bare number in brackets: the name was dropped with it.
		{"a bare phone in brackets", "姓名：张三（" + phone + "）", map[string]string{FieldName: "张三", FieldPhone: phone}},
		// A phone written in groups: the groups were no phone one by one, and together
		// they made the name hold a number, so both were dropped.
		{"a phone with spaces after the name", "姓名：张三 138 0013 8000", map[string]string{FieldName: "张三", FieldPhone: "138 0013 8000"}},
		{"a phone with dashes after a slash", "姓名：张三/138-0013-8000", map[string]string{FieldName: "张三", FieldPhone: "138-0013-8000"}},
		// A slash is no space: 张三/13800138000 was one token holding a number.
		{"a slash between name and phone", "姓名：张三/" + phone, map[string]string{FieldName: "张三", FieldPhone: phone}},
		{"a full-width slash between name and phone", "姓名：张三／" + phone, map[string]string{FieldName: "张三", FieldPhone: phone}},
		// The country code is part of the phone, not of the name.
		{"+86 before the phone", "姓名：张三 +86 " + phone, map[string]string{FieldName: "张三", FieldPhone: "+86 " + phone}},
		// An ID number written in groups is still an ID number and never a name: it was
		// kept in the name, which addressed replies and the staff's mails in clear.
		{"an ID number in groups after the name", "姓名：张三 310101 19800101 0018", map[string]string{FieldName: "张三", FieldIDNo: "310101 19800101 0018"}},
		// A note on the person in brackets is no part of the name (it became the
		// salutation and the To: display name).
		{"(男) after a space", "姓名：张三 (男)", map[string]string{FieldName: "张三"}},
		{"（男） full-width", "姓名：张三（男）", map[string]string{FieldName: "张三"}},
		{"a note in brackets then the next label without a space", "姓名：张三（男）电话：" + phone, map[string]string{FieldName: "张三", FieldPhone: phone}},
		// An address after the name is the contact address, not part of the name.
		{"an address after the name", "姓名：张三 zhangsan@example.com", map[string]string{FieldName: "张三", FieldEmail: "zhangsan@example.com"}},
		{"an address in angle brackets after the name", "姓名：张三 <zhangsan@example.com>", map[string]string{FieldName: "张三", FieldEmail: "zhangsan@example.com"}},
		{"an address in brackets after the name", "姓名：张三（zhangsan@example.com）", map[string]string{FieldName: "张三", FieldEmail: "zhangsan@example.com"}},
		// A name ends at punctuation, but the phone after it is still the phone.
		{"a phone after a comma", "姓名：张三，" + phone, map[string]string{FieldName: "张三", FieldPhone: phone}},
		// A label left before a number in groups is no part of the name either.
		{"a label before a phone in groups", "姓名：张三 电话 138 0013 8000", map[string]string{FieldName: "张三", FieldPhone: "138 0013 8000"}},
		// An English name keeps its spaces; the comma before the phone goes with it.
		{"an English name then a phone after a comma", "姓名：Zhang San, " + phone, map[string]string{FieldName: "Zhang San", FieldPhone: phone}},
		// A note and a labelled phone in one bracket, on the agent's line.
		{"a note and a phone in one bracket", "经办人：李四（法务，手机 139 0013 9000）", map[string]string{FieldAgent: "李四", FieldPhone: "139 0013 9000"}},
		// An organisation's phone in brackets is taken out; its name stays.
		{"an organisation's phone in brackets", "单位名称：某某公司（电话：010-12345678）", map[string]string{FieldOrg: "某某公司", FieldPhone: "010-12345678"}},
		// Another field's label in the bracket is not read here and stays, but the phone
		// beside it is still the phone (it kept the closing bracket before).
		{"another label beside the phone in the bracket", "姓名：张三（单位：某某公司，电话：" + phone + "）",
			map[string]string{FieldName: "张三（单位：某某公司）", FieldPhone: phone}},
		// An unclosed bracket hides no label: the next field still splits off.
		{"an unclosed bracket before the next label", "委托人：王五（男 委托单位：某某公司", map[string]string{FieldPrincipal: "王五", FieldPrincipalOrg: "某某公司"}},
		// On a 委托人 line the numbers in the bracket are the principal's, and an address
		// is not the applicant's.
		{"principal with an address in brackets", "委托人：王五（wangwu@example.com）", map[string]string{FieldPrincipal: "王五"}},
		{"principal with an ID number in brackets", "委托人：王五（身份证号：" + id + "）",
			map[string]string{FieldPrincipal: "王五", FieldPrincipalIDNo: id}},
		// A table row of a .docx form goes the same way.
		{"a table row with the ID number in brackets", "姓名\t张三（身份证号：" + id + "）", map[string]string{FieldName: "张三", FieldIDNo: id}},

		// Boundaries kept: brackets inside an organisation's name are its own, a number
		// glued to a name still leaves no name, a string shaped like a number never
		// becomes a name.
		{"an organisation keeps its brackets", "单位名称：某某（北京）科技有限公司", map[string]string{FieldOrg: "某某（北京）科技有限公司"}},
		{"an organisation on the 申请人 line keeps its brackets", "申请人：某某科技有限公司（筹）", map[string]string{FieldName: "某某科技有限公司（筹）"}},
		{"a name made only of a bracket stays", "姓名：（张三）", map[string]string{FieldName: "（张三）"}},
		{"a number glued to a name still leaves no name", "姓名：王五" + phone, map[string]string{}},
		{"only a number in brackets", "姓名：（" + phone + "）", map[string]string{FieldPhone: phone}},
	}
	for _, c := range tests {
		got := ParseFields(c.in).Values
		if len(got) != len(c.want) {
			t.Errorf("%s: %q: got %q, want %q", c.why, c.in, got, c.want)
			continue
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s: %q: %s = %q, want %q", c.why, c.in, k, got[k], v)
			}
		}
	}
}

// TestNameLineNumbersReachTheApplicant: the numbers read from the name line reach the
// case's applicant (and principal) the way separate lines do.
func TestNameLineNumbersReachTheApplicant(t *testing.T) {
	r := Classify(msgWith("删帖申请", "申请人：张三（身份证号：310101198001010018，手机：138-0013-8000）"), nil, Options{})
	a := r.Applicant
	if a.Name != "张三" || a.IDNo != "310101198001010018" || !a.IDValid || a.Phone != "138-0013-8000" || a.Type != cases.Individual {
		t.Errorf("applicant %+v (why %q)", a, r.Why)
	}
	r = Classify(msgWith("删帖申请", "姓名：黄磊 (男)\n委托人：王五（身份证号：310101198001010018）"), nil, Options{})
	if r.Applicant.Name != "黄磊" || r.Applicant.IDNo != "" {
		t.Errorf("applicant %+v", r.Applicant)
	}
	if r.Principal == nil || r.Principal.Name != "王五" || r.Principal.IDNo != "310101198001010018" || !r.Principal.IDValid {
		t.Errorf("principal %+v (why %q)", r.Principal, r.Why)
	}
}

// TestLongBodiesAreReadInLinearTime: the body text may be 1 MiB, and ParseFields does
// not heed the mail's time budget. A reason of many short lines cost the whole reason
// at each line, and a line of many labels a pass over the rest of the line at each
// label: 7 to 9 s and 1.3 GB allocated for each input below (100 KB, 44 KB, 52 KB),
// hours for 1 MiB, all the while the intake stood still. The inputs here are four
// times those sizes: quadratic, each would take minutes; linear, well under a second
// (0.1-0.4 s for the small ones under -race on a loaded 2-core machine). The bound is
// far from both, so that load does not fail it. Allocation is not bounded here: it is
// measured for the whole process, and the package's other tests run beside it.
func TestLongBodiesAreReadInLinearTime(t *testing.T) {
	const lines, labels = 200_000, 16_000
	for _, c := range []struct{ why, text string }{
		{"a reason of many short lines", "删除原因：\n" + strings.Repeat("a\n", lines)},
		{"a line of many labels", "姓名：张三" + strings.Repeat(" 电话：1", labels)},
		{"a bracket of many labels", "姓名：张三（" + strings.Repeat("电话：1，", labels) + "）"},
	} {
		var fs Fields
		took, _ := mailtest.Cost(t, 20*time.Second, 1<<40, func() { fs = ParseFields(c.text) })
		t.Logf("%s: %d bytes in %v", c.why, len(c.text), took)
		if c.why == "a reason of many short lines" && len(fs.Values[FieldReason]) != 2*lines-1 {
			t.Errorf("%s: reason of %d bytes", c.why, len(fs.Values[FieldReason]))
		}
	}
}
