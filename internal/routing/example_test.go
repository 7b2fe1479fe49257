package routing_test

import (
	"path/filepath"
	"testing"

	"github.com/complaintd/complaintd/internal/classify"
	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/routing"
)

// issueChannels are the channels issue 7 lists; the shipped example must route each
// to a department of its own, by the subject convention and by the channel's host.
var issueChannels = []string{"凤凰资讯", "凤凰财经", "娱乐", "科技", "汽车", "时尚", "博客", "自媒体"}

func exampleRouter(t *testing.T) (*routing.Router, *config.Config) {
	t.Helper()
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "x")
	t.Setenv("COMPLAINTD_SMTP_PASSWORD", "y")
	c, err := config.Load(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	r, err := routing.New(c.Routing)
	if err != nil {
		t.Fatalf("routing.New(example): %v", err)
	}
	return r, c
}

func TestExampleCoversIssueChannels(t *testing.T) {
	r, _ := exampleRouter(t)
	seen := map[string]string{}
	for _, ch := range issueChannels {
		// Through the real subject parser, as intake will call it.
		s := classify.ParseSubject("张三(某某公司)申请删除" + ch + "稿件")
		if !s.Conforms || s.Channel != ch {
			t.Fatalf("classify.ParseSubject lost the channel %q: %+v", ch, s)
		}
		d := r.Route(s.Channel, "")
		if d.Source != routing.BySubject {
			t.Errorf("channel %s is not owned by a department (%s)", ch, d.Why)
			continue
		}
		if other, dup := seen[d.Department]; dup {
			t.Errorf("channels %s and %s share department %s", other, ch, d.Department)
		}
		seen[d.Department] = ch
		dep, _ := r.Department(d.Department)
		if len(dep.Hosts) == 0 {
			t.Errorf("department %s has no host: its links would not route", dep.Name)
		}
		for _, h := range dep.Hosts {
			if l := r.Route("", "https://"+h+"/c/8Nx3ZkQ0abc"); l.Department != dep.Name || l.Source != routing.ByLinkHost {
				t.Errorf("a link on %s routes to %s (%s), want %s", h, l.Department, l.Why, dep.Name)
			}
		}
		if len(dep.Staff) == 0 {
			t.Errorf("department %s has no staff", dep.Name)
		}
	}
	// The issue's end-to-end case: a 财经 complaint reaches the finance staff only.
	d := r.Route(classify.ParseSubject("李四申请删除凤凰网财经频道文章").Channel, "https://finance.ifeng.com/c/8Nx3ZkQ0abc?utm_source=wx")
	fin, _ := r.Department(d.Department)
	if d.Department != "财经" || len(fin.Staff) != 1 || fin.Staff[0] != "editor2@example.cn" {
		t.Errorf("finance complaint → %+v staff %v", d, fin.Staff)
	}
	// Full subjects the subject parser reads with a channel suffix of its own.
	for subject, want := range map[string]string{
		"王五申请删除凤凰博客博文":                     "博客",
		"Re: [TS-2026-000001] 赵六申请删除大风号文章": "自媒体",
		"某某局申请删除凤凰汽车相关稿件":                  "汽车",
	} {
		if d := r.Route(classify.ParseSubject(subject).Channel, ""); d.Department != want {
			t.Errorf("%s → %s (%s), want %s", subject, d.Department, d.Why, want)
		}
	}
}

// The example's leadership falls back to the supervisors, who fall back to the admins.
func TestExampleLeadershipDefault(t *testing.T) {
	r, c := exampleRouter(t)
	if got := r.Leadership(); len(got) == 0 || got[0] != c.Staff.Admins[0] {
		t.Errorf("leadership %v, want the admins %v", got, c.Staff.Admins)
	}
}
