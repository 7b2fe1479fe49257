package cases

import (
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/calendar"
)

var cst = time.FixedZone("CST", 8*3600)

func at(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, cst) }

// testCalendar has the 2026 Chinese holidays around New Year and Spring Festival with
// their make-up working days (调休), as in config.example.yaml.
func testCalendar(t testing.TB) *calendar.Calendar {
	t.Helper()
	cal, err := calendar.New("Asia/Shanghai", []string{"saturday", "sunday"},
		[]string{"2026-01-01", "2026-01-02", "2026-01-03",
			"2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23"},
		[]string{"2026-01-04", "2026-02-14", "2026-02-28"})
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

func defaultPolicy() DeadlinePolicy {
	return DeadlinePolicy{ReviewDays: 3, ProcessDays: 5, ExpireDays: 15, RetentionDays: 180, ReminderBefore: 24 * time.Hour}
}

func TestDue(t *testing.T) {
	r := Deadlines{Policy: defaultPolicy(), Calendar: testCalendar(t)}
	eod := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 23, 59, 59, 0, cst) }
	tests := []struct {
		why   string
		clock Clock
		start time.Time
		want  time.Time
	}{
		{"an ordinary week: Monday + 3 business days is Thursday night", ClockReview, at(2026, 3, 9, 10, 0), eod(2026, 3, 12)},
		{"Friday evening: the weekend does not count", ClockReview, at(2026, 3, 13, 18, 0), eod(2026, 3, 18)},
		{"Spring Festival: the make-up Saturday counts, the holiday week does not", ClockReview, at(2026, 2, 13, 10, 0), eod(2026, 2, 25)},
		{"completed on a holiday: counting starts after it", ClockReview, at(2026, 2, 17, 10, 0), eod(2026, 2, 26)},
		{"the second make-up Saturday after the festival counts", ClockReview, at(2026, 2, 26, 9, 0), eod(2026, 3, 2)},
		{"year boundary: New Year holidays skipped, make-up Sunday 1-4 counts", ClockProcessing, at(2025, 12, 31, 15, 0), eod(2026, 1, 8)},
		{"year boundary, late evening in China is still 12-31 local", ClockProcessing, time.Date(2025, 12, 31, 15, 30, 0, 0, time.UTC), eod(2026, 1, 8)},
		{"processing across the festival: 5 business days", ClockProcessing, at(2026, 2, 12, 11, 0), eod(2026, 2, 26)},
		{"expiry counts calendar days, holidays included", ClockExpiry, at(2026, 2, 10, 8, 0), at(2026, 2, 25, 8, 0)},
		{"expiry across the year boundary", ClockExpiry, at(2025, 12, 25, 8, 0), at(2026, 1, 9, 8, 0)},
	}
	for _, tc := range tests {
		if got := r.Due(tc.clock, tc.start, Ordinary); !got.Equal(tc.want) {
			t.Errorf("%s: Due(%s, %s) = %s, want %s", tc.why, tc.clock, tc.start, got.In(cst), tc.want)
		}
	}
}

func TestDueDurationOverride(t *testing.T) {
	p := defaultPolicy()
	p.ReviewAfter, p.ProcessAfter, p.ExpireAfter = 20*time.Second, 30*time.Second, 40*time.Second
	r := Deadlines{Policy: p, Calendar: testCalendar(t)}
	start := at(2026, 2, 13, 23, 59) // just before a holiday: durations ignore the calendar
	for clock, want := range map[Clock]time.Duration{ClockReview: 20 * time.Second, ClockProcessing: 30 * time.Second, ClockExpiry: 40 * time.Second} {
		if got := r.Due(clock, start, Ordinary).Sub(start); got != want {
			t.Errorf("%s: due after %s, want %s", clock, got, want)
		}
	}
}

func TestDeadlineOf(t *testing.T) {
	r := Deadlines{Policy: defaultPolicy(), Calendar: testCalendar(t)}
	created := at(2026, 3, 2, 9, 0)
	ev := func(d, h int, typ EventType, from, to State) Event {
		return Event{At: at(2026, 3, d, h, 0), Type: typ, Actor: "x", From: from, To: to}
	}
	tests := []struct {
		why       string
		state     State
		events    []Event
		wantClock Clock
		wantDue   time.Time
	}{
		{"incomplete: expiry from creation", "incomplete", []Event{ev(2, 9, "created", "", "incomplete")}, ClockExpiry, at(2026, 3, 17, 9, 0)},
		{"asked for more: expiry restarts at the need_more", "incomplete",
			[]Event{ev(2, 9, "created", "", "incomplete"), ev(3, 9, "state", "incomplete", "pending_review"), ev(5, 10, "need_more", "pending_review", "incomplete")},
			ClockExpiry, at(2026, 3, 20, 10, 0)},
		{"review from completeness", "pending_review",
			[]Event{ev(2, 9, "created", "", "incomplete"), ev(3, 9, "state", "incomplete", "pending_review")},
			ClockReview, time.Date(2026, 3, 6, 23, 59, 59, 0, cst)},
		{"processing from acceptance", "accepted",
			[]Event{ev(3, 9, "state", "incomplete", "pending_review"), ev(4, 9, "accept", "pending_review", "accepted")},
			ClockProcessing, time.Date(2026, 3, 11, 23, 59, 59, 0, cst)},
		{"waiting for the author pauses the clock", "pending_review",
			[]Event{ev(3, 9, "state", "incomplete", "pending_review"), ev(4, 9, "notify_author", "", "")},
			ClockNone, time.Time{}},
		{"the author's pause (Wed→Mon, 3 business days) is added", "pending_review",
			[]Event{ev(3, 9, "state", "incomplete", "pending_review"), ev(4, 9, "notify_author", "", ""), ev(9, 9, "author_replied", "", "")},
			ClockReview, time.Date(2026, 3, 11, 23, 59, 59, 0, cst)},
		{"resolved: no deadline", "resolved",
			[]Event{ev(4, 9, "accept", "pending_review", "accepted"), ev(5, 9, "resolve", "accepted", "resolved")},
			ClockNone, time.Time{}},
	}
	for _, tc := range tests {
		c := &Case{ID: "TS-2026-000001", State: tc.state, CreatedAt: created, Events: tc.events}
		dl, ok := r.Of(c)
		if ok != (tc.wantClock != ClockNone) || dl.Clock != tc.wantClock || !dl.Due.Equal(tc.wantDue) {
			t.Errorf("%s: got %v %s %s, want %s %s", tc.why, ok, dl.Clock, dl.Due.In(cst), tc.wantClock, tc.wantDue)
		}
	}
}

