package stats

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
)

// The export opens in Excel: BOM first, CRLF, quoted commas/quotes/newlines, and no
// cell that Excel would run as a formula.
func TestWriteCSV(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	c := &cases.Case{ID: "TS-2026-000001", State: "resolved", CreatedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, loc),
		Applicant: cases.Party{Name: "张三", Org: "蒙牛, \"集团\"", Type: "organisation"},
		Request:   cases.Request{Title: "=HYPERLINK(\"http://evil\")", ContentKind: "news"},
		Missing:   []cases.Kind{"id_card"},
		Events:    []cases.Event{{At: time.Date(2026, 3, 2, 9, 0, 0, 0, loc), Type: "resolve", From: "accepted", To: "resolved"}}}
	c.SetSatisfaction(5)
	c.Department, c.Severity = "财经", cases.Major
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []*cases.Case{c}, loc); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\uFEFF") || !strings.Contains(out, "\r\n") {
		t.Fatalf("want BOM and CRLF: %q", out[:40])
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\uFEFF"))).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %d: %v", len(rows), err)
	}
	get := func(col string) string {
		for i, h := range rows[0] {
			if h == col {
				return rows[1][i]
			}
		}
		t.Fatalf("no column %s", col)
		return ""
	}
	for col, want := range map[string]string{"applicant_org": "蒙牛, \"集团\"", "title": "'=HYPERLINK(\"http://evil\")",
		"outcome": "resolved", "resolved_at": "2026-03-02 09:00:00", "satisfaction": "5", "applicant_name": "张三",
		"department": "财经", "severity": "major"} {
		if got := get(col); got != want {
			t.Errorf("%s = %q, want %q", col, got, want)
		}
	}
}
