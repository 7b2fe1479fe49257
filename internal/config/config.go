// Package config reads complaintd's YAML configuration strictly. Load is the one way
// in: it decodes the file key by key (an unknown key, a duplicate or a value of the
// wrong type is one problem, and the rest of the file is still read), fills in the
// defaults once, checks every value, and returns every problem of the file at once as
// Problems, one line each, starting with its key path ("smtp.max_attempts: must be at
// least 1, got -3"). After Load nothing else parses strings or falls back silently.
//
// The files: config.go is the file's shape (the types, with their defaults in
// comments); load.go the way in; decode.go the key-by-key decode; defaults.go the
// defaults; problems.go the error type and its order; validate.go the shared checks
// and validate_<section>.go the checks of each section.
package config

import (
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/policy"
	"github.com/complaintd/complaintd/internal/routing"
)

// Config is the whole file. Field comments give the default.
type Config struct {
	IMAP      IMAP           `yaml:"imap"`
	SMTP      SMTP           `yaml:"smtp"`
	Store     Store          `yaml:"store"`
	Staff     Staff          `yaml:"staff"`
	Templates Templates      `yaml:"templates"`
	Policy    Policy         `yaml:"policy"`
	Schedule  Schedule       `yaml:"schedule"`
	HTTP      HTTP           `yaml:"http"`
	Routing   routing.Config `yaml:"routing"`
}

