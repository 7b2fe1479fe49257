package schedule

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/stats"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/templates"
)

// mimePart is one leaf of a parsed mail.
type mimePart struct {
	ctype, cid, disposition, filename string
	body                              []byte
}

// mimeTree parses raw into its leaves, keyed by position ("0.1.2"), and lists every
// node as "position:media type" in order.
func mimeTree(t *testing.T, raw []byte) (tree []string, leaves map[string]mimePart) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	leaves = map[string]mimePart{}
	var walk func(h map[string][]string, body io.Reader, path string)
	walk = func(h map[string][]string, body io.Reader, path string) {
		get := func(k string) string {
			if v := h[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		mt, params, err := mime.ParseMediaType(get("Content-Type"))
		if err != nil {
			t.Fatalf("%s: content type: %v", path, err)
		}
		tree = append(tree, path+":"+mt)
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for i := 1; ; i++ {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				walk(p.Header, p, path+"."+strconv.Itoa(i))
			}
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		if strings.EqualFold(get("Content-Transfer-Encoding"), "base64") {
			if b, err = io.ReadAll(base64Reader(b)); err != nil {
				t.Fatalf("%s: base64: %v", path, err)
			}
		}
		disp, dparams, _ := mime.ParseMediaType(get("Content-Disposition"))
		leaves[path] = mimePart{ctype: mt, cid: get("Content-Id"), disposition: disp, filename: dparams["filename"], body: b}
	}
	walk(msg.Header, msg.Body, "0")
	return tree, leaves
}

// htmlTable reads the rows of <table id="id"> as data-key → the row's cells.
func htmlTable(html, id string) map[string][]string {
	m := regexp.MustCompile(`(?s)<table id="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)</table>`).FindStringSubmatch(html)
	if m == nil {
		return nil
	}
	out := map[string][]string{}
	for _, row := range regexp.MustCompile(`<tr data-key="([^"]*)">(.*?)</tr>`).FindAllStringSubmatch(m[1], -1) {
		var cells []string
		for _, c := range regexp.MustCompile(`<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(row[2], -1) {
			cells = append(cells, c[1])
		}
		out[row[1]] = cells
	}
	return out
}

// The weekly report as it leaves the desk (real templates, mailer and MIME
// composition) over a known week: ordinary and major cases in two departments.
// Its HTML tables carry the figures computed here by hand and by package stats
// (the same numbers as `complaintd stats -json`); the chart is a PNG shown by cid
// from the HTML; the CSV is stats.WriteCSV of the week's cases; the text part stands
// on its own.
func TestWeeklyReportMail(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	now := at(2026, 3, 9, 9, 0) // Monday: the report over 03-02 09:00 … 03-09 09:00
	mv := func(at time.Time, state cases.State) cases.Event { return cases.Event{At: at, To: state} }
	mon, tue, wed := at(2026, 3, 2, 10, 0), at(2026, 3, 3, 10, 0), at(2026, 3, 4, 10, 0)
	type spec struct {
		c    *cases.Case
		dept string
		sev  cases.Severity
	}
	for _, sp := range []spec{
		// 资讯, ordinary: decided in a day, resolved in two: both deadlines met; scored 5.
		{reportCase(t, "TS-2026-000001", "individual", "news", mon, nil, 5, true,
			mv(mon, "pending_review"), mv(tue, "accepted"), mv(wed, "resolved")), "资讯", cases.Ordinary},
		// 资讯, major (1 business day to review): decided after two — missed; the
		// ordinary three days would have been met.
		{reportCase(t, "TS-2026-000002", "organisation", "news", mon, nil, 0, false,
			mv(mon, "pending_review"), mv(wed, "accepted")), "资讯", cases.Major},
		// 财经, ordinary, still incomplete: no deadline settled.
		{reportCase(t, "TS-2026-000003", "individual", "comment", tue, []string{"id_card"}, 0, false), "财经", cases.Ordinary},
		// 财经, ordinary: rejected the same day — review met; scored 2.
		{reportCase(t, "TS-2026-000004", "entrusted", "blog", wed, nil, 2, true,
			mv(wed, "pending_review"), mv(wed.Add(2*time.Hour), "rejected")), "财经", cases.Ordinary},
		// Before the week: counted nowhere but the backlog.
		{reportCase(t, "TS-2026-000000", "individual", "news", at(2026, 2, 27, 10, 0), nil, 0, false), "财经", cases.Ordinary},
	} {
		sp.c.Department, sp.c.Severity = sp.dept, sp.sev
		sp.c.Applicant.Name, sp.c.Request.Title = "申请人"+sp.c.ID[len(sp.c.ID)-1:], "=HYPERLINK(\"x\") <b>标题</b>"
		putCase(t, st, sp.c)
	}
	set, err := render.Load(templates.FS(), "zh-CN", render.WithLocation(testCalendar(t).Location()))
	if err != nil {
		t.Fatal(err)
	}
	dl := defaultDeadlines(t)
	dl.Policy.MajorReviewDays, dl.Policy.MajorProcessDays = 1, 2
	s, err := New(Options{
		Store: st, Mailer: mailer.New(mailer.Options{Templates: set, Desk: outbox.Address{Name: "投诉受理中心", Address: "desk@example.cn"}, Locale: "zh-CN"}),
		Executor: fakeExecutor{}, Deadlines: dl, Policy: defaultPolicy(), Specs: Specs{Weekly: "0 9 * * 1"},
		Staff: Recipients{Admins: []string{"ops@example.cn"}}, Now: (&clock{t: now}).Now, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunJob(JobWeekly); err != nil {
		t.Fatal(err)
	}
	var m outbox.Mail
	if err := st.View(func(tx *store.Tx) error {
		return tx.EachOutbox(func(e *store.OutboxEntry) error {
			if e.Kind == render.KindWeeklyReport {
				return json.Unmarshal(e.Mail, &m)
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	if err := outbox.WriteTo(&raw, m); err != nil {
		t.Fatalf("the stored report cannot be composed: %v", err)
	}
	tree, parts := mimeTree(t, raw.Bytes())
	wantTree := "0:multipart/mixed 0.1:multipart/related 0.1.1:multipart/alternative 0.1.1.1:text/plain 0.1.1.2:text/html 0.1.2:image/png 0.2:text/csv"
	if got := strings.Join(tree, " "); got != wantTree {
		t.Fatalf("MIME tree\n%s\nwant\n%s", got, wantTree)
	}
	text, html, img, csv := string(parts["0.1.1.1"].body), string(parts["0.1.1.2"].body), parts["0.1.2"], parts["0.2"]

	// The figures, by hand.
	for _, w := range []struct{ table, key, cell string }{
		{"summary", "received", "4"}, {"summary", "accepted", "2"}, {"summary", "rejected", "1"}, {"summary", "resolved", "1"},
		{"summary", "sla_breaches", "1"},
		{"by-department", "资讯", "2"}, {"by-department", "财经", "2"},
		{"by-severity", "ordinary", "3"}, {"by-severity", "major", "1"},
		{"by-state", "resolved", "1"}, {"by-state", "accepted", "1"}, {"by-state", "incomplete", "1"}, {"by-state", "rejected", "1"},
		{"satisfaction", "surveyed", "2"}, {"satisfaction", "responses", "2"}, {"satisfaction", "mean", "3.50"},
		{"satisfaction", "score-5", "1"}, {"satisfaction", "score-2", "1"}, {"satisfaction", "score-3", "0"},
		{"medians", "ack", "5分钟"},
		{"open", "incomplete", "2"}, {"open", "accepted", "1"},
	} {
		row := htmlTable(html, w.table)[w.key]
		if len(row) < 2 || row[1] != w.cell {
			t.Errorf("table %s row %s = %v, want %s", w.table, w.key, row, w.cell)
		}
	}
	// Deadlines met: case 1 both, case 4's review; case 2 is major and missed its
	// review (1 business day) and its processing (2, still accepted on Monday).
	for key, want := range map[string][]string{"ordinary": {"3", "3", "100.0%"}, "major": {"2", "0", "0.0%"}, "total": {"5", "3", "60.0%"}} {
		if got := htmlTable(html, "deadlines")[key]; len(got) != 4 || strings.Join(got[1:], " ") != strings.Join(want, " ") {
			t.Errorf("deadlines %s = %v, want %v", key, got, want)
		}
	}
	// The same figures as package stats over the same period (what `stats -json
	// -since` prints at that time).
	r, err := stats.FromStore(st, stats.Options{Since: now.AddDate(0, 0, -7), Now: now, Deadlines: &dl})
	if err != nil {
		t.Fatal(err)
	}
	for table, m := range map[string]map[string]int{"by-department": r.ByDepartment, "by-severity": r.BySeverity, "by-state": r.ByState} {
		rows := htmlTable(html, table)
		if len(rows) != len(m) {
			t.Errorf("table %s has %d rows, stats %d: %v vs %v", table, len(rows), len(m), rows, m)
		}
		for k, n := range m {
			if row := rows[k]; len(row) < 2 || row[1] != strconv.Itoa(n) {
				t.Errorf("table %s row %s = %v, stats says %d", table, k, row, n)
			}
		}
	}
	if row := htmlTable(html, "deadlines")["total"]; len(row) < 3 || row[1] != strconv.Itoa(r.Deadlines.Settled) || row[2] != strconv.Itoa(r.Deadlines.Met) {
		t.Errorf("deadlines total %v, stats %+v", row, r.Deadlines)
	}

	// The chart: a PNG, shown by its Content-ID.
	if _, err := png.Decode(bytes.NewReader(img.body)); err != nil || len(img.body) == 0 {
		t.Errorf("the chart is not a PNG (%d bytes): %v", len(img.body), err)
	}
	cid := strings.Trim(img.cid, "<>")
	if cid == "" || img.disposition != "inline" || !strings.Contains(html, `src="cid:`+cid+`"`) {
		t.Errorf("image Content-ID %q (disposition %q) is not referenced from the HTML", img.cid, img.disposition)
	}
	// The CSV: the export of the week's cases, byte for byte.
	var weekCases []*cases.Case
	st.View(func(tx *store.Tx) error {
		return tx.EachCase(true, func(c *cases.Case) error {
			if !c.CreatedAt.Before(now.AddDate(0, 0, -7)) {
				weekCases = append(weekCases, c)
			}
			return nil
		})
	})
	var want bytes.Buffer
	if err := stats.WriteCSV(&want, weekCases, testCalendar(t).Location()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(csv.body, want.Bytes()) || csv.disposition != "attachment" || csv.filename != "cases-2026-W11.csv" {
		t.Errorf("CSV attachment %q (%s) differs from stats.WriteCSV of the week's cases:\n%q\nwant\n%q", csv.filename, csv.disposition, csv.body, want.Bytes())
	}
	if !bytes.HasPrefix(csv.body, []byte("\uFEFF")) || !strings.Contains(string(csv.body), "'=HYPERLINK") {
		t.Error("the CSV lost its BOM or its formula guard")
	}
	// Escaped HTML, and a text part that reads on its own.
	if strings.Contains(html, "<b>标题</b>") {
		t.Error("a complainant's title reached the HTML unescaped")
	}
	for _, w := range []string{"收到申请：4", "按时完成：3 / 5 个时限（60.0%）", "- 重大投诉：0 / 2（0.0%）", "回执用时中位数：5分钟", "- 财经：2", "附件 cases-2026-W11.csv"} {
		if !strings.Contains(text, w) {
			t.Errorf("text part lacks %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, "<td") {
		t.Errorf("HTML in the text part:\n%s", text)
	}
}

func base64Reader(b []byte) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, bytes.NewReader(bytes.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, b)))
}
