// Package stats computes the desk's figures from the store: cases by state, content
// kind, applicant type and outcome; median times to acknowledge, decide and resolve;
// deadline (SLA) breaches; the documents most often missing; satisfaction scores.
// The daily digest, the weekly report and `complaintd stats` all read them from here,
// so the three never disagree.
//
// Invariants: it only reads (one View transaction); it never sees attachment content
// and its output carries case numbers and counts, no personal data. The figures
// depend only on the cases and on Options (the clock is Options.Now), so a test can
// compute the same numbers independently.
//
// Definitions, all from the event log's state changes (Event.To):
//   - acknowledged: the first "reply_sent" event of a mail to the complainant (not a
//     staff notification: cases.AcknowledgesComplainant); time to acknowledge counts
//     from created_at.
//   - decided: the first move to accepted or rejected. completed: the start of the
//     review that decision answered — the last move to pending_review before it (a case
//     sent back for documents is complete again when they come), none when it was
//     decided while incomplete. Time to decide counts from completed (from created_at
//     when a case was decided without being complete, e.g. rejected while incomplete).
//   - resolved: the first move to resolved; time to resolve counts from created_at.
//   - a review breach: the first decision after the review deadline (Due(ClockReview,
//     completed)), or a review running now (the first, or again after an appeal or a
//     reopening) past its deadline, counted from the start of that review as
//     Deadlines.Of counts it. A processing breach: the first resolution after
//     Due(ClockProcessing, first accepted), or still accepted past the deadline of the
//     last acceptance. Pauses while waiting for an author are not subtracted here.
//     review_breaches and processing_breaches count deadlines missed; sla_breaches and
//     breached_cases the cases with at least one.
//   - outcome: resolved, rejected, withdrawn, expired, closed (closed with neither a
//     resolution nor a rejection) or open.
//   - deadlines met: each review and processing deadline that is settled counts once —
//     met when the decision (review) or resolution (processing) came by its due time,
//     missed when it is a breach as above. A deadline still running and not yet passed,
//     or whose case left review otherwise (withdrawn, expired), is not settled. Each
//     case is judged by its own severity's deadlines (cases.Deadlines.Due).
//   - accepted and appealed: cases that were ever accepted / ever appealed; surveyed:
//     cases with a survey_sent event.
//   - medians of an even count are the mean of the two middle values.
package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/store"
)

// Options select and date the figures.
type Options struct {
	// Since and Until bound the cases counted by created_at: Since ≤ created_at < Until.
	// Zero values leave that end open.
	Since, Until time.Time
	// Now is the time the figures are computed at (open deadlines are judged against
	// it). Zero: time.Now().
	Now time.Time
	// Deadlines computes due dates (a major case's own); nil: no breaches are counted.
	Deadlines *cases.Deadlines
	// MaxBreaches caps the case numbers listed in Report.Breaches (0: 50).
	MaxBreaches int
}

// Seconds is a duration shown in JSON as (fractional) seconds.
type Seconds time.Duration

// MarshalJSON writes the duration in seconds.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return json.Marshal(math.Round(time.Duration(s).Seconds()*1000) / 1000)
}

// String is the duration in Go notation, rounded to the second.
func (s Seconds) String() string { return time.Duration(s).Round(time.Second).String() }

// UnmarshalJSON reads what MarshalJSON wrote: the CLI reads the daemon's figures over
// the control socket.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("seconds: %w", err)
	}
	*s = Seconds(time.Duration(f * float64(time.Second)))
	return nil
}

// Count is one code and how often it occurs.
type Count struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// Satisfaction summarises survey answers.
type Satisfaction struct {
	Surveyed  int     `json:"surveyed"` // cases the survey was sent for
	Responses int     `json:"responses"`
	Mean      float64 `json:"mean"`     // 0 when no responses
	ByScore   [5]int  `json:"by_score"` // index 0 is score 1
}

// DeadlineCount counts settled deadlines (see the package comment).
type DeadlineCount struct {
	Settled int `json:"settled"` // met + missed
	Met     int `json:"met"`
	// MetShare is Met/Settled rounded to four decimals; 0 when none is settled.
	MetShare float64 `json:"met_share"`
}

func (d *DeadlineCount) add(met bool) {
	d.Settled++
	if met {
		d.Met++
	}
}

func (d *DeadlineCount) share() {
	if d.Settled > 0 {
		d.MetShare = math.Round(float64(d.Met)/float64(d.Settled)*10000) / 10000
	}
}

