package intake

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
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
// complainant, and raises its severity when a rule or a repetition says so. It returns
// the note for the leadership when the case has just become major: the caller sends it
// once the case's state for this mail is decided, so that the alert shows it.
func (p *Processor) route(tx *store.Tx, c *cases.Case, msg *mailmsg.Message, isNew bool, now time.Time, events *[]cases.Event) (string, error) {
	r := p.o.Router
	if r == nil {
		return "", nil
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
			return "", err
		}
	}
	sameLink := tx.IndexedCases("link", c.LinkKey)
	if rel, more := relatedIn(tx, c, sameLink); len(rel) > 0 {
		c.Why = replaceWhy(c.Why, "related", "same article as "+relatedNote(rel, more))
	}
	if isNew {
		if err := tx.IndexCase("from", c.Complainant, c.ID, c.CreatedAt); err != nil {
			return "", err
		}
	}
	// The repeat rule knows an applicant by their ID number too (a second mailbox
	// is no new person); a follow-up may bring the number later.
	for _, id := range c.IDNumbers() {
		if err := tx.IndexCase("idno", id, c.ID, c.CreatedAt); err != nil {
			return "", err
		}
	}
	if c.Severity == "" {
		c.Severity = cases.Ordinary
	}
	if c.SeverityByStaff || c.Major() {
		return "", nil // rules only raise; staff decisions stand
	}
	in := routing.SeverityInput{
		Subject: msg.Subject, Body: p.quoteless.of(msg.Text),
		ApplicantOrg: c.Applicant.Org, ApplicantEmail: c.Applicant.Email,
		SameLink:      earlierCases(sameLink, c, r.RepeatWindowDays()),
		SameApplicant: earlierCases(sameApplicant(tx, c), c, r.RepeatWindowDays()),
	}
	if c.Principal != nil {
		in.PrincipalOrg = c.Principal.Org
	}
	for _, doc := range c.Documents {
		in.Attachments = append(in.Attachments, doc.Filename)
	}
	dec := r.Severity(in)
	if dec.Level != routing.Major {
		return "", nil
	}
	p.makeMajor(c, "desk", dec.Reasons, now, events)
	if len(r.Leadership()) == 0 {
		return "", nil // nobody to tell (and never the ordinary notify list instead)
	}
	return "重大投诉 / major complaint: " + strings.Join(dec.Reasons, "; "), nil
}

// sameApplicant lists the cases of the same applicant: the same From address, or the
// same ID number, each case once.
func sameApplicant(tx *store.Tx, c *cases.Case) []store.IndexEntry {
	all := tx.IndexedCases("from", c.Complainant)
	for _, id := range c.IDNumbers() {
		all = append(all, tx.IndexedCases("idno", id)...)
	}
	seen := map[string]bool{}
	out := all[:0]
	for _, e := range all {
		if !seen[e.Case] {
			seen[e.Case] = true
			out = append(out, e)
		}
	}
	return out
}

// earlierCases counts the other cases of entries created in the repeat window before c
// (a case number breaks a tie of one commit): a case is a repetition of earlier ones,
// never of those that came after it — a follow-up of the first case must not make it
// major because the same person wrote again later.
func earlierCases(entries []store.IndexEntry, c *cases.Case, windowDays int) int {
	since := c.CreatedAt.AddDate(0, 0, -windowDays)
	n := 0
	for _, e := range entries {
		earlier := e.Created.Before(c.CreatedAt) || e.Created.Equal(c.CreatedAt) && e.Case < c.ID
		if e.Case != c.ID && earlier && !e.Created.Before(since) {
			n++
		}
	}
	return n
}

// makeMajor raises the case to major and shortens a running review deadline; the
// caller tells the leadership.
func (p *Processor) makeMajor(c *cases.Case, actor string, reasons []string, now time.Time, events *[]cases.Event) {
	c.Severity = cases.Major
	c.Why = replaceWhy(c.Why, "severity", reasons...)
	*events = append(*events, cases.Event{At: now, Type: cases.EventSeverity, Actor: actor, Note: "major: " + strings.Join(reasons, "; ")})
	if c.State == cases.PendingReview || c.State == cases.Appealed {
		if due := p.o.Deadlines.Due(cases.ClockReview, now, c.Severity); c.DueAt == nil || due.Before(*c.DueAt) {
			c.DueAt = &due
		}
	}
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

// relatedShown bounds the related cases named in a case's Why list and in a staff
// notification: an article that draws a wave of complaints has hundreds of them.
const relatedShown = 10

// related lists the latest other cases about the same article (at most relatedShown,
// newest last), with their states, so one decision can serve them all, and how many
// more there are. The states come from the cases' facts: opening each related case
// (sealed, with its own related list) made one more complaint about an article with
// 400 earlier ones cost 160 ms instead of 2.5, in each of the commit's two passes.
func related(tx *store.Tx, c *cases.Case) (_ []render.Related, more int) {
	return relatedIn(tx, c, tx.IndexedCases("link", c.LinkKey))
}

// relatedIn is related with the cases filed under the article's link already read.
func relatedIn(tx *store.Tx, c *cases.Case, entries []store.IndexEntry) (_ []render.Related, more int) {
	var out []render.Related
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Case == c.ID {
			continue
		}
		if len(out) == relatedShown {
			more++
			continue
		}
		f, err := tx.Facts(e.Case)
		if err != nil {
			continue
		}
		out = append(out, render.Related{ID: e.Case, State: string(f.State)})
	}
	slices.Reverse(out)
	return out, more
}

// relatedNote names the related cases in the Why list for `cases show`.
func relatedNote(rs []render.Related, more int) string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, fmt.Sprintf("%s (%s)", r.ID, r.State))
	}
	note := strings.Join(ids, ", ")
	if more > 0 {
		note += fmt.Sprintf(" and %d more", more)
	}
	return note
}
