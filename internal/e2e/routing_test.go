package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailtest"
)

// Routing on the real stack: a 财经 complaint notifies the finance desk and nobody
// else; a complaint carrying a 律师函 notifies the leadership at once; two
// complainants about the same article (one link mobile, one with tracking
// parameters) find their cases linked.
func TestRoutingOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "bob", "fin", "news", "boss"}})
	d := newDaemon(t, st, deskOptions{})
	cfg, _ := os.ReadFile(d.cfgPath)
	text := strings.Replace(string(cfg), "staff:\n  addresses: [editor@desk.test]\n",
		"staff:\n  addresses: [fin@desk.test, news@desk.test]\n  supervisors: [boss@desk.test]\n", 1)
	text += `routing:
  default_department: 资讯
  domains: [ifeng.com]
  leadership: [boss@desk.test]
  departments:
    - name: 资讯
      channels: [凤凰资讯, 资讯]
      hosts: [news.ifeng.com]
      staff: [news@desk.test]
    - name: 财经
      channels: [凤凰财经, 财经]
      hosts: [finance.ifeng.com]
      staff: [fin@desk.test]
`
	if err := os.WriteFile(d.cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	d.start()

	// 1. A complete 财经 complaint: the finance desk is notified, the news desk is not.
	fin := complaint("钱七 <alice@people.test>", "r1@people.test", "钱七申请删除凤凰财经稿件",
		"申请人姓名：钱七\n身份证号：11010519491231002X\n文章标题：某公司财报疑云\n文章链接：https://finance.ifeng.com/c/8Fin001?utm_source=weixin\n删除原因：内容失实。",
		map[string]string{"删帖申请表.pdf": "%PDF f", "身份证复印件.jpg": "JPEG f", "事件说明函.pdf": "%PDF e", "证明材料.pdf": "%PDF p", "原发媒体撤稿函.pdf": "%PDF w"})
	st.Deliver(t, fin, "alice@people.test", "desk@desk.test")
	note, noteText := nth(t, st, "fin", 1)
	caseA := tagRe.FindStringSubmatch(decodedSubject(note.Header.Get("Subject")))[1]
	if !strings.Contains(noteText, "财经") {
		t.Errorf("finance notification does not name the department:\n%s", noteText)
	}

	// 2. A 律师函 from another complainant about the same article, via its mobile link:
	// leadership is told at once (the case is still incomplete), and the cases are linked.
	lawyer := complaint("孙八 <bob@people.test>", "r2@people.test", "孙八申请删除凤凰财经稿件",
		"申请人姓名：孙八\n文章链接：https://m.finance.ifeng.com/c/8Fin001#comments\n删除原因：详见律师函。",
		map[string]string{"律师函.pdf": "%PDF lawyer"})
	st.Deliver(t, lawyer, "bob@people.test", "desk@desk.test")
	lead, leadText := nth(t, st, "boss", 1)
	if s := decodedSubject(lead.Header.Get("Subject")); !strings.Contains(s, "【重大】") {
		t.Errorf("leadership mail subject %q is not marked major", s)
	}
	if !strings.Contains(leadText, "律师函") {
		t.Errorf("leadership mail does not say why:\n%s", leadText)
	}
	caseB := tagRe.FindStringSubmatch(decodedSubject(lead.Header.Get("Subject")))[1]
	var b cases.Case
	if err := json.Unmarshal(d.cli("cases", "show", caseB, "-json"), &b); err != nil {
		t.Fatal(err)
	}
	if b.Severity != "major" || b.Department != "财经" || len(b.Related) != 1 || b.Related[0] != caseA {
		t.Errorf("case B: severity %q department %q related %v (want major, 财经, [%s])", b.Severity, b.Department, b.Related, caseA)
	}
	var a cases.Case
	if err := json.Unmarshal(d.cli("cases", "show", caseA, "-json"), &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Related) != 1 || a.Related[0] != caseB {
		t.Errorf("case A related %v, want [%s]", a.Related, caseB)
	}
	// The filters of `cases list`.
	var majors []cases.Case
	if err := json.Unmarshal(d.cli("cases", "list", "-dept", "财经", "-severity", "major", "-json"), &majors); err != nil {
		t.Fatal(err)
	}
	if len(majors) != 1 || majors[0].ID != caseB {
		t.Errorf("cases list -dept 财经 -severity major: %d cases", len(majors))
	}
	d.stop()
	// Nobody else was notified: the news desk got nothing; the finance desk only case A
	// (case B is still incomplete).
	if n := len(st.WaitMessages(t, "news", "INBOX", 0, time.Second)); n != 0 {
		t.Errorf("the news desk got %d mails about 财经 cases", n)
	}
	if n := len(st.WaitMessages(t, "fin", "INBOX", 0, time.Second)); n != 1 {
		t.Errorf("the finance desk got %d mails, want 1", n)
	}
}

// A wave of complaints about one article on the real stack: each new case is linked
// to the others, and the staff notification names the latest ten and counts the rest
// (`cases show` lists them all). Naming them used to open every related case, which
// made each mail of a wave dearer than the last.
func TestArticleWaveOnRealStack(t *testing.T) {
	t.Parallel()
	sink := peopleServer(t)
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "editor"},
		Relay: map[string]string{"people.test": sink.Addr()}})
	d := newDaemon(t, st, deskOptions{})
	cfg, _ := os.ReadFile(d.cfgPath)
	text := string(cfg) + `routing:
  default_department: 资讯
  domains: [ifeng.com]
  departments:
    - name: 资讯
      channels: [凤凰资讯, 资讯]
      hosts: [news.ifeng.com]
      staff: [editor@desk.test]
`
	if err := os.WriteFile(d.cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	d.start()
	const n = 13
	var ids []string
	var last string
	for i := range n {
		from := fmt.Sprintf("p%02d@people.test", i)
		// One article, reached by its desktop, mobile and tracked links.
		link := []string{"https://news.ifeng.com/c/8Wave01", "https://i.ifeng.com/c/8Wave01", "https://news.ifeng.com/c/8Wave01?utm_source=weibo"}[i%3]
		raw := complaint(fmt.Sprintf("申请人%02d <%s>", i, from), fmt.Sprintf("wave-%02d@people.test", i), "删帖申请",
			"文章标题：某某事件\n文章链接："+link+"\n删除原因：内容失实。",
			map[string]string{"删帖申请表.pdf": "%PDF f", "身份证复印件.jpg": "JPEG f", "事件说明函.pdf": "%PDF e", "证明材料.pdf": "%PDF p", "原发媒体撤稿函.pdf": "%PDF w"})
		st.Deliver(t, raw, from, "desk@desk.test")
		note, noteText := nth(t, st, "editor", i+1)
		ids = append(ids, tagRe.FindStringSubmatch(decodedSubject(note.Header.Get("Subject")))[1])
		last = noteText
	}
	last = strings.ReplaceAll(last, "\n", "") // the list is wrapped
	if !strings.Contains(last, "另有 2 件") {
		t.Errorf("the last notification does not count the 2 related cases it does not name:\n%s", last)
	}
	for i, id := range ids[:n-1] {
		if named := strings.Contains(last, id+"（"); named != (i >= n-11) {
			t.Errorf("related case %s (the %d. of the wave) named: %v, want the latest ten only:\n%s", id, i+1, named, last)
		}
	}
	if c := caseOf(t, d, ids[n-1]); len(c.Related) != n-1 {
		t.Errorf("cases show lists %d related cases, want %d", len(c.Related), n-1)
	}
	d.stop()
}
