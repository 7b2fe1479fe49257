package routing

import (
	"strings"
	"testing"
)

// testConfig is a small portal: three desks on ifeng.com, news the default.
func testConfig() Config {
	return Config{
		DefaultDepartment: "资讯",
		Domains:           []string{"ifeng.com"},
		Leadership:        []string{"Boss@Example.cn"},
		Departments: []DepartmentConfig{
			{Name: "资讯", Channels: []string{"凤凰资讯", "资讯", "新闻"}, Hosts: []string{"news.ifeng.com"}, PathPrefixes: []string{"/c/"},
				Staff: []string{"news@example.cn"}},
			{Name: "财经", Channels: []string{"凤凰财经", "财经"}, Hosts: []string{"finance.ifeng.com"},
				Staff: []string{"Fin1@Example.cn", "fin2@example.cn"}, Aliases: map[string]string{"fin": "Fin1@Example.cn"}},
			{Name: "自媒体", Channels: []string{"自媒体", "凤凰号"}, Hosts: []string{"fhh.ifeng.com"}},
		},
		Severity: SeverityConfig{Rules: DefaultSeverityRules(), RepeatWindowDays: 30, RepeatThreshold: 2, MajorReviewDays: 1, MajorProcessDays: 2},
	}
}

func newRouter(t *testing.T) *Router {
	t.Helper()
	r, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRoute(t *testing.T) {
	r := newRouter(t)
	tests := []struct {
		why         string
		subject     string // the channel classify found in the subject
		link        string
		dept, chan_ string
		source      string
		whyHas      string // a phrase the recorded reason must contain
	}{
		{"the subject convention names the channel", "凤凰财经", "", "财经", "凤凰财经", BySubject, "subject channel 凤凰财经 → 财经"},
		{"凤凰网…频道 is the same channel as 凤凰…", "凤凰网财经频道", "", "财经", "凤凰财经", BySubject, "→ 财经"},
		{"the bare channel word without 凤凰", "财经", "", "财经", "凤凰财经", BySubject, "→ 财经"},
		{"spaces typed inside a channel name", "凤凰 资讯", "", "资讯", "凤凰资讯", BySubject, "→ 资讯"},
		{"凤凰号 keeps its meaning although it starts with 凤凰", "凤凰号", "", "自媒体", "凤凰号", BySubject, "→ 自媒体"},
		{"the issue's example: a finance link wins over a news subject, with the reason",
			"凤凰资讯", "https://finance.ifeng.com/c/8Nx3ZkQ0abc", "财经", "凤凰财经", ByLinkHost, "link host finance.ifeng.com → 财经 overrides subject channel 凤凰资讯 (→ 资讯)"},
		{"subject and link agree", "凤凰财经", "https://finance.ifeng.com/c/8Nx3ZkQ0abc", "财经", "凤凰财经", ByLinkHost, "agree"},
		{"no channel in the subject (it did not follow the convention): the link decides",
			"", "http://finance.ifeng.com/a/20250101/1_0.shtml", "财经", "凤凰财经", ByLinkHost, "link host finance.ifeng.com → 财经"},
		{"the mobile edition of a channel host is that channel", "", "https://m.finance.ifeng.com/a/1", "财经", "凤凰财经", ByLinkHost, "finance.ifeng.com"},
		{"a subdomain of a channel host belongs to it", "", "https://stock.finance.ifeng.com/a/1", "财经", "凤凰财经", ByLinkHost, "stock.finance.ifeng.com → 财经"},
		{"host case and scheme-less links", "", "FINANCE.IFENG.COM/c/8Nx3ZkQ0abc", "财经", "凤凰财经", ByLinkHost, "finance.ifeng.com"},
		{"an unknown subject channel beside a known host is noted", "凤凰卫视", "https://finance.ifeng.com/a/1", "财经", "凤凰财经", ByLinkHost, "subject channel 凤凰卫视 unknown"},
		{"a /c/ path on the shared mobile host is only a hint: the subject's 财经 wins",
			"凤凰财经", "https://i.ifeng.com/c/8Nx3ZkQ0abc", "财经", "凤凰财经", BySubject, "link path /c/ on shared host ifeng.com would say 资讯"},
		{"with no subject channel the path hint decides", "", "https://i.ifeng.com/c/8Nx3ZkQ0abc", "资讯", "凤凰资讯", ByLinkPath, "link path /c/ on host ifeng.com → 资讯"},
		{"path prefixes apply only on the portal's domains", "", "https://www.example.com/c/123456", "资讯", "", ByDefault, "link host example.com owned by no department"},
		{"a link to another site does not override the subject", "凤凰财经", "https://news.example.com/a", "财经", "凤凰财经", BySubject, "subject channel 凤凰财经 → 财经"},
		{"an unreadable link leaves the subject to decide", "凤凰财经", "见附件", "财经", "凤凰财经", BySubject, "→ 财经"},
		{"unknown channel and no link: the default desk", "凤凰卫视", "", "资讯", "凤凰卫视", ByDefault, "unknown subject channel 凤凰卫视, no link → default department 资讯"},
		{"凤凰网 alone names no channel (it is the portal)", "凤凰网", "", "资讯", "凤凰网", ByDefault, "unknown subject channel 凤凰网"},
		{"nothing at all", "", "", "资讯", "", ByDefault, "no channel in the subject, no link"},
		{"an unreadable link is said to be so", "", "javascript:alert(1)", "资讯", "", ByDefault, "link unreadable"},
	}
	for _, tc := range tests {
		d := r.Route(tc.subject, tc.link)
		if d.Department != tc.dept || d.Channel != tc.chan_ || d.Source != tc.source || !strings.Contains(d.Why, tc.whyHas) {
			t.Errorf("%s: Route(%q, %q) = %+v\nwant dept %q channel %q source %q, why containing %q", tc.why, tc.subject, tc.link, d, tc.dept, tc.chan_, tc.source, tc.whyHas)
		}
	}
}

// Without departments nothing is routed: the caller keeps notifying staff.notify.
func TestRouteWithoutDepartments(t *testing.T) {
	r, err := New(Config{Severity: SeverityConfig{RepeatThreshold: 2, RepeatWindowDays: 30}})
	if err != nil {
		t.Fatal(err)
	}
	d := r.Route("凤凰财经", "https://finance.ifeng.com/a/1")
	if d.Department != "" || d.Source != "" || d.Channel != "凤凰财经" {
		t.Errorf("got %+v", d)
	}
}

func TestDepartmentAndAliases(t *testing.T) {
	r := newRouter(t)
	d, ok := r.Department("财经")
	if !ok || strings.Join(d.Staff, ",") != "fin1@example.cn,fin2@example.cn" || d.Aliases["fin"] != "fin1@example.cn" {
		t.Fatalf("Department(财经) = %+v, %v", d, ok)
	}
	// The result is a copy: a caller appending to it cannot change the router.
	d.Staff[0] = "mallory@example.cn"
	d.Aliases["fin"] = "mallory@example.cn"
	if again, _ := r.Department("财经"); again.Staff[0] != "fin1@example.cn" || again.Aliases["fin"] != "fin1@example.cn" {
		t.Errorf("router changed through a returned Department: %+v", again)
	}
	if _, ok := r.Department("体育"); ok {
		t.Error("unknown department found")
	}
	if addr, dept, ok := r.Alias("fin"); !ok || addr != "fin1@example.cn" || dept != "财经" {
		t.Errorf("Alias(fin) = %q %q %v", addr, dept, ok)
	}
	if _, _, ok := r.Alias("nobody"); ok {
		t.Error("unknown alias resolved")
	}
	if got := strings.Join(r.Departments(), ","); got != "资讯,财经,自媒体" {
		t.Errorf("Departments() = %s (configuration order expected)", got)
	}
	if got := r.Leadership(); len(got) != 1 || got[0] != "boss@example.cn" {
		t.Errorf("Leadership() = %v", got)
	}
	if r.Default() != "资讯" || r.RepeatWindowDays() != 30 {
		t.Errorf("Default %q, window %d", r.Default(), r.RepeatWindowDays())
	}
}

// New refuses what would make routing ambiguous, naming the key.
func TestNewRefuses(t *testing.T) {
	tests := []struct {
		why    string
		change func(c *Config)
		want   string
	}{
		{"凤凰财经 and 财经 are one channel: two desks cannot own it",
			func(c *Config) { c.Departments[0].Channels = append(c.Departments[0].Channels, "财经频道") },
			"routing.departments[1].channels[1]: \"财经\" is the same channel as \"财经频道\" of department \"资讯\""},
		{"a default that is no department",
			func(c *Config) { c.DefaultDepartment = "体育" }, "routing.default_department"},
		{"a broken pattern names its rule",
			func(c *Config) { c.Severity.Rules[2].Pattern = "法院(" }, "routing.severity.rules[2]: pattern"},
		{"a broken exclude names its rule",
			func(c *Config) { c.Severity.Rules[0].Exclude = "[" }, "routing.severity.rules[0]: exclude"},
		{"one alias cannot mean two people",
			func(c *Config) { c.Departments[2].Aliases = map[string]string{"fin": "other@example.cn"} }, "routing.departments[2].aliases.fin"},
		{"duplicate department names",
			func(c *Config) { c.Departments[2].Name = "财经" }, "routing.departments[2].name"},
	}
	for _, tc := range tests {
		c := testConfig()
		tc.change(&c)
		_, err := New(c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.why, err, tc.want)
		}
	}
}

func TestChannelKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"凤凰财经", "财经"}, {"凤凰网财经频道", "财经"}, {"财经栏目", "财经"}, {"鳳凰網財經頻道", "财经"},
		{"ＦＡＳＨＩＯＮ", "fashion"}, {"凤凰网", "凤凰网"}, {"频道", "频道"}, {"凤凰号", "号"}, {" 凤凰 资讯 ", "资讯"},
	} {
		if got := channelKey(tc.in); got != tc.want {
			t.Errorf("channelKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
