package desk

import "testing"

func TestParseScore(t *testing.T) {
	tests := []struct {
		why  string
		in   string
		want int
		ok   bool
	}{
		{"a bare digit", "5", 5, true},
		{"full-width digit", "４", 4, true},
		{"digit with 分", "3分", 3, true},
		{"digit, space and a comment (the survey says a space separates them)", "5 很满意", 5, true},
		{"digit, space and an English comment", "4 quick", 4, true},
		{"digit and a word glued on is not a score", "5quick", 0, false},
		{"digit, space, 星 and a comment", "2 星，处理太慢", 2, true},
		{"Chinese numeral with 分", "五分", 5, true},
		{"Chinese numeral with 星", "五星", 5, true},
		{"两 is two", "两颗星", 2, true},
		{"stars", "★★★★", 4, true},
		{"a label before the score", "评分：1", 1, true},
		{"非常满意 is the top of the scale", "非常满意！", 5, true},
		{"a bare 满意 is the second level", "满意", 4, true},
		{"一般 starts with 一 but is 3", "一般，希望改进", 3, true},
		{"不满意 is not 满意", "不满意", 2, true},
		{"非常不满意 is not 非常满意", "非常不满意。", 1, true},
		{"English", "Very satisfied", 5, true},
		{"only the first line counts; the quoted survey lists every option", "4\n\n> 5 非常满意\n> 1 非常不满意", 4, true},
		{"0 is outside the scale", "0", 0, false},
		{"6 is outside the scale", "6分", 0, false},
		{"a date is not a score", "2026年3月的案件", 0, false},
		{"a Chinese numeral needs a unit", "五", 0, false},
		{"six stars", "★★★★★★", 0, false},
		{"free text", "谢谢你们的处理", 0, false},
		{"empty", "  \n ", 0, false},
	}
	for _, tc := range tests {
		got, ok := ParseScore(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: ParseScore(%q) = %d, %v; want %d, %v", tc.why, tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseScore(f *testing.F) {
	for _, s := range []string{"5", "五分", "★★", "非常满意", "> 3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, ok := ParseScore(s); ok && (n < 1 || n > 5) {
			t.Fatalf("ParseScore(%q) = %d", s, n)
		}
	})
}
