package stats_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/stats"
)

// mv is a move of a case at t from one state to another, as the executor records it.
func mv(t time.Time, typ cases.EventType, from, to cases.State) cases.Event {
	return cases.Event{At: t, Type: typ, Actor: "li.bianji@desk.example.cn", From: from, To: to}
}

func day(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, cst) }

// caseWith is a case created at created whose log holds moves; its state is the last
// move's.
func caseWith(id string, created time.Time, moves ...cases.Event) *cases.Case {
	c := &cases.Case{ID: id, State: cases.Incomplete, CreatedAt: created,
		Events: []cases.Event{{At: created, Type: cases.EventCreated, Actor: "desk", To: cases.Incomplete}}}
	for _, e := range moves {
		c.Events = append(c.Events, e)
		c.State = e.To
	}
	return c
}

// fromStoreAndAcc computes the report both ways the desk does: from the facts the
// store keeps (stats, the weekly report's figures) and from whole cases (Add).
func fromStoreAndAcc(t *testing.T, o stats.Options, cs ...*cases.Case) []stats.Report {
	t.Helper()
	st := writeStore(t, cs)
	defer st.Close()
	r, err := stats.FromStore(st, o)
	if err != nil {
		t.Fatal(err)
	}
	a := stats.New(o)
	for _, c := range cs {
		a.Add(c)
	}
	return []stats.Report{r, a.Report()}
}

// A case under review again — appealed after a rejection, or reopened by staff — and
// left past its new review deadline is a breach: the scheduler escalated it and the
// digest lists it as overdue (cases.Deadlines.Of starts the clock at the appeal or
// the reopening). Stats judged only the first review, settled in time, and counted
// no breach.
func TestCaseUnderReviewAgainPastItsDeadlineIsABreach(t *testing.T) {
	cal := testCalendar(t)
	dl := deadlines(cal)
	now := day(time.March, 16, 10) // Monday
	appealed := caseWith("TS-2026-000001", day(time.March, 2, 9),
		mv(day(time.March, 2, 10), cases.EventState, cases.Incomplete, cases.PendingReview),
		mv(day(time.March, 3, 10), cases.EventOf(cases.Reject), cases.PendingReview, cases.Rejected), // in time
		mv(day(time.March, 4, 10), cases.EventOf(cases.Appeal), cases.Rejected, cases.Appealed))      // due 03-09, still under appeal
	reopened := caseWith("TS-2026-000002", day(time.March, 2, 9),
		mv(day(time.March, 2, 10), cases.EventState, cases.Incomplete, cases.PendingReview),
		mv(day(time.March, 3, 10), cases.EventOf(cases.Reject), cases.PendingReview, cases.Rejected),
		mv(day(time.March, 4, 10), cases.EventOf(cases.Reopen), cases.Rejected, cases.PendingReview)) // due 03-09, not decided
	for _, c := range []*cases.Case{appealed, reopened} {
		if d, ok := dl.Of(c); !ok || !d.Due.Before(now) {
			t.Fatalf("%s: the desk's own deadline %v (running %v) has not passed at %v", c.ID, d.Due, ok, now)
		}
	}
	for i, r := range fromStoreAndAcc(t, stats.Options{Now: now, Deadlines: dl}, appealed, reopened) {
		if r.ReviewBreaches != 2 || r.SLABreaches != 2 || !slices.Equal(r.Breaches, []string{"TS-2026-000001", "TS-2026-000002"}) {
			t.Errorf("report %d: review breaches %d, SLA breaches %d, breached %v; want 2, 2, both cases (overdue under review again)",
				i, r.ReviewBreaches, r.SLABreaches, r.Breaches)
		}
	}
}

// A case sent back for documents (补充) is complete again when the documents come:
// its review deadline and its time to decide count from then, as the desk's deadline
// does (cases.Deadlines.Of: the last move into pending_review). Stats counted from the
// first completion: a decision two weeks later but the day after the documents came
// was a breach and took 15 days, and a case just complete again was overdue.
func TestReviewCountsFromTheCompletionTheDecisionAnswered(t *testing.T) {
	cal := testCalendar(t)
	dl := deadlines(cal)
	created := day(time.March, 2, 9)
	backAndForth := func(id string, more ...cases.Event) *cases.Case {
		moves := []cases.Event{
			mv(day(time.March, 2, 10), cases.EventState, cases.Incomplete, cases.PendingReview),
			mv(day(time.March, 3, 10), cases.EventOf(cases.NeedMore), cases.PendingReview, cases.Incomplete),
			mv(day(time.March, 16, 10), cases.EventState, cases.Incomplete, cases.PendingReview),
		}
		return caseWith(id, created, append(moves, more...)...)
	}
	decided := backAndForth("TS-2026-000001", mv(day(time.March, 17, 10), cases.EventOf(cases.Accept), cases.PendingReview, cases.Accepted))
	pending := backAndForth("TS-2026-000002")
	now := day(time.March, 18, 10) // the review of 03-16 is due 03-19
	for i, r := range fromStoreAndAcc(t, stats.Options{Now: now, Deadlines: dl}, decided, pending) {
		if r.ReviewBreaches != 0 || r.SLABreaches != 0 || len(r.Breaches) != 0 {
			t.Errorf("report %d: review breaches %d, SLA breaches %d %v; want none (decided the day after the documents came, the other still in time)",
				i, r.ReviewBreaches, r.SLABreaches, r.Breaches)
		}
		if r.Deadlines != (stats.DeadlineCount{Settled: 1, Met: 1, MetShare: 1}) {
			t.Errorf("report %d: deadlines %+v, want the one review settled and met", i, r.Deadlines)
		}
		if r.Decided != 1 || time.Duration(r.MedianDecide) != 24*time.Hour {
			t.Errorf("report %d: decided %d in %v, want 1 in 24h (from the completion it answered)", i, r.Decided, time.Duration(r.MedianDecide))
		}
	}
}

