// SPDX-License-Identifier: MIT

package render

import (
	"strings"
	"time"
)

// sampleTime returns a fixed time on 2026-03-DAY in China Standard Time.
func sampleTime(day, hour, minute int) time.Time {
	return time.Date(2026, time.March, day, hour, minute, 0, 0, time.FixedZone("CST", 8*3600))
}

// sampleState is the case state a kind's mail is usually sent in.
func sampleState(kind string) string {
	switch kind {
	case KindAcknowledgement, KindMissingItems, KindMoreNeeded, KindExpiryReminder:
		return "incomplete"
	case KindComplete, KindReminder, KindStaffNotification:
		return "pending_review"
	case KindAccepted, KindEscalation, KindAuthorNotice:
		return "accepted"
	case KindRejected, KindAppealRefused, KindStaffConfirmation, KindStaffError:
		return "rejected"
	case KindResolved, KindSurvey:
		return "resolved"
	case KindAppealReceived:
		return "appealed"
	case KindWithdrawn:
		return "withdrawn"
	case KindExpired:
		return "expired"
	}
	return ""
}

// sampleReason is the decision text a kind's mail usually carries.
func sampleReason(kind string) string {
	switch kind {
	case KindRejected, KindAppealRefused, KindStaffConfirmation:
		return "所提交的事件说明函未能证明报道内容与事实不符，且报道系依据市场监管部门公开发布的抽检结果撰写。"
	case KindResolved:
		return "相关稿件已于2026年3月9日下线，原链接已无法访问。"
	case KindMoreNeeded:
		return "经审核，现有材料尚不足以证明删除理由，请补充以下材料。"
	}
	return ""
}