// Report is every figure. Maps are keyed by codes (state, content kind, applicant
// type, outcome); lists are sorted by count, descending, then key.
type Report struct {
	Since       time.Time      `json:"since,omitzero"`
	Until       time.Time      `json:"until,omitzero"`
	GeneratedAt time.Time      `json:"generated_at"`
	Cases       int            `json:"cases"`
	ByState     map[string]int `json:"by_state"`
	ByKind      map[string]int `json:"by_content_kind"`
	ByApplicant map[string]int `json:"by_applicant_type"`
	ByOutcome   map[string]int `json:"by_outcome"`
	// ByDepartment ("-" for no department) and BySeverity (ordinary, major).
	ByDepartment map[string]int `json:"by_department"`
	BySeverity   map[string]int `json:"by_severity"`

	Acknowledged  int     `json:"acknowledged"`
	Decided       int     `json:"decided"`
	Accepted      int     `json:"accepted"` // ever accepted
	Appealed      int     `json:"appealed"` // ever appealed
	ResolvedCount int     `json:"resolved"`
	MedianAck     Seconds `json:"median_ack_seconds"`
	MedianDecide  Seconds `json:"median_decide_seconds"`
	MedianResolve Seconds `json:"median_resolve_seconds"`

	ReviewBreaches     int      `json:"review_breaches"`
	ProcessingBreaches int      `json:"processing_breaches"`
	SLABreaches        int      `json:"sla_breaches"` // cases with at least one breach
	Breaches           []string `json:"breached_cases"`
	// Deadlines are the review and processing deadlines met, in all and by severity
	// (ordinary, major), each case against its own severity's deadlines.
	Deadlines           DeadlineCount            `json:"deadlines"`
	DeadlinesBySeverity map[string]DeadlineCount `json:"deadlines_by_severity"`

	TopMissing   []Count      `json:"top_missing"`
	Satisfaction Satisfaction `json:"satisfaction"`
}

// Acc accumulates cases one at a time; Report computes the figures. It holds one
// duration per case and clock, so 100,000 cases cost a few MB.
type Acc struct {
	o                    Options
	r                    Report
	ack, decide, resolve []time.Duration
	missing              map[string]int
}

// New starts an accumulator.
func New(o Options) *Acc {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.MaxBreaches == 0 {
		o.MaxBreaches = 50
	}
	return &Acc{o: o, missing: map[string]int{}, r: Report{
		Since: o.Since, Until: o.Until, GeneratedAt: o.Now,
		ByState: map[string]int{}, ByKind: map[string]int{}, ByApplicant: map[string]int{}, ByOutcome: map[string]int{},
		ByDepartment: map[string]int{}, BySeverity: map[string]int{}, Breaches: []string{},
		DeadlinesBySeverity: map[string]DeadlineCount{},
	}}
}

// In reports whether a case created at t is in the selected period.
func (a *Acc) In(t time.Time) bool {
	return (a.o.Since.IsZero() || !t.Before(a.o.Since)) && (a.o.Until.IsZero() || t.Before(a.o.Until))
}

// Timeline is what the event log says happened to a case, first occurrences.
type Timeline = cases.Timeline

// TimelineOf reads a case's events (which must be loaded).
func TimelineOf(c *cases.Case) Timeline { return cases.TimelineOf(c.Events) }

// Outcome is the case's outcome code (see the package comment).
func Outcome(c *cases.Case, tl Timeline) string {
	f := cases.Facts{State: c.State, Timeline: tl}
	return f.Outcome()
}

// Add counts one case (with its events) if it is in the period.
func (a *Acc) Add(c *cases.Case) { a.AddFacts(c.Facts()) }

