// SPDX-License-Identifier: MIT

package cases

import "time"

// Facts are the anonymous figures of a case: what statistics, reports, metrics and the
// filters of `cases list` need, and nothing personal. The store keeps them beside the
// case, updated in the transaction that changes it, so that reading them for 100,000
// cases costs one small record each instead of the whole case, its sealed part and its
// event log. The store keeps them in a binary form of its own (no JSON tags here).
type Facts struct {
	ID            string
	State         State
	Department    string
	Severity      Severity
	CreatedAt     time.Time
	DueAt         time.Time
	ContentKind   ContentKind
	ApplicantType ApplicantType
	Missing       []Kind
	Satisfaction  int
	Erased        bool // its personal information was erased
	Timeline      Timeline
}

// Timeline is what the event log says happened to a case: first occurrences, and when
// it last ended.
type Timeline struct {
	// FirstReplySent is when the first mail to the complainant was sent (回执): not a
	// staff notification, reminder or author notice (AcknowledgesComplainant).
	FirstReplySent time.Time
	// Completed is when the review that the first decision answered started: the last
	// move to pending_review before the first decision, zero again when the case went
	// back to incomplete (补充: complete again only when the documents come, and its
	// review deadline counts from then, as Deadlines.Of counts it).
	Completed time.Time
	Decided   time.Time // first move to accepted or rejected
	Accepted  time.Time
	Rejected  time.Time
	Resolved  time.Time
	Ended     time.Time // the last move into a terminal state or resolved (zero when open)
	// ClockStarted is the last move into a state whose deadline runs from it
	// (pending_review, appealed, accepted): while the case is in that state, the start
	// of the review or processing deadline running now — after an appeal or a
	// reopening too (Deadlines.Of's start; pauses for the author aside).
	ClockStarted time.Time
	Appealed     bool
	Surveyed     bool
}

// Add takes the next event of the log into account. Events must come in log order:
// Ended follows the last move.
func (tl *Timeline) Add(e Event) {
	first := func(t *time.Time, at time.Time) {
		if t.IsZero() {
			*t = at
		}
	}
	switch e.Type {
	case EventReplySent:
		if AcknowledgesComplainant(e.Note) { // the dispatcher notes the mail's kind
			first(&tl.FirstReplySent, e.At)
		}
	case EventSurveySent:
		tl.Surveyed = true
	}
	moved := e.To != "" && e.To != e.From
	switch e.To {
	case PendingReview:
		if moved && tl.Decided.IsZero() {
			tl.Completed = e.At
		}
	case Incomplete:
		if moved && tl.Decided.IsZero() {
			tl.Completed = time.Time{} // back for documents: no review runs
		}
	}
	if moved && (e.To == PendingReview || e.To == Appealed || e.To == Accepted) {
		tl.ClockStarted = e.At
	}
	switch e.To {
	case Accepted:
		first(&tl.Accepted, e.At)
		first(&tl.Decided, e.At)
	case Rejected:
		first(&tl.Rejected, e.At)
		first(&tl.Decided, e.At)
	case Resolved:
		first(&tl.Resolved, e.At)
	case Appealed:
		tl.Appealed = true
	}
	if e.To != "" {
		if e.To.Terminal() || e.To == Resolved {
			tl.Ended = e.At
		} else {
			tl.Ended = time.Time{}
		}
	}
}

// AcknowledgesComplainant reports whether a sent mail of the kind kind (package
// render's template kinds) answers the complainant. The staff notification of a new
// complete case is queued before its acknowledgement and sent first; it, and every
// other mail to staff, admins or the article's author, acknowledges nobody: a
// complainant whose acknowledgement was held by the rate limit or deferred by their
// server would count as acknowledged within a minute. A reply_sent event without a
// kind (none is written so) counts.
func AcknowledgesComplainant(kind string) bool {
	switch kind {
	case "staff_notification", "staff_confirmation", "staff_error", "reminder", "escalation",
		"author_notice", "digest", "weekly_report", "admin_alert":
		return false
	}
	return true
}

// TimelineOf reads a whole event log.
func TimelineOf(events []Event) Timeline {
	var tl Timeline
	for _, e := range events {
		tl.Add(e)
	}
	return tl
}

// Facts computes the case's facts from the record and its loaded events.
func (c *Case) Facts() Facts {
	f := Facts{Timeline: TimelineOf(c.Events)}
	f.SetCase(c)
	return f
}

// SetCase takes the case's own fields (not its events) into f.
func (f *Facts) SetCase(c *Case) {
	f.ID, f.State, f.Department, f.Severity = c.ID, c.State, c.Department, c.Severity
	f.CreatedAt, f.ContentKind, f.ApplicantType = c.CreatedAt, c.Request.ContentKind, c.Applicant.Type
	f.DueAt = time.Time{}
	if c.DueAt != nil {
		f.DueAt = *c.DueAt
	}
	f.Missing, f.Satisfaction, f.Erased = c.Missing, c.Satisfaction, c.ErasedAt != nil
}

// Outcome is the case's outcome code: open, resolved, rejected, withdrawn, expired or
// closed (closed by staff without a decision on record).
func (f *Facts) Outcome() string {
	switch f.State {
	case Resolved:
		return "resolved"
	case Rejected:
		return "rejected"
	case Withdrawn:
		return "withdrawn"
	case Expired:
		return "expired"
	case Closed:
		switch {
		case !f.Timeline.Resolved.IsZero():
			return "resolved"
		case !f.Timeline.Rejected.IsZero():
			return "rejected"
		}
		return "closed"
	}
	return "open"
}
