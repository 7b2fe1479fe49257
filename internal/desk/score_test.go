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

// The answer is kept whole: the comment after the score on its line and the lines
// below it, as written (case and full-width forms kept), without the quoted survey and
// without the signature.
func TestParseSurveyAnswer(t *testing.T) {
	tests := []struct {
		why, text, comment string
		score              int
	}{
		{"score and comment on one line", "5分 处理及时，谢谢", "处理及时，谢谢", 5},
		{"the comment goes on below", "4 还可以\n就是回复慢了一点\n\n-- \n张三", "还可以\n就是回复慢了一点", 4},
		{"a phrase then an English comment, case kept", "very satisfied - Thanks A Lot", "Thanks A Lot", 5},
		{"full-width digits and punctuation", "５分：非常好", "非常好", 5},
		{"stars", "★★★ 一般", "一般", 3},
		{"score alone", "非常满意", "", 5},
		{"quoted survey is not a comment", "3\n\n在 2026年3月1日，投诉受理中心 写道：\n> 5 分：非常满意", "", 3},
	}
	for _, tc := range tests {
		score, comment, ok := ParseSurveyAnswer(tc.text)
		if !ok || score != tc.score || comment != tc.comment {
			t.Errorf("%s: ParseSurveyAnswer(%q) = %d, %q, %v; want %d, %q", tc.why, tc.text, score, comment, ok, tc.score, tc.comment)
		}
	}
	if _, _, ok := ParseSurveyAnswer("挺好的，谢谢你们"); ok {
		t.Error("free text without a score read as an answer")
	}
}
