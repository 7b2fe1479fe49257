package classify

import "github.com/complaintd/complaintd/internal/cases"

// Document is one classified file. Files inside a .zip appear as their own Documents
// with Container set to the zip's file name.
type Document struct {
	Kind      cases.Kind `json:"kind"` // a catalogue code or cases.Unclassified
	Filename  string     `json:"filename"`
	Container string     `json:"container,omitempty"` // the archive it came from
	Size      int64      `json:"size"`                // decoded size; for archive entries the declared uncompressed size
	SHA256    string     `json:"sha256"`              // hex; empty for archive entries (never extracted)
	SpoolID   string     `json:"-"`                   // content handle (top-level files only)
	Why       string     `json:"why"`                 // which name part or content line decided the kind
	// Flagged says why the file is not what its name claims (a program, bytes of
	// another type): never a document, never forwarded to staff as it came.
	Flagged string `json:"flagged,omitempty"`
	// OriginalFilename is the name as sent when it hid format controls.
	OriginalFilename string `json:"original_filename,omitempty"`
}

// Result is everything the classifier found in one message, with reasons.
type Result struct {
	Subject   cases.Subject `json:"subject"`
	Applicant cases.Party   `json:"applicant"`
	Principal *cases.Party  `json:"principal,omitempty"` // entrusted requests only
	Request   cases.Request `json:"request"`
	Documents []Document    `json:"documents"`
	// Why explains decisions that are not per document: "applicant.type: 单位名称 line",
	// "content_kind: subject says 稿件", ...
	Why []string `json:"why,omitempty"`
}
