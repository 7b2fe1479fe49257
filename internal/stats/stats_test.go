package stats_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/calendar"
	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/stats"
	"github.com/complaintd/complaintd/internal/store"
)

var cst = time.FixedZone("CST", 8*3600)

func testCalendar(t testing.TB) *calendar.Calendar {
	cal, err := calendar.New("Asia/Shanghai", []string{"saturday", "sunday"},
		[]string{"2026-01-01", "2026-01-02", "2026-01-03", "2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23"},
		[]string{"2026-01-04", "2026-02-14", "2026-02-28"})
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

// expected is what the generator knows about the cases it made, tallied as it goes,
// without package stats' code.
type expected struct {
	cases                    int
	byState, byKind, byApp   map[string]int
	byOutcome, missing       map[string]int
	ack, decide, resolve     []time.Duration
	reviewBreach, procBreach int
	breached                 int
	settled, met             int
	accepted                 int
	scores                   [5]int
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// generate makes n cases with a seeded RNG; every case's path through the states is
// chosen at random and the expected figures follow from the choices.
func generate(t testing.TB, n int, now time.Time, cal *calendar.Calendar, since time.Time) ([]*cases.Case, *expected) {
	rng := rand.New(rand.NewPCG(42, uint64(n)))
	ex := &expected{byState: map[string]int{}, byKind: map[string]int{}, byApp: map[string]int{}, byOutcome: map[string]int{}, missing: map[string]int{}}
	kinds := cases.ContentKinds()
	apps := []cases.ApplicantType{cases.Individual, cases.Organisation, cases.Entrusted}
	codes := []cases.Kind{cases.IDCard, cases.BusinessLicense, cases.WorkID, cases.WithdrawalLetter, cases.ReasonProof}
	base := time.Date(2025, 12, 1, 0, 0, 0, 0, cst)
	span := now.Sub(base)
	cs := make([]*cases.Case, 0, n)
	for i := 0; i < n; i++ {
		created := base.Add(time.Duration(rng.Int64N(int64(span - 30*24*time.Hour))))
		c := &cases.Case{ID: fmt.Sprintf("TS-2026-%06d", i+1), CreatedAt: created, Complainant: "x@example.com",
			Applicant: cases.Party{Type: apps[rng.IntN(len(apps))]},
			Request:   cases.Request{ContentKind: kinds[rng.IntN(len(kinds))]}}
		in := !created.Before(since)
		ev := func(at time.Time, typ cases.EventType, from, to cases.State) {
			c.Events = append(c.Events, cases.Event{At: at, Type: typ, Actor: "gen", From: from, To: to})
		}
		ev(created, "created", "", "incomplete")
		var ack time.Duration
		if rng.IntN(10) < 8 {
			ack = time.Duration(1+rng.IntN(600)) * time.Second
			ev(created.Add(ack), "reply_sent", "", "")
		}
		path := rng.IntN(8)
		state, outcome := cases.Incomplete, "open"
		var completed, decided, accepted, resolved time.Time
		if path >= 2 { // became complete
			completed = created.Add(time.Duration(1+rng.IntN(72)) * time.Hour)
			ev(completed, "state", "incomplete", "pending_review")
			state = "pending_review"
		}
		switch path {
		case 0:
			for _, code := range codes {
				if rng.IntN(2) == 0 {
					c.Missing = append(c.Missing, code)
				}
			}
		case 1:
			c.Missing = []cases.Kind{codes[rng.IntN(len(codes))]}
			ev(created.AddDate(0, 0, 15), "expire", "incomplete", "expired")
			state, outcome = "expired", "expired"
		case 2: // still pending
		case 3: // rejected
			decided = completed.Add(time.Duration(rng.IntN(8*24)) * time.Hour)
			ev(decided, "reject", "pending_review", "rejected")
			state, outcome = "rejected", "rejected"
		case 4: // accepted, open
			decided = completed.Add(time.Duration(rng.IntN(8*24)) * time.Hour)
			accepted = decided
			ev(decided, "accept", "pending_review", "accepted")
			state = "accepted"
		case 5, 6: // resolved, sometimes closed afterwards
			decided = completed.Add(time.Duration(rng.IntN(8*24)) * time.Hour)
			accepted = decided
			ev(decided, "accept", "pending_review", "accepted")
			resolved = decided.Add(time.Duration(rng.IntN(12*24)) * time.Hour)
			ev(resolved, "resolve", "accepted", "resolved")
			state, outcome = "resolved", "resolved"
			if path == 6 {
				ev(resolved.Add(time.Hour), "close", "resolved", "closed")
				state = "closed"
			}
			if rng.IntN(2) == 0 {
				s := 1 + rng.IntN(5)
				c.SetSatisfaction(s)
				if in {
					ex.scores[s-1]++
				}
			}
		case 7:
			ev(completed.Add(time.Hour), "withdraw", "pending_review", "withdrawn")
			state, outcome = "withdrawn", "withdrawn"
		}
		c.State = state
		cs = append(cs, c)
		if !in {
			continue
		}
		ex.cases++
		ex.byState[string(state)]++
		ex.byKind[string(c.Request.ContentKind)]++
		ex.byApp[string(c.Applicant.Type)]++
		ex.byOutcome[outcome]++
		for _, m := range c.Missing {
			ex.missing[string(m)]++
		}
		if ack > 0 {
			ex.ack = append(ex.ack, ack)
		}
		if !decided.IsZero() {
			ex.decide = append(ex.decide, decided.Sub(completed))
		}
		if !resolved.IsZero() {
			ex.resolve = append(ex.resolve, resolved.Sub(created))
		}
		b := false
		if !completed.IsZero() {
			due := cal.AddBusinessDays(completed, 3)
			if (!decided.IsZero() && decided.After(due)) || (decided.IsZero() && state == "pending_review" && now.After(due)) {
				ex.reviewBreach++
				ex.settled++
				b = true
			} else if !decided.IsZero() {
				ex.settled++
				ex.met++
			}
		}
		if !accepted.IsZero() {
			ex.accepted++
			due := cal.AddBusinessDays(accepted, 5)
			if (!resolved.IsZero() && resolved.After(due)) || (resolved.IsZero() && state == "accepted" && now.After(due)) {
				ex.procBreach++
				ex.settled++
				b = true
			} else if !resolved.IsZero() {
				ex.settled++
				ex.met++
			}
		}
		if b {
			ex.breached++
		}
	}
	return cs, ex
}

func writeStore(t testing.TB, cs []*cases.Case) *store.Store {
	st, err := store.Open(filepath.Join(t.TempDir(), "complaintd.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.MarkCurrent(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(cs); i += 2000 {
		batch := cs[i:min(i+2000, len(cs))]
		if err := st.Update(func(tx *store.Tx) error {
			for _, c := range batch {
				for _, e := range c.Events {
					if err := tx.AppendEvent(c.ID, e); err != nil {
						return err
					}
				}
				if err := tx.PutCase(c); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// deadlines: review within 3 business days, processing within 5 (the generator's
// expectations count with the same numbers, independently).
func deadlines(cal *calendar.Calendar) *cases.Deadlines {
	return &cases.Deadlines{Policy: cases.DeadlinePolicy{ReviewDays: 3, ProcessDays: 5}, Calendar: cal}
}

func TestReportOverGeneratedStore(t *testing.T) {
	cal := testCalendar(t)
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, cst)
	// The generator draws the same cases whatever -since is (only its expectations
	// differ), so one store serves both reports: writing 10,000 cases is most of the
	// test's time.
	cs, _ := generate(t, 10000, now, cal, time.Time{})
	st := writeStore(t, cs)
	defer st.Close()
	for _, tc := range []struct {
		why   string
		since time.Time
	}{
		{"every case", time.Time{}},
		{"-since keeps only later cases", time.Date(2026, 2, 1, 0, 0, 0, 0, cst)},
	} {
		_, ex := generate(t, 10000, now, cal, tc.since)
		r, err := stats.FromStore(st, stats.Options{Since: tc.since, Now: now, Deadlines: deadlines(cal)})
		if err != nil {
			t.Fatal(err)
		}
		if tc.since.IsZero() && ex.cases != 10000 {
			t.Fatalf("generator counted %d cases", ex.cases)
		}
		checkInt := func(name string, got, want int) {
			if got != want {
				t.Errorf("%s: %s = %d, want %d", tc.why, name, got, want)
			}
		}
		checkMap := func(name string, got, want map[string]int) {
			if len(got) != len(want) {
				t.Errorf("%s: %s has %d keys, want %d: %v vs %v", tc.why, name, len(got), len(want), got, want)
			}
			for k, v := range want {
				checkInt(name+"["+k+"]", got[k], v)
			}
		}
		checkInt("cases", r.Cases, ex.cases)
		checkMap("by_state", r.ByState, ex.byState)
		checkMap("by_kind", r.ByKind, ex.byKind)
		checkMap("by_applicant", r.ByApplicant, ex.byApp)
		checkMap("by_outcome", r.ByOutcome, ex.byOutcome)
		checkInt("acknowledged", r.Acknowledged, len(ex.ack))
		checkInt("review breaches", r.ReviewBreaches, ex.reviewBreach)
		checkInt("processing breaches", r.ProcessingBreaches, ex.procBreach)
		checkInt("sla breaches", r.SLABreaches, ex.breached)
		checkInt("deadlines settled", r.Deadlines.Settled, ex.settled)
		checkInt("deadlines met", r.Deadlines.Met, ex.met)
		checkInt("accepted", r.Accepted, ex.accepted)
		if want := math.Round(float64(ex.met)/float64(ex.settled)*10000) / 10000; r.Deadlines.MetShare != want || ex.met == 0 || ex.met == ex.settled {
			t.Errorf("%s: met share %v, want %v (and some met, some missed)", tc.why, r.Deadlines.MetShare, want)
		}
		if o := r.DeadlinesBySeverity["ordinary"]; o != r.Deadlines || len(r.DeadlinesBySeverity) != 1 {
			t.Errorf("%s: by severity %v, want all ordinary %v", tc.why, r.DeadlinesBySeverity, r.Deadlines)
		}
		for name, pair := range map[string][2]time.Duration{
			"median ack": {time.Duration(r.MedianAck), median(ex.ack)}, "median decide": {time.Duration(r.MedianDecide), median(ex.decide)},
			"median resolve": {time.Duration(r.MedianResolve), median(ex.resolve)},
		} {
			if pair[0] != pair[1] || pair[1] == 0 {
				t.Errorf("%s: %s = %s, want %s (non-zero)", tc.why, name, pair[0], pair[1])
			}
		}
		gotMissing := map[string]int{}
		for i, m := range r.TopMissing {
			gotMissing[m.Key] = m.Count
			if i > 0 && r.TopMissing[i-1].Count < m.Count {
				t.Errorf("top missing not sorted: %v", r.TopMissing)
			}
		}
		checkMap("missing", gotMissing, ex.missing)
		if r.Satisfaction.ByScore != ex.scores {
			t.Errorf("%s: scores %v, want %v", tc.why, r.Satisfaction.ByScore, ex.scores)
		}
		if ex.reviewBreach == 0 || ex.procBreach == 0 {
			t.Errorf("the generator must produce breaches to test them")
		}
	}
}

// BenchmarkFromStore100k measures `complaintd stats` over 100,000 cases:
//
//	go test -run XXX -bench FromStore100k -benchtime 3x ./internal/stats/
func BenchmarkFromStore100k(b *testing.B) {
	cal := testCalendar(b)
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, cst)
	cs, _ := generate(b, 100000, now, cal, time.Time{})
	st := writeStore(b, cs)
	defer st.Close()
	cs = nil // the CLI does not hold 100,000 cases in memory: neither does the measurement
	runtime.GC()
	cpu := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := stats.FromStore(st, stats.Options{Now: now, Deadlines: deadlines(cal)})
		if err != nil || r.Cases != 100000 {
			b.Fatal(err, r.Cases)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// Reports group by department and severity (issue 7); a case without either counts
// under "-" and "ordinary".
func TestByDepartmentAndSeverity(t *testing.T) {
	a := stats.New(stats.Options{})
	a.Add(&cases.Case{ID: "TS-2026-000001", State: "incomplete", Department: "财经", Severity: "major"})
	a.Add(&cases.Case{ID: "TS-2026-000002", State: "incomplete", Department: "财经"})
	a.Add(&cases.Case{ID: "TS-2026-000003", State: "incomplete"})
	r := a.Report()
	if r.ByDepartment["财经"] != 2 || r.ByDepartment["-"] != 1 || r.BySeverity["major"] != 1 || r.BySeverity["ordinary"] != 2 {
		t.Errorf("by department %v, by severity %v", r.ByDepartment, r.BySeverity)
	}
}

// A major case is judged against its own (shorter) deadlines: the same timeline
// breaches for a major case and not for an ordinary one.
func TestMajorCasesUseTheirOwnDeadlines(t *testing.T) {
	cal := testCalendar(t)
	dl := &cases.Deadlines{Policy: cases.DeadlinePolicy{ReviewDays: 3, ProcessDays: 5, MajorReviewDays: 1, MajorProcessDays: 2}, Calendar: cal}
	completed := time.Date(2026, 3, 2, 10, 0, 0, 0, cst) // a Monday
	decided := completed.AddDate(0, 0, 2)                // Wednesday: 2 business days
	resolved := decided.AddDate(0, 0, 3)                 // Saturday: 3 business days
	mk := func(id string, sev cases.Severity) *cases.Case {
		return &cases.Case{ID: id, State: cases.Resolved, Severity: sev, CreatedAt: completed.Add(-time.Hour), Events: []cases.Event{
			{At: completed.Add(-time.Hour), Type: cases.EventCreated, To: cases.Incomplete},
			{At: completed, Type: cases.EventState, From: cases.Incomplete, To: cases.PendingReview},
			{At: decided, Type: cases.EventOf(cases.Accept), From: cases.PendingReview, To: cases.Accepted},
			{At: resolved, Type: cases.EventOf(cases.Resolve), From: cases.Accepted, To: cases.Resolved},
		}}
	}
	a := stats.New(stats.Options{Now: resolved.AddDate(0, 0, 30), Deadlines: dl})
	a.Add(mk("TS-2026-000001", cases.Ordinary))
	a.Add(mk("TS-2026-000002", cases.Major))
	r := a.Report()
	if r.ReviewBreaches != 1 || r.ProcessingBreaches != 1 || r.SLABreaches != 1 || len(r.Breaches) != 1 || r.Breaches[0] != "TS-2026-000002" {
		t.Errorf("review %d processing %d sla %d breached %v; want 1 1 1 [TS-2026-000002]",
			r.ReviewBreaches, r.ProcessingBreaches, r.SLABreaches, r.Breaches)
	}
	// Deadlines met: both of the ordinary case's, neither of the major case's.
	want := map[string]stats.DeadlineCount{"ordinary": {Settled: 2, Met: 2, MetShare: 1}, "major": {Settled: 2}}
	if r.Deadlines != (stats.DeadlineCount{Settled: 4, Met: 2, MetShare: 0.5}) || len(r.DeadlinesBySeverity) != 2 ||
		r.DeadlinesBySeverity["ordinary"] != want["ordinary"] || r.DeadlinesBySeverity["major"] != want["major"] {
		t.Errorf("deadlines met %+v by severity %+v; want 2 of 4, ordinary 2 of 2, major 0 of 2", r.Deadlines, r.DeadlinesBySeverity)
	}
}

// The figures survive the control socket: what the daemon writes, the CLI reads back
// (fractional seconds included), and an empty breach list is [] — scripts iterate it.
func TestReportJSONRoundTrip(t *testing.T) {
	r := stats.New(stats.Options{Now: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}).Report()
	r.MedianAck = stats.Seconds(116 * time.Millisecond)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"breached_cases":[]`) || !strings.Contains(string(b), `"median_ack_seconds":0.116`) {
		t.Errorf("report JSON: %s", b)
	}
	var back stats.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("the CLI cannot read the daemon's figures: %v", err)
	}
	if back.MedianAck != r.MedianAck {
		t.Errorf("median ack %v after the round trip, want %v", time.Duration(back.MedianAck), time.Duration(r.MedianAck))
	}
}

// The weekly report's counts of cases ever accepted, ever appealed and surveyed come
// from here (they were counted a second time in the scheduler): a case rejected,
// appealed and then accepted counts once in each of accepted and appealed, whatever
// its state now.
func TestEverAcceptedAppealedSurveyed(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, cst)
	ev := func(h int, typ cases.EventType, from, to cases.State) cases.Event {
		return cases.Event{At: t0.Add(time.Duration(h) * time.Hour), Type: typ, From: from, To: to}
	}
	a := stats.New(stats.Options{Now: t0.AddDate(0, 0, 7)})
	a.Add(&cases.Case{ID: "TS-2026-000001", State: cases.Closed, CreatedAt: t0, Events: []cases.Event{
		ev(0, cases.EventCreated, "", cases.Incomplete), ev(1, cases.EventState, cases.Incomplete, cases.PendingReview),
		ev(2, cases.EventOf(cases.Reject), cases.PendingReview, cases.Rejected), ev(3, cases.EventOf(cases.Appeal), cases.Rejected, cases.Appealed),
		ev(4, cases.EventOf(cases.Accept), cases.Appealed, cases.Accepted), ev(5, cases.EventOf(cases.Resolve), cases.Accepted, cases.Resolved),
		ev(6, cases.EventSurveySent, "", ""), ev(7, cases.EventOf(cases.Close), cases.Resolved, cases.Closed),
	}})
	a.Add(&cases.Case{ID: "TS-2026-000002", State: cases.Incomplete, CreatedAt: t0, Events: []cases.Event{ev(0, cases.EventCreated, "", cases.Incomplete)}})
	r := a.Report()
	if r.Accepted != 1 || r.Appealed != 1 || r.Satisfaction.Surveyed != 1 {
		t.Errorf("accepted %d appealed %d surveyed %d, want 1 each", r.Accepted, r.Appealed, r.Satisfaction.Surveyed)
	}
}

// cpuTime is the process's user and system CPU time: on a shared machine wall time
// measures the neighbours too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