// AddFacts counts one case, known by its facts, if it is in the period.
func (a *Acc) AddFacts(f cases.Facts) {
	if !a.In(f.CreatedAt) {
		return
	}
	r := &a.r
	r.Cases++
	r.ByState[string(f.State)]++
	kind := f.ContentKind
	if kind == "" {
		kind = "unknown"
	}
	r.ByKind[string(kind)]++
	at := f.ApplicantType
	if at == "" {
		at = "unknown"
	}
	r.ByApplicant[string(at)]++
	dept := f.Department
	if dept == "" {
		dept = "-"
	}
	r.ByDepartment[dept]++
	sev := f.Severity
	if sev == "" {
		sev = "ordinary"
	}
	r.BySeverity[string(sev)]++
	tl := f.Timeline
	r.ByOutcome[f.Outcome()]++
	if !tl.Accepted.IsZero() {
		r.Accepted++
	}
	if tl.Appealed {
		r.Appealed++
	}
	if tl.Surveyed {
		r.Satisfaction.Surveyed++
	}
	if !tl.FirstReplySent.IsZero() {
		r.Acknowledged++
		a.ack = append(a.ack, tl.FirstReplySent.Sub(f.CreatedAt))
	}
	if !tl.Decided.IsZero() {
		r.Decided++
		from := tl.Completed
		if from.IsZero() || from.After(tl.Decided) {
			from = f.CreatedAt
		}
		a.decide = append(a.decide, tl.Decided.Sub(from))
	}
	if !tl.Resolved.IsZero() {
		r.ResolvedCount++
		a.resolve = append(a.resolve, tl.Resolved.Sub(f.CreatedAt))
	}
	if dl := a.o.Deadlines; dl != nil {
		breached := false
		st := f.State
		bySev := r.DeadlinesBySeverity[string(sev)]
		settle := func(met bool) {
			r.Deadlines.add(met)
			bySev.add(met)
		}
		miss := func(breaches *int) {
			*breaches++
			breached = true
			settle(false)
		}
		running := func(clock cases.Clock) bool {
			return !tl.ClockStarted.IsZero() && a.o.Now.After(dl.Due(clock, tl.ClockStarted, f.Severity))
		}
		// The first decision settles the review it answered.
		if !tl.Completed.IsZero() && !tl.Decided.IsZero() {
			if tl.Decided.After(dl.Due(cases.ClockReview, tl.Completed, f.Severity)) {
				miss(&r.ReviewBreaches)
			} else {
				settle(true)
			}
		}
		// A review running now — the first, or one after an appeal or a reopening,
		// which the scheduler escalates and the digest lists as overdue alike — is
		// missed once its deadline has passed.
		if (st == cases.PendingReview || st == cases.Appealed) && running(cases.ClockReview) {
			miss(&r.ReviewBreaches)
		}
		if !tl.Accepted.IsZero() && !tl.Resolved.IsZero() {
			if tl.Resolved.After(dl.Due(cases.ClockProcessing, tl.Accepted, f.Severity)) {
				miss(&r.ProcessingBreaches)
			} else {
				settle(true)
			}
		}
		if st == cases.Accepted && running(cases.ClockProcessing) {
			miss(&r.ProcessingBreaches)
		}
		if bySev.Settled > 0 {
			r.DeadlinesBySeverity[string(sev)] = bySev
		}
		if breached {
			r.SLABreaches++
			if len(r.Breaches) < a.o.MaxBreaches {
				r.Breaches = append(r.Breaches, f.ID)
			}
		}
	}
	for _, m := range f.Missing {
		a.missing[string(m)]++
	}
	if s := f.Satisfaction; s >= 1 && s <= 5 {
		r.Satisfaction.Responses++
		r.Satisfaction.ByScore[s-1]++
	}
}

// Report computes the figures from the cases added so far.
func (a *Acc) Report() Report {
	r := a.r
	r.MedianAck = Seconds(Median(a.ack))
	r.MedianDecide = Seconds(Median(a.decide))
	r.MedianResolve = Seconds(Median(a.resolve))
	r.TopMissing = Sorted(a.missing)
	if n := r.Satisfaction.Responses; n > 0 {
		sum := 0
		for i, k := range r.Satisfaction.ByScore {
			sum += (i + 1) * k
		}
		r.Satisfaction.Mean = math.Round(float64(sum)/float64(n)*100) / 100
	}
	sort.Strings(r.Breaches)
	r.Deadlines.share()
	bySev := make(map[string]DeadlineCount, len(r.DeadlinesBySeverity))
	for k, d := range r.DeadlinesBySeverity {
		d.share()
		bySev[k] = d
	}
	r.DeadlinesBySeverity = bySev
	return r
}

// Median of ds (sorted in place); 0 for none.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}

// Sorted turns a count map into a list, most frequent first, ties by key.
func Sorted(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{Key: k, Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// FromStore computes the report over every case in the store in one read transaction,
// from the cases' facts: nothing sealed is opened.
func FromStore(st *store.Store, o Options) (Report, error) {
	a := New(o)
	err := st.View(func(tx *store.Tx) error {
		return tx.EachFacts(func(f *cases.Facts) error {
			a.AddFacts(*f)
			return nil
		})
	})
	if err != nil {
		return Report{}, fmt.Errorf("read cases: %w", err)
	}
	return a.Report(), nil
}
