// Package imapsource reads the service mailbox: the IMAP session (dial, TLS,
// authentication, the ID command, SELECT, UID SEARCH after a checkpoint, streaming
// FETCH, flagging, a safe MOVE, APPEND and waiting for new mail with IDLE or NOOP
// polling), and the source pipeline on top of it (Pipeline): checkpoint, fetch,
// retries and quarantine. The pipeline hands each mail, with its inbound.Source
// (channel IMAP, mailbox, UIDVALIDITY, UID), to intake through the Intake interface
// declared here; intake keeps every record in its store, so this package holds no
// database and decides nothing about the mail's content.
//
// Invariants of the pipeline:
//
//   - Exactly once. What has been processed is decided by the UIDVALIDITY+UID
//     checkpoint alone, which intake advances in the store transaction that registers
//     the mail; never by \Seen or by the desk's own flags (bodies are fetched with
//     BODY.PEEK[]). Mails are committed in UID order, several in one transaction when
//     they are parsed ahead (a group fails as a whole and is then committed mail by
//     mail, so only the culprit is charged).
//   - A new UIDVALIDITY (RFC 3501 §2.3.1.1) rescans the mailbox from the start and
//     raises an operator alert; the Message-ID and content digest keep registered mail
//     from becoming a second case.
//   - A failing mail never blocks the mail behind it: its attempts are counted and it is
//     retried on later passes, then quarantined (at once when the failure is
//     permanent). The quarantine record is written before the mail is moved to the
//     quarantine folder (or flagged \Flagged where no safe move exists), and says it
//     was moved only once it was.
//   - Only the mail's own fault counts against it. A fault of the environment
//     (inbound.IsEnvironment: the store or the disk failing, the connection lost, a
//     stop) ends the batch uncharged; the mail is fetched again by the next session
//     after the backoff, and a store or disk fault pauses intake with an operator
//     alert until a session works again.
//   - Quarantine is a waiting room: mail an operator releases, and mail quarantined
//     for the environment's fault, is taken back at the start of each pass (moved
//     back from the quarantine folder, or requeued at its UID) and processed once.
//   - A mail that kills the process is quarantined instead of killing it forever, and
//     nothing else is blamed: a death is charged only to a mail processed alone; mails
//     in hand in a pipeline when the process died are suspects, each processed alone
//     on the next start (see inflight). Likewise a mail in hand when the connection
//     broke is fetched alone by the next session, and a mail the server cannot send
//     without dropping the connection is quarantined after as many breaks in a row.
//   - Flags and moves after the commit are a convenience for the people reading the
//     mailbox; their failure is logged, never retried as processing.
//   - Cancellation is observed between mails: the mail in hand is finished, flag
//     included; the FETCH in flight may finish on its connection for up to
//     stopGrace, and is cut after that.
//
// Invariants and implementation notes of the session:
//
//   - Every command runs under a watchdog. github.com/emersion/go-imap/v2's
//     client has no context support and only coarse internal deadlines, so
//     each command is guarded by a timer and by the caller's context: when
//     either fires while the command waits, the TCP connection is closed,
//     which makes go-imap fail every pending command. From then on the
//     Client is dead and every method returns an error wrapping ErrConnLost
//     at once; the caller dials again (see Backoff).
//   - Connection-level failures wrap ErrConnLost (IsConnError reports them);
//     a server's NO/BAD about one command or message does not, and the
//     session stays usable.
//   - Nothing is ever expunged except the single UID being moved, and only
//     with UID EXPUNGE (RFC 4315 section 2.1). go-imap's Client.Move falls
//     back to COPY + STORE \Deleted + EXPUNGE, and a plain EXPUNGE removes
//     every \Deleted message in the mailbox, including other people's; this
//     package never takes that path (see Client.Move).
//   - Bodies are never requested together with BODYSTRUCTURE or ENVELOPE: a
//     malformed BODYSTRUCTURE from the server makes go-imap drop the
//     connection. Bodies are streamed to the caller, never buffered whole.
//   - The ID command (RFC 2971) is sent after login when the server offers
//     it; 163.com and 126.com refuse SELECT from clients that did not.
//   - Logs carry host, mailbox, UID and command names only: never message
//     content, and never credentials.
//
// A Client serialises its methods; it is meant to be used by one goroutine
// at a time, but Close may be called from another goroutine to interrupt.
package imapsource

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"time"
)

