// Package routing owns two pure decisions about a case (issue 7, the seed's 分类投诉 and
// 分配责任): which department (desk) handles it, and whether it is ordinary (一般投诉) or
// major (重大投诉). It also owns the normal form of an article link, the key that
// relates complaints about the same article.
//
// Invariants:
//   - No I/O and no clock: the caller passes in everything, including the counts of
//     recent related cases, and stores the Decision and its Why.
//   - Every decision says why, in one line a staff member can check.
//   - A department is decided in this order: the host of the article link (a host
//     names its channel without doubt, so it overrides the subject, and the override
//     is recorded), then the channel named in the subject, then a path prefix on a
//     shared host (/c/ on i.ifeng.com: only a hint), then the default department.
//   - Channel names are compared after folding width, case and traditional characters
//     and dropping a 凤凰/凤凰网 prefix and a 频道/栏目/板块 suffix, so 凤凰网财经频道 =
//     凤凰财经 = 鳳凰財經 = 财经.
//   - Severity rules only look at the texts they name; a match wholly inside an
//     exclude match (法院路, 未起诉) does not count. No rule reads the body's lines
//     that describe the article (its title, author, source and link fields: 文章作者：
//     记者 X is the article's byline, not a threat of exposure), nor the article's
//     《title》 in the subject. Reasons may quote the complainant's
//     text (with long digit runs masked): show them to staff, never log them.
package routing

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/text/width"

	"github.com/complaintd/complaintd/internal/hanzi"
)

// Severity levels.
const (
	Ordinary = "ordinary" // 一般投诉
	Major    = "major"    // 重大投诉
)

// Decision sources, in order of strength.
const (
	ByLinkHost = "link_host" // the link's host is owned by a department
	BySubject  = "subject"   // the subject's channel is owned by a department
	ByLinkPath = "link_path" // a path prefix on a host nobody owns
	ByDefault  = "default"   // nothing known: the default department
)

// Department is one desk as configured. Staff may be empty: the caller then notifies
// its general list (staff.notify).
type Department struct {
	Name     string
	Channels []string
	Hosts    []string
	Staff    []string          // lower-cased addresses
	Aliases  map[string]string // short name → lower-cased address
}

// Decision is where a case goes and why.
type Decision struct {
	Department string // "" only when no departments are configured
	Channel    string // the configured channel name that matched, else the subject's as written
	Source     string // ByLinkHost, BySubject, ByLinkPath, ByDefault; "" without departments
	Why        string
}

// Router decides departments and severity from the routing configuration. It is
// immutable after New and safe for concurrent use.
type Router struct {
	depts      []Department
	byName     map[string]int
	channels   map[string]channelRef // channelKey → owner
	hosts      []hostRef             // longest first
	prefixes   []hostRef             // path prefixes, longest first
	domains    []string
	def        string
	leadership []string
	aliases    map[string]aliasRef
	rules      []rule
	window     int
	threshold  int
	texts      *textMemo
}

type channelRef struct {
	dept int
	name string // as configured
}

type hostRef struct {
	dept int
	s    string // a host, or a path prefix
}

type aliasRef struct {
	addr, dept string
}

