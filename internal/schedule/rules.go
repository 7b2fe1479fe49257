package schedule

import (
	"time"

	"github.com/complaintd/complaintd/internal/calendar"
	"github.com/complaintd/complaintd/internal/desk"
	"github.com/complaintd/complaintd/internal/store"
)

// Rules computes deadlines from the policy and the business-day calendar. It is pure.
type Rules struct {
	Policy   Policy
	Calendar *calendar.Calendar
}

// Due is the deadline of clock started at start: review and processing count
// business days (end of the N-th working day after start's date), expiry counts
// calendar days; a positive *After duration replaces the days. It has the signature
// of stats.DueFunc.
func (r Rules) Due(clock desk.Clock, start time.Time) time.Time {
	return r.due(clock, start, 0, 0, false)
}

// due adds a pause: pausedDays business days (day mode) or paused (duration mode). A
// major case has its own, shorter review and processing deadlines.
func (r Rules) due(clock desk.Clock, start time.Time, pausedDays int, paused time.Duration, major bool) time.Time {
	p := r.Policy
	switch clock {
	case desk.ClockReview:
		if major && p.MajorReviewDays > 0 {
			return r.Calendar.AddBusinessDays(start, p.MajorReviewDays+pausedDays)
		}
		if p.ReviewAfter > 0 {
			return start.Add(p.ReviewAfter + paused)
		}
		return r.Calendar.AddBusinessDays(start, p.ReviewDays+pausedDays)
	case desk.ClockProcessing:
		if major && p.MajorProcessDays > 0 {
			return r.Calendar.AddBusinessDays(start, p.MajorProcessDays+pausedDays)
		}
		if p.ProcessAfter > 0 {
			return start.Add(p.ProcessAfter + paused)
		}
		return r.Calendar.AddBusinessDays(start, p.ProcessDays+pausedDays)
	case desk.ClockExpiry:
		if p.ExpireAfter > 0 {
			return start.Add(p.ExpireAfter)
		}
		return start.AddDate(0, 0, p.ExpireDays)
	}
	return time.Time{}
}

// RetentionEnd is when the sensitive documents of a case that ended at ended are erased.
func (r Rules) RetentionEnd(ended time.Time) time.Time {
	if r.Policy.RetentionAfter > 0 {
		return ended.Add(r.Policy.RetentionAfter)
	}
	return ended.AddDate(0, 0, r.Policy.RetentionDays)
}

// Deadline is the deadline running for a case.
type Deadline struct {
	Clock desk.Clock
	Start time.Time // when the clock (last) started
	Due   time.Time
}

// AwaitingAuthor reports whether the case waits for the author's counter-statement:
// Case.AwaitingAuthor (or Extra["awaiting_author"] == "true"), or the event log says so (a notify_author
// event not yet followed by author_replied or by a move to a state nobody reviews),
// replayed with desk.AwaitingAuthorAfter.
func AwaitingAuthor(c *store.Case) bool {
	if c.AwaitingAuthor || c.Extra[store.ExtraAwaitingAuthor] == "true" {
		return true
	}
	awaiting := false
	state := desk.Incomplete
	for _, e := range c.Events {
		if e.To != "" {
			state = desk.State(e.To)
		}
		awaiting = desk.AwaitingAuthorAfter(awaiting, desk.Action(e.Type), state)
	}
	return awaiting
}

// DeadlineOf returns the deadline running for c (its events loaded), or false when
// none runs (terminal, resolved, rejected, or paused for the author).
//
// The clock starts at the last move into the state that starts it (pending_review or
// appealed for review, accepted for processing, incomplete for expiry — a case that
// is asked for more documents starts its expiry anew), else at created_at. Review and
// processing are extended by the pauses for the author since the start.
func (r Rules) DeadlineOf(c *store.Case) (Deadline, bool) {
	clock := desk.RunningClock(desk.State(c.State), AwaitingAuthor(c))
	if clock == desk.ClockNone {
		return Deadline{}, false
	}
	starts := func(to desk.State) bool {
		switch clock {
		case desk.ClockReview:
			return to == desk.PendingReview || to == desk.Appealed
		case desk.ClockProcessing:
			return to == desk.Accepted
		}
		return to == desk.Incomplete
	}
	start, startIdx := c.CreatedAt, -1
	for i, e := range c.Events {
		if e.To != "" && e.To != e.From && starts(desk.State(e.To)) {
			start, startIdx = e.At, i
		}
	}
	var pausedDays int
	var paused time.Duration
	if clock != desk.ClockExpiry {
		var since time.Time
		for _, e := range c.Events[startIdx+1:] {
			switch desk.Action(e.Type) {
			case desk.NotifyAuthor:
				if since.IsZero() {
					since = e.At
				}
			case desk.AuthorReplied:
				if !since.IsZero() {
					pausedDays += r.Calendar.BusinessDaysBetween(since, e.At)
					paused += e.At.Sub(since)
					since = time.Time{}
				}
			}
		}
	}
	return Deadline{Clock: clock, Start: start, Due: r.due(clock, start, pausedDays, paused, c.Severity == "major")}, true
}

// ReminderAt is when the reminder for a review or processing deadline is due.
func (r Rules) ReminderAt(d Deadline) time.Time { return d.Due.Add(-r.Policy.ReminderBefore) }

// ExpiryReminderAt is halfway through an incomplete case's time.
func (r Rules) ExpiryReminderAt(d Deadline) time.Time { return d.Start.Add(d.Due.Sub(d.Start) / 2) }

// EndedAt is when a case ended: the last move into a terminal state or resolved, if
// the case is still there; zero otherwise.
func EndedAt(c *store.Case) time.Time {
	st := desk.State(c.State)
	if !st.Terminal() && st != desk.Resolved {
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
