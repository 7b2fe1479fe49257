// SPDX-License-Identifier: MIT

package render

import "strings"

// label returns the display name of a code in a group ("state", "type",
// "outcome", "content", "doc") for a locale: English for locales starting with "en",
// Simplified Chinese otherwise. An unknown code is returned as is.
func label(group, code, locale string) string {
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
		{"state", "incomplete", "材料不全", "incomplete"},
		{"state", "pending_review", "待审核", "under review"},
		{"state", "accepted", "已受理", "accepted"},
		{"state", "resolved", "已处理", "resolved"},
		{"state", "closed", "已结案", "closed"},
		{"state", "rejected", "已驳回", "rejected"},
		{"state", "appealed", "申诉中", "under appeal"},
		{"state", "withdrawn", "已撤回", "withdrawn"},
		{"state", "expired", "已过期", "expired"},

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

		{"doc", "application_form", "申请表（签字/盖章）", "application form (signed/sealed)"},
		{"doc", "id_card", "身份证复印件", "copy of ID card"},
		{"doc", "business_license", "营业执照", "business licence"},
		{"doc", "work_id", "工作证", "staff card"},
		{"doc", "withdrawal_letter", "原发媒体撤稿函", "withdrawal letter from the original publisher"},
		{"doc", "explanation_letter", "事件说明函", "explanation letter"},
		{"doc", "reason_proof", "删除原因证明", "proof of the reason for removal"},
		{"doc", "power_of_attorney", "委托公证证明", "notarised power of attorney"},
		{"doc", "unclassified", "未识别的文件", "unrecognised file"},
	}
}

// fillLabels returns d with every empty label filled for locale. Slices are
// copied so the caller's Data is never modified.
func fillLabels(d Data, locale string) Data {
	fill := func(dst *string, group, code string) {
		if *dst == "" && code != "" {
			*dst = label(group, code, locale)
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
	d.Digest.Counts = fillCounts(d.Digest.Counts, locale)
	d.Digest.New = fillSummaries(d.Digest.New, locale)
	d.Digest.DueToday = fillSummaries(d.Digest.DueToday, locale)
	d.Digest.Overdue = fillSummaries(d.Digest.Overdue, locale)
	d.Report.ByState = fillCounts(d.Report.ByState, locale)
	d.Report.Breaches = fillSummaries(d.Report.Breaches, locale)
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

func fillCounts(in []StateCount, locale string) []StateCount {
	out := append([]StateCount(nil), in...)
	for i := range out {
		if out[i].Label == "" {
			out[i].Label = label("state", out[i].State, locale)
		}
	}
	return out
}

func fillSummaries(in []Summary, locale string) []Summary {
	out := append([]Summary(nil), in...)
	for i := range out {
		if out[i].StateLabel == "" && out[i].State != "" {
			out[i].StateLabel = label("state", out[i].State, locale)
		}
	}
	return out
}