// TLSMode says how the connection is protected.
type TLSMode string

// TLS modes accepted by Options.TLS.
const (
	TLSNone     TLSMode = "none"     // plain TCP; the password travels in the clear
	TLSStartTLS TLSMode = "starttls" // plain TCP upgraded with STARTTLS before login (RFC 9051 section 6.2.1)
	TLSImplicit TLSMode = "tls"      // TLS from the first byte (RFC 8314), usually port 993
)

// Default timeouts applied when Options leaves them zero.
const (
	DefaultCommandTimeout = 60 * time.Second
	DefaultFetchTimeout   = 5 * time.Minute
)

// Options configure Dial. Zero values are documented per field.
type Options struct {
	// Host and Port of the IMAP server. Both are required.
	Host string
	Port int
	// TLS selects the protection. Empty means TLSImplicit.
	TLS TLSMode
	// TLSConfig is used for TLSImplicit and TLSStartTLS. Nil means the system
	// roots with ServerName = Host. A config without ServerName gets Host.
	TLSConfig *tls.Config

	// Username and Password for LOGIN, or AUTHENTICATE PLAIN when the server
	// disables LOGIN (LOGINDISABLED). The password is never logged.
	Username, Password string

	// CommandTimeout bounds each command, from sending it to its tagged
	// response, including the TCP connect and TLS handshake. Zero means
	// DefaultCommandTimeout. (go-imap also gives up on its own when one
	// response, once started, takes more than 30 seconds to arrive.)
	CommandTimeout time.Duration
	// FetchTimeout bounds one Client.Fetch, including the time its callback
	// takes to consume the message. Zero means DefaultFetchTimeout. (go-imap
	// also gives up on a body literal not consumed within 5 minutes, so
	// larger values do not extend that.)
	FetchTimeout time.Duration

	// Logger receives connection-level events. Nil discards them.
	Logger *slog.Logger

	// ClientID is sent with the ID command (RFC 2971) when the server offers
	// ID. Keys are the RFC 2971 field names ("name", "version", "os",
	// "os-version", "vendor", "support-url", "address", "date", "command",
	// "arguments", "environment"); any other key makes Dial fail. Nil means
	// name=complaintd and version=the build's module version.
	ClientID map[string]string
}

// Errors reported by this package. Test them with errors.Is.
var (
	// ErrConnLost wraps every connection-level failure: I/O errors, protocol
	// errors, a fired watchdog, a cancelled context during a command, and any
	// call on a Client that is already dead or closed. Reconnect and retry.
	ErrConnLost = errors.New("imap connection lost")
	// ErrTimeout is wrapped (with ErrConnLost) when a watchdog fired.
	ErrTimeout = errors.New("imap command timed out")
	// ErrAuthFailed means the server refused the credentials.
	ErrAuthFailed = errors.New("imap authentication failed")
	// ErrNotFound means the UID is not (or no longer) in the mailbox.
	ErrNotFound = errors.New("message not found")
	// ErrFlagsUnsupported means the mailbox cannot store one of the flags
	// permanently (PERMANENTFLAGS lacks it and lacks \*). Nothing was stored.
	ErrFlagsUnsupported = errors.New("flags not supported by mailbox")
	// ErrMoveUnsupported means the server has neither MOVE nor UIDPLUS, so
	// there is no way to remove exactly one message. Nothing was copied or
	// expunged; the caller should flag the message instead.
	ErrMoveUnsupported = errors.New("server cannot move a single message safely (no MOVE, no UIDPLUS)")
	// ErrNoMailbox means a method that needs a selected mailbox was called
	// before Select.
	ErrNoMailbox = errors.New("no mailbox selected")
)

// IsConnError reports whether err is a connection-level failure, after which
// the Client is dead and the caller should reconnect and retry. It is false
// for server NO/BAD answers about one command or message, for ErrNotFound,
// ErrFlagsUnsupported, ErrMoveUnsupported and for errors returned by a Fetch
// callback.
func IsConnError(err error) bool {
	return errors.Is(err, ErrConnLost)
}