// New compiles the configuration. It repeats the checks config.Validate makes that
// matter here (so a Router is never half-built) and adds those only routing can make:
// two channel names that differ only by 凤凰/频道 but belong to different departments.
func New(cfg Config) (*Router, error) {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, a...)))
	}
	r := &Router{
		texts:     &textMemo{},
		byName:    map[string]int{},
		channels:  map[string]channelRef{},
		aliases:   map[string]aliasRef{},
		def:       cfg.DefaultDepartment,
		window:    cfg.Severity.RepeatWindowDays,
		threshold: cfg.Severity.RepeatThreshold,
	}
	for _, a := range cfg.Leadership {
		r.leadership = append(r.leadership, lowerAddr(a))
	}
	for _, d := range cfg.Domains {
		r.domains = append(r.domains, strings.ToLower(strings.TrimSpace(d)))
	}
	for i, d := range cfg.Departments {
		key := fmt.Sprintf("routing.departments[%d]", i)
		if _, dup := r.byName[d.Name]; dup || d.Name == "" {
			bad(key+".name", "empty or duplicate department name %q", d.Name)
			continue
		}
		r.byName[d.Name] = i
		dep := Department{Name: d.Name, Channels: append([]string(nil), d.Channels...), Aliases: map[string]string{}}
		for j, ch := range d.Channels {
			k := channelKey(ch)
			if k == "" {
				bad(fmt.Sprintf("%s.channels[%d]", key, j), "empty channel name")
				continue
			}
			if o, dup := r.channels[k]; dup && o.dept != i {
				bad(fmt.Sprintf("%s.channels[%d]", key, j), "%q is the same channel as %q of department %q", ch, o.name, cfg.Departments[o.dept].Name)
				continue
			}
			if _, dup := r.channels[k]; !dup {
				r.channels[k] = channelRef{dept: i, name: ch}
			}
		}
		for _, h := range d.Hosts {
			h = strings.ToLower(strings.TrimSpace(h))
			dep.Hosts = append(dep.Hosts, h)
			r.hosts = append(r.hosts, hostRef{dept: i, s: h})
		}
		for _, p := range d.PathPrefixes {
			r.prefixes = append(r.prefixes, hostRef{dept: i, s: p})
		}
		for _, a := range d.Staff {
			dep.Staff = append(dep.Staff, lowerAddr(a))
		}
		for k, a := range d.Aliases {
			addr := lowerAddr(a)
			dep.Aliases[k] = addr
			if o, dup := r.aliases[k]; dup && o.addr != addr {
				bad(fmt.Sprintf("%s.aliases.%s", key, k), "alias also means %s (department %q)", o.addr, o.dept)
				continue
			}
			r.aliases[k] = aliasRef{addr: addr, dept: d.Name}
		}
		r.depts = append(r.depts, dep)
	}
	if len(cfg.Departments) > 0 {
		if _, ok := r.byName[r.def]; !ok {
			bad("routing.default_department", "%q is not one of routing.departments", r.def)
		}
	}
	// Longest host or prefix first: the most specific owner wins.
	sort.SliceStable(r.hosts, func(i, j int) bool { return len(r.hosts[i].s) > len(r.hosts[j].s) })
	sort.SliceStable(r.prefixes, func(i, j int) bool { return len(r.prefixes[i].s) > len(r.prefixes[j].s) })
	for i, c := range cfg.Severity.Rules {
		ru, err := compileRule(c)
		if err != nil {
			bad(fmt.Sprintf("routing.severity.rules[%d]", i), "%v", err)
			continue
		}
		r.rules = append(r.rules, ru)
	}
	if r.threshold < 1 {
		bad("routing.severity.repeat_threshold", "must be at least 1, not %d", r.threshold)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("routing: %w", errors.Join(errs...))
	}
	return r, nil
}

func lowerAddr(a string) string { return strings.ToLower(strings.TrimSpace(a)) }

// Route decides the department of a case from the channel its subject names (may be
// empty) and its article link (may be empty or malformed).
func (r *Router) Route(subjectChannel, link string) Decision {
	subjectChannel = strings.TrimSpace(subjectChannel)
	if len(r.depts) == 0 {
		return Decision{Channel: subjectChannel, Why: "no departments configured"}
	}
	sub, subOK := r.channels[channelKey(subjectChannel)]
	if subjectChannel == "" {
		subOK = false
	}
	var host, pathPart string
	hostDept, pathDept, prefix := -1, -1, ""
	if l, ok := parseLink(link); ok {
		host, pathPart = l.host, l.path
		hostDept = r.byHost(host)
		if hostDept < 0 && r.inDomains(host) {
			pathDept, prefix = r.byPath(pathPart)
		}
	}
	name := func(i int) string { return r.depts[i].Name }
	switch {
	case hostDept >= 0 && subOK && sub.dept == hostDept:
		return Decision{Department: name(hostDept), Channel: sub.name, Source: ByLinkHost,
			Why: fmt.Sprintf("subject channel %s and link host %s agree → %s", subjectChannel, host, name(hostDept))}
	case hostDept >= 0 && subOK:
		return Decision{Department: name(hostDept), Channel: r.firstChannel(hostDept), Source: ByLinkHost,
			Why: fmt.Sprintf("link host %s → %s overrides subject channel %s (→ %s)", host, name(hostDept), subjectChannel, name(sub.dept))}
	case hostDept >= 0:
		return Decision{Department: name(hostDept), Channel: r.firstChannel(hostDept), Source: ByLinkHost,
			Why: fmt.Sprintf("link host %s → %s%s", host, name(hostDept), r.unknownSubject(subjectChannel))}
	case subOK && pathDept >= 0 && pathDept != sub.dept:
		return Decision{Department: name(sub.dept), Channel: sub.name, Source: BySubject,
			Why: fmt.Sprintf("subject channel %s → %s (link path %s on shared host %s would say %s: only a hint)", subjectChannel, name(sub.dept), prefix, host, name(pathDept))}
	case subOK:
		return Decision{Department: name(sub.dept), Channel: sub.name, Source: BySubject,
			Why: fmt.Sprintf("subject channel %s → %s", subjectChannel, name(sub.dept))}
	case pathDept >= 0:
		return Decision{Department: name(pathDept), Channel: r.firstChannel(pathDept), Source: ByLinkPath,
			Why: fmt.Sprintf("link path %s on host %s → %s%s", prefix, host, name(pathDept), r.unknownSubject(subjectChannel))}
	}
	what := "no channel in the subject"
	if subjectChannel != "" {
		what = "unknown subject channel " + subjectChannel
	}
	switch {
	case host != "":
		what += ", link host " + host + " owned by no department"
	case strings.TrimSpace(link) != "":
		what += ", link unreadable"
	default:
		what += ", no link"
	}
	return Decision{Department: r.def, Channel: subjectChannel, Source: ByDefault, Why: what + " → default department " + r.def}
}

