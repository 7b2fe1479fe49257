// SPDX-License-Identifier: MIT

package cases

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// expectedTable is the transition table written out by hand, state by state. It is
// deliberately not derived from Table: changing a rule must fail this test until the
// expectation is changed as well. An action absent from a state's map is illegal there.
func expectedTable() map[State]map[Action]State {
	// keep lists the state-keeping actions legal in every non-terminal state.
	keep := func(s State, extra map[Action]State) map[Action]State {
		m := map[Action]State{
			DocumentsReceived: s, Assign: s, Note: s, Escalate: s, Downgrade: s,
			NotifyAuthor: s, AuthorReplied: s, Close: Closed, Withdraw: Withdrawn,
		}
		for a, to := range extra {
			m[a] = to
		}
		return m
	}
	return map[State]map[Action]State{
		Incomplete: keep(Incomplete, map[Action]State{
			Complete: PendingReview, Reject: Rejected, NeedMore: Incomplete, Expire: Expired,
		}),
		PendingReview: keep(PendingReview, map[Action]State{
			Accept: Accepted, Reject: Rejected, NeedMore: Incomplete,
		}),
		Accepted: keep(Accepted, map[Action]State{
			Reject: Rejected, Resolve: Resolved,
		}),
		Resolved: keep(Resolved, map[Action]State{
			Reopen: PendingReview,
		}),
		Rejected: keep(Rejected, map[Action]State{
			Appeal: Appealed, Reopen: PendingReview,
		}),
		Appealed: keep(Appealed, map[Action]State{
			Accept: Accepted, Reject: Rejected, NeedMore: Incomplete,
		}),
		Closed:    {Reopen: PendingReview, Note: Closed, AuthorReplied: Closed},
		Withdrawn: {Reopen: PendingReview, Note: Withdrawn, AuthorReplied: Withdrawn},
		Expired:   {Reopen: PendingReview, Note: Expired, AuthorReplied: Expired},
	}
}

func TestTransitionEveryStateAndAction(t *testing.T) {
	want := expectedTable()
	if len(want) != len(States()) {
		t.Fatalf("expectation covers %d states, package has %d", len(want), len(States()))
	}
	for _, s := range States() {
		for _, a := range Actions() {
			wantTo, legal := want[s][a]
			got, err := Transition(s, a)
			if legal {
				if err != nil || got != wantTo {
					t.Errorf("Transition(%s, %s) = %s, %v; want %s, nil", s, a, got, err, wantTo)
				}
				continue
			}
			var te *TransitionError
			if !errors.As(err, &te) {
				t.Errorf("Transition(%s, %s) = %s, %v; want *TransitionError", s, a, got, err)
				continue
			}
			if got != s || te.From != s || te.Action != a {
				t.Errorf("Transition(%s, %s) refused with to=%s, err=%+v; want state unchanged and error naming it", s, a, got, te)
			}
			var wantAllowed []Action
			for _, a2 := range Actions() {
				if _, ok := want[s][a2]; ok {
					wantAllowed = append(wantAllowed, a2)
				}
			}
			if !slices.Equal(te.Allowed, wantAllowed) {
				t.Errorf("Transition(%s, %s) allowed = %v; want %v", s, a, te.Allowed, wantAllowed)
			}
		}
	}
}

func TestTableIsWellFormed(t *testing.T) {
	seen := map[[2]string]bool{}
	for _, r := range Table() {
		key := [2]string{string(r.From), string(r.Action)}
		if seen[key] {
			t.Errorf("duplicate rule for %s/%s: Transition would ignore one", r.From, r.Action)
		}
		seen[key] = true
		if !r.From.Valid() || !r.To.Valid() {
			t.Errorf("rule %+v names an unknown state", r)
		}
		if !slices.Contains(Actions(), r.Action) {
			t.Errorf("rule %+v names an unknown action", r)
		}
		if r.From.Terminal() && r.To != PendingReview && r.To != r.From {
			t.Errorf("rule %+v leaves a terminal state other than by reopening", r)
		}
	}
	// Every state must be reachable from incomplete, else a state is dead code.
	reach := map[State]bool{Incomplete: true}
	for changed := true; changed; {
		changed = false
		for _, r := range Table() {
			if reach[r.From] && !reach[r.To] {
				reach[r.To], changed = true, true
			}
		}
	}
	for _, s := range States() {
		if !reach[s] {
			t.Errorf("state %s is unreachable from incomplete", s)
		}
	}
}

func TestTransitionUnknownInput(t *testing.T) {
	// Unknown states or actions (a corrupted store, a new action not in the table) must
	// be refused, never passed through.
	for _, tc := range []struct {
		from State
		a    Action
	}{{"archived", Accept}, {PendingReview, "approve"}, {"", ""}} {
		if to, err := Transition(tc.from, tc.a); err == nil {
			t.Errorf("Transition(%q, %q) = %q, nil; want an error", tc.from, tc.a, to)
		}
	}
}

