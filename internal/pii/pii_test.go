// SPDX-License-Identifier: MIT

package pii

import (
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	for _, tc := range []struct {
		why, in, id, phone string
	}{
		{"the issue's example ID number keeps its first and last four", "310101198001010018", "3101**********0018", ""},
		{"a check character X is part of the number", "11010519491231002X", "1101**********002X", ""},
		{"the old 15-digit form", "310101800101001", "3101*******1001", ""},
		{"a typo is masked too, not shown", "3101011980", "3********0", ""},
		{"a mobile keeps 3 and 4 digits", "13700001111", "", "137****1111"},
		{"+86 and separators are dropped", "+86 137-0000-1111", "", "137****1111"},
		{"full-width digits from a Chinese input method", "１３７００００１１１１", "", "137****1111"},
		{"a landline keeps its area code", "010-12345678", "", "010****5678"},
	} {
		if tc.id != "" {
			if got := MaskIDNo(tc.in); got != tc.id {
				t.Errorf("%s: MaskIDNo(%q) = %q, want %q", tc.why, tc.in, got, tc.id)
			}
		}
		if tc.phone != "" {
			if got := MaskPhone(tc.in); got != tc.phone {
				t.Errorf("%s: MaskPhone(%q) = %q, want %q", tc.why, tc.in, got, tc.phone)
			}
		}
	}
}

func TestMaskText(t *testing.T) {
	for _, tc := range []struct{ why, in, want string }{
		{"the issue's principal line", "委托人：王五，身份证号 310101198001010018，电话 13700001111",
			"委托人：王五，身份证号 3101**********0018，电话 137****1111"},
		{"digits glued to Chinese text are still bounded", "身份证310101198001010018电话13700001111",
			"身份证3101**********0018电话137****1111"},
		{"a longer run of digits is an order number, not a phone", "订单号 1370000111122223333", "订单号 1370000111122223333"},
		{"digits inside a URL path next to letters are left alone", "https://ex.cn/a13700001111b", "https://ex.cn/a13700001111b"},
		{"text without numbers is returned as it is", "请删除该文章。", "请删除该文章。"},
		{"a landline in parentheses", "电话（021）87654321", "电话021****4321"},
	} {
		if got := MaskText(tc.in); got != tc.want {
			t.Errorf("%s: MaskText(%q) = %q, want %q", tc.why, tc.in, got, tc.want)
		}
	}
}

func TestShapes(t *testing.T) {
	if !IsIDNo(" 310101198001010018 ") || IsIDNo("王五 310101198001010018") {
		t.Error("IsIDNo must accept a whole ID number and only that")
	}
	if !IsPhone("137 0000 1111") || IsPhone("张三") {
		t.Error("IsPhone must accept a written mobile and refuse a name")
	}
	if !ContainsNumber("北京某某律师事务所代王五 13700001111") || ContainsNumber("北京某某律师事务所代王五") {
		t.Error("ContainsNumber must find a phone in a name-like string and nothing in a name")
	}
	if LogHash("A@Example.cn") != LogHash("a@example.cn") || LogHash("a@example.cn") == LogHash("b@example.cn") {
		t.Error("LogHash must fold case and tell values apart")
	}
	if LogHash("") != "" {
		t.Error("LogHash of nothing is nothing")
	}
}

// An SMTP error names the recipient; what is logged must not.
func TestRedactAddresses(t *testing.T) {
	in := "550 5.1.1 <wangwu@example.cn>: Recipient address rejected"
	got := RedactAddresses(in)
	if got == in || strings.Contains(got, "wangwu") || !strings.Contains(got, "Recipient address rejected") ||
		!strings.Contains(got, LogHash("wangwu@example.cn")) {
		t.Errorf("RedactAddresses(%q) = %q", in, got)
	}
}