func (r *Router) unknownSubject(ch string) string {
	if ch == "" {
		return ""
	}
	return " (subject channel " + ch + " unknown)"
}

func (r *Router) firstChannel(i int) string {
	if len(r.depts[i].Channels) > 0 {
		return r.depts[i].Channels[0]
	}
	return r.depts[i].Name
}

// byHost returns the department owning host (or a parent of it), or -1.
func (r *Router) byHost(host string) int {
	for _, h := range r.hosts {
		if host == h.s || strings.HasSuffix(host, "."+h.s) {
			return h.dept
		}
	}
	return -1
}

func (r *Router) byPath(p string) (int, string) {
	for _, h := range r.prefixes {
		if strings.HasPrefix(p, h.s) {
			return h.dept, h.s
		}
	}
	return -1, ""
}

func (r *Router) inDomains(host string) bool {
	if len(r.domains) == 0 {
		return true
	}
	for _, d := range r.domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// Department returns the named department.
func (r *Router) Department(name string) (Department, bool) {
	i, ok := r.byName[name]
	if !ok {
		return Department{}, false
	}
	d := r.depts[i]
	d.Channels = append([]string(nil), d.Channels...)
	d.Hosts = append([]string(nil), d.Hosts...)
	d.Staff = append([]string(nil), d.Staff...)
	al := make(map[string]string, len(d.Aliases))
	for k, v := range d.Aliases {
		al[k] = v
	}
	d.Aliases = al
	return d, true
}

// Departments lists the department names in configuration order (for reports).
func (r *Router) Departments() []string {
	out := make([]string, len(r.depts))
	for i, d := range r.depts {
		out[i] = d.Name
	}
	return out
}

// Default is the default department ("" without departments).
func (r *Router) Default() string { return r.def }

// Leadership are the addresses told at once about a major case.
func (r *Router) Leadership() []string { return append([]string(nil), r.leadership...) }

// Alias resolves a department alias (转交 finance) to its address and department.
func (r *Router) Alias(short string) (address, department string, ok bool) {
	a, ok := r.aliases[strings.TrimSpace(short)]
	return a.addr, a.dept, ok
}

// RepeatWindowDays is how far back the caller counts related cases for Severity.
func (r *Router) RepeatWindowDays() int { return r.window }

var (
	channelPrefixes = []string{"凤凰网", "鳳凰網", "凤凰", "鳳凰"}
	channelSuffixes = []string{"频道", "頻道", "栏目", "欄目", "板块", "板塊"}
)

// channelKey is the comparable form of a channel name: width and case folded,
// traditional characters simplified, spaces removed, a 凤凰/凤凰网 prefix and a
// 频道/栏目/板块 suffix dropped (unless nothing would remain: 凤凰网 alone stays 凤凰网).
func channelKey(s string) string {
	s = strings.ToLower(width.Fold.String(s))
	// Readers in Hong Kong and Taiwan write 張三申請刪除鳳凰財經稿件, and classify hands
	// on the channel as written (鳳凰財經), which must reach the desk of 财经.
	s = strings.Map(hanzi.Simplify, s)
	s = strings.Join(strings.Fields(s), "")
	for _, suf := range channelSuffixes {
		if t, ok := strings.CutSuffix(s, suf); ok {
			if t != "" {
				s = t
			}
			break
		}
	}
	for _, pre := range channelPrefixes {
		if t, ok := strings.CutPrefix(s, pre); ok {
			if t != "" {
				s = t
			}
			break // 凤凰网 must not become 网 by the shorter 凤凰
		}
	}
	return s
}
