// Package caseprint prints cases for people: the table of `complaintd cases
// list`, the detail of `cases show` with the reasons behind each
// classification, and the registered mail. The CLI and the demo print cases
// the same way through it.
package caseprint

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/store"
)

// Table prints one line per case: state, severity, department, applicant,
// documents, what is missing and the deadline.
func Table(w io.Writer, cs []*cases.Case) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tSTATE\tSEVERITY\tDEPT\tAPPLICANT\tTYPE\tDOCS\tMISSING\tCREATED\tDUE")
	for _, c := range cs {
		due := ""
		if c.DueAt != nil {
			due = c.DueAt.Format("2006-01-02")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", c.ID, c.State, orDash(string(c.Severity)), orDash(c.Department), orDash(c.Applicant.Name), c.Applicant.Type,
			len(c.Documents), orDash(cases.JoinKinds(c.Missing, ",")), c.CreatedAt.Format("2006-01-02 15:04"), due)
	}
	tw.Flush()
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
// and its audit log.
func Detail(w io.Writer, c *cases.Case) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("Case %s  [%s]", c.ID, c.State)
	p("  created %s, updated %s", c.CreatedAt.Format(time.DateTime), c.UpdatedAt.Format(time.DateTime))
	if c.DueAt != nil {
		p("  due %s", c.DueAt.Format(time.DateTime))
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
		line := fmt.Sprintf("  %s  %-18s %s", e.At.Format(time.DateTime), e.Type, e.Actor)
		if e.From != "" || e.To != "" {
			line += fmt.Sprintf("  %s→%s", e.From, e.To)
		}
		if e.Note != "" {
			line += "  " + e.Note
		}
		p("%s", line)
	}
}
