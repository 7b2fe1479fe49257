package intake

import (
	"fmt"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/desk"
	"github.com/complaintd/complaintd/internal/mailmsg"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/routing"
	"github.com/complaintd/complaintd/internal/store"
)

// replaceWhy swaps the reasons of one field ("department: …") for a new one.
func replaceWhy(why []string, field string, lines ...string) []string {
	out := why[:0:0]
	for _, w := range why {
		if !strings.HasPrefix(w, field+":") {
			out = append(out, w)
		}
	}
	for _, l := range lines {
		out = append(out, field+": "+l)
	}
	return out
}

// route decides the case's department, files it under its article link and its
// complainant, and raises its severity when a rule or a repetition says so. A major
// case is notified to the leadership at once.
func (p *Processor) route(tx *store.Tx, c *cases.Case, msg *mailmsg.Message, isNew bool, now time.Time, events *[]cases.Event) (int, error) {
	r := p.o.Router
	if r == nil {
		return 0, nil
	}
	channel := c.Request.Channel
	if channel == "" {
		channel = c.Subject.Channel
	}
	d := r.Route(channel, c.Request.URL)
	if !c.DepartmentByStaff && d.Department != "" &&
		(c.Department == "" || (d.Source == routing.ByLinkHost && d.Department != c.Department)) {
		if c.Department != "" {
			*events = append(*events, cases.Event{At: now, Type: cases.EventDepartment, Actor: "desk", Note: c.Department + " → " + d.Department + ": " + d.Why})
		}
		c.Department = d.Department
		c.Why = replaceWhy(c.Why, "department", d.Why)
	}
	key, ok := routing.NormaliseLink(c.Request.URL)
	if ok && c.LinkKey != key {
		c.LinkKey = key
		if err := tx.IndexCase("link", key, c.ID, c.CreatedAt); err != nil {
			return 0, err
		}
	}
	if rel := related(tx, c); len(rel) > 0 {
		c.Why = replaceWhy(c.Why, "related", "same article as "+relatedNote(rel))
	}
	if isNew {
		if err := tx.IndexCase("from", c.Complainant, c.ID, c.CreatedAt); err != nil {
			return 0, err
		}
	}
	if c.Severity == "" {
		c.Severity = cases.Ordinary
	}
	if c.SeverityByStaff || c.Major() {
		return 0, nil // rules only raise; staff decisions stand
	}
	since := now.AddDate(0, 0, -r.RepeatWindowDays())
	in := routing.SeverityInput{
		Subject: msg.Subject, Body: desk.StripQuoted(msg.Text),
		ApplicantOrg: c.Applicant.Org, ApplicantEmail: c.Applicant.Email,
		SameLink:      countOthers(tx.IndexedCases("link", c.LinkKey), c.ID, since),
		SameApplicant: countOthers(tx.IndexedCases("from", c.Complainant), c.ID, since),
	}
	if c.Principal != nil {
		in.PrincipalOrg = c.Principal.Org
	}
	for _, doc := range c.Documents {
		in.Attachments = append(in.Attachments, doc.Filename)
	}
	dec := r.Severity(in)
	if dec.Level != routing.Major {
		return 0, nil
	}
	return p.makeMajor(tx, c, "desk", dec.Reasons, now, events)
}

func countOthers(entries []store.IndexEntry, self string, since time.Time) int {
	n := 0
	for _, e := range entries {
		if e.Case != self && !e.Created.Before(since) {
			n++
		}
	}
	return n
}

// makeMajor raises the case to major, shortens a running review deadline, and tells
// the leadership at once.
func (p *Processor) makeMajor(tx *store.Tx, c *cases.Case, actor string, reasons []string, now time.Time, events *[]cases.Event) (int, error) {
	c.Severity = cases.Major
	c.Why = replaceWhy(c.Why, "severity", reasons...)
	*events = append(*events, cases.Event{At: now, Type: cases.EventSeverity, Actor: actor, Note: "major: " + strings.Join(reasons, "; ")})
	if c.State == cases.PendingReview || c.State == cases.Appealed {
		if due := p.o.Deadlines.Due(cases.ClockReview, now, c.Severity); c.DueAt == nil || due.Before(*c.DueAt) {
			c.DueAt = &due
		}
	}
	if p.o.Router == nil || len(p.o.Router.Leadership()) == 0 {
		return 0, nil // nobody to tell (and never the ordinary notify list instead)
	}
	note := "重大投诉 / major complaint: " + strings.Join(reasons, "; ")
	return p.notifyStaff(tx, c, p.o.Router.Leadership(), note, now, events)
}

// departmentStaff is who works the case's department ("" or unknown: nobody special).
func (p *Processor) departmentStaff(c *cases.Case) []string {
	if p.o.Router == nil || c.Department == "" {
		return nil
	}
	d, ok := p.o.Router.Department(c.Department)
	if !ok {
		return nil
	}
	return d.Staff
}

// related lists the other cases about the same article, with their states, so one
// decision can serve them all.
func related(tx *store.Tx, c *cases.Case) []render.Related {
	var out []render.Related
	for _, e := range tx.IndexedCases("link", c.LinkKey) {
		if e.Case == c.ID {
			continue
		}
		other, err := tx.Case(e.Case)
		if err != nil {
			continue
		}
		out = append(out, render.Related{ID: other.ID, State: string(other.State)})
	}
	return out
}

// relatedNote names the related cases in the Why list for `cases show`.
func relatedNote(rs []render.Related) string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, fmt.Sprintf("%s (%s)", r.ID, r.State))
	}
	return strings.Join(ids, ", ")
}
