package routing

import "testing"

// A query that url.ParseQuery refuses as a whole (a bad escape such as 100%, or the
// &amp; of a link copied from HTML source) still names the article by its other
// parameters: two forum threads must not become one article, related to each other
// and counted as each other's repetition.
func TestLinksWithAnUnreadableQueryPartKeepTheirArticleID(t *testing.T) {
	apart := [][2]string{
		{"http://bbs.example.cn/viewthread.php?tid=1001&extra=100%", "http://bbs.example.cn/viewthread.php?tid=1002&extra=100%"},
		{"http://bbs.example.cn/viewthread.php?tid=1001&amp;page=1", "http://bbs.example.cn/viewthread.php?tid=1002&amp;page=1"},
	}
	for _, p := range apart {
		a, _ := NormaliseLink(p[0])
		b, _ := NormaliseLink(p[1])
		if a == b {
			t.Errorf("%q and %q are two articles, but both have the key %q", p[0], p[1], a)
		}
	}
	// The HTML-escaped ampersand is the same link as the plain one.
	a, _ := NormaliseLink("http://bbs.example.cn/viewthread.php?tid=1001&amp;page=1")
	b, _ := NormaliseLink("http://bbs.example.cn/viewthread.php?tid=1001&page=1")
	if a != b {
		t.Errorf("&amp; and & name the same link: %q vs %q", a, b)
	}
	// Keys stay fixed points.
	for _, s := range []string{"http://bbs.example.cn/v.php?tid=1&x=100%", "http://bbs.example.cn/v.php?tid=1&a;b=c", "http://e.cn/v?%zz=1"} {
		k, ok := NormaliseLink(s)
		k2, ok2 := NormaliseLink(k)
		if !ok || !ok2 || k != k2 {
			t.Errorf("not a fixed point: %q → %q → %q", s, k, k2)
		}
	}
}

// Phoenix's readers write from Hong Kong and Taiwan: a subject in traditional
// characters (張三申請刪除鳳凰財經稿件) names the same channel as the simplified one.
func TestTraditionalChannelNameRoutesLikeTheSimplifiedOne(t *testing.T) {
	r := newRouter(t)
	for _, ch := range []string{"鳳凰財經", "財經", "鳳凰網財經頻道", "鳳凰資訊", "新聞", "自媒體", "鳳凰號"} {
		d := r.Route(ch, "")
		if d.Source != BySubject {
			t.Errorf("Route(%q) = %+v; want the subject's channel to decide", ch, d)
		}
	}
	if d := r.Route("鳳凰財經", ""); d.Department != "财经" {
		t.Errorf("鳳凰財經 went to %q, want 财经", d.Department)
	}
}

// A subject that follows the convention may name the article by its 《title》
// (张三申请删除《某公司被起诉案》稿件, SPEC §2): the title is the article's words, as the
// body's 标题： line is, and no more a threat to sue, a journalist or the police than
// that line. The complainant's own words around it still count.
func TestArticleTitleInTheSubjectDoesNotMakeACaseMajor(t *testing.T) {
	r := newRouter(t)
	for _, s := range []string{
		"张三申请删除《某公司被起诉案》稿件",
		"张三申请删除《记者调查：某医院乱收费》",
		"關於《某某被公安帶走》的刪帖申請",
	} {
		if d := r.Severity(SeverityInput{Subject: s}); d.Level != Ordinary {
			t.Errorf("subject %q: %s %v; want ordinary, the title is the article's", s, d.Level, d.Reasons)
		}
		// The same title in the body's title line is already the article's.
		if d := r.Severity(SeverityInput{Body: "文章标题：" + s}); d.Level != Ordinary {
			t.Errorf("body title line %q: %s %v", s, d.Level, d.Reasons)
		}
	}
	for _, s := range []string{"律师函：张三申请删除《某某报道》稿件", "张三申请删除《某某报道》稿件，否则起诉"} {
		if d := r.Severity(SeverityInput{Subject: s}); d.Level != Major {
			t.Errorf("subject %q: %s; the complainant's own words outside the title count", s, d.Level)
		}
	}
}

// Most takedown requests are about an article that exposed the complainant's private
// data, and many name the article's journalist: neither is a threat of media
// exposure. Under the default rules "该文章曝光了我的个人隐私" and "文中记者未经核实"
// made an ordinary privacy complaint major (the leadership alerted, the review cut
// to one day). A threat, or a journalist on the story, still counts.
func TestPrivacyComplaintWordingIsNoMediaExposure(t *testing.T) {
	r := newRouter(t)
	for _, body := range []string{
		"该文章曝光了我的个人隐私，请删除。",
		"文章曝光我的家庭住址和电话号码。",
		"该文曝光了本人的照片和姓名",
		"文中记者未经核实就发布了不实内容。",
		"该文记者歪曲事实。",
		"報道記者未向本人求證",
	} {
		if d := r.Severity(SeverityInput{Body: body}); d.Level != Ordinary {
			t.Errorf("body %q: %s %v; want ordinary", body, d.Level, d.Reasons)
		}
	}
	for _, body := range []string{"如不删除，我将向媒体曝光。", "我会把此事曝光", "已有记者联系我", "曝光了我的隐私，我已联系记者"} {
		if d := r.Severity(SeverityInput{Body: body}); d.Level != Major {
			t.Errorf("body %q: %s; a threat of exposure counts", body, d.Level)
		}
	}
}

// Chinese prose ends a sentence with an ellipsis (……), a dash (——) or a tilde (～, ~)
// as often as with 。: glued to a pasted link, it is no part of the article's address.
func TestLinkFollowedByChineseSentenceEndingRelates(t *testing.T) {
	want, _ := NormaliseLink("https://news.ifeng.com/c/8Nx3ZkQ0abc")
	for _, s := range []string{
		"https://news.ifeng.com/c/8Nx3ZkQ0abc……",
		"https://news.ifeng.com/c/8Nx3ZkQ0abc…",
		"https://news.ifeng.com/c/8Nx3ZkQ0abc——",
		"https://news.ifeng.com/c/8Nx3ZkQ0abc～",
		"https://news.ifeng.com/c/8Nx3ZkQ0abc~",
	} {
		if got, ok := NormaliseLink(s); !ok || got != want {
			t.Errorf("NormaliseLink(%q) = %q, %v; want %q", s, got, ok, want)
		}
	}
}
