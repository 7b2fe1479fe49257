// Package mailmsg turns one raw RFC 5322 message into the desk's view of it: decoded
// addresses, subject and IDs, the best plain-text body, attachments streamed out to a
// Spool, and whether the message is machine-generated (bounce, auto-reply, list mail).
//
// Invariants:
//   - Parse never panics and never returns a nil *Message together with a nil error;
//     malformed input yields the parts that could be read plus Problems.
//   - Everything returned is valid UTF-8. Charset labels gb2312 and gbk are decoded as
//     GB18030 (its superset; senders mislabel).
//   - Memory is bounded by Limits: attachment bytes are never held in memory, they
//     are written to the Spool as they are decoded.
//   - Time is bounded by the caller's context (ParseContext, issue 13): every read
//     goes through one counting reader that stops once the context ends, and the
//     walk stops there with what it has, never with an error.
//
// Implementation notes:
//   - Headers and multipart boundaries are read by this package, line by line, not by
//     net/mail or mime/multipart: those refuse what real mail does (unindented
//     parameter continuations, non-header lines in the header block, a BOM, 8-bit
//     header bytes, unquoted tspecials and 8-bit bytes in parameters) and read a
//     header block without bound. go-message's charset package supplies the charset
//     table behind our own overrides (charset.go).
//   - Charset rules (SPEC §2): GB labels → GB18030, big5 → Big5, ks_c_5601-1987 →
//     EUC-KR. Undeclared 8-bit bytes: valid UTF-8 stays UTF-8; otherwise the
//     GB18030 and Big5 readings are scored by how many rare byte pairs they imply
//     and the lower score wins (decodeRaw). A declared charset is overruled only by
//     bytes that are valid UTF-8.
//   - RFC 2047 words are decoded also inside quoted parameter values and across
//     folds; RFC 2231 continuations are joined before charset decoding.
//   - Machine-generated mail (detectAuto) follows RFC 3834, RFC 3464, RFC 6522,
//     RFC 2369 and RFC 2919; see auto.go for the ranking.
package mailmsg

import "time"

// Address is one decoded mailbox.
type Address struct {
	Name    string // display name, decoded; may be empty
	Address string // addr-spec, lower-cased domain; may be empty for broken headers
}

// AutoKind says why a message must neither create a case nor get a reply.
type AutoKind string

// Kinds of machine-generated mail (SPEC §2 "Noise", RFC 3834 §2, RFC 3464, RFC 2369/2919).
// Bounce outranks AutoReply outranks List; a null sender alone is a Bounce, but an
// auto-reply sent with a null sender (RFC 3834 §3.3) is an AutoReply.
const (
	Human     AutoKind = ""           // written by a person
	Bounce    AutoKind = "bounce"     // null sender, multipart/report, MAILER-DAEMON, ARF/DSN/MDN
	AutoReply AutoKind = "auto_reply" // Auto-Submitted other than "no", X-Auto-Response-Suppress, vacation
	List      AutoKind = "list"       // List-Id, List-Unsubscribe, Precedence: bulk/list/junk
)

