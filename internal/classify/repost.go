package classify

import (
	"regexp"
	"strings"
)

// portalWords name the portal itself (凤凰网) or address it (贵网, 你网).
var portalWords = []string{"凤凰", "ifeng", "贵网", "贵站", "你网", "你站", "你们网站", "你们", "贵方", "贵平台", "贵司", "本网", "本站", "原创"}

// copiedWords before 转载 say that other sites copied the portal's article.
var copiedWords = []string{"其他网站", "其它网站", "其他媒体", "其他平台", "多家", "他站", "别的网站", "各大网站", "不少网站", "其他", "其它", "网友", "大量"}

// mediaRE matches an author naming another publisher (新京报记者, 某某日报).
var mediaRE = regexp.MustCompile(`(日报|晚报|早报|时报|商报|新京报|报社|新闻网|通讯社|新华社|中新社|电视台|杂志|客户端|澎湃|人民网|新浪|搜狐|网易|腾讯)`)

var repostRE = regexp.MustCompile(`转载|转自|转发自`)

// reposted fills Request.Reposted: true only when the portal itself reposted the article
// from another site (转载自…, 来源：another site, 贵网转载, 该文系转载); "other sites
// copied the portal's article" (被…转载, 其他网站转载了贵网文章) is not a repost.
func reposted(res *Result, vals map[string]string, primary string) {
	why := func(s string) { res.Why = append(res.Why, s) }
	if src := vals[FieldSource]; src != "" {
		if w := containsAny(fold(src), portalWords...); w == "" {
			res.Request.Reposted = true
			why("reposted: 来源 names another site")
			return
		}
	}
	if a := fold(vals[FieldAuthor]); a != "" && containsAny(a, portalWords...) == "" {
		if m := mediaRE.FindString(a); m != "" {
			res.Request.Reposted = true
			why("reposted: author is another publisher (" + m + ")")
			return
		}
	}
	text := []rune(fold(primary))
	s := string(text)
	copied := false
	for _, loc := range repostRE.FindAllStringIndex(s, -1) {
		i := runeIndex(s, loc[0])
		j := runeIndex(s, loc[1])
		word := string(text[i:j])
		before := string(text[max(0, i-12):i])
		after := string(text[j:min(len(text), j+8)])
		near := string(text[max(0, i-3):i])
		switch {
		case strings.Contains(before, "被"):
			// 被凤凰网转载 is the portal; 被其他网站转载 is not.
			agent := before[strings.LastIndex(before, "被"):]
			if containsAny(agent, portalWords...) != "" {
				res.Request.Reposted = true
				why("reposted: 被" + "…" + word + " names the portal")
				return
			}
			copied = true
		case strings.HasPrefix(strings.TrimPrefix(after, "了"), "贵") || strings.HasPrefix(strings.TrimPrefix(after, "了"), "你") ||
			strings.HasPrefix(strings.TrimPrefix(after, "了"), "凤凰") || strings.HasPrefix(strings.TrimPrefix(after, "了"), "本"):
			copied = true // 转载了贵网的文章
		case containsAny(before, copiedWords...) != "" && containsAny(before, "贵网", "贵站", "凤凰", "你网") == "":
			copied = true
		case word == "转载" && strings.HasPrefix(after, "自"), word == "转自", word == "转发自":
			res.Request.Reposted = true
			why("reposted: " + word + "…")
			return
		case containsAny(before, portalWords...) != "" || containsAny(near, "系", "属", "为", "是") != "":
			res.Request.Reposted = true
			why("reposted: " + strings.TrimSpace(near) + word)
			return
		}
	}
	if copied {
		why("reposted: false (other sites copied the portal's article)")
	}
}
