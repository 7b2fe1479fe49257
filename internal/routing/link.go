package routing

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// mobileLabels are first host labels that name a mobile or "www" edition of the same
// site: m.finance.ifeng.com is finance.ifeng.com, i.ifeng.com is ifeng.com.
var mobileLabels = map[string]bool{"www": true, "m": true, "wap": true, "3g": true, "i": true, "mobile": true}

// trackingParams are query parameters that say how a link was shared, not what it
// points to. Keys are compared lower-cased; trackingPrefixes cover families.
var (
	trackingParams = map[string]bool{
		"spm": true, "spm_id_from": true, "from": true, "fbclid": true, "gclid": true, "igshid": true,
		"isappinstalled": true, "scene": true, "srcid": true, "clicktime": true, "enterid": true,
		"wxshare_count": true, "vd_source": true, "ref": true, "ref_src": true, "mkt_tok": true, "tt_from": true,
	}
	trackingPrefixes = []string{"utm_", "share"}
)

// hostRE accepts a host name of at least two labels (letters of any script, digits,
// inner hyphens), or a dotted IPv4 address.
var hostRE = regexp.MustCompile(`^[\p{L}\p{N}]([\p{L}\p{N}-]*[\p{L}\p{N}])?(\.[\p{L}\p{N}]([\p{L}\p{N}-]*[\p{L}\p{N}])?)+$`)

// ifengArticleRE is an ifeng.com article path: /c/<id> on every channel host and on
// the mobile site, /c/s/<id> on the share site (ishare.ifeng.com). The id is site-wide,
// so the host does not matter for identity.
var ifengArticleRE = regexp.MustCompile(`^/c/(?:s/)?([0-9A-Za-z_-]{6,})$`)

type link struct {
	host  string // lower-case, mobile/www label dropped, no port
	port  string // "" for the scheme's default
	path  string // cleaned, decoded, no trailing slash ("" for the root)
	query url.Values
	frag  string // kept only for client-side routes (#/…, #!…)
}

// wrappers are what applicants put around a link in prose: 《…》, “…”, (…), <…>,
// and sentence punctuation after it, the ellipsis (……), dash (——) and tilde (～)
// that end Chinese sentences included.
const (
	leadingWrappers  = "<《「『“‘\"'(（[【"
	trailingWrappers = ">》」』”’\"'.。,，、;；:：!！?？)）]】…—~"
)

// parseLink reads what an applicant wrote as a link. It accepts http and https links,
// and links without a scheme whose first part is a host name (news.ifeng.com/c/…),
// which applicants often write; everything else is not a link.
func parseLink(raw string) (link, bool) {
	s := strings.TrimSpace(width.Fold.String(raw))
	for s != "" && strings.ContainsRune(leadingWrappers, firstRune(s)) {
		s = strings.TrimSpace(s[len(string(firstRune(s))):])
	}
	for s != "" && strings.ContainsRune(trailingWrappers, lastRune(s)) {
		s = strings.TrimSpace(s[:len(s)-len(string(lastRune(s)))])
	}
	if s == "" || strings.ContainsAny(s, " \t\r\n") {
		return link{}, false
	}
	switch {
	case strings.HasPrefix(s, "//"):
		s = "http:" + s
	case !strings.Contains(s, "://"):
		first := s
		if i := strings.IndexAny(s, "/?#"); i >= 0 {
			first = s[:i]
		}
		h, _, _ := strings.Cut(first, ":")
		if !hostRE.MatchString(strings.ToLower(h)) || strings.Contains(first, "@") {
			return link{}, false
		}
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return link{}, false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return link{}, false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if !hostRE.MatchString(host) {
		return link{}, false
	}
	for {
		label, rest, ok := strings.Cut(host, ".")
		if !ok || !mobileLabels[label] || !strings.Contains(rest, ".") {
			break
		}
		host = rest
	}
	l := link{host: host}
	if p := u.Port(); p != "" && p != "80" && p != "443" {
		l.port = p
	}
	if u.Path != "" {
		l.path = path.Clean("/" + u.Path)
		if l.path == "/" {
			l.path = ""
		}
	}
	q := parseQuery(u.RawQuery)
	for k := range q {
		if isTracking(k) {
			delete(q, k)
		}
	}
	l.query = q
	if strings.HasPrefix(u.Fragment, "/") || strings.HasPrefix(u.Fragment, "!") {
		l.frag = u.Fragment
	}
	return l, true
}

// parseQuery reads a query as url.ParseQuery does, but keeps what that refuses
// instead of failing as a whole: a bad escape (…&extra=100%) or a semicolon (the
// &amp; of a link copied from HTML source) would otherwise lose every parameter,
// the article's id (?tid=1001) among them, and every thread of a forum page would
// be one article. A part that cannot be unescaped is kept as written; the "amp;"
// of an HTML-escaped ampersand is dropped, so the link is the same as the plain one.
func parseQuery(raw string) url.Values {
	q := url.Values{}
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		part = strings.TrimPrefix(part, "amp;")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if s, err := url.QueryUnescape(k); err == nil {
			k = s
		}
		if s, err := url.QueryUnescape(v); err == nil {
			v = s
		}
		q[k] = append(q[k], v)
	}
	return q
}

func isTracking(key string) bool {
	k := strings.ToLower(key)
	if trackingParams[k] {
		return true
	}
	for _, p := range trackingPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}

func lastRune(s string) rune {
	rs := []rune(s)
	if len(rs) == 0 {
		return 0
	}
	return rs[len(rs)-1]
}

// NormaliseLink returns the key under which complaints about the same article are
// related, or ok=false when raw is not a web link. The key has no scheme (http and
// https are the same page); the host is lower-case without port 80/443 and without a
// www./m./wap./3g./i./mobile. first label; tracking parameters (utm_*, spm, from,
// share*, fbclid, …) and the fragment are dropped (except #/… and #!… routes); the
// remaining parameters are sorted; the path is cleaned and loses its trailing slash.
// An ifeng.com article (/c/<id>, /c/s/<id> on any of its hosts) becomes
// ifeng.com/c/<id>: the same article shared from the app, the mobile site or a
// channel host is one key. The key is for comparing; show staff the link as written.
func NormaliseLink(raw string) (string, bool) {
	l, ok := parseLink(raw)
	if !ok {
		return "", false
	}
	if l.host == "ifeng.com" || strings.HasSuffix(l.host, ".ifeng.com") {
		if m := ifengArticleRE.FindStringSubmatch(l.path); m != nil {
			return "ifeng.com/c/" + m[1], true
		}
	}
	var b strings.Builder
	b.WriteString(l.host)
	if l.port != "" {
		b.WriteString(":" + l.port)
	}
	b.WriteString((&url.URL{Path: l.path}).EscapedPath())
	if len(l.query) > 0 {
		keys := make([]string, 0, len(l.query))
		for k := range l.query {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			for j, v := range l.query[k] {
				if i == 0 && j == 0 {
					b.WriteByte('?')
				} else {
					b.WriteByte('&')
				}
				b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(v))
			}
		}
	}
	if l.frag != "" {
		b.WriteString("#" + (&url.URL{Fragment: l.frag}).EscapedFragment())
	}
	// A key ending in punctuation parseLink takes for prose (a.cn/x. or ?q=b.) would
	// lose it when read again; escape it so that a key is a fixed point.
	out := b.String()
	if r := lastRune(out); r < utf8.RuneSelf && strings.ContainsRune(trailingWrappers, r) && len(out) > len(l.host) {
		out = out[:len(out)-1] + fmt.Sprintf("%%%02X", r)
	}
	return out, true
}
