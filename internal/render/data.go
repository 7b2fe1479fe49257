// SPDX-License-Identifier: MIT

package render

import "time"

// Data is the single value every template is executed with. Templates reach
// only the fields below (an unknown field is an error at load); which fields
// a kind may use is listed in templates/README.md.
//
// Staff-only fields — Token, Note, Case.Assignee, Case.Events[].Actor and
// Case.Events[].Note, Command, Result, Error, Staff — must never appear in a
// mail to a complainant or an author: Load refuses a complainant or author
// template whose output shows any of them (see [Audience]).
//
// Label fields (StateLabel, TypeLabel, KindLabel, ContentKindLabel, Label)
// may be left empty: Render fills them in the locale it renders in.
type Data struct {
	// Desk describes the sending desk; filled for every kind.
	Desk Desk
	// Case is the case the mail is about (empty for digest, weekly_report, admin_alert).
	Case Case

	// SubjectConforms reports whether the complainant's subject followed the
	// convention; when false, acknowledgement and missing_items show
	// ConventionExample, e.g. 张三(蒙牛奶业集团)申请删除凤凰资讯稿件.
	SubjectConforms   bool
	ConventionExample string

	// Reason is the complainant-visible text of a decision: the rejection
	// reason (rejected, appeal_refused), the resolution note (resolved) or the
	// request text (more_needed).
	Reason string
	// Items are the free-text items staff asked for (more_needed), in addition
	// to Case.Missing.
	Items []string
	// AppealUntil is the end of the appeal window (rejected).
	AppealUntil time.Time
	// Refused is the complainant's action a refusal answers (appeal_refused):
	// "appeal" or "withdraw"; empty is an appeal (templates edited before it existed).
	Refused string
	// Deadline is the deadline the mail talks about: review or processing
	// deadline (complete, accepted, reminder, escalation) or the expiry of an
	// incomplete case (acknowledgement, missing_items, expiry_reminder).
	Deadline time.Time
	// AuthorDeadline is the date by which the article's author may answer (author_notice).
	AuthorDeadline time.Time

	// Staff is the staff member the mail is for or who acted (staff kinds).
	Staff string
	// Command is the staff command line as received (staff_confirmation, staff_error).
	Command string
	// Result says what the command did (staff_confirmation).
	Result string
	// Error says why the command was refused (staff_error).
	Error string
	// Note is an internal staff note (staff kinds only).
	Note string
	// Token is the per-case staff secret (staff kinds only; the outbox puts it
	// in Reply-To, templates rarely need it).
	Token string

	// Digest is the daily digest (digest).
	Digest Digest
	// Report is the weekly report (weekly_report).
	Report Report
	// Alert is the admin alert (admin_alert).
	Alert Alert
}

// Desk describes the desk that sends the mail.
type Desk struct {
	Name    string // e.g. 凤凰网投诉受理中心
	Address string // the desk mailbox complainants write to
	Prefix  string // case number prefix, e.g. TS
}

// Case is the view of a case that templates see.
type Case struct {
	ID         string // e.g. TS-2026-000123
	State      string // a state code: incomplete, pending_review, accepted, ...
	StateLabel string // filled by Render when empty
	CreatedAt  time.Time
	DueAt      time.Time
	Applicant  Party
	Principal  *Party // entrusted requests only; nil otherwise
	Request    Request
	Documents  []Document
	// Unclassified are received files whose kind could not be told from
	// their names; staff settle them.
	Unclassified []File
	Missing      []Missing
	Assignee     string // staff only
	Events       []Event
	Severity     string
	Department   string
	Related      []Related
	RelatedMore  int // related cases not in Related (it names the latest few)
}

// Party is an applicant or a principal.
type Party struct {
	Name      string
	Org       string
	Type      string // individual, organisation or entrusted
	TypeLabel string // filled by Render when empty
	Email     string
	IDValid   bool // the ID number passed the GB 11643 check digit
}

// Request is what the applicant wants removed.
type Request struct {
	Title            string // without 《》
	URL              string
	URLValid         bool
	Author           string
	Published        string // as written by the applicant
	Reason           string
	Channel          string
	ContentKind      string // news, self_media, comment, blog, unknown
	ContentKindLabel string // filled by Render when empty
	Reposted         bool
}

// Document is one received file with a known kind.
type Document struct {
	Kind      string // a document kind code
	KindLabel string // filled by Render when empty
	Filename  string
	Container string // the archive the file came from, if any
	Size      int64
}

// File is a received file of unknown kind.
type File struct {
	Filename  string
	Container string
	Size      int64
}

// Missing is one document the policy still requires.
type Missing struct {
	Code        string
	Label       string // filled by Render when empty
	Explanation string // what exactly to send; policy.Explain gives the default
}

// Event is one entry of the case's audit log.
type Event struct {
	At    time.Time
	Type  string
	Actor string // staff only
	Note  string // staff only
}

