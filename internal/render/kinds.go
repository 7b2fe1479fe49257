// SPDX-License-Identifier: MIT

package render

// Template kinds: one file per kind per locale, named <kind>.tmpl.
const (
	// KindAcknowledgement is the first reply to a new case: what was received
	// and either what is missing or that the case is complete and under review.
	KindAcknowledgement = "acknowledgement"
	// KindMissingItems answers a follow-up that still leaves documents missing.
	KindMissingItems = "missing_items"
	// KindComplete answers a follow-up that completed the case (now under review).
	KindComplete       = "complete"
	KindAccepted       = "accepted"
	KindRejected       = "rejected"
	KindMoreNeeded     = "more_needed"
	KindResolved       = "resolved"
	KindAppealReceived = "appeal_received"
	KindAppealRefused  = "appeal_refused"
	KindWithdrawn      = "withdrawn"
	KindExpired        = "expired"
	KindExpiryReminder = "expiry_reminder"
	// KindSurvey is the satisfaction survey (回访) sent after a case is resolved
	// (policy.survey); the complainant answers with a score that
	// desk.ParseScore reads, so the forms the mail names must be ones it accepts.
	KindSurvey = "survey"
	// KindSurveyClarify answers a reply to the survey that gave no score: once, short,
	// how to answer.
	KindSurveyClarify = "survey_clarify"
	// KindReminder reminds staff of a deadline that is close.
	KindReminder = "reminder"
	// KindEscalation tells staff (and the escalation address) that a deadline passed.
	KindEscalation        = "escalation"
	KindStaffNotification = "staff_notification"
	KindStaffConfirmation = "staff_confirmation"
	KindStaffError        = "staff_error"
	// KindAuthorNotice tells the article's author about a takedown request.
	KindAuthorNotice = "author_notice"
	KindDigest       = "digest"
	KindWeeklyReport = "weekly_report"
	KindAdminAlert   = "admin_alert"
)

// Audience is who receives a kind of mail; it decides which Data fields the
// template may show.
type Audience int

const (
	// Complainant mail must not show staff-only fields.
	Complainant Audience = iota
	// Author mail (to the article's author) must not show staff-only fields.
	Author
	// Staff mail may show every field.
	Staff
	// Admin mail may show every field.
	Admin
)

// String returns the audience name used in templates/README.md.
func (a Audience) String() string {
	switch a {
	case Complainant:
		return "complainant"
	case Author:
		return "author"
	case Staff:
		return "staff"
	case Admin:
		return "admin"
	}
	return "unknown"
}

// kindTable is the list of kinds in documentation order with their audience.
// It is a function so the package keeps no mutable state.
func kindTable() []struct {
	kind     string
	audience Audience
} {
	return []struct {
		kind     string
		audience Audience
	}{
		{KindAcknowledgement, Complainant},
		{KindMissingItems, Complainant},
		{KindComplete, Complainant},
		{KindAccepted, Complainant},
		{KindRejected, Complainant},
		{KindMoreNeeded, Complainant},
		{KindResolved, Complainant},
		{KindAppealReceived, Complainant},
		{KindAppealRefused, Complainant},
		{KindWithdrawn, Complainant},
		{KindExpired, Complainant},
		{KindExpiryReminder, Complainant},
		{KindSurvey, Complainant},
		{KindSurveyClarify, Complainant},
		{KindAuthorNotice, Author},
		{KindReminder, Staff},
		{KindEscalation, Staff},
		{KindStaffNotification, Staff},
		{KindStaffConfirmation, Staff},
		{KindStaffError, Staff},
		{KindDigest, Staff},
		{KindWeeklyReport, Admin},
		{KindAdminAlert, Admin},
	}
}

// Kinds returns every template kind, in documentation order.
func Kinds() []string {
	t := kindTable()
	out := make([]string, len(t))
	for i, k := range t {
		out[i] = k.kind
	}
	return out
}

// AudienceOf returns who receives mail of the given kind; ok is false for an unknown kind.
func AudienceOf(kind string) (a Audience, ok bool) {
	for _, k := range kindTable() {
		if k.kind == kind {
			return k.audience, true
		}
	}
	return 0, false
}
