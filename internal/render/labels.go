// SPDX-License-Identifier: MIT

package render

import (
	"strings"

	"github.com/complaintd/complaintd/internal/cases"
)

// label returns the display name of a code in a group ("state", "type",
// "outcome", "content", "doc") for a locale: English for locales starting with "en",
// Simplified Chinese otherwise. An unknown code is returned as is. States and document
// kinds are named by the domain core (package cases), the others here.
func (o *options) label(group, code, locale string) string {
	switch group {
	case "state":
		return cases.StateLabel(cases.State(code), locale)
	case "doc":
		return o.catalogue.Label(cases.Kind(code), locale)
	}
	en := strings.HasPrefix(strings.ToLower(locale), "en")
	for _, l := range labelTable() {
		if l.group == group && l.code == code {
			if en {
				return l.en
			}
			return l.zh
		}
	}
	return code
}

type labelRow struct{ group, code, zh, en string }

func labelTable() []labelRow {
	return []labelRow{

		{"type", "individual", "个人", "individual"},
		{"type", "organisation", "单位", "organisation"},
		{"type", "entrusted", "受托代理", "agent acting for another party"},
		{"type", "unknown", "未能判断", "not determined"},

		{"outcome", "resolved", "已处理", "resolved"},
		{"outcome", "rejected", "驳回", "rejected"},
		{"outcome", "withdrawn", "申请人撤回", "withdrawn"},
		{"outcome", "expired", "材料逾期未补齐（视为投诉未成功）", "expired incomplete (unsuccessful)"},
		{"outcome", "closed", "结案（未作处理决定）", "closed without a decision"},
		{"outcome", "open", "尚未办结", "still open"},

		{"content", "news", "新闻资讯稿件", "news article"},
		{"content", "self_media", "自媒体文章", "self-media article"},
		{"content", "comment", "跟帖评论", "comment"},
		{"content", "blog", "博客文章", "blog post"},
		{"content", "unknown", "未注明", "not stated"},
	}
}

// fillLabels returns d with every empty label filled for locale. Slices are
// copied so the caller's Data is never modified.
func (o *options) fillLabels(d Data, locale string) Data {
	fill := func(dst *string, group, code string) {
		if *dst == "" && code != "" {
			*dst = o.label(group, code, locale)
		}
	}
	c := &d.Case
	fill(&c.StateLabel, "state", c.State)
	fill(&c.Applicant.TypeLabel, "type", c.Applicant.Type)
	if c.Principal != nil {
		p := *c.Principal
		fill(&p.TypeLabel, "type", p.Type)
		c.Principal = &p
	}
	fill(&c.Request.ContentKindLabel, "content", c.Request.ContentKind)
	c.Documents = append([]Document(nil), c.Documents...)
	for i := range c.Documents {
		fill(&c.Documents[i].KindLabel, "doc", c.Documents[i].Kind)
	}
	c.Missing = append([]Missing(nil), c.Missing...)
	for i := range c.Missing {
		fill(&c.Missing[i].Label, "doc", c.Missing[i].Code)
	}
	c.Related = append([]Related(nil), c.Related...)
	for i := range c.Related {
		fill(&c.Related[i].StateLabel, "state", c.Related[i].State)
	}
	d.Digest.Counts = o.fillCounts(d.Digest.Counts, locale)
	d.Digest.New = o.fillSummaries(d.Digest.New, locale)
	d.Digest.DueToday = o.fillSummaries(d.Digest.DueToday, locale)
	d.Digest.Overdue = o.fillSummaries(d.Digest.Overdue, locale)
	d.Report.ByState = o.fillCounts(d.Report.ByState, locale)
	d.Report.Open = o.fillCounts(d.Report.Open, locale)
	d.Report.Breaches = o.fillSummaries(d.Report.Breaches, locale)
	d.Report.ByKind = append([]KindCount(nil), d.Report.ByKind...)
	for i := range d.Report.ByKind {
		fill(&d.Report.ByKind[i].Label, "content", d.Report.ByKind[i].Kind)
	}
	d.Report.ByApplicant = append([]TypeCount(nil), d.Report.ByApplicant...)
	for i := range d.Report.ByApplicant {
		fill(&d.Report.ByApplicant[i].Label, "type", d.Report.ByApplicant[i].Type)
	}
	d.Report.ByOutcome = append([]OutcomeCount(nil), d.Report.ByOutcome...)
	for i := range d.Report.ByOutcome {
		fill(&d.Report.ByOutcome[i].Label, "outcome", d.Report.ByOutcome[i].Outcome)
	}
	d.Report.TopMissing = append([]MissingCount(nil), d.Report.TopMissing...)
	for i := range d.Report.TopMissing {
		fill(&d.Report.TopMissing[i].Label, "doc", d.Report.TopMissing[i].Code)
	}
	return d
}

func (o *options) fillCounts(in []StateCount, locale string) []StateCount {
	out := append([]StateCount(nil), in...)
	for i := range out {
		if out[i].Label == "" {
			out[i].Label = o.label("state", out[i].State, locale)
		}
	}
	return out
}

func (o *options) fillSummaries(in []Summary, locale string) []Summary {
	out := append([]Summary(nil), in...)
	for i := range out {
		if out[i].StateLabel == "" && out[i].State != "" {
			out[i].StateLabel = o.label("state", out[i].State, locale)
		}
	}
	return out
}
