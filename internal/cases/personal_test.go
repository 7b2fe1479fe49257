// SPDX-License-Identifier: MIT

package cases

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func personalCase() *Case {
	return &Case{
		ID: "TS-2026-000001", State: PendingReview,
		Applicant:   Party{Name: "张三", Org: "某公司", Type: Entrusted, Email: "zhangsan@example.cn", Phone: "13800001111", IDNo: "310101198001010018", IDValid: true},
		Principal:   &Party{Name: "王五", Phone: "13700001111", IDNo: "110105194912310029"},
		Request:     Request{Title: "某某报道", URL: "https://news.example.cn/a/1", Reason: "内容失实，电话13900001111", ContentKind: News},
		Subject:     Subject{Conforms: true, Name: "张三", Org: "某公司", Channel: "凤凰资讯"},
		Documents:   []Document{{Kind: "id_card", Filename: "王五身份证310101198001010018.jpg", Container: "材料.zip", Why: "文件名 身份证", Size: 10}},
		Complainant: "zhangsan@example.cn", ComplainantFrom: "zhangsan@example.cn", Author: "author@example.cn",
		Reason: "驳回：缺少委托书", Statements: []Statement{{From: "author@example.cn", Text: "我不同意"}},
		SatisfactionComment: "满意，王五", RequestedItems: []string{"户口本"}, Why: []string{"主题 张三"},
		Threads: []string{"abc.zhangsan@example.cn"}, LastInbound: "abc.zhangsan@example.cn",
	}
}

// What the store keeps in clear must hold none of the personal values, and merging
// the sealed part back must give the case as it was.
func TestSplitPersonalLeavesNothingPersonal(t *testing.T) {
	orig := personalCase()
	c := *orig
	c.Documents = append([]Document(nil), orig.Documents...)
	p := c.SplitPersonal()
	b, _ := json.Marshal(c)
	for _, v := range []string{"张三", "王五", "某公司", "13800001111", "13700001111", "310101198001010018", "110105194912310029",
		"zhangsan@example.cn", "author@example.cn", "内容失实", "缺少委托书", "我不同意", "满意", "户口本", "身份证"} {
		if strings.Contains(string(b), v) {
			t.Errorf("the record in clear still holds %q: %s", v, b)
		}
	}
	if c.Applicant.Type != Entrusted || !c.Applicant.IDValid || c.Request.URL == "" || c.Documents[0].Kind != "id_card" {
		t.Errorf("the anonymous facts must stay in clear: %+v", c)
	}
	if orig.Documents[0].Filename == "" || orig.Principal.Name != "王五" {
		t.Fatal("SplitPersonal must not write through to the caller's slices and pointers")
	}
	c.MergePersonal(p)
	if !reflect.DeepEqual(&c, orig) {
		t.Errorf("merge does not give the case back:\n got %+v\nwant %+v", c, *orig)
	}
}

// Staff and the CLI see ID numbers and phones masked, in fields and in free text.
func TestMaskedHidesNumbers(t *testing.T) {
	c := personalCase()
	c.Events = []Event{{Type: EventOf(Note), Note: "王五电话 13700001111"}}
	m := c.Masked()
	b, _ := json.Marshal(m)
	for _, v := range []string{"13800001111", "13700001111", "310101198001010018", "110105194912310029", "13900001111"} {
		if strings.Contains(string(b), v) {
			t.Errorf("masked case still shows %s", v)
		}
	}
	if m.Applicant.IDNo != "3101**********0018" || m.Applicant.Phone != "138****1111" || m.Principal.Phone != "137****1111" {
		t.Errorf("masks: %+v %+v", m.Applicant, m.Principal)
	}
	if c.Applicant.IDNo != "310101198001010018" || c.Events[0].Note != "王五电话 13700001111" {
		t.Error("Masked must not change the case it is called on")
	}
}

// China Mobile's and other providers' mail addresses are the owner's phone number
// (13712345678@139.com): the complainant's address, the applicant's e-mail and an
// event's actor showed it whole in `cases show`, the CSV and staff mail, although
// numbers are masked "wherever they stand" (found in review).
func TestMaskedHidesPhoneNumbersInAddresses(t *testing.T) {
	c := personalCase()
	c.Complainant = "13712345678@139.com"
	c.Applicant.Email = "13712345678@139.com"
	c.Events = []Event{{Type: EventOf(Note), Actor: "13712345678@139.com"}}
	m := c.Masked()
	b, _ := json.Marshal(m)
	if strings.Contains(string(b), "13712345678") {
		t.Errorf("masked case still shows the phone number of its address: %s", b)
	}
	if m.Complainant != "137****5678@139.com" {
		t.Errorf("complainant masked as %q, want 137****5678@139.com", m.Complainant)
	}
	if c.Complainant != "13712345678@139.com" {
		t.Error("Masked must not change the case it is called on")
	}
}