func TestTransitionErrorMessage(t *testing.T) {
	_, err := Transition(Rejected, Accept)
	var te *TransitionError
	if !errors.As(err, &te) {
		t.Fatalf("want *TransitionError, got %v", err)
	}
	tests := []struct {
		locale  string
		want    []string // the current state, the refused action, the commands allowed now
		notWant []string // system actions nobody can type
	}{
		{"zh-CN", []string{"已驳回", "受理", "重开", "申诉", "备注", "结案"}, []string{"材料齐全", "作者申辩", "收到材料"}},
		{"en", []string{"rejected", "accept", "reopen", "appeal", "note", "close"}, []string{"documents complete", "author replied"}},
	}
	for _, tc := range tests {
		msg := te.Message(tc.locale)
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("Message(%s) = %q; missing %q", tc.locale, msg, w)
			}
		}
		for _, w := range tc.notWant {
			if strings.Contains(msg, w) {
				t.Errorf("Message(%s) = %q; lists system action %q", tc.locale, msg, w)
			}
		}
	}
	// Expired allows reopen and note only: the message must not invent others.
	_, err = Transition(Expired, Accept)
	if !errors.As(err, &te) {
		t.Fatal(err)
	}
	if msg := te.Message("zh-CN"); !strings.Contains(msg, "已过期") || strings.Contains(msg, "驳回") {
		t.Errorf("expired message = %q", msg)
	}
}

func TestAppealAllowed(t *testing.T) {
	rejected := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	week := 7 * 24 * time.Hour
	tests := []struct {
		name   string
		now    time.Time
		window time.Duration
		want   bool
	}{
		{"inside the window", rejected.Add(3 * 24 * time.Hour), week, true},
		{"exactly at the end counts (inclusive)", rejected.Add(week), week, true},
		{"one second late", rejected.Add(week + time.Second), week, false},
		{"clock skew: appeal dated before rejection", rejected.Add(-time.Minute), week, true},
		{"zero window disables appeals", rejected.Add(time.Second), 0, false},
	}
	for _, tc := range tests {
		if got := AppealAllowed(rejected, tc.now, tc.window); got != tc.want {
			t.Errorf("%s: AppealAllowed = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRunningClockAndAwaitingAuthor(t *testing.T) {
	tests := []struct {
		s        State
		awaiting bool
		want     Clock
	}{
		{Incomplete, false, ClockExpiry},
		{Incomplete, true, ClockExpiry}, // waits for the complainant, not the author
		{PendingReview, false, ClockReview},
		{PendingReview, true, ClockNone}, // paused while the author may answer
		{Appealed, false, ClockReview},
		{Accepted, false, ClockProcessing},
		{Accepted, true, ClockNone},
		{Rejected, false, ClockNone},
		{Closed, false, ClockNone},
	}
	for _, tc := range tests {
		if got := RunningClock(tc.s, tc.awaiting); got != tc.want {
			t.Errorf("RunningClock(%s, %v) = %q, want %q", tc.s, tc.awaiting, got, tc.want)
		}
	}
	flags := []struct {
		awaiting bool
		a        Action
		to       State
		want     bool
	}{
		{false, NotifyAuthor, PendingReview, true},
		{true, AuthorReplied, PendingReview, false},
		{true, Note, PendingReview, true},  // unrelated actions keep the flag
		{true, Accept, Accepted, true},     // still waiting after acceptance
		{true, Resolve, Resolved, false},   // nothing left to pause
		{true, Withdraw, Withdrawn, false}, // terminal
		{true, Reject, Rejected, false},    // decided
		{false, AuthorReplied, Closed, false},
	}
	for _, f := range flags {
		if got := AwaitingAuthorAfter(f.awaiting, f.a, f.to); got != f.want {
			t.Errorf("AwaitingAuthorAfter(%v, %s, %s) = %v, want %v", f.awaiting, f.a, f.to, got, f.want)
		}
	}
}

func TestLabels(t *testing.T) {
	zh := map[State]string{
		Incomplete: "待补充材料", PendingReview: "待审核", Accepted: "已受理", Resolved: "已处理",
		Closed: "已结案", Rejected: "已驳回", Appealed: "申诉中", Withdrawn: "已撤回", Expired: "已过期（视为投诉未成功）",
	}
	seenEN := map[string]bool{}
	for _, s := range States() {
		if got := StateLabel(s, "zh-CN"); got != zh[s] {
			t.Errorf("StateLabel(%s, zh-CN) = %q, want %q", s, got, zh[s])
		}
		en := StateLabel(s, "en-US")
		if en == "" || en == zh[s] || seenEN[en] {
			t.Errorf("StateLabel(%s, en-US) = %q: empty, untranslated or not unique", s, en)
		}
		seenEN[en] = true
	}
	for _, a := range Actions() {
		if ActionLabel(a, "zh-CN") == string(a) || ActionLabel(a, "en") == "" {
			t.Errorf("action %s has no label", a)
		}
	}
	if got := StateLabel("archived", "zh-CN"); got != "archived" {
		t.Errorf("unknown state label = %q, want raw value", got)
	}
}

// Each side is told only what it can write: staff never see 申诉/撤回 as commands, and a
// complainant never sees the staff commands.
func TestTransitionMessagesPerAudience(t *testing.T) {
	_, err := Transition(Rejected, Accept)
	var te *TransitionError
	if !errors.As(err, &te) {
		t.Fatalf("error %v", err)
	}
	staff, comp := te.StaffMessage("zh-CN"), te.ComplainantMessage("zh-CN")
	if strings.Contains(staff, "申诉") || strings.Contains(staff, "撤回") || !strings.Contains(staff, "重开") {
		t.Errorf("staff message: %s", staff)
	}
	if strings.Contains(comp, "重开") || strings.Contains(comp, "结案") || !strings.Contains(comp, "申诉") {
		t.Errorf("complainant message: %s", comp)
	}
}