// SampleData returns data for kind with every optional part filled: the data
// Load validates templates with and `complaintd templates preview` shows.
// Staff-only fields hold distinctive values so Load can tell when a
// complainant template shows one.
func SampleData(kind string) Data {
	state := sampleState(kind)
	d := Data{
		Desk: Desk{Name: "凤凰网投诉受理中心", Address: "tousu@desk.example.com", Prefix: "TS"},
		Case: Case{
			ID:        "TS-2026-000123",
			State:     state,
			CreatedAt: sampleTime(2, 9, 30),
			DueAt:     sampleTime(5, 18, 0),
			Applicant: Party{Name: "张三", Org: "北京明理律师事务所", Type: "entrusted", Email: "zhangsan@example.com", IDValid: true},
			Principal: &Party{Name: "李四", Org: "蒙牛奶业集团", Type: "organisation"},
			Request: Request{
				Title:       "某乳企产品抽检不合格 涉事批次仍在销售",
				URL:         "https://news.example.com/a/20260301/123456_0.shtml",
				URLValid:    true,
				Author:      "记者 王五",
				Published:   "2026-03-01 10:00",
				Reason:      "报道称涉事批次仍在销售，与事实不符：该批次已于2026年2月20日全部召回，召回公告及市场监管部门的复检报告见附件。报道发布后持续被转载，对委托单位的商誉造成严重影响。",
				Channel:     "凤凰资讯",
				ContentKind: "news",
				Reposted:    true,
			},
			Documents: []Document{
				{Kind: "application_form", Filename: "删帖申请表（盖章）.pdf", Size: 245760},
				{Kind: "explanation_letter", Filename: "情况说明.docx", Size: 18432},
				{Kind: "business_license", Filename: "营业执照.jpg", Size: 1572864},
				{Kind: "id_card", Filename: "经办人身份证.jpg", Container: "申请材料.zip", Size: 402653},
			},
			Unclassified: []File{
				{Filename: "IMG_2031.jpg", Size: 2202009},
				{Filename: "扫描件.pdf", Container: "申请材料.zip", Size: 88210},
			},
			Assignee: "li.bianji@desk.example.com",
			Events: []Event{
				{At: sampleTime(2, 9, 30), Type: "received", Actor: "zhangsan@example.com"},
				{At: sampleTime(3, 14, 5), Type: "note", Actor: "li.bianji@desk.example.com", Note: "内部备注：已致电法务部核实召回公告"},
			},
			Severity:   "major",
			Department: "新闻中心",
			Related:    []Related{{ID: "TS-2026-000098", State: "rejected"}},
		},
		SubjectConforms:   false,
		ConventionExample: "张三(蒙牛奶业集团)申请删除凤凰资讯稿件",
		Reason:            sampleReason(kind),
		Items:             []string{"原发媒体出具的撤稿函（加盖公章）", "市场监管部门复检报告的完整扫描件"},
		AppealUntil:       sampleTime(20, 18, 0),
		Deadline:          sampleTime(10, 18, 0),
		AuthorDeadline:    sampleTime(9, 18, 0),
		Staff:             "李编辑",
		Command:           "驳回 材料不足以证明报道失实",
		Result:            "案件 TS-2026-000123 已驳回，已通知申请人。",
		Error:             "案件当前状态为“已驳回”，不能执行“受理”；如需受理请先“重开”。",
		Note:              "内部备注：申请人曾多次来电",
		Token:             "tk7Qx2Lm9sAmPlE",
		Digest: Digest{
			Date: sampleTime(10, 8, 0), Department: "财经", Since: sampleTime(9, 8, 0),
			Counts: []StateCount{{State: "incomplete", Count: 7}, {State: "pending_review", Count: 3}, {State: "accepted", Count: 2}},
			New: []Summary{
				{ID: "TS-2026-000131", State: "incomplete", Applicant: "赵六", Title: "小区物业纠纷跟帖", DueAt: sampleTime(17, 18, 0)},
			},
			DueToday: []Summary{
				{ID: "TS-2026-000123", State: "pending_review", Applicant: "张三（北京明理律师事务所）", Title: "某乳企产品抽检不合格 涉事批次仍在销售", Assignee: "li.bianji@desk.example.com", DueAt: sampleTime(10, 18, 0)},
			},
			Overdue: []Summary{
				{ID: "TS-2026-000110", State: "accepted", Applicant: "孙七", Title: "某餐厅卫生问题博文", Assignee: "wang.bianji@desk.example.com", DueAt: sampleTime(6, 18, 0)},
			},
		},
		Report: Report{
			From: sampleTime(2, 0, 0), To: sampleTime(8, 23, 59),
			Received: 41, Acknowledged: 41, Accepted: 12, Rejected: 9, Resolved: 10, Withdrawn: 2, Expired: 5, Appealed: 1,
			ByState: []StateCount{{State: "incomplete", Count: 15}, {State: "accepted", Count: 3}, {State: "resolved", Count: 7}, {State: "rejected", Count: 9},
				{State: "withdrawn", Count: 2}, {State: "expired", Count: 5}},
			Open:         []StateCount{{State: "incomplete", Count: 7}, {State: "pending_review", Count: 3}, {State: "accepted", Count: 2}},
			ByKind:       []KindCount{{Kind: "news", Count: 25}, {Kind: "self_media", Count: 9}, {Kind: "comment", Count: 7}},
			ByDepartment: []NameCount{{Name: "资讯", Count: 25}, {Name: "财经", Count: 16}},
			BySeverity:   []NameCount{{Name: "ordinary", Count: 37}, {Name: "major", Count: 4}},
			ByApplicant:  []TypeCount{{Type: "individual", Count: 22}, {Type: "organisation", Count: 12}, {Type: "entrusted", Count: 7}},
			ByOutcome: []OutcomeCount{{Outcome: "open", Count: 15}, {Outcome: "resolved", Count: 10}, {Outcome: "rejected", Count: 9},
				{Outcome: "expired", Count: 5}, {Outcome: "withdrawn", Count: 2}},
			MedianAck: 3 * time.Minute, MedianDecision: 2*24*time.Hour + 5*time.Hour, MedianResolve: 4*24*time.Hour + 6*time.Hour,
			SLABreaches: 1,
			Deadlines:   DeadlineCount{Settled: 28, Met: 27, Share: 0.9643},
			DeadlinesBySeverity: []DeadlineCount{{Name: "ordinary", Settled: 25, Met: 25, Share: 1},
				{Name: "major", Settled: 3, Met: 2, Share: 0.6667}},
			Charts:     []Chart{{CID: "chart-state.2026-w10@desk.example.com", Alt: "Cases received, by state"}},
			CSVName:    "cases-2026-W10.csv",
			Breaches:   []Summary{{ID: "TS-2026-000110", State: "accepted", Applicant: "孙七", Title: "某餐厅卫生问题博文", Assignee: "wang.bianji@desk.example.com", DueAt: sampleTime(6, 18, 0)}},
			TopMissing: []MissingCount{{Code: "withdrawal_letter", Count: 9}, {Code: "work_id", Count: 6}, {Code: "power_of_attorney", Count: 4}, {Code: "reason_proof", Count: 3}},
			Satisfaction: Satisfaction{Surveyed: 10, Responses: 7, Mean: 4.29,
				ByScore: []ScoreCount{{Score: 5, Count: 4}, {Score: 4, Count: 2}, {Score: 3, Count: 0}, {Score: 2, Count: 1}, {Score: 1, Count: 0}}},
		},
		Alert: Alert{
			Title:  "模板有误，仍在使用上一版模板",
			Detail: "zh-CN/acknowledgement.tmpl:12:9: unknown field \"Nmae\" in {{.Case.Applicant.Nmae}}",
			At:     sampleTime(10, 9, 12),
		},
	}
	// Only a case that is incomplete (or expired incomplete) lacks documents;
	// staff mail shows the list whatever the state.
	if a, _ := AudienceOf(kind); state == "incomplete" || state == "expired" || a == Staff || a == Admin {
		d.Case.Missing = sampleMissing()
	}
	if !aboutACase(kind) {
		d.Case = Case{}
	}
	return d
}

