package e2e

import (
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/internal/stats"
	"github.com/emersion/go-message"
)

// reportDesk is the desk of the reports test: two departments with their own staff,
// an all-staff notify list, an admin who reads the weekly report, and leadership for
// major cases.
const reportDesk = `staff:
  addresses: [news@desk.test, fin@desk.test, editor@desk.test]
  notify: [editor@desk.test]
  admins: [ops@desk.test]
`

const reportRouting = `routing:
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

// mailPart is one leaf of a received mail, decoded.
type mailPart struct {
	mediaType, cid, disposition, filename string
	body                                  []byte
}

// mailTree reads raw with go-message: every node as "path:media type" in order
// ("0" is the top, "0.1.2" the second part of its first part), and the leaves.
func mailTree(t *testing.T, raw []byte) ([]string, map[string]mailPart) {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		t.Fatal(err)
	}
	var tree []string
	leaves := map[string]mailPart{}
	err = e.Walk(func(path []int, p *message.Entity, err error) error {
		if err != nil {
			return err
		}
		name := "0"
		for _, i := range path {
			name += "." + strconv.Itoa(i+1)
		}
		mt, _, _ := p.Header.ContentType()
		tree = append(tree, name+":"+mt)
		if strings.HasPrefix(mt, "multipart/") {
			return nil
		}
		b, err := io.ReadAll(p.Body)
		if err != nil {
			return err
		}
		disp, params, _ := p.Header.ContentDisposition()
		leaves[name] = mailPart{mediaType: mt, cid: p.Header.Get("Content-Id"), disposition: disp, filename: params["filename"], body: b}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree, leaves
}

var (
	tableRowRe  = regexp.MustCompile(`<tr data-key="([^"]*)">(.*?)</tr>`)
	tableCellRe = regexp.MustCompile(`<td[^>]*>(.*?)</td>`)
)

// reportTable reads <table id="id"> of the report's HTML: data-key → its cells.
func reportTable(html, id string) map[string][]string {
	m := regexp.MustCompile(`(?s)<table id="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)</table>`).FindStringSubmatch(html)
	if m == nil {
		return nil
	}
	out := map[string][]string{}
	for _, row := range tableRowRe.FindAllStringSubmatch(m[1], -1) {
		var cells []string
		for _, c := range tableCellRe.FindAllStringSubmatch(row[2], -1) {
			cells = append(cells, c[1])
		}
		out[row[1]] = cells
	}
	return out
}

// mailsWith waits for user's mails whose subject contains part, at least n of them.
func mailsWith(t *testing.T, st *mailtest.Stack, user, part string, n int) [][]byte {
	t.Helper()
	var found [][]byte
	waitFor(t, 60*time.Second, user+" "+part, func() (bool, string) {
		found = nil
		for _, raw := range st.WaitMessages(t, user, "INBOX", 0, time.Second) {
			if strings.Contains(decodedSubject(parseMail(t, raw).Header.Get("Subject")), part) {
				found = append(found, raw)
			}
		}
		return len(found) >= n, strconv.Itoa(len(found))
	})
	return found
}

