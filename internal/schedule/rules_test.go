package schedule

import (
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/desk"
	"github.com/complaintd/complaintd/internal/store"
)

func TestDue(t *testing.T) {
	r := Rules{Policy: defaultPolicy(), Calendar: testCalendar(t)}
	eod := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 23, 59, 59, 0, cst) }
	tests := []struct {
		why   string
		clock desk.Clock
		start time.Time
		want  time.Time
	}{
		{"an ordinary week: Monday + 3 business days is Thursday night", desk.ClockReview, at(2026, 3, 9, 10, 0), eod(2026, 3, 12)},
		{"Friday evening: the weekend does not count", desk.ClockReview, at(2026, 3, 13, 18, 0), eod(2026, 3, 18)},
		{"Spring Festival: the make-up Saturday counts, the holiday week does not", desk.ClockReview, at(2026, 2, 13, 10, 0), eod(2026, 2, 25)},
		{"completed on a holiday: counting starts after it", desk.ClockReview, at(2026, 2, 17, 10, 0), eod(2026, 2, 26)},
		{"the second make-up Saturday after the festival counts", desk.ClockReview, at(2026, 2, 26, 9, 0), eod(2026, 3, 2)},
		{"year boundary: New Year holidays skipped, make-up Sunday 1-4 counts", desk.ClockProcessing, at(2025, 12, 31, 15, 0), eod(2026, 1, 8)},
		{"year boundary, late evening in China is still 12-31 local", desk.ClockProcessing, time.Date(2025, 12, 31, 15, 30, 0, 0, time.UTC), eod(2026, 1, 8)},
		{"processing across the festival: 5 business days", desk.ClockProcessing, at(2026, 2, 12, 11, 0), eod(2026, 2, 26)},
		{"expiry counts calendar days, holidays included", desk.ClockExpiry, at(2026, 2, 10, 8, 0), at(2026, 2, 25, 8, 0)},
		{"expiry across the year boundary", desk.ClockExpiry, at(2025, 12, 25, 8, 0), at(2026, 1, 9, 8, 0)},
	}
	for _, tc := range tests {
		if got := r.Due(tc.clock, tc.start); !got.Equal(tc.want) {
			t.Errorf("%s: Due(%s, %s) = %s, want %s", tc.why, tc.clock, tc.start, got.In(cst), tc.want)
		}
	}
}

func TestDueDurationOverride(t *testing.T) {
	p := defaultPolicy()
	p.ReviewAfter, p.ProcessAfter, p.ExpireAfter = 20*time.Second, 30*time.Second, 40*time.Second
	r := Rules{Policy: p, Calendar: testCalendar(t)}
	start := at(2026, 2, 13, 23, 59) // just before a holiday: durations ignore the calendar
	for clock, want := range map[desk.Clock]time.Duration{desk.ClockReview: 20 * time.Second, desk.ClockProcessing: 30 * time.Second, desk.ClockExpiry: 40 * time.Second} {
		if got := r.Due(clock, start).Sub(start); got != want {
			t.Errorf("%s: due after %s, want %s", clock, got, want)
		}
	}
}

func TestDeadlineOf(t *testing.T) {
	r := Rules{Policy: defaultPolicy(), Calendar: testCalendar(t)}
	created := at(2026, 3, 2, 9, 0)
	ev := func(d, h int, typ, from, to string) store.Event {
		return store.Event{At: at(2026, 3, d, h, 0), Type: typ, Actor: "x", From: from, To: to}
	}
	tests := []struct {
		why       string
		state     string
		events    []store.Event
		wantClock desk.Clock
		wantDue   time.Time
	}{
		{"incomplete: expiry from creation", "incomplete", []store.Event{ev(2, 9, "created", "", "incomplete")}, desk.ClockExpiry, at(2026, 3, 17, 9, 0)},
		{"asked for more: expiry restarts at the need_more", "incomplete",
			[]store.Event{ev(2, 9, "created", "", "incomplete"), ev(3, 9, "state", "incomplete", "pending_review"), ev(5, 10, "need_more", "pending_review", "incomplete")},
			desk.ClockExpiry, at(2026, 3, 20, 10, 0)},
		{"review from completeness", "pending_review",
			[]store.Event{ev(2, 9, "created", "", "incomplete"), ev(3, 9, "state", "incomplete", "pending_review")},
			desk.ClockReview, time.Date(2026, 3, 6, 23, 59, 59, 0, cst)},
		{"processing from acceptance", "accepted",
			[]store.Event{ev(3, 9, "state", "incomplete", "pending_review"), ev(4, 9, "accept", "pending_review", "accepted")},
			desk.ClockProcessing, time.Date(2026, 3, 11, 23, 59, 59, 0, cst)},
		{"waiting for the author pauses the clock", "pending_review",
			[]store.Event{ev(3, 9, "state", "incomplete", "pending_review"), ev(4, 9, "notify_author", "", "")},
			desk.ClockNone, time.Time{}},
		{"the author's pause (Wed→Mon, 3 business days) is added", "pending_review",
			[]store.Event{ev(3, 9, "state", "incomplete", "pending_review"), ev(4, 9, "notify_author", "", ""), ev(9, 9, "author_replied", "", "")},
			desk.ClockReview, time.Date(2026, 3, 11, 23, 59, 59, 0, cst)},
		{"resolved: no deadline", "resolved",
			[]store.Event{ev(4, 9, "accept", "pending_review", "accepted"), ev(5, 9, "resolve", "accepted", "resolved")},
			desk.ClockNone, time.Time{}},
	}
	for _, tc := range tests {
		c := &store.Case{ID: "TS-2026-000001", State: tc.state, CreatedAt: created, Events: tc.events}
		dl, ok := r.DeadlineOf(c)
		if ok != (tc.wantClock != desk.ClockNone) || dl.Clock != tc.wantClock || !dl.Due.Equal(tc.wantDue) {
			t.Errorf("%s: got %v %s %s, want %s %s", tc.why, ok, dl.Clock, dl.Due.In(cst), tc.wantClock, tc.wantDue)
		}
	}
}

// A major case (重大投诉) gets the shorter deadlines: the reminders and escalations
// must follow the deadline the desk promised, not the ordinary one.
func TestDeadlineOfMajorCase(t *testing.T) {
	p := defaultPolicy()
	p.MajorReviewDays, p.MajorProcessDays = 1, 2
	r := Rules{Policy: p, Calendar: testCalendar(t)}
	c := &store.Case{State: "pending_review", Severity: "major", CreatedAt: at(2026, 3, 2, 9, 0),
		Events: []store.Event{{At: at(2026, 3, 3, 9, 0), Type: "state", From: "incomplete", To: "pending_review"}}}
	d, ok := r.DeadlineOf(c)
	if !ok || !d.Due.Equal(time.Date(2026, 3, 4, 23, 59, 59, 0, cst)) {
		t.Errorf("major review deadline = %v, want the end of the next business day", d.Due)
	}
	c.Severity = "ordinary"
	if d, _ := r.DeadlineOf(c); !d.Due.Equal(time.Date(2026, 3, 6, 23, 59, 59, 0, cst)) {
		t.Errorf("ordinary review deadline = %v", d.Due)
	}
}