// Deadlines on the calendar: a case complete on the Friday before the Spring Festival
// has the make-up Saturday 02-14 and then Tuesday and Wednesday after the holidays; a
// decision on the make-up Saturday or on the last day (Wednesday 02-25, 23:00 in
// Shanghai, 15:00 UTC) is in time, one on Thursday is late.
func TestReviewDeadlineAcrossTheSpringFestival(t *testing.T) {
	cal := testCalendar(t)
	dl := deadlines(cal)
	complete := day(time.February, 13, 10)
	mk := func(id string, decided time.Time) *cases.Case {
		return caseWith(id, complete.Add(-time.Hour),
			mv(complete, cases.EventState, cases.Incomplete, cases.PendingReview),
			mv(decided.UTC(), cases.EventOf(cases.Reject), cases.PendingReview, cases.Rejected))
	}
	cs := []*cases.Case{
		mk("TS-2026-000001", day(time.February, 14, 10)),
		mk("TS-2026-000002", day(time.February, 25, 23)),
		mk("TS-2026-000003", day(time.February, 26, 9)),
	}
	for i, r := range fromStoreAndAcc(t, stats.Options{Now: day(time.March, 2, 9), Deadlines: dl}, cs...) {
		if r.ReviewBreaches != 1 || !slices.Equal(r.Breaches, []string{"TS-2026-000003"}) || r.Deadlines.Met != 2 {
			t.Errorf("report %d: review breaches %d %v, met %d; want only the Thursday decision late", i, r.ReviewBreaches, r.Breaches, r.Deadlines.Met)
		}
	}
}

// A case is acknowledged by the first reply sent to its complainant (回执), not by the
// staff notification the dispatcher sends first (queued before the acknowledgement,
// in the same transaction): a complainant whose acknowledgement was held by the
// rate limit, or whose mail server deferred it for two hours, counted as acknowledged
// within a minute.
func TestAcknowledgedByTheComplainantsReplyNotTheStaffNotification(t *testing.T) {
	created := day(time.March, 2, 9)
	sent := func(after time.Duration, kind string) cases.Event {
		return cases.Event{At: created.Add(after), Type: cases.EventReplySent, Actor: "desk", Note: kind}
	}
	complete := mv(created, cases.EventState, cases.Incomplete, cases.PendingReview)
	suppressed := caseWith("TS-2026-000001", created, complete)
	suppressed.Events = append(suppressed.Events,
		cases.Event{At: created, Type: cases.EventReplySuppressed, Actor: "desk", Note: "rate limit: 5 automatic replies to this address within 1h0m0s"},
		sent(time.Minute, "staff_notification"))
	deferred := caseWith("TS-2026-000002", created, complete)
	deferred.Events = append(deferred.Events, sent(time.Minute, "staff_notification"), sent(2*time.Hour, "acknowledgement"))
	for i, r := range fromStoreAndAcc(t, stats.Options{Now: day(time.March, 3, 9)}, suppressed, deferred) {
		if r.Acknowledged != 1 || time.Duration(r.MedianAck) != 2*time.Hour {
			t.Errorf("report %d: %d acknowledged in %v; want 1 in 2h (the staff notification acknowledges nobody)", i, r.Acknowledged, time.Duration(r.MedianAck))
		}
	}
	var csv strings.Builder
	if err := stats.WriteCSV(&csv, []*cases.Case{suppressed, deferred}, cst); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(csv.String()), "\r\n")
	if len(rows) != 3 || strings.Contains(rows[1], "2026-03-02 09:01:00") || !strings.Contains(rows[2], "2026-03-02 11:00:00") {
		t.Errorf("acknowledged_at in the CSV: %q", rows)
	}
}
