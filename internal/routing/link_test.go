package routing

import (
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
)

func TestNormaliseLink(t *testing.T) {
	tests := []struct {
		why  string
		in   string
		want string // "" means ok=false
	}{
		{"the plain case: scheme dropped, host kept", "https://news.ifeng.com/a/20250101/12345_0.shtml", "news.ifeng.com/a/20250101/12345_0.shtml"},
		{"http and https are the same page", "http://news.ifeng.com/a/20250101/12345_0.shtml", "news.ifeng.com/a/20250101/12345_0.shtml"},
		{"host case does not matter", "HTTPS://News.IFENG.com/a/1.shtml", "news.ifeng.com/a/1.shtml"},
		{"www. is the same site", "https://www.example.cn/news/1.html", "example.cn/news/1.html"},
		{"m. is the mobile edition of the same host", "https://m.finance.example.cn/a/1", "finance.example.cn/a/1"},
		{"wap. and 3g. are older mobile editions", "http://wap.example.cn/a/1", "example.cn/a/1"},
		{"3g. too", "http://3g.example.cn/a/1", "example.cn/a/1"},
		{"a mobile label is not removed when only a top-level domain would remain", "http://m.cn/a", "m.cn/a"},
		{"utm_* parameters say how it was shared", "https://example.cn/a?utm_source=wechat&utm_medium=social", "example.cn/a"},
		{"spm, from, share* and fbclid are tracking too; real parameters stay, sorted",
			"https://example.cn/view?id=42&spm=a.b.c&from=timeline&share_token=xyz&fbclid=Q&aid=7", "example.cn/view?aid=7&id=42"},
		{"tracking parameter names are case-insensitive", "https://example.cn/a?UTM_Source=x&id=1", "example.cn/a?id=1"},
		{"the fragment is a place in the page, not another page", "https://example.cn/a#comments", "example.cn/a"},
		{"a #/ fragment is a client-side route: another page of a single-page site", "https://example.cn/#/article/9", "example.cn#/article/9"},
		{"trailing slash and the bare root are the same page", "https://example.cn/", "example.cn"},
		{"a trailing slash on a path is dropped", "https://example.cn/news/", "example.cn/news"},
		{"dot segments and doubled slashes are cleaned", "https://example.cn/a//b/../c", "example.cn/a/c"},
		{"default ports are dropped", "https://example.cn:443/a", "example.cn/a"},
		{"other ports name another server and are kept", "http://example.cn:8080/a", "example.cn:8080/a"},
		{"credentials in a link are not part of the page", "https://user:pw@example.cn/a", "example.cn/a"},
		{"applicants omit the scheme; the SPEC records url_valid=false but it is still the article", "news.ifeng.com/a/1.shtml", "news.ifeng.com/a/1.shtml"},
		{"a scheme-relative link", "//news.ifeng.com/a/1.shtml", "news.ifeng.com/a/1.shtml"},
		{"brackets and sentence punctuation around a link in prose", "《https://news.ifeng.com/a/1.shtml》。", "news.ifeng.com/a/1.shtml"},
		{"full-width characters typed with a Chinese IME", "ｈｔｔｐｓ：／／ｎｅｗｓ．ｉｆｅｎｇ．ｃｏｍ／ａ／１．ｓｈｔｍｌ", "news.ifeng.com/a/1.shtml"},
		{"a Chinese path and its percent-encoding are one key", "https://example.cn/新闻/1", "example.cn/%E6%96%B0%E9%97%BB/1"},
		{"percent-encoding case does not matter", "https://example.cn/%e6%96%b0%e9%97%bb/1", "example.cn/%E6%96%B0%E9%97%BB/1"},
		{"path case matters: article ids are case-sensitive", "https://example.cn/A/b", "example.cn/A/b"},
		{"ifeng /c/ article on a channel host: the id is site-wide", "https://finance.ifeng.com/c/8Nx3ZkQ0abc", "ifeng.com/c/8Nx3ZkQ0abc"},
		{"the same article on the mobile site", "https://i.ifeng.com/c/8Nx3ZkQ0abc?aid=1&from=timeline", "ifeng.com/c/8Nx3ZkQ0abc"},
		{"the same article from the app's share site", "https://ishare.ifeng.com/c/s/8Nx3ZkQ0abc", "ifeng.com/c/8Nx3ZkQ0abc"},
		{"an ifeng path that is not an article keeps its host", "https://finance.ifeng.com/stock/", "finance.ifeng.com/stock"},
		{"a trailing dot after a query value is prose, and an escaped one survives as %2E", "https://example.cn/a?q=b%2E", "example.cn/a?q=b%2E"},

		{"empty", "", ""},
		{"prose is not a link", "见附件", ""},
		{"words with spaces", "not a url", ""},
		{"javascript: is not a web page", "javascript:alert(1)", ""},
		{"an e-mail address is not an article", "someone@example.cn", ""},
		{"mailto: neither", "mailto:someone@example.cn", ""},
		{"ftp is not a web article", "ftp://example.cn/a", ""},
		{"a scheme with no host", "http://", ""},
		{"a single-label host is not a public site", "http://localhost/a", ""},
		{"a bare word with a path", "ifeng/c/abc", ""},
	}
	for _, tc := range tests {
		got, ok := NormaliseLink(tc.in)
		if tc.want == "" {
			if ok {
				t.Errorf("%s: NormaliseLink(%q) = %q, want not a link", tc.why, tc.in, got)
			}
			continue
		}
		if !ok || got != tc.want {
			t.Errorf("%s: NormaliseLink(%q) = %q, %v; want %q", tc.why, tc.in, got, ok, tc.want)
		}
	}
}

