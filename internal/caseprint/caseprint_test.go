// SPDX-License-Identifier: MIT

package caseprint

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
)

// Columns line up on a terminal when names are Chinese (two cells a character), and
// times are shown in the calendar's zone, named in the header.
func TestTableAlignsByDisplayWidth(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	at := time.Date(2026, 3, 2, 17, 30, 0, 0, time.UTC) // 2026-03-03 01:30 in Shanghai
	cs := []*cases.Case{
		{ID: "TS-2026-000001", State: cases.Incomplete, Department: "财经频道", Applicant: cases.Party{Name: "欧阳娜娜", Type: cases.Individual}, CreatedAt: at},
		{ID: "TS-2026-000002", State: cases.PendingReview, Department: "news", Applicant: cases.Party{Name: "Li Wei", Type: cases.Individual}, CreatedAt: at},
		{ID: "TS-2026-000003", State: cases.Accepted, Applicant: cases.Party{Name: "王五（代理）", Type: cases.Entrusted}, CreatedAt: at},
	}
	var out bytes.Buffer
	Table(&out, cs, sh)
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	if !strings.Contains(lines[0], "CREATED (Asia/Shanghai)") || !strings.Contains(lines[1], "2026-03-03 01:30") {
		t.Errorf("time zone not applied or not named:\n%s", out.String())
	}
	// The TYPE column starts at the same display column on every line.
	col := func(line, word string) int {
		i := strings.Index(line, word)
		if i < 0 {
			t.Fatalf("%q not in %q", word, line)
		}
		return DisplayWidth(line[:i])
	}
	want := col(lines[0], "TYPE")
	for i, w := range []string{"individual", "individual", "entrusted"} {
		if got := col(lines[i+1], w); got != want {
			t.Errorf("line %d: TYPE at cell %d, header at %d:\n%s", i+1, got, want, out.String())
		}
	}
}

// A long table is printed as it comes: the first rows are out before the last is given.
func TestTableStreams(t *testing.T) {
	var out bytes.Buffer
	tw := NewTable(&out, time.UTC)
	for i := 0; i <= tableProbe; i++ {
		tw.Row(&cases.Case{ID: "TS-2026-000001", State: cases.Incomplete})
	}
	if out.Len() == 0 {
		t.Fatal("nothing printed after the probe rows")
	}
	tw.Row(&cases.Case{ID: "TS-2026-000002", State: cases.Incomplete})
	tw.Flush()
	if n := strings.Count(out.String(), "\n"); n != tableProbe+3 {
		t.Errorf("%d lines, want %d", n, tableProbe+3)
	}
}

func TestDisplayWidth(t *testing.T) {
	for s, want := range map[string]int{"abc": 3, "王五": 4, "（）": 4, "e\u0301": 1, "a\u200bb": 2, "": 0} {
		if got := DisplayWidth(s); got != want {
			t.Errorf("DisplayWidth(%q) = %d, want %d", s, got, want)
		}
	}
}