// Related is another case of the same applicant or article.
type Related struct {
	ID         string
	State      string
	StateLabel string // filled by Render when empty
}

// Summary is one case in a digest or report list.
type Summary struct {
	ID         string
	State      string
	StateLabel string // filled by Render when empty
	Applicant  string
	Title      string
	Assignee   string
	DueAt      time.Time
}

// StateCount is the number of cases in one state.
type StateCount struct {
	State string
	Label string // filled by Render when empty
	Count int
}

// Digest is the daily staff digest.
type Digest struct {
	Date time.Time
	// Department is whose cases the digest covers: a department's name, or "" for
	// the whole desk (the notify list's digest).
	Department string
	// Since is the start of the window of New (the previous digest); zero: unknown.
	Since time.Time
	// Counts are the covered cases by state (package stats).
	Counts   []StateCount
	New      []Summary
	DueToday []Summary
	Overdue  []Summary
}

// NameCount is the number of cases under one name (a department, a severity).
type NameCount struct {
	Name  string
	Count int
}

// KindCount is the number of cases with one content kind.
type KindCount struct {
	Kind  string
	Label string // filled by Render when empty
	Count int
}

// Report is the weekly report for admins and staff.
type Report struct {
	From, To     time.Time
	Received     int
	Acknowledged int
	Accepted     int
	Rejected     int
	Resolved     int
	Withdrawn    int
	Expired      int
	Appealed     int
	// ByState counts the week's cases by the state they are in now; Open counts
	// every case not closed, withdrawn or expired, whenever it came in, by state.
	ByState []StateCount
	Open    []StateCount
	ByKind  []KindCount
	// ByDepartment and BySeverity count the cases by owning department ("-": none)
	// and by severity (ordinary, major).
	ByDepartment []NameCount
	BySeverity   []NameCount
	// ByApplicant counts the cases by applicant type (individual, organisation,
	// entrusted; unknown when the applicant could not be told).
	ByApplicant []TypeCount
	// ByOutcome counts the cases by outcome: resolved, rejected, withdrawn,
	// expired, closed (closed without a decision) or open.
	ByOutcome []OutcomeCount
	// MedianAck and MedianDecision are the median times to acknowledge and to decide.
	MedianAck      time.Duration
	MedianDecision time.Duration
	// MedianResolve is the median time from receipt to resolution, over the
	// cases resolved.
	MedianResolve time.Duration
	SLABreaches   int
	Breaches      []Summary
	// Deadlines counts the review and processing deadlines of the week's cases that
	// were met, each case against its own severity's deadlines; DeadlinesBySeverity
	// has one row per severity (Name ordinary or major) with settled deadlines.
	Deadlines           DeadlineCount
	DeadlinesBySeverity []DeadlineCount
	// TopMissing are the documents the cases most often still lack, most
	// frequent first (at most five).
	TopMissing []MissingCount
	// Satisfaction summarises the answers to the satisfaction survey.
	Satisfaction Satisfaction
	// Charts are the inline images of the HTML part, in order (empty: none).
	Charts []Chart
	// CSVName is the file name of the attached table of the week's cases ("": none).
	CSVName string
}

// DeadlineCount is how many deadlines were settled and how many of them met.
type DeadlineCount struct {
	Name    string // ordinary or major in DeadlinesBySeverity; "" for the total
	Settled int    // met or missed
	Met     int
	Share   float64 // Met/Settled (0–1); 0 when none is settled
}

// Chart is an image sent inline with the mail: the HTML shows it with
// <img src="{{cid .CID}}" alt="{{.Alt}}">.
type Chart struct {
	CID string // the image part's Content-ID, without <>
	Alt string // what the chart shows, for clients that do not load images
}

// TypeCount is the number of cases with one applicant type.
type TypeCount struct {
	Type  string // individual, organisation, entrusted or unknown
	Label string // filled by Render when empty
	Count int
}

// OutcomeCount is the number of cases with one outcome.
type OutcomeCount struct {
	Outcome string // resolved, rejected, withdrawn, expired, closed or open
	Label   string // filled by Render when empty
	Count   int
}

// MissingCount is how many cases still lack one document kind.
type MissingCount struct {
	Code  string // a document kind code
	Label string // filled by Render when empty
	Count int
}

// Satisfaction summarises survey answers (回访).
type Satisfaction struct {
	Surveyed  int     // surveys sent
	Responses int     // scores received
	Mean      float64 // mean score, 0 when there are no responses
	// ByScore counts the answers per score, 5 first; empty when there are none.
	ByScore []ScoreCount
}

// ScoreCount is how many answers gave one score.
type ScoreCount struct {
	Score int // 1–5
	Count int
}

// Alert is an operational alert for admins (admin_alert).
type Alert struct {
	Title  string
	Detail string
	At     time.Time
}
