package schedule

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/store"
)

// Notices the deadline job sends; each is also the marker's last key part.
const (
	noticeReminder       = "reminder"
	noticeEscalation     = "escalation"
	noticeExpiryReminder = "expiry_reminder"
	noticeExpired        = "expired"
	noticeSurvey         = "survey"
	noticeDue            = "due" // no mail: the case's due_at is brought up to date
)

// MarkerKey is the once-only key of a notice about a deadline: one per case, run of
// the clock (its start) and notice. A deadline moved while its clock runs (a changed
// setting or holiday list, a restart with another config) is the same run: its
// reminder and escalation are not sent again. A new run of the clock (reopened,
// appealed, asked for more documents) has its own start and its own notices.
func MarkerKey(caseID string, clock cases.Clock, start time.Time, notice string) string {
	return fmt.Sprintf("%s/%s/start-%d/%s", caseID, clock, start.Unix(), notice)
}

// legacyMarkerKey is the key earlier versions wrote, by due date: still honoured, so
// that an upgrade sends nothing again.
func legacyMarkerKey(caseID string, clock cases.Clock, due time.Time, notice string) string {
	return fmt.Sprintf("%s/%s/%d/%s", caseID, clock, due.Unix(), notice)
}

// noticeDone reports whether notice about dl was already sent.
func noticeDone(tx *store.Tx, caseID string, dl cases.Deadline, notice string) (bool, error) {
	for _, key := range []string{MarkerKey(caseID, dl.Clock, dl.Start, notice), legacyMarkerKey(caseID, dl.Clock, dl.Due, notice)} {
		if _, done, err := tx.Marker(key); err != nil || done {
			return done, err
		}
	}
	return false, nil
}

// step is one thing the deadline job must do for a case.
type step struct {
	caseID string
	notice string
}

// plan decides what c needs at now. It is pure; the Update re-checks it.
func (s *Scheduler) plan(c *cases.Case, now time.Time) (string, cases.Deadline, bool) {
	dl, ok := s.o.Deadlines.Of(c)
	if !ok {
		if s.o.Policy.Survey && c.State == cases.Resolved {
			if ended := cases.EndedAt(c); !now.Before(ended.Add(s.o.Policy.SurveyDelay)) {
				return noticeSurvey, cases.Deadline{Clock: noticeSurvey, Start: ended, Due: ended}, true
			}
		}
		return "", cases.Deadline{}, false
	}
	switch dl.Clock {
	case cases.ClockExpiry:
		if !now.Before(dl.Due) {
			return noticeExpired, dl, true
		}
		if !now.Before(s.o.Deadlines.ExpiryReminderAt(dl)) {
			return noticeExpiryReminder, dl, true
		}
	default:
		if !now.Before(dl.Due) {
			return noticeEscalation, dl, true
		}
		if !now.Before(s.o.Deadlines.ReminderAt(dl)) {
			return noticeReminder, dl, true
		}
	}
	if c.DueAt == nil || !c.DueAt.Equal(dl.Due) {
		return noticeDue, dl, true
	}
	return "", dl, false
}