// aboutACase reports whether mail of kind concerns one case.
func aboutACase(kind string) bool {
	return kind != KindDigest && kind != KindWeeklyReport && kind != KindAdminAlert
}

// SampleDataIn is SampleData with the explanations of missing documents in
// locale's language, as the policy would give them; previews and golden
// files use it.
func SampleDataIn(kind, locale string) Data {
	d := SampleData(kind)
	if !strings.HasPrefix(strings.ToLower(locale), "en") {
		return d
	}
	en := map[string]string{
		"work_id":           "Agent's staff card (or certificate of employment) showing the agent works for the applying organisation",
		"withdrawal_letter": "Withdrawal letter from the original publisher (or the site the article was reposted from), stamped with its seal",
		"power_of_attorney": "Notarised power of attorney (when a lawyer, law firm or other person applies on someone's behalf)",
	}
	d.Case.Missing = append([]Missing(nil), d.Case.Missing...)
	for i := range d.Case.Missing {
		d.Case.Missing[i].Explanation = en[d.Case.Missing[i].Code]
	}
	return d
}

func sampleMissing() []Missing {
	return []Missing{
		{Code: "work_id", Explanation: "经办人工作证（或在职证明）：证明经办人受雇于申请单位"},
		{Code: "withdrawal_letter", Explanation: "原发媒体撤稿函：由原发媒体（或被转载网站、原创首发网站）出具并加盖公章"},
		{Code: "power_of_attorney", Explanation: "委托公证证明：经公证的授权委托书（委托他人或律师事务所代为申请时提供）"},
	}
}

// MinimalSampleData returns data for kind with every optional part empty
// (no name, no principal, no documents, zero times): Load validates
// templates with it too, so a template that only works with full data is
// caught at load.
func MinimalSampleData(kind string) Data {
	d := Data{
		Desk:            Desk{Name: "凤凰网投诉受理中心", Address: "tousu@desk.example.com", Prefix: "TS"},
		Case:            Case{ID: "TS-2026-000124", State: sampleState(kind), CreatedAt: sampleTime(2, 9, 30), Applicant: Party{Email: "someone@example.com"}},
		SubjectConforms: true,
	}
	if !aboutACase(kind) {
		d.Case = Case{}
	}
	return d
}

// staffField is one staff-only value of a Data.
type staffField struct{ name, value string }

// staffOnly lists the staff-only values of d (see Data).
func staffOnly(d Data) []staffField {
	out := []staffField{
		{"Token", d.Token}, {"Note", d.Note}, {"Case.Assignee", d.Case.Assignee},
		{"Staff", d.Staff}, {"Command", d.Command}, {"Result", d.Result}, {"Error", d.Error},
	}
	for _, e := range d.Case.Events {
		out = append(out, staffField{"Case.Events.Note", e.Note})
		if e.Actor != d.Case.Applicant.Email {
			out = append(out, staffField{"Case.Events.Actor", e.Actor})
		}
	}
	// One value is reported once, under the first name that holds it.
	seen := map[string]bool{}
	kept := out[:0]
	for _, f := range out {
		if !seen[f.value] {
			seen[f.value] = true
			kept = append(kept, f)
		}
	}
	return kept
}