// Message is the parsed, decoded view of one e-mail.
type Message struct {
	MessageID  string    // without angle brackets; empty when absent
	InReplyTo  []string  // message IDs, without angle brackets
	References []string  // message IDs, without angle brackets, in header order
	Subject    string    // decoded (RFC 2047, raw 8-bit GBK/Big5/UTF-8), whitespace-trimmed
	From       Address   // first From mailbox
	Sender     string    // Return-Path / envelope sender if present ("" for the null sender <>)
	NullSender bool      // Return-Path: <>
	ReplyTo    []Address //
	To         []Address //
	Cc         []Address //
	Date       time.Time // zero when absent or unparseable
	Mailer     string    // X-Mailer or User-Agent, for statistics and client-specific quirks

	// Text is the best plain-text body in UTF-8: the first text/plain part that is not an
	// attachment, else the first text/html part converted to text. Truncated at
	// Limits.MaxTextBytes (TextTruncated set).
	Text          string
	TextTruncated bool
	HTML          bool // Text was derived from HTML

	Attachments []Attachment
	Auto        AutoKind
	AutoReason  string // the header or part that decided Auto, e.g. "Auto-Submitted: auto-replied"

	// Trace holds the Received and Authentication-Results headers, topmost (most recently
	// added) first, unfolded, in their order: staff authentication trusts only the
	// Authentication-Results our own border added above its Received line (RFC 8601 §5);
	// see package staffauth.
	Trace []TraceField

	// Headers holds a few raw headers the desk cares about (decoded to UTF-8), keyed by
	// canonical name: X-QQ-mid, X-Auto-Response-Suppress, List-Id, Precedence, ...
	// Not every header: bodies of headers are personal data.
	Headers map[string]string

	// Stopped is set when ParseContext's context ended before the message was read
	// through: what is here is what was read in time (Problems says so too).
	Stopped bool

	// Problems lists what was malformed but survived (unknown charset, bad base64,
	// missing boundary, ...). Empty for a clean message.
	Problems []string
}

// TraceField is one Received or Authentication-Results header.
type TraceField struct {
	Received bool   // a Received header; else Authentication-Results
	Value    string // unfolded, as valid UTF-8
}

// Attachment is one file carried by the message. Its content is in the Spool.
type Attachment struct {
	Filename    string // decoded (RFC 2231, RFC 2047 in quotes, raw GBK/UTF-8); may be ""
	ContentType string // lower-case media type, e.g. "application/pdf"
	Inline      bool   // Content-Disposition inline (or none) with a file name
	Size        int64  // decoded bytes written to the spool
	SHA256      string // hex of the decoded content
	SpoolID     string // handle returned by the Spool; empty when Skipped
	Skipped     string // non-empty when the content was not stored (e.g. "too large"), the reason
	Embedded    bool   // a message/rfc822 part kept as a file (.eml)
	// OriginalFilename is the name as sent when Filename differs from it by more than
	// its path: bidi and format controls (U+202E shows 身份证\u202Egpj.exe as
	// 身份证exe.jpg) are removed from Filename and kept here for the record.
	OriginalFilename string
	// Sniffed is the media type of the content's first bytes (http.DetectContentType),
	// whatever the sender labelled it; "" when nothing was stored.
	Sniffed string
	// Executable says why the content is a program ("Windows executable (MZ)", "script
	// by its name .js"), "" when it is not one. Programs are never documents.
	Executable string
}

// Spool receives attachment content while it is decoded. Implementations encrypt it at
// rest (package vault); tests may use MemSpool.
type Spool interface {
	// Create starts a new spool file for an attachment.
	Create() (SpoolFile, error)
}

// SpoolFile is one attachment being written.
type SpoolFile interface {
	Write(p []byte) (int, error)
	// Commit finishes the file and returns its handle.
	Commit() (id string, err error)
	// Abort removes what was written.
	Abort()
}

// Limits bound the work one message may cause. A zero field takes the default in
// DefaultLimits.
type Limits struct {
	MaxMessageBytes    int64 // whole raw message
	MaxHeaderBytes     int   // one header block (top level or part)
	MaxParts           int   // MIME parts in total
	MaxDepth           int   // multipart / message nesting
	MaxAttachmentBytes int64 // one decoded attachment; bigger ones are Skipped
	MaxTextBytes       int   // decoded body text kept in Text
}

// DefaultLimits are generous for real complaint mail and small enough to keep a hostile
// message from stalling the desk.
var DefaultLimits = Limits{
	MaxMessageBytes:    64 << 20,
	MaxHeaderBytes:     256 << 10,
	MaxParts:           500,
	MaxDepth:           20,
	MaxAttachmentBytes: 40 << 20,
	MaxTextBytes:       1 << 20,
}
