// Package caseprint prints cases for people: the table of `complaintd cases
// list`, the detail of `cases show` with the reasons behind each
// classification, and the registered mail. The CLI and the demo print cases
// the same way through it.
package caseprint

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/store"
	"golang.org/x/text/width"
)

// Table prints one line per case: state, severity, department, applicant,
// documents, what is missing and the deadline, times in loc (named in the header).
func Table(w io.Writer, cs []*cases.Case, loc *time.Location) {
	t := NewTable(w, loc)
	for _, c := range cs {
		t.Row(c)
	}
	t.Flush()
}

// TableWriter prints the case table as the cases come: `cases list` on a desk of
// 100,000 cases starts printing at once instead of after reading them all. The
// column widths are those of the first rows (tableProbe of them); a longer cell
// further down widens its line only. Widths count display cells, so that Chinese
// names (two cells per character) line up.
type TableWriter struct {
	w       io.Writer
	loc     *time.Location
	pending [][]string
	widths  []int
	started bool
}

// tableProbe is how many rows set the column widths.
const tableProbe = 100

// NewTable starts a table written to w, with times in loc (nil: UTC).
func NewTable(w io.Writer, loc *time.Location) *TableWriter {
	if loc == nil {
		loc = time.UTC
	}
	head := []string{"CASE", "STATE", "SEVERITY", "DEPT", "APPLICANT", "TYPE", "DOCS", "MISSING", "CREATED (" + loc.String() + ")", "DUE"}
	return &TableWriter{w: w, loc: loc, pending: [][]string{head}}
}

// Row adds a case.
func (t *TableWriter) Row(c *cases.Case) {
	due := ""
	if c.DueAt != nil {
		due = c.DueAt.In(t.loc).Format("2006-01-02")
	}
	row := []string{c.ID, string(c.State), orDash(string(c.Severity)), orDash(c.Department), orDash(c.Applicant.Name), string(c.Applicant.Type),
		fmt.Sprint(len(c.Documents)), orDash(cases.JoinKinds(c.Missing, ",")), c.CreatedAt.In(t.loc).Format("2006-01-02 15:04"), due}
	if t.started {
		t.line(row)
		return
	}
	t.pending = append(t.pending, row)
	if len(t.pending) > tableProbe {
		t.start()
	}
}

// Flush prints the rows still held.
func (t *TableWriter) Flush() {
	if !t.started {
		t.start()
	}
}

func (t *TableWriter) start() {
	t.started = true
	t.widths = make([]int, len(t.pending[0]))
	for _, row := range t.pending {
		for i, cell := range row {
			t.widths[i] = max(t.widths[i], DisplayWidth(cell))
		}
	}
	for _, row := range t.pending {
		t.line(row)
	}
	t.pending = nil
}

func (t *TableWriter) line(row []string) {
	var b strings.Builder
	for i, cell := range row {
		b.WriteString(cell)
		if i < len(row)-1 {
			b.WriteString(strings.Repeat(" ", max(t.widths[i]-DisplayWidth(cell), 0)+2))
		}
	}
	b.WriteByte('\n')
	io.WriteString(t.w, b.String())
}

// DisplayWidth is how many terminal cells s takes: East Asian wide and full-width
// characters (汉字, full-width punctuation) take two, combining marks and format
// controls none.
func DisplayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f:
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		default:
			switch width.LookupRune(r).Kind() {
			case width.EastAsianWide, width.EastAsianFullwidth:
				n += 2
			default:
				n++
			}
		}
	}
	return n
}

// Messages prints each registered mail: its role, its case, its subject and
// what the desk made of it.
func Messages(w io.Writer, ms []*store.Message) {
	for _, m := range ms {
		fmt.Fprintf(w, "  %-12s %-16s %s\n    %s\n", m.Role, orDash(m.Case), m.Subject, m.Outcome)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Detail shows a case to staff, with the reasons behind each classification
// and its audit log, times in loc (named once, at the top; nil: UTC).
func Detail(w io.Writer, c *cases.Case, loc *time.Location) {
	if loc == nil {
		loc = time.UTC
	}
	at := func(t time.Time) string { return t.In(loc).Format(time.DateTime) }
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("Case %s  [%s]  (times in %s)", c.ID, c.State, loc)
	p("  created %s, updated %s", at(c.CreatedAt), at(c.UpdatedAt))
	if c.DueAt != nil {
		p("  due %s", at(*c.DueAt))
	}
	p("  complainant %s, reply locale %s", c.Complainant, c.Locale)
	p("  department %s, severity %s", orDash(c.Department), orDash(string(c.Severity)))
	if len(c.Related) > 0 {
		p("  related cases (same article): %s", strings.Join(c.Related, ", "))
	}
	if c.Assignee != "" {
		p("  assignee %s", c.Assignee)
	}
	p("Subject convention: conforms=%v name=%q org=%q channel=%q", c.Subject.Conforms, c.Subject.Name, c.Subject.Org, c.Subject.Channel)
	a := c.Applicant
	p("Applicant: %s (%s) org=%q email=%s id_valid=%v", orDash(a.Name), a.Type, a.Org, a.Email, a.IDValid)
	if c.Principal != nil {
		p("Principal: %s (%s) org=%q", orDash(c.Principal.Name), c.Principal.Type, c.Principal.Org)
	}
	r := c.Request
	p("Request: title=%q", r.Title)
	p("  url=%s (valid=%v) author=%q published=%q", orDash(r.URL), r.URLValid, r.Author, r.Published)
	p("  content_kind=%s reposted=%v channel=%q", r.ContentKind, r.Reposted, r.Channel)
	if r.Reason != "" {
		p("  reason: %s", r.Reason)
	}
	p("Documents (%d):", len(c.Documents))
	for _, d := range c.Documents {
		name := d.Filename
		if d.Container != "" {
			name = d.Container + " › " + d.Filename
		}
		extra := ""
		if d.Erased {
			extra = "  [erased]"
		}
		if d.Skipped != "" {
			extra += "  [not kept: " + d.Skipped + "]"
		}
		p("  %-18s %s (%d bytes)%s", d.Kind, name, d.Size, extra)
		if d.Why != "" {
			p("  %-18s   why: %s", "", d.Why)
		}
	}
	p("Missing: %s", orDash(cases.JoinKinds(c.Missing, ", ")))
	if len(c.Why) > 0 {
		p("Why:")
		for _, y := range c.Why {
			p("  %s", y)
		}
	}
	p("Events:")
	for _, e := range c.Events {
		line := fmt.Sprintf("  %s  %-18s %s", at(e.At), e.Type, e.Actor)
		if e.From != "" || e.To != "" {
			line += fmt.Sprintf("  %s→%s", e.From, e.To)
		}
		if e.Note != "" {
			line += "  " + e.Note
		}
		p("%s", line)
	}
}
