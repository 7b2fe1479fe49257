package schedule

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/templates"
)

// reportCase is a case created at created that went through the given state changes
// (at, to) after an acknowledgement five minutes in.
func reportCase(t *testing.T, id, applicantType, kind string, created time.Time, missing []string, score int, surveyed bool, moves ...cases.Event) *cases.Case {
	t.Helper()
	c := &cases.Case{ID: id, State: "incomplete", CreatedAt: created, Complainant: id + "@example.cn",
		Applicant: cases.Party{Type: cases.ApplicantType(applicantType)}, Request: cases.Request{ContentKind: cases.ContentKind(kind)}, Missing: kinds(missing),
		Events: []cases.Event{
			{At: created, Type: "created", Actor: "desk", To: "incomplete"},
			{At: created.Add(5 * time.Minute), Type: "reply_sent", Actor: "desk"},
		}}
	from := cases.Incomplete
	for _, m := range moves {
		m.From, m.Actor = from, "li.bianji@desk.example.cn"
		if m.Type == "" {
			m.Type = "state"
		}
		c.Events = append(c.Events, m)
		from, c.State = m.To, m.To
	}
	if surveyed {
		c.Events = append(c.Events, cases.Event{At: c.Events[len(c.Events)-1].At.Add(time.Hour), Type: cases.EventSurveySent, Actor: "scheduler"})
	}
	if score > 0 {
		if err := c.SetSatisfaction(score); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// The weekly report carries the figures issue 6 asks for — applicant type, outcome,
// median time to resolve, top missing documents, satisfaction — computed over the
// cases created in the week only, and the default templates show them.
func TestWeeklyReportFigures(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	clk := &clock{}
	from, to := at(2026, time.March, 2, 9, 0), at(2026, time.March, 9, 9, 0)
	clk.Set(to)
	s := newTestScheduler(t, st, clk, defaultPolicy(), nil)
	mv := func(at time.Time, state cases.State) cases.Event { return cases.Event{At: at, To: state} }
	d2, d3, d4, d5 := at(2026, time.March, 2, 10, 0), at(2026, time.March, 3, 10, 0), at(2026, time.March, 4, 10, 0), at(2026, time.March, 5, 9, 0)
	for _, c := range []*cases.Case{
		// Resolved two days after it came in; surveyed, scored 5.
		reportCase(t, "TS-2026-000001", "individual", "news", d2, nil, 5, true,
			mv(d2, "pending_review"), mv(d3, "accepted"), mv(d4, "resolved")),
		// Still incomplete, two documents missing.
		reportCase(t, "TS-2026-000002", "organisation", "comment", d3, []string{"work_id", "withdrawal_letter"}, 0, false),
		// Expired incomplete, one of the same documents missing.
		reportCase(t, "TS-2026-000003", "individual", "news", d4, []string{"withdrawal_letter"}, 0, false,
			cases.Event{At: d4.AddDate(0, 0, 15), Type: "expire", To: "expired"}),
		// Resolved within four hours; surveyed, scored 2.
		reportCase(t, "TS-2026-000004", "entrusted", "blog", d5, nil, 2, true,
			mv(d5, "pending_review"), mv(d5.Add(time.Hour), "accepted"), mv(d5.Add(4*time.Hour), "resolved")),
		// Applicant type never told; rejected.
		reportCase(t, "TS-2026-000005", "", "unknown", d5, nil, 0, false, mv(d5.Add(time.Hour), "rejected")),
		// Surveyed but not answered.
		reportCase(t, "TS-2026-000006", "individual", "news", d5, nil, 0, true,
			mv(d5, "pending_review"), mv(d5.Add(time.Hour), "accepted"), mv(d5.Add(30*time.Hour), "resolved")),
		// Before the week: must count nowhere, though it has a score and missing documents.
		reportCase(t, "TS-2026-000000", "organisation", "news", from.Add(-time.Hour), []string{"business_license"}, 1, true,
			mv(from.Add(-time.Hour), "pending_review"), mv(from.Add(-time.Minute), "accepted"), mv(from, "resolved")),
	} {
		putCase(t, st, c)
	}

	var rep render.Report
	if err := st.View(func(tx *store.Tx) error {
		var err error
		rep, _, err = s.buildReport(tx, from, to)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if rep.Received != 6 {
		t.Errorf("received %d, want 6 (the case before the week left out)", rep.Received)
	}
	wantTypes := []render.TypeCount{{Type: "individual", Count: 3}, {Type: "entrusted", Count: 1}, {Type: "organisation", Count: 1}, {Type: "unknown", Count: 1}}
	if !slices.Equal(rep.ByApplicant, wantTypes) {
		t.Errorf("by applicant %+v, want %+v", rep.ByApplicant, wantTypes)
	}
	wantOutcomes := []render.OutcomeCount{{Outcome: "resolved", Count: 3}, {Outcome: "expired", Count: 1}, {Outcome: "open", Count: 1}, {Outcome: "rejected", Count: 1}}
	if !slices.Equal(rep.ByOutcome, wantOutcomes) {
		t.Errorf("by outcome %+v, want %+v", rep.ByOutcome, wantOutcomes)
	}
	// Times to resolve: 48h, 4h, 30h → median 30h.
	if rep.MedianResolve != 30*time.Hour {
		t.Errorf("median time to resolve %v, want 30h", rep.MedianResolve)
	}
	wantMissing := []render.MissingCount{{Code: "withdrawal_letter", Count: 2}, {Code: "work_id", Count: 1}}
	if !slices.Equal(rep.TopMissing, wantMissing) {
		t.Errorf("top missing %+v, want %+v", rep.TopMissing, wantMissing)
	}
	sat := rep.Satisfaction
	wantScores := []render.ScoreCount{{Score: 5, Count: 1}, {Score: 4}, {Score: 3}, {Score: 2, Count: 1}, {Score: 1}}
	if sat.Surveyed != 3 || sat.Responses != 2 || sat.Mean != 3.5 || !slices.Equal(sat.ByScore, wantScores) {
		t.Errorf("satisfaction %+v, want 3 surveyed, 2 responses, mean 3.5, scores %+v", sat, wantScores)
	}

	set, err := render.Load(templates.FS(), "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	for locale, want := range map[string][]string{
		"zh-CN": {"办结用时中位数：1天6小时", "- 受托代理：1", "- 未能判断：1", "- 材料逾期未补齐（视为投诉未成功）：1",
			"1. 原发媒体撤稿函：2 件", "2. 工作证：1 件", "发出 3 份，收到评分 2 份，平均 3.50 分", "- 2 分：1"},
		"en": {"Median time to resolve: 1d 6h", "- agent acting for another party: 1", "- not determined: 1",
			"1. withdrawal letter from the original publisher: 2", "3 sent, 2 scores received, mean 3.50", "- score 5: 1"},
	} {
		r, err := set.Render(render.KindWeeklyReport, locale, render.Data{Desk: render.Desk{Name: "投诉受理中心"}, Report: rep})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(r.Text, w) {
				t.Errorf("%s weekly report lacks %q:\n%s", locale, w, r.Text)
			}
		}
		if strings.Contains(r.Text, "营业执照") || strings.Contains(r.Text, "business licence") {
			t.Errorf("%s weekly report counts the case from before the week:\n%s", locale, r.Text)
		}
	}
}

func kinds(codes []string) []cases.Kind {
	out := make([]cases.Kind, len(codes))
	for i, c := range codes {
		out[i] = cases.Kind(c)
	}
	return out
}