// The reports on the real stack, on a clock driven from outside: cases in two
// departments, one of them major, one accepted. The daily digest of the next morning
// shows the whole desk's new cases to the notify list and each department's to its
// staff, with counts equal to `complaintd stats -json`; the weekly report reaches the
// admin as HTML whose tables equal `stats -json -since` for its week, with the chart
// as an image/png part referenced by cid and the week's cases attached as the same
// CSV `cases export -csv` prints.
func TestReportsOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "bob", "news", "fin", "editor", "ops", "boss"}})
	d := newDaemon(t, st, deskOptions{})
	cfg, err := os.ReadFile(d.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	const staffLine = "staff:\n  addresses: [editor@desk.test]\n"
	if !strings.Contains(string(cfg), staffLine) {
		t.Fatalf("harness config changed; no %q in:\n%s", staffLine, cfg)
	}
	text := strings.Replace(string(cfg), staffLine, reportDesk, 1) + reportRouting
	if err := os.WriteFile(d.cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	set := d.driveClock("2026-03-03T10:00:00+08:00") // a Tuesday
	d.start()

	// Three cases: a complete 资讯 one, a complete 财经 one, and a 律师函 about a 财经
	// article (major, incomplete).
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "rep1@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	newsNote, _ := nth(t, st, "news", 1)
	fin := complaint("钱七 <bob@people.test>", "rep2@people.test", "钱七申请删除凤凰财经稿件",
		"申请人姓名：钱七\n身份证号：11010519491231002X\n文章标题：某公司财报疑云\n文章链接：https://finance.ifeng.com/c/8Rep001\n删除原因：内容失实。",
		map[string]string{"删帖申请表.pdf": "%PDF f", "身份证复印件.jpg": "JPEG f", "事件说明函.pdf": "%PDF e", "证明材料.pdf": "%PDF p", "原发媒体撤稿函.pdf": "%PDF w"})
	st.Deliver(t, fin, "bob@people.test", "desk@desk.test")
	nth(t, st, "fin", 1)
	st.Deliver(t, complaint("孙八 <alice@people.test>", "rep3@people.test", "孙八申请删除凤凰财经稿件",
		"申请人姓名：孙八\n文章链接：https://finance.ifeng.com/c/8Rep002\n删除原因：详见律师函。", map[string]string{"律师函.pdf": "%PDF lawyer"}),
		"alice@people.test", "desk@desk.test")
	nth(t, st, "boss", 1)
	// The news desk accepts its case: a decision, and a review deadline met.
	st.Deliver(t, staffReply(newsNote, "news@desk.test", "受理"), "news@desk.test", "desk@desk.test")
	newsCase := tagRe.FindStringSubmatch(decodedSubject(newsNote.Header.Get("Subject")))[1]
	waitFor(t, 60*time.Second, "the news case accepted", func() (bool, string) {
		c := caseOf(t, d, newsCase)
		return c.State == "accepted", string(c.State)
	})
	nth(t, st, "alice", 3) // two acknowledgements and the acceptance
	nth(t, st, "bob", 1)

	// Wednesday 09:00: the daily digests.
	set("2026-03-04T09:00:00+08:00")
	var all stats.Report
	if err := json.Unmarshal(d.cli("stats", "-json"), &all); err != nil {
		t.Fatal(err)
	}
	if all.Cases != 3 {
		t.Fatalf("stats -json counts %d cases, want 3", all.Cases)
	}
	digest, err := plainPart(mailsWith(t, st, "editor", "每日汇总", 1)[0])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(digest, "今日没有新案件") || strings.Count(digest, "TS-2026-") < 3 {
		t.Errorf("the all-staff digest does not list the three new cases:\n%s", digest)
	}
	for state, n := range all.ByState {
		label := map[string]string{"pending_review": "待审核", "accepted": "已受理", "incomplete": "待补充材料"}[state]
		if want := "- " + label + "：" + strconv.Itoa(n); label == "" || !strings.Contains(digest, want) {
			t.Errorf("the all-staff digest lacks %q (stats: %s %d):\n%s", want, state, n, digest)
		}
	}
	for user, wantNew := range map[string]int{"news": 1, "fin": 2} {
		text, err := plainPart(mailsWith(t, st, user, "每日汇总", 1)[0])
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(text, "TS-2026-"); got != wantNew {
			t.Errorf("%s's digest names %d cases, want its department's %d:\n%s", user, got, wantNew, text)
		}
	}

	// Monday 09:00: the weekly report over 03-02 09:00 … 03-09 09:00.
	set("2026-03-09T09:00:00+08:00")
	report := mailsWith(t, st, "ops", "周报", 1)[0]
	var week stats.Report
	if err := json.Unmarshal(d.cli("stats", "-json", "-since", "2026-03-02T09:00:00+08:00"), &week); err != nil {
		t.Fatal(err)
	}
	tree, parts := mailTree(t, report)
	wantTree := "0:multipart/mixed 0.1:multipart/related 0.1.1:multipart/alternative 0.1.1.1:text/plain 0.1.1.2:text/html 0.1.2:image/png 0.2:text/csv"
	if got := strings.Join(tree, " "); got != wantTree {
		t.Fatalf("weekly report MIME tree\n%s\nwant\n%s", got, wantTree)
	}
	html := string(parts["0.1.1.2"].body)
	for table, m := range map[string]map[string]int{"by-department": week.ByDepartment, "by-severity": week.BySeverity, "by-state": week.ByState} {
		rows := reportTable(html, table)
		if len(rows) != len(m) || len(m) == 0 {
			t.Errorf("table %s: %v; stats -json: %v", table, rows, m)
		}
		for k, n := range m {
			if row := rows[k]; len(row) < 2 || row[1] != strconv.Itoa(n) {
				t.Errorf("table %s row %s = %v; stats -json says %d", table, k, row, n)
			}
		}
	}
	if week.BySeverity["major"] != 1 || len(week.ByDepartment) != 2 {
		t.Errorf("stats -json: severity %v, departments %v; want one major case in two departments", week.BySeverity, week.ByDepartment)
	}
	for key, n := range map[string]int{"received": week.Cases, "acknowledged": week.Acknowledged, "accepted": week.Accepted, "sla_breaches": week.SLABreaches} {
		if row := reportTable(html, "summary")[key]; len(row) < 2 || row[1] != strconv.Itoa(n) {
			t.Errorf("summary %s = %v; stats -json says %d", key, row, n)
		}
	}
	if row := reportTable(html, "deadlines")["total"]; len(row) < 3 || row[1] != strconv.Itoa(week.Deadlines.Settled) || row[2] != strconv.Itoa(week.Deadlines.Met) || week.Deadlines.Met == 0 {
		t.Errorf("deadlines met %v; stats -json says %+v (and the accepted case met its review)", row, week.Deadlines)
	}
	if row := reportTable(html, "satisfaction")["responses"]; len(row) < 2 || row[1] != strconv.Itoa(week.Satisfaction.Responses) {
		t.Errorf("satisfaction responses %v; stats -json says %d", row, week.Satisfaction.Responses)
	}
	img := parts["0.1.2"]
	if _, err := png.Decode(bytes.NewReader(img.body)); err != nil || len(img.body) == 0 {
		t.Errorf("the chart is not a PNG (%d bytes): %v", len(img.body), err)
	}
	if cid := strings.Trim(img.cid, "<>"); cid == "" || !strings.Contains(html, `src="cid:`+cid+`"`) {
		t.Errorf("the chart's Content-ID %q is not referenced from the HTML", img.cid)
	}
	csv := parts["0.2"]
	export := d.cli("cases", "export", "-csv")
	if csv.disposition != "attachment" || !strings.HasSuffix(csv.filename, ".csv") || !bytes.Equal(csv.body, export) {
		t.Errorf("the CSV attachment %q (%s) differs from `cases export -csv` of the same three cases:\n%q\nwant\n%q", csv.filename, csv.disposition, csv.body, export)
	}
	if text := string(parts["0.1.1.1"].body); !strings.Contains(text, "收到申请："+strconv.Itoa(week.Cases)) {
		t.Errorf("the text part does not stand on its own:\n%s", text)
	}
	d.stop()
}
