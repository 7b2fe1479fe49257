// SPDX-License-Identifier: MIT

package cases

import (
	"time"

	"github.com/complaintd/complaintd/internal/calendar"
)

// DeadlinePolicy is the desk's promise in time (SPEC §1.7, §1.8). Days are business
// days for review and processing, calendar days for expiry and retention.
type DeadlinePolicy struct {
	ReviewDays, ProcessDays, ExpireDays int
	// MajorReviewDays and MajorProcessDays replace the ordinary deadlines of a major
	// case; 0: the ordinary ones.
	MajorReviewDays, MajorProcessDays int
	// ReviewAfter, ProcessAfter and ExpireAfter replace the days when positive (drills
	// and tests); a major case's own days still win.
	ReviewAfter, ProcessAfter, ExpireAfter time.Duration
	// ReminderBefore is how long before a review or processing deadline staff are
	// reminded.
	ReminderBefore time.Duration
	// RetentionDays (or RetentionAfter when positive) after a case ended, its
	// sensitive documents are erased.
	RetentionDays  int
	RetentionAfter time.Duration
}

// Deadlines computes every due date of the desk: the one place that knows how a
// deadline is counted. Intake, the scheduler, stats and the CLI all ask it.
type Deadlines struct {
	Policy   DeadlinePolicy
	Calendar *calendar.Calendar
}

// Deadline is the deadline running for a case.
type Deadline struct {
	Clock Clock
	Start time.Time // when the clock (last) started
	Due   time.Time
}

// Due is the deadline of clock started at start for a case of severity sev.
func (d Deadlines) Due(clock Clock, start time.Time, sev Severity) time.Time {
	return d.due(clock, start, 0, 0, sev == Major)
}

// due adds a pause: pausedDays business days (day mode) or paused (duration mode).
func (d Deadlines) due(clock Clock, start time.Time, pausedDays int, paused time.Duration, major bool) time.Time {
	p := d.Policy
	switch clock {
	case ClockReview:
		if major && p.MajorReviewDays > 0 {
			return d.Calendar.AddBusinessDays(start, p.MajorReviewDays+pausedDays)
		}
		if p.ReviewAfter > 0 {
			return start.Add(p.ReviewAfter + paused)
		}
		return d.Calendar.AddBusinessDays(start, p.ReviewDays+pausedDays)
	case ClockProcessing:
		if major && p.MajorProcessDays > 0 {
			return d.Calendar.AddBusinessDays(start, p.MajorProcessDays+pausedDays)
		}
		if p.ProcessAfter > 0 {
			return start.Add(p.ProcessAfter + paused)
		}
		return d.Calendar.AddBusinessDays(start, p.ProcessDays+pausedDays)
	case ClockExpiry:
		if p.ExpireAfter > 0 {
			return start.Add(p.ExpireAfter)
		}
		return start.AddDate(0, 0, p.ExpireDays)
	}
	return time.Time{}
}

// Of returns the deadline running for c (its events loaded), or false when none runs
// (terminal, resolved, rejected, or paused for the author).
//
// The clock starts at the last move into the state that starts it (pending_review or
// appealed for review, accepted for processing, incomplete for expiry — a case that
// is asked for more documents starts its expiry anew), else at created_at. Review and
// processing are extended by the pauses for the author since the start. A major case
// has its own deadlines.
//
// The author's turn is bounded: when the case records until when the author may answer
// (AuthorDue), a silence ends the pause then — the clock resumes and its reminder and
// escalation come in their time — instead of freezing the case for good.
func (d Deadlines) Of(c *Case) (Deadline, bool) {
	awaiting := AwaitingAuthor(c)
	if awaiting && c.AuthorDue != nil {
		awaiting = false // paused until AuthorDue at most, counted below
	}
	clock := RunningClock(c.State, awaiting)
	if clock == ClockNone {
		return Deadline{}, false
	}
	start, startIdx := clockStart(c, clock)
	var pausedDays int
	var paused time.Duration
	if clock != ClockExpiry {
		var since time.Time
		resume := func(at time.Time) {
			if c.AuthorDue != nil && at.After(*c.AuthorDue) {
				at = *c.AuthorDue // an answer after the author's time does not extend it
			}
			if at.After(since) {
				pausedDays += d.Calendar.BusinessDaysBetween(since, at)
				paused += at.Sub(since)
			}
			since = time.Time{}
		}
		for _, e := range c.Events[startIdx+1:] {
			switch Action(e.Type) {
			case NotifyAuthor:
				if since.IsZero() {
					since = e.At
				}
			case AuthorReplied:
				if !since.IsZero() {
					resume(e.At)
				}
			}
		}
		if !since.IsZero() && c.AuthorDue != nil {
			resume(*c.AuthorDue) // still silent: the pause ended when the author's time did
		}
	}
	return Deadline{Clock: clock, Start: start, Due: d.due(clock, start, pausedDays, paused, c.Major())}, true
}

// clockStart finds when clock last started for c and the index of that event (-1:
// at creation).
func clockStart(c *Case, clock Clock) (time.Time, int) {
	starts := func(to State) bool {
		switch clock {
		case ClockReview:
			return to == PendingReview || to == Appealed
		case ClockProcessing:
			return to == Accepted
		}
		return to == Incomplete
	}
	start, idx := c.CreatedAt, -1
	for i, e := range c.Events {
		if e.To != "" && e.To != e.From && starts(e.To) {
			start, idx = e.At, i
		}
	}
	return start, idx
}

// ReminderAt is when the reminder for a review or processing deadline is due.
func (d Deadlines) ReminderAt(dl Deadline) time.Time { return dl.Due.Add(-d.Policy.ReminderBefore) }

// ExpiryReminderAt is halfway through an incomplete case's time.
func (d Deadlines) ExpiryReminderAt(dl Deadline) time.Time {
	return dl.Start.Add(dl.Due.Sub(dl.Start) / 2)
}

// RetentionEnd is when the personal information and documents of a case closed at
// ended are erased.
func (d Deadlines) RetentionEnd(ended time.Time) time.Time {
	if d.Policy.RetentionAfter > 0 {
		return ended.Add(d.Policy.RetentionAfter)
	}
	return ended.AddDate(0, 0, d.Policy.RetentionDays)
}

// AwaitingAuthor reports whether the case waits for the author's counter-statement:
// the flag, or the event log says so (a notify_author event not yet followed by
// author_replied or by a move to a state nobody reviews), replayed with
// AwaitingAuthorAfter.
func AwaitingAuthor(c *Case) bool {
	if c.AwaitingAuthor {
		return true
	}
	awaiting := false
	state := Incomplete
	for _, e := range c.Events {
		if e.To != "" {
			state = e.To
		}
		awaiting = AwaitingAuthorAfter(awaiting, Action(e.Type), state)
	}
	return awaiting
}

// ClosedAt is when a case entered the terminal state it is in (closed, withdrawn,
// expired); zero when it is not in one. Retention counts from here: a resolved or
// rejected case may still be appealed or reopened, and keeps what it needs for that.
func ClosedAt(c *Case) time.Time {
	if !c.State.Terminal() {
		return time.Time{}
	}
	return EndedAt(c)
}

// EndedAt is when a case ended: the last move into a terminal state or resolved, if
// the case is still there; zero otherwise.
func EndedAt(c *Case) time.Time {
	if !c.State.Terminal() && c.State != Resolved {
		return time.Time{}
	}
	var at time.Time
	for _, e := range c.Events {
		if e.To == c.State && e.From != e.To {
			at = e.At
		}
	}
	if at.IsZero() {
		at = c.UpdatedAt
	}
	return at
}