// IMAP is the service mailbox.
type IMAP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`     // 993 for tls, else 143
	TLS      string `yaml:"tls"`      // none | starttls | tls; default tls
	Username string `yaml:"username"` //
	Password string `yaml:"password"` // or COMPLAINTD_IMAP_PASSWORD
	Mailbox  string `yaml:"mailbox"`  // INBOX
	// Idle uses IMAP IDLE when the server offers it (default true); else polls.
	Idle         *bool         `yaml:"idle"`
	PollInterval time.Duration `yaml:"poll_interval"` // 60s; also the IDLE re-check interval
	// Processed is what happens to a mail once registered: "flag" (keyword
	// $Complaintd), "move" (to ProcessedFolder), or "none". Default flag.
	Processed        string `yaml:"processed"`
	ProcessedFolder  string `yaml:"processed_folder"`  // Processed when processed=move
	QuarantineFolder string `yaml:"quarantine_folder"` // Quarantine
	// ErasedMail is what happens in the mailbox to the mails of a case once it is
	// erased (retention, `cases erase`): "delete" (default) removes them from
	// Mailbox, ProcessedFolder and QuarantineFolder; "keep" leaves them to the
	// operator's own mailbox retention.
	ErasedMail string `yaml:"erased_mail"`
	// Start says what a fresh store does with the mail already in the mailbox at its
	// first start: "all" processes it like new mail (replies included); "new" records
	// it without replies. Empty is "all", except over a mailbox with complaintd's
	// processing marks, where the daemon refuses to start until it is set.
	Start          string        `yaml:"start"`           // all
	MaxAttempts    int           `yaml:"max_attempts"`    // 3: attempts before a mail is quarantined
	CommandTimeout time.Duration `yaml:"command_timeout"` // 60s watchdog per IMAP command
	FetchTimeout   time.Duration `yaml:"fetch_timeout"`   // 5m watchdog per message download
	Limits         Limits        `yaml:"limits"`

	// CAFile, ServerName and TLSMinVersion verify the server (tls and starttls):
	// a PEM bundle trusted instead of the system roots ("": system roots), the name
	// the certificate must carry ("": host), and "1.2" (default) or "1.3".
	CAFile        string `yaml:"ca_file"`
	ServerName    string `yaml:"server_name"`
	TLSMinVersion string `yaml:"tls_min_version"`
}

// Limits bound what one message may cost.
type Limits struct {
	MaxMessageBytes    int64 `yaml:"max_message_bytes"`    // 64 MiB
	MaxHeaderBytes     int   `yaml:"max_header_bytes"`     // 256 KiB
	MaxParts           int   `yaml:"max_parts"`            // 500
	MaxDepth           int   `yaml:"max_depth"`            // 20
	MaxAttachmentBytes int64 `yaml:"max_attachment_bytes"` // 40 MiB
	// MessageBudget is the time one mail may take to parse and classify; past it the
	// mail is registered with what was read, and its case lists what was not.
	MessageBudget   time.Duration `yaml:"message_budget"`    // 5s
	MaxInflateBytes int64         `yaml:"max_inflate_bytes"` // 64 MiB inflated from one mail's archives and .docx files together
}

// SMTP is the outgoing relay.
type SMTP struct {
	Host        string        `yaml:"host"`
	Port        int           `yaml:"port"` // 465 for tls, 587 for starttls, else 25
	TLS         string        `yaml:"tls"`  // none | starttls | tls; default starttls
	Username    string        `yaml:"username"`
	Password    string        `yaml:"password"` // or COMPLAINTD_SMTP_PASSWORD
	From        string        `yaml:"from"`     // the desk's address, required
	FromName    string        `yaml:"from_name"`
	HELO        string        `yaml:"helo"`
	Timeout     time.Duration `yaml:"timeout"`      // 60s per SMTP transaction
	MaxAttempts int           `yaml:"max_attempts"` // 20 attempts before an outbox entry fails
	RetryMin    time.Duration `yaml:"retry_min"`    // 30s first retry delay (doubles)
	RetryMax    time.Duration `yaml:"retry_max"`    // 1h longest retry delay
	// Sessions is how many SMTP sessions send replies in parallel, each carrying many.
	Sessions int `yaml:"sessions"` // 4
	// IdleTimeout is how long an unused SMTP session stays open before QUIT.
	IdleTimeout time.Duration `yaml:"idle_timeout"` // 30s
	// AutoReplyLimit caps automatic replies to one sender over a sliding window.
	AutoReplyLimit  int           `yaml:"auto_reply_limit"`  // 10
	AutoReplyWindow time.Duration `yaml:"auto_reply_window"` // 1h
	// AutoReplyDomainLimit caps automatic replies to one domain, AutoReplyGlobalLimit
	// all of them, over the same window (backscatter from forged Reply-To addresses).
	AutoReplyDomainLimit int `yaml:"auto_reply_domain_limit"` // 60
	AutoReplyGlobalLimit int `yaml:"auto_reply_global_limit"` // 600

	// CAFile, ServerName and TLSMinVersion: as for imap (starttls and tls).
	CAFile        string `yaml:"ca_file"`
	ServerName    string `yaml:"server_name"`
	TLSMinVersion string `yaml:"tls_min_version"`
}

// Store is where cases live.
type Store struct {
	Path           string `yaml:"path"`            // complaintd.db
	AttachmentsDir string `yaml:"attachments_dir"` // attachments (next to path)
	MasterKey      string `yaml:"master_key"`      // 32 bytes, hex or base64; or COMPLAINTD_MASTER_KEY
	// MasterKeyFile holds the master key (64 hex digits or base64, one line), kept
	// apart from the data it protects. Under systemd, LoadCredential=master-key:FILE
	// passes it as $CREDENTIALS_DIRECTORY/master-key, which is read first.
	MasterKeyFile string        `yaml:"master_key_file"` // none: a generated master.key next to the store
	LockTimeout   time.Duration `yaml:"lock_timeout"`    // 10s to wait for the bbolt file lock
}

// Staff are the people who drive cases.
type Staff struct {
	Addresses []string          `yaml:"addresses"` // who may send commands
	Notify    []string          `yaml:"notify"`    // who gets notifications (default: addresses)
	Admins    []string          `yaml:"admins"`    // who gets alerts and weekly reports
	Aliases   map[string]string `yaml:"aliases"`   // 转交 short names → address
	// Supervisors receive escalations when a review or processing deadline passes
	// (with the assignee, or the notify list when the case has none).
	Supervisors []string `yaml:"supervisors"` // default: admins
	// AppealReviewers get appealed cases instead of the notify list (a second pair
	// of eyes); empty: the notify list.
	AppealReviewers []string `yaml:"appeal_reviewers"`
	// AttachMaxBytes caps the documents attached to one staff notification; the
	// rest are listed with a note.
	AttachMaxBytes int64 `yaml:"attach_max_bytes"` // 20 MiB
	// NotifyLimit caps the notifications one staff or leadership address gets within
	// NotifyWindow; past it they are held and go out as one mail listing the cases at
	// the end of the window (a flood of mails must not flood the staff).
	NotifyLimit  int           `yaml:"notify_limit"`  // 20
	NotifyWindow time.Duration `yaml:"notify_window"` // 1h
	Auth         StaffAuth     `yaml:"auth"`
}

// StaffAuth says how a staff command mail proves itself.
type StaffAuth struct {
	Mode       string `yaml:"mode"`        // token | auth-results | token+auth-results | token|auth-results | dkim | token+dkim | token|dkim; default token
	AuthServID string `yaml:"authserv_id"` // authserv-id of our own server's Authentication-Results
	// TrustedHop is the host our border MTA names in its Received line ("by
	// mx.example.cn"): only Authentication-Results above that line count. Empty: only
	// those above the topmost Received.
	TrustedHop string `yaml:"trusted_hop"`
	Secret     string `yaml:"secret"` // HMAC secret of the complainant tokens (and of old-form staff tokens); or COMPLAINTD_STAFF_SECRET; else derived from the master key
	// TokenTTL is how long a staff token stays valid after the mail that carried it
	// was sent.
	TokenTTL time.Duration `yaml:"token_ttl"` // 720h (30 days)
	// TokenKeyFile holds the key of the staff tokens, apart from the master key (so
	// rotating that leaves tokens valid); created 0600 with 32 random bytes at the
	// first start when absent.
	TokenKeyFile string `yaml:"token_key_file"` // staff-token.key next to the store
}

// Templates are the reply texts.
type Templates struct {
	Dir            string        `yaml:"dir"`             // empty: the embedded defaults
	Locale         string        `yaml:"locale"`          // zh-CN
	ReloadInterval time.Duration `yaml:"reload_interval"` // 5s file check
}

// Policy is the document policy and the deadlines.
type Policy struct {
	CasePrefix string `yaml:"case_prefix"` // TS
	// DocumentKinds are the admins' own document kinds, added to the built-in ones
	// of SPEC §2 (code, labels, file-name keywords, 补充 synonyms, sensitivity).
	DocumentKinds []cases.KindInfo      `yaml:"document_kinds"` // none
	Documents     []policy.DocumentRule `yaml:"documents"`      // default: SPEC §2
	ReviewDays    int                   `yaml:"review_days"`    // 3 business days
	ProcessDays   int                   `yaml:"process_days"`   // 5 business days
	ExpireDays    int                   `yaml:"expire_days"`    // 15 calendar days
	AppealDays    int                   `yaml:"appeal_days"`    // 15 calendar days
	// SensitiveKinds are the document kinds kept under the case's sensitive key, the
	// key that also seals its personal information (PIPL); retention destroys every
	// key of a case RetentionDays after it is closed.
	// Unset: the kinds the catalogue marks sensitive, and unclassified files.
	SensitiveKinds []cases.Kind `yaml:"sensitive_kinds"` // [application_form, id_card, business_license, power_of_attorney, unclassified]
	RetentionDays  int          `yaml:"retention_days"`  // 180
	// AuthorDays is how long the author of an article has to answer a takedown
	// notice (听证申辩); the review deadline pauses meanwhile.
	AuthorDays int      `yaml:"author_days"` // 7 calendar days
	Calendar   Calendar `yaml:"calendar"`
	// ReminderBefore is how long before a review or processing deadline the
	// assignee (or the notify list) is reminded.
	ReminderBefore time.Duration `yaml:"reminder_before"` // 24h
	// Survey sends a satisfaction survey (回访) SurveyDelay after a case is resolved.
	Survey      bool          `yaml:"survey"`       // false
	SurveyDelay time.Duration `yaml:"survey_delay"` // 24h
	// The *_after durations override the matching *_days when set: for tests and
	// drills that need a deadline in seconds. Business days are then not counted.
	ReviewAfter    time.Duration `yaml:"review_after"`    // 0: use review_days
	ProcessAfter   time.Duration `yaml:"process_after"`   // 0: use process_days
	ExpireAfter    time.Duration `yaml:"expire_after"`    // 0: use expire_days
	RetentionAfter time.Duration `yaml:"retention_after"` // 0: use retention_days
	AppealAfter    time.Duration `yaml:"appeal_after"`    // 0: use appeal_days
}

// Calendar defines business days.
type Calendar struct {
	TimeZone string   `yaml:"time_zone"` // Asia/Shanghai
	Weekend  []string `yaml:"weekend"`   // [saturday, sunday]
	Holidays []string `yaml:"holidays"`  // YYYY-MM-DD days off
	Workdays []string `yaml:"workdays"`  // YYYY-MM-DD make-up working days (调休)
}

// Schedule holds cron specs (robfig/cron with seconds optional).
type Schedule struct {
	Deadlines string `yaml:"deadlines"` // @every 5m
	Digest    string `yaml:"digest"`    // 0 9 * * 1-5
	Weekly    string `yaml:"weekly"`    // 0 9 * * 1
	Retention string `yaml:"retention"` // 30 3 * * *
}

// HTTP serves health and metrics; the control socket serves the CLI.
type HTTP struct {
	Listen        string `yaml:"listen"`         // e.g. 127.0.0.1:8025; empty or absent: no HTTP server
	ControlSocket string `yaml:"control_socket"` // complaintd.sock next to the store; 0600
}

// Catalogue is the document kinds the desk knows: the built-in ones and
// policy.document_kinds.
func (c *Config) Catalogue() (*cases.Catalogue, error) {
	return cases.NewCatalogue(c.Policy.DocumentKinds)
}