// Related cases are found by equal keys: these pairs must meet, and those apart.
func TestNormaliseLinkRelates(t *testing.T) {
	same := [][2]string{
		{"https://news.ifeng.com/c/8Nx3ZkQ0abc", "http://news.ifeng.com/c/8Nx3ZkQ0abc/?utm_source=weibo#p2"},
		{"https://news.ifeng.com/c/8Nx3ZkQ0abc", "https://i.ifeng.com/c/8Nx3ZkQ0abc"},
		{"https://www.example.cn/a?id=1&page=2", "example.cn/a?page=2&id=1&spm=x"},
	}
	for _, p := range same {
		a, _ := NormaliseLink(p[0])
		b, _ := NormaliseLink(p[1])
		if a == "" || a != b {
			t.Errorf("%q and %q should relate: %q vs %q", p[0], p[1], a, b)
		}
	}
	apart := [][2]string{
		{"https://news.ifeng.com/c/8Nx3ZkQ0abc", "https://news.ifeng.com/c/8Nx3ZkQ0abd"},                  // another article
		{"https://news.ifeng.com/c/8Nx3ZkQ0abc", "https://news.ifeng.com/c/8nx3zkq0abc"},                  // ids are case-sensitive
		{"https://example.cn/view?id=1", "https://example.cn/view?id=2"},                                  // a real parameter
		{"https://example.cn/a", "https://example.org/a"},                                                 // another site
		{"https://finance.example.cn/a/1", "https://news.example.cn/a/1"},                                 // another channel host outside ifeng
		{"https://news.ifeng.com/a/20250101/1_0.shtml", "https://finance.ifeng.com/a/20250101/1_0.shtml"}, // old-style paths are per host
	}
	for _, p := range apart {
		a, _ := NormaliseLink(p[0])
		b, _ := NormaliseLink(p[1])
		if a == b {
			t.Errorf("%q and %q must not relate (both %q)", p[0], p[1], a)
		}
	}
}

// A key is a fixed point: normalising it again changes nothing, so keys stored by an
// older run compare equal to keys computed now.
func FuzzNormaliseLink(f *testing.F) {
	for _, s := range []string{"https://news.ifeng.com/c/8Nx3ZkQ0abc?utm_source=x", "https://example.cn/#/a", "《http://Ex.cn:8080/a/./b/?z=1&a=2》",
		"ｈｔｔｐ：／／ｅｘ．ｃｎ", "https://example.cn/a?q=b%2E", "https://ishare.ifeng.com/c/s/abcdefg", "//m.www.example.cn/%29"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var k string
		var ok bool
		mailtest.Cost(t, time.Second+time.Duration(len(raw)>>14)*time.Second, 1<<20+uint64(64*len(raw)), func() { k, ok = NormaliseLink(raw) })
		if !ok {
			return
		}
		if strings.Contains(k, "://") {
			t.Fatalf("key %q keeps a scheme", k)
		}
		k2, ok2 := NormaliseLink(k)
		if !ok2 || k2 != k {
			t.Fatalf("not a fixed point: %q → %q → %q (%v)", raw, k, k2, ok2)
		}
	})
}