// deadlines is the deadline job: reminders, escalations, expiry, survey, due_at.
func (s *Scheduler) deadlines(ctx context.Context) (int, error) {
	now := s.o.Now()
	var steps []step
	var errs []error // one case that cannot be read must not stop the others
	held := 0        // expiries waiting for intake to read the mailbox to its end
	err := s.o.Store.View(func(tx *store.Tx) error {
		// The facts name the open cases: the closed ones, most of a desk's store, are
		// never read whole (their sealed part would be opened every 5 minutes).
		return tx.EachFacts(func(f *cases.Facts) error {
			switch f.State {
			case cases.Incomplete, cases.PendingReview, cases.Appealed, cases.Accepted, cases.Resolved:
			default:
				return nil
			}
			c, err := tx.CaseWithoutRelated(f.ID)
			if err != nil {
				errs = append(errs, fmt.Errorf("case %s: %w", f.ID, err))
				return nil
			}
			notice, dl, ok := s.plan(c, now)
			if !ok {
				return nil
			}
			if notice == noticeExpired && s.o.IntakeCaughtUp != nil && !s.o.IntakeCaughtUp() {
				held++
				return nil
			}
			if notice != noticeDue {
				if done, err := noticeDone(tx, c.ID, dl, notice); err != nil || done {
					if err != nil {
						errs = append(errs, fmt.Errorf("case %s: %w", c.ID, err))
						return nil
					}
					if notice == noticeSurvey {
						return nil
					}
					// The notice went out; due_at may still be stale.
					if c.DueAt != nil && c.DueAt.Equal(dl.Due) {
						return nil
					}
					notice = noticeDue
				}
			}
			steps = append(steps, step{caseID: c.ID, notice: notice})
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("scan cases: %w", err)
	}
	s.heldExpiry.Store(held > 0)
	if held > 0 {
		s.o.Logger.Info("expiry waits until intake has read the mailbox to its end", "job", JobDeadlines, "cases", held)
	}
	queued := 0
	scanned := len(errs)
	for _, st := range steps {
		if err := ctx.Err(); err != nil {
			return queued, err
		}
		n, err := s.apply(st, now)
		queued += n
		if err != nil {
			// One bad case must not stop the others.
			errs = append(errs, fmt.Errorf("case %s %s: %w", st.caseID, st.notice, err))
		}
	}
	if len(errs) > 0 {
		return queued, fmt.Errorf("%d cases not read, %d of %d steps failed, first: %w", scanned, len(errs)-scanned, len(steps), errs[0])
	}
	return queued, nil
}

// apply does one step in one transaction: the case re-read and re-planned, the marker
// checked and written, the mail queued, the event appended, the case stored.
func (s *Scheduler) apply(st step, now time.Time) (int, error) {
	queued := 0
	err := s.o.Mailer.Update(s.o.Store, func(tx *store.Tx) error { // rendered outside the transaction
		queued = 0
		c, err := tx.CaseWithoutRelated(st.caseID)
		if err != nil {
			return err
		}
		notice, dl, ok := s.plan(c, now)
		if !ok {
			return nil // changed since the scan
		}
		if notice != st.notice && st.notice != noticeDue {
			return nil
		}
		var key string
		if st.notice != noticeDue {
			key = MarkerKey(c.ID, dl.Clock, dl.Start, notice)
			if done, err := noticeDone(tx, c.ID, dl, notice); err != nil || done {
				return err
			}
		}
		if dl.Clock != noticeSurvey {
			due := dl.Due
			c.DueAt = &due
		}
		var ev *cases.Event
		switch st.notice {
		case noticeReminder:
			to := s.staffFor(c, nil)
			if err := s.mail(tx, c, render.KindReminder, dl.Due, to, outbox.AutoGenerated, now); err != nil {
				return err
			}
			ev = &cases.Event{At: now, Type: cases.EventReminder, Actor: "scheduler", Note: fmt.Sprintf("%s deadline %s", dl.Clock, dl.Due.Format(time.RFC3339))}
		case noticeEscalation:
			if _, err := cases.Transition(c.State, cases.Escalate); err != nil {
				return err
			}
			to := s.staffFor(c, s.o.Staff.Supervisors)
			if err := s.mail(tx, c, render.KindEscalation, dl.Due, to, outbox.AutoGenerated, now); err != nil {
				return err
			}
			ev = &cases.Event{At: now, Type: cases.EventOf(cases.Escalate), Actor: "scheduler", Note: fmt.Sprintf("%s deadline %s passed", dl.Clock, dl.Due.Format(time.RFC3339))}
		case noticeExpiryReminder:
			if err := s.mail(tx, c, render.KindExpiryReminder, dl.Due, s.complainant(c), outbox.AutoGenerated, now); err != nil {
				return err
			}
			ev = &cases.Event{At: now, Type: cases.EventExpiryReminder, Actor: "scheduler", Note: "expires " + dl.Due.Format(time.RFC3339)}
		case noticeExpired:
			if _, err := s.o.Executor.Execute(tx, c, cases.Expire, "scheduler", now); err != nil {
				return err
			}
		case noticeSurvey:
			if err := s.mail(tx, c, render.KindSurvey, time.Time{}, s.complainant(c), outbox.AutoGenerated, now); err != nil {
				return err
			}
			ev = &cases.Event{At: now, Type: cases.EventSurveySent, Actor: "scheduler"}
		case noticeDue:
		default:
			return fmt.Errorf("unknown step %q", st.notice)
		}
		if st.notice != noticeDue {
			queued = 1
			if err := tx.PutMarker(key, store.Marker{At: now}); err != nil {
				return err
			}
			if st.notice != noticeExpired {
				if err := tx.AppendEvent(c.ID, cases.Event{At: now, Type: cases.EventReplyQueued, Actor: "desk", Note: st.notice}); err != nil {
					return err
				}
			}
		}
		if ev != nil {
			if err := tx.AppendEvent(c.ID, *ev); err != nil {
				return err
			}
		}
		return tx.PutCase(c)
	})
	if err == nil && queued > 0 {
		s.o.Logger.Info("deadline notice queued", "job", JobDeadlines, "case", st.caseID, "notice", st.notice)
	}
	return queued, err
}

// mail queues kind about c to to, threaded under the case's last inbound mail.
func (s *Scheduler) mail(tx *store.Tx, c *cases.Case, kind string, deadline time.Time, to []outbox.Address, auto string, now time.Time) error {
	if len(to) == 0 {
		s.o.Logger.Warn("no recipients configured; notice recorded, not sent", "job", JobDeadlines, "case", c.ID, "kind", kind)
		return nil
	}
	if len(to) > 1 && s.o.Tokens != nil && !strings.EqualFold(firstAddr(to), c.Complainant) {
		// One mail each: a token is bound to its mail and goes to staff only, so
		// the assignee's is not withheld because a supervisor is not on the staff
		// list, nor shared with whoever reads the supervisor's mailbox.
		for _, a := range to {
			if err := s.mail(tx, c, kind, deadline, []outbox.Address{a}, auto, now); err != nil {
				return err
			}
		}
		return nil
	}
	d := s.o.Mailer.View(c)
	d.Deadline = deadline
	if len(to) == 1 && !strings.EqualFold(to[0].Address, c.Complainant) {
		d.Staff = to[0].Address
	}
	refs := c.Threads
	if len(refs) > 10 {
		refs = append(append([]string{}, refs[:1]...), refs[len(refs)-9:]...)
	}
	inReplyTo := c.LastInbound
	o := mailer.Outgoing{Kind: kind, Data: d, To: to, References: refs, Auto: auto}
	if strings.EqualFold(firstAddr(to), c.Complainant) {
		o.InReplyTo = inReplyTo
	} else {
		o.References = nil // staff mail starts its own thread; the case tag finds it
		if s.o.Tokens != nil {
			// A reply to a reminder acts on the case like a reply to a notification:
			// its token is bound to this mail, named before it is rendered.
			o.MessageID = s.o.Mailer.NewMessageID(tx, c.ID)
			addrs := make([]string, len(to))
			for i, a := range to {
				addrs[i] = a.Address
			}
			o.Data.Token, o.ReplyTo = s.o.Tokens.StaffReplyTo(c.ID, o.MessageID, addrs, now)
		}
	}
	return s.o.Mailer.Queue(tx, c, o, now)
}

func firstAddr(to []outbox.Address) string {
	if len(to) == 0 {
		return ""
	}
	return to[0].Address
}

func (s *Scheduler) complainant(c *cases.Case) []outbox.Address {
	return []outbox.Address{{Name: c.Applicant.Name, Address: c.Complainant}}
}

// staffFor is the assignee, or the notify list when the case has none, plus extra
// (the supervisors for an escalation), without duplicates.
func (s *Scheduler) staffFor(c *cases.Case, extra []string) []outbox.Address {
	var list []string
	switch {
	case c.Assignee != "":
		list = append(list, c.Assignee)
	case s.o.Staff.Department != nil && len(s.o.Staff.Department(c.Department)) > 0:
		list = append(list, s.o.Staff.Department(c.Department)...)
	default:
		list = append(list, s.o.Staff.Notify...)
	}
	list = append(list, extra...)
	var out []outbox.Address
	var seen []string
	for _, a := range list {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" || slices.Contains(seen, a) {
			continue
		}
		seen = append(seen, a)
		out = append(out, outbox.Address{Address: a})
	}
	return out
}