// A major case (重大投诉) gets the shorter deadlines: the reminders and escalations
// must follow the deadline the desk promised, not the ordinary one.
func TestDeadlineOfMajorCase(t *testing.T) {
	p := defaultPolicy()
	p.MajorReviewDays, p.MajorProcessDays = 1, 2
	r := Deadlines{Policy: p, Calendar: testCalendar(t)}
	c := &Case{State: "pending_review", Severity: "major", CreatedAt: at(2026, 3, 2, 9, 0),
		Events: []Event{{At: at(2026, 3, 3, 9, 0), Type: "state", From: "incomplete", To: "pending_review"}}}
	d, ok := r.Of(c)
	if !ok || !d.Due.Equal(time.Date(2026, 3, 4, 23, 59, 59, 0, cst)) {
		t.Errorf("major review deadline = %v, want the end of the next business day", d.Due)
	}
	c.Severity = "ordinary"
	if d, _ := r.Of(c); !d.Due.Equal(time.Date(2026, 3, 6, 23, 59, 59, 0, cst)) {
		t.Errorf("ordinary review deadline = %v", d.Due)
	}
}

// A major case's deadline from Due and from Of agree: intake, the scheduler and stats
// ask the same function.
func TestDueAndOfAgreeForMajorCases(t *testing.T) {
	p := defaultPolicy()
	p.MajorReviewDays, p.MajorProcessDays = 1, 2
	r := Deadlines{Policy: p, Calendar: testCalendar(t)}
	start := at(2026, 3, 3, 9, 0)
	c := &Case{State: Accepted, Severity: Major, CreatedAt: at(2026, 3, 2, 9, 0),
		Events: []Event{{At: start, Type: EventOf(Accept), From: PendingReview, To: Accepted}}}
	d, _ := r.Of(c)
	if want := r.Due(ClockProcessing, start, Major); !d.Due.Equal(want) || want.Equal(r.Due(ClockProcessing, start, Ordinary)) {
		t.Errorf("Of %v, Due %v: a major case must have its own, shorter deadline", d.Due, want)
	}
}

// A silent author does not freeze the case: the pause ends when the author's time does
// (AuthorDue), and the review deadline is the ordinary one extended by that pause. Without
// an AuthorDue (a record from before it existed) the case stays paused.
func TestSilentAuthorEndsThePause(t *testing.T) {
	r := Deadlines{Policy: defaultPolicy(), Calendar: testCalendar(t)}
	authorDue := at(2026, 3, 11, 9, 0) // notified Wednesday 03-04, 7 days to answer
	c := &Case{ID: "TS-2026-000001", State: PendingReview, CreatedAt: at(2026, 3, 2, 9, 0), AwaitingAuthor: true, AuthorDue: &authorDue,
		Events: []Event{
			{At: at(2026, 3, 3, 9, 0), Type: EventState, From: Incomplete, To: PendingReview},
			{At: at(2026, 3, 4, 9, 0), Type: EventOf(NotifyAuthor)},
		}}
	dl, ok := r.Of(c)
	// Review due Friday 03-06 without the pause; the pause Wed 03-04 → Wed 03-11 is 5
	// business days: due Friday 03-13.
	if !ok || dl.Clock != ClockReview || !dl.Due.Equal(time.Date(2026, 3, 13, 23, 59, 59, 0, cst)) {
		t.Errorf("silent author: %v %s due %s, want the review clock due 2026-03-13 23:59:59", ok, dl.Clock, dl.Due.In(cst))
	}
	// A late answer changes nothing: the author's time was up.
	c.Events = append(c.Events, Event{At: at(2026, 3, 16, 9, 0), Type: EventOf(AuthorReplied)})
	c.AwaitingAuthor = false
	if late, _ := r.Of(c); !late.Due.Equal(dl.Due) {
		t.Errorf("an answer after the author's time moved the deadline: %s, want %s", late.Due.In(cst), dl.Due.In(cst))
	}
	c.AuthorDue, c.AwaitingAuthor = nil, true
	c.Events = c.Events[:2]
	if _, ok := r.Of(c); ok {
		t.Error("without an AuthorDue the case is paused until the author answers")
	}
}
