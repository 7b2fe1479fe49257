package classify

import "testing"

func TestIDNumbers(t *testing.T) {
	// Check characters computed by hand with the GB 11643 weights: e.g. for
	// 11010519491231002: sum = 167, 167 mod 11 = 2 → 'X'.
	cases := []struct {
		why   string
		in    string
		valid bool
	}{
		{"standard example with X check", "11010519491231002X", true},
		{"lower-case x is normalised", "11010519491231002x", true},
		{"spaces inside are removed", "110105 19491231 002X", true},
		{"full-width digits are folded", "１１０１０５１９４９１２３１００２Ｘ", true},
		{"digit check character", "440305199511204429", true},
		{"wrong check digit", "110105194912310021", false},
		{"off by one check digit", "440305199511204428", false},
		{"old 15-digit number is recorded but not valid", "110105491231002", false},
		{"17 digits", "11010519491231002", false},
		{"letters inside", "1101051949123100AX", false},
		{"month 13 with a correct check digit", mustComplete(t, "11010519491331002"), false},
		{"empty", "", false},
	}
	for _, c := range cases {
		if got := ValidIDNo(NormaliseIDNo(c.in)); got != c.valid {
			t.Errorf("%s: ValidIDNo(%q) = %v, want %v", c.why, c.in, got, c.valid)
		}
	}
	if c, ok := IDCheckChar("11010519491231002"); !ok || c != 'X' {
		t.Errorf("IDCheckChar = %c %v, want X", c, ok)
	}
}

func mustComplete(t *testing.T, first17 string) string {
	c, ok := IDCheckChar(first17)
	if !ok {
		t.Fatalf("IDCheckChar(%q) failed", first17)
	}
	return first17 + string(c)
}

func TestURLs(t *testing.T) {
	cases := []struct {
		why   string
		in    string
		clean string
		valid bool
	}{
		{"https link", "https://news.ifeng.com/c/8abc", "https://news.ifeng.com/c/8abc", true},
		{"http link with query", "http://blog.ifeng.com/a.html?x=1", "http://blog.ifeng.com/a.html?x=1", true},
		{"no scheme is recorded but invalid", "news.ifeng.com/c/8abc", "news.ifeng.com/c/8abc", false},
		{"www without scheme", "www.ifeng.com", "www.ifeng.com", false},
		{"other scheme", "ftp://ifeng.com/a", "ftp://ifeng.com/a", false},
		{"scheme without host", "https:///path", "https:///path", false},
		{"brackets and trailing full stop trimmed", "<https://a.cn/x>。", "https://a.cn/x", true},
		{"Chinese brackets trimmed", "（https://a.cn/x）", "https://a.cn/x", true},
		{"spaces inside make it invalid", "https://a.cn/x y", "https://a.cn/x y", false},
	}
	for _, c := range cases {
		got := CleanURL(c.in)
		if got != c.clean {
			t.Errorf("%s: CleanURL(%q) = %q, want %q", c.why, c.in, got, c.clean)
		}
		if v := ValidURL(got); v != c.valid {
			t.Errorf("%s: ValidURL(%q) = %v, want %v", c.why, got, v, c.valid)
		}
	}
}

func TestCleanTitle(t *testing.T) {
	for in, want := range map[string]string{
		"《某某报道》":    "某某报道",
		" 《某某》 ":    "某某",
		"“某某”":      "某某",
		"关于《某某》的评论": "关于某某的评论",
		"plain":     "plain",
	} {
		if got := CleanTitle(in); got != want {
			t.Errorf("CleanTitle(%q) = %q, want %q", in, got, want)
		}
	}
}
