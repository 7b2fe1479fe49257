package classify

// Applicant types (SPEC §6 applicant.type).
const (
	Individual   = "individual"
	Organisation = "organisation"
	Entrusted    = "entrusted"
)

// Content kinds (SPEC §2 policy details).
const (
	KindNews      = "news"
	KindSelfMedia = "self_media"
	KindComment   = "comment"
	KindBlog      = "blog"
	KindUnknown   = "unknown"
)

// Document kind codes (SPEC §2 table); part of the external interface.
const (
	DocApplicationForm   = "application_form"
	DocIDCard            = "id_card"
	DocBusinessLicense   = "business_license"
	DocWorkID            = "work_id"
	DocWithdrawalLetter  = "withdrawal_letter"
	DocExplanationLetter = "explanation_letter"
	DocReasonProof       = "reason_proof"
	DocPowerOfAttorney   = "power_of_attorney"
	DocUnclassified      = "unclassified"
)

// Party is an applicant or a principal.
type Party struct {
	Name    string `json:"name"`
	Org     string `json:"org"`
	Type    string `json:"type"` // Individual, Organisation or Entrusted
	Email   string `json:"email,omitempty"`
	Phone   string `json:"phone,omitempty"`     // personal data: never logged
	IDNo    string `json:"id_number,omitempty"` // personal data: never logged
	IDValid bool   `json:"id_valid"`            // IDNo present and passes the GB 11643 check digit
}

// Request is what the applicant wants removed.
type Request struct {
	Title       string `json:"title"` // without 《》
	URL         string `json:"url"`
	URLValid    bool   `json:"url_valid"` // absolute http(s) URL with a host
	Author      string `json:"author"`
	Published   string `json:"published"` // as written by the applicant
	Reason      string `json:"reason"`
	Channel     string `json:"channel"`      // from the subject convention, e.g. 凤凰资讯
	ContentKind string `json:"content_kind"` // KindNews, ...
	Reposted    bool   `json:"reposted"`
}

// Document is one classified file. Files inside a .zip appear as their own Documents
// with Container set to the zip's file name.
type Document struct {
	Kind      string `json:"kind"` // a Doc* code or DocUnclassified
	Filename  string `json:"filename"`
	Container string `json:"container,omitempty"` // the archive it came from
	Size      int64  `json:"size"`                // decoded size; for archive entries the declared uncompressed size
	SHA256    string `json:"sha256"`              // hex; empty for archive entries (never extracted)
	SpoolID   string `json:"-"`                   // content handle (top-level files only)
	Why       string `json:"why"`                 // which name part or content line decided the kind
}

// Subject is the parsed subject convention
// `<applicant name>(<organisation>)申请删除<channel>稿件`.
type Subject struct {
	Conforms bool   `json:"conforms"`
	Name     string `json:"name,omitempty"`
	Org      string `json:"org,omitempty"`
	Channel  string `json:"channel,omitempty"`
}

// Result is everything the classifier found in one message, with reasons.
type Result struct {
	Subject   Subject    `json:"subject"`
	Applicant Party      `json:"applicant"`
	Principal *Party     `json:"principal,omitempty"` // entrusted requests only
	Request   Request    `json:"request"`
	Documents []Document `json:"documents"`
	// Why explains decisions that are not per document: "applicant.type: 单位名称 line",
	// "content_kind: subject says 稿件", ...
	Why []string `json:"why,omitempty"`
}
