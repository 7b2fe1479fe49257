// SPDX-License-Identifier: MIT

package cases

import (
	"fmt"
	"strings"
	"time"
)

// Case is one complaint. Its JSON form (after Public) is the `cases show -json`
// interface (SPEC §6): field names and the string values of its typed fields must not
// change.
type Case struct {
	ID        string     `json:"id"`
	State     State      `json:"state"`
	Applicant Party      `json:"applicant"`
	Principal *Party     `json:"principal,omitempty"`
	Request   Request    `json:"request"`
	Subject   Subject    `json:"subject"`
	Documents []Document `json:"documents"`
	Missing   []Kind     `json:"missing"`
	Assignee  string     `json:"assignee"`
	Events    []Event    `json:"events"` // filled on read; stored in the event log
	// Related are the other cases about the same article (normalised link), filled on
	// read by the store.
	Related     []string   `json:"related,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DueAt       *time.Time `json:"due_at"`
	Complainant string     `json:"complainant"` // the address replies go to
	// ComplainantFrom is the From address the case was opened from, normalised
	// (AddressKey): only mail from it acts on the case, never a Reply-To alone.
	ComplainantFrom string   `json:"complainant_from,omitempty"`
	Locale          string   `json:"locale"`
	Why             []string `json:"why,omitempty"`        // classification reasons
	Severity        Severity `json:"severity,omitempty"`   // ordinary | major
	Department      string   `json:"department,omitempty"` // the desk that owns the channel
	// Requested are document kinds staff asked for (补充) on top of the policy;
	// RequestedItems the free-text items. Both stay until the case is complete.
	Requested      []Kind      `json:"requested,omitempty"`
	RequestedItems []string    `json:"requested_items,omitempty"`
	RequestedAt    *time.Time  `json:"requested_at,omitempty"` // documents of a requested kind count only when added after
	RejectedAt     *time.Time  `json:"rejected_at,omitempty"`  // starts the appeal window
	Reason         string      `json:"reason,omitempty"`       // last decision's reason, as the complainant saw it
	Author         string      `json:"author_address,omitempty"`
	AwaitingAuthor bool        `json:"awaiting_author"`
	AuthorDue      *time.Time  `json:"author_due,omitempty"`
	Statements     []Statement `json:"statements,omitempty"` // the author's counter-statements (申辩)
	// Satisfaction is the complainant's survey score, 1–5; 0: none given.
	Satisfaction int `json:"satisfaction,omitempty"`
	// SatisfactionComment is what the complainant wrote with the score.
	SatisfactionComment string `json:"satisfaction_comment,omitempty"`
	// ErasedAt is when the case's personal information and documents were erased
	// (retention, or a data subject's request): its key is destroyed, and only the
	// anonymous facts remain.
	ErasedAt *time.Time `json:"erased_at,omitempty"`

	// Internal: kept in the store, left out of `cases show` by Public.
	Threads     []string `json:"threads,omitempty"`      // message IDs in and out
	LastInbound string   `json:"last_inbound,omitempty"` // the Message-ID to reply to
	LinkKey     string   `json:"link_key,omitempty"`     // the normalised article link, for related cases
	// ReappliedAs is the case a new application sent about this expired or withdrawn
	// case opened: the rest of that application, sent about this case too, joins it.
	ReappliedAs string `json:"reapplied_as,omitempty"`
	// SeverityByStaff and DepartmentByStaff: staff decided (升级/降级, 转交 to a
	// department); the rules no longer recompute them.
	SeverityByStaff   bool `json:"severity_by_staff,omitempty"`
	DepartmentByStaff bool `json:"department_by_staff,omitempty"`
}

// Public is the case as `cases show` prints it: the internal fields (vault references,
// threading, routing keys) are left out. The stored record keeps them.
func (c *Case) Public() *Case {
	out := *c
	out.Threads, out.LastInbound, out.LinkKey, out.ComplainantFrom, out.ReappliedAs = nil, "", "", "", ""
	out.SeverityByStaff, out.DepartmentByStaff = false, false
	out.Documents = make([]Document, len(c.Documents))
	for i, d := range c.Documents {
		d.File, d.SealedKey, d.KeyClass, d.Offset, d.Length = "", "", "", 0, 0
		out.Documents[i] = d
	}
	return &out
}

// SetSatisfaction records a survey score (1–5); the caller stores the case and appends
// an EventSatisfaction in the same transaction.
func (c *Case) SetSatisfaction(score int) error {
	if score < 1 || score > 5 {
		return fmt.Errorf("satisfaction score %d: must be 1-5", score)
	}
	c.Satisfaction = score
	return nil
}

// Major reports whether the case is marked 【重大】.
func (c *Case) Major() bool { return c.Severity == Major }

// IDNumbers are the valid ID numbers of the applicant and the principal, normalised
// (the check character in upper case): what the desk files the case under.
func (c *Case) IDNumbers() []string {
	var out []string
	for _, p := range []*Party{&c.Applicant, c.Principal} {
		if p != nil && p.IDValid && p.IDNo != "" {
			out = append(out, strings.ToUpper(strings.TrimSpace(p.IDNo)))
		}
	}
	return out
}

// Statement is a counter-statement from the article's author (Civil Code art. 1196).
type Statement struct {
	At        time.Time `json:"at"`
	From      string    `json:"from"`
	MessageID string    `json:"message_id"`
	Text      string    `json:"text"`
}

// Document is one attachment (or archive entry) of a case.
type Document struct {
	Kind      Kind   `json:"kind"` // a catalogue code, or Unclassified
	Filename  string `json:"filename"`
	Container string `json:"container,omitempty"` // the archive it came from
	Size      int64  `json:"size"`                // decoded size; for archive entries the declared uncompressed size
	SHA256    string `json:"sha256"`              // hex; empty for archive entries (never extracted)
	Why       string `json:"why"`                 // which name part or content line decided the kind
	// Flagged says why the file is not what its name claims (a program, bytes of
	// another type): never a document, never forwarded to staff as it came.
	Flagged string `json:"flagged,omitempty"`
	// OriginalFilename is the name as sent when it hid format controls (bidi overrides).
	OriginalFilename string `json:"original_filename,omitempty"`
	// InlineImage: a picture inside the body of the mail (disposition inline, or no
	// name), as the logo of a signature is in every mail of many clients.
	InlineImage bool `json:"inline_image,omitempty"`

	Message   string    `json:"message_id,omitempty"` // the mail that brought it
	AddedAt   time.Time `json:"added_at"`
	Skipped   string    `json:"skipped,omitempty"` // why the content was not kept (too large)
	Erased    bool      `json:"erased,omitempty"`
	File      string    `json:"file,omitempty"`       // internal: vault reference; empty for archive entries and skipped files
	SealedKey string    `json:"sealed_key,omitempty"` // internal
	KeyClass  string    `json:"key_class,omitempty"`  // internal: vault key class, "" or "sensitive"
	Offset    int64     `json:"offset,omitempty"`     // internal: where it lies in the vault file
	Length    int64     `json:"length,omitempty"`     // internal: its bytes there; 0: the whole file
}

// Decoration reports a file that is no document the complainant sent: a picture of the
// body's (InlineImage) whose name says nothing of what it is. It is kept with the
// others, for staff, but neither answers a request for documents nor is evidence.
func (d Document) Decoration() bool { return d.InlineImage && d.Kind == Unclassified }

// Party is an applicant or a principal.
type Party struct {
	Name    string        `json:"name"`
	Org     string        `json:"org"`
	Type    ApplicantType `json:"type"`
	Email   string        `json:"email,omitempty"`
	Phone   string        `json:"phone,omitempty"`     // personal data: never logged
	IDNo    string        `json:"id_number,omitempty"` // personal data: never logged
	IDValid bool          `json:"id_valid"`            // IDNo present and passes the GB 11643 check digit
}

// ApplicantType is who applies (SPEC §6 applicant.type).
type ApplicantType string

// Applicant types.
const (
	Individual   ApplicantType = "individual"
	Organisation ApplicantType = "organisation"
	// Entrusted: someone applies on another's behalf (a law firm, a relative); the
	// principal is recorded separately.
	Entrusted ApplicantType = "entrusted"
)

// Rank orders applicant types from least to most specific: a follow-up may make a
// case's applicant more specific, never less.
func (t ApplicantType) Rank() int {
	switch t {
	case Organisation:
		return 1
	case Entrusted:
		return 2
	}
	return 0
}

// Request is what the applicant wants removed.
type Request struct {
	Title       string      `json:"title"` // without 《》
	URL         string      `json:"url"`
	URLValid    bool        `json:"url_valid"` // absolute http(s) URL with a host
	Author      string      `json:"author"`
	Published   string      `json:"published"` // as written by the applicant
	Reason      string      `json:"reason"`
	Channel     string      `json:"channel"` // from the subject convention, e.g. 凤凰资讯
	ContentKind ContentKind `json:"content_kind"`
	Reposted    bool        `json:"reposted"`
}

// ContentKind is what kind of content the request is about (SPEC §2).
type ContentKind string

// Content kinds.
const (
	News      ContentKind = "news"
	SelfMedia ContentKind = "self_media"
	Comment   ContentKind = "comment"
	Blog      ContentKind = "blog"
	Unknown   ContentKind = "unknown"
)

// ContentKinds returns every content kind (a fresh slice).
func ContentKinds() []ContentKind { return []ContentKind{News, SelfMedia, Comment, Blog, Unknown} }

// Subject is the parsed subject convention
// `<applicant name>(<organisation>)申请删除<channel>稿件`.
type Subject struct {
	Conforms bool   `json:"conforms"`
	Name     string `json:"name,omitempty"`
	Org      string `json:"org,omitempty"`
	Channel  string `json:"channel,omitempty"`
}

// Severity is how serious a case is.
type Severity string

// Severities.
const (
	Ordinary Severity = "ordinary"
	// Major: 【重大】 — leadership is told at once, deadlines are shorter.
	Major Severity = "major"
)

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return s == Ordinary || s == Major }

// Event is one entry of a case's audit log.
type Event struct {
	At    time.Time `json:"at"`
	Type  EventType `json:"type"`
	Actor string    `json:"actor"`
	From  State     `json:"from_state,omitempty"`
	To    State     `json:"to_state,omitempty"`
	Note  string    `json:"note,omitempty"`
}

// EventType names an audit-log entry. Every Action is one (EventOf); the others are
// below. The strings are part of the JSON interface.
type EventType string

// EventOf is the event recording action a.
func EventOf(a Action) EventType { return EventType(a) }

// RefusedEvent records an action that was refused (an appeal out of time, an illegal
// transition asked by a complainant).
func RefusedEvent(a Action) EventType { return EventType(string(a) + "_refused") }

// Events that are not actions.
const (
	EventCreated         EventType = "created"
	EventMessageReceived EventType = "message_received"
	EventDocumentsAdded  EventType = "documents_added"
	EventState           EventType = "state" // a state change the desk made (documents complete)
	EventReplyQueued     EventType = "reply_queued"
	EventReplySuppressed EventType = "reply_suppressed"
	EventReplySent       EventType = "reply_sent"
	EventReplyFailed     EventType = "reply_failed"
	EventStaffNotified   EventType = "staff_notified"
	EventSatisfaction    EventType = "satisfaction"
	EventDepartment      EventType = "department"
	EventSeverity        EventType = "severity"
	EventSecurity        EventType = "security"
	EventCommandRefused  EventType = "command_refused"
	EventReminder        EventType = "reminder"
	EventExpiryReminder  EventType = "expiry_reminder"
	EventSurveySent      EventType = "survey_sent"
	// EventSurveyUnclear: an answer to the survey had no score; the complainant was
	// asked once to answer with one.
	EventSurveyUnclear   EventType = "survey_unclear"
	EventDocumentsErased EventType = "documents_erased"
	// EventErased: the case's personal information and every document were erased
	// (`cases erase`, or retention after closing).
	EventErased EventType = "erased"
	// EventRevealed: someone printed the case unmasked (`cases show -reveal`).
	EventRevealed EventType = "revealed"
	// EventDocumentsExported: someone decrypted the documents (`cases documents`).
	EventDocumentsExported EventType = "documents_exported"
	// EventLinked: the case is linked to mail it answers that was not yet registered
	// (a follow-up processed before its original), or that mail arrived and joined it.
	EventLinked EventType = "linked"
)

// AddressKey normalises an address for identity: lower case, spaces trimmed, a
// sub-address (+tag) dropped. alice+desk@Example.cn and alice@example.cn are one person.
func AddressKey(addr string) string {
	a := strings.ToLower(strings.TrimSpace(addr))
	local, domain, ok := strings.Cut(a, "@")
	if !ok {
		return a
	}
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	return local + "@" + domain
}

// FromComplainant reports whether a mail from the address from may act on the case: it
// comes from the address the case was opened from (cases opened before that was
// recorded: the reply address or the applicant's address).
func (c *Case) FromComplainant(from string) bool {
	k := AddressKey(from)
	if k == "" {
		return false
	}
	if c.ComplainantFrom != "" {
		return k == c.ComplainantFrom
	}
	return k == AddressKey(c.Complainant) || k == AddressKey(c.Applicant.Email)
}
