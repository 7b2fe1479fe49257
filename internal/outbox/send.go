// SPDX-License-Identifier: MIT

package outbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/complaintd/complaintd/internal/pii"
	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"
)

// TLS modes of Options.TLS.
const (
	TLSNone     = "none"     // plain SMTP; only sensible on localhost or a trusted relay
	TLSStartTLS = "starttls" // STARTTLS required (RFC 3207), port 587 by default
	TLSImplicit = "tls"      // TLS from the first byte (RFC 8314), port 465 by default
)

// DefaultTimeout bounds the connection and each SMTP command when Options.Timeout is 0.
const DefaultTimeout = 30 * time.Second

// Options configure a Sender. Validate them with NewSender at start-up.
type Options struct {
	// Host is the submission server's name; required. It is also the TLS server
	// name unless TLSConfig says otherwise.
	Host string
	// Port is the TCP port; 0 means 587 for starttls, 465 for tls, 25 for none.
	Port int
	// TLS is TLSNone, TLSStartTLS or TLSImplicit; "" means TLSStartTLS.
	TLS string
	// Username and Password enable SMTP AUTH (SCRAM-SHA-256, PLAIN or LOGIN,
	// whichever the server offers first in that order); "" means no AUTH.
	// PLAIN and LOGIN are refused by the client on an unencrypted connection
	// except to localhost, so the password never crosses the network in clear.
	Username, Password string
	// HELO is the name sent in EHLO; "" means the local host name.
	HELO string
	// Timeout bounds dialling and every SMTP command; 0 means DefaultTimeout.
	Timeout time.Duration
	// TLSConfig is used for STARTTLS and implicit TLS; nil means system roots,
	// ServerName Host, TLS 1.2 or later. It is cloned, never modified.
	TLSConfig *tls.Config
	// Logger receives a warning when a message was accepted but the session then
	// failed; nil discards. Bodies and credentials are never logged.
	Logger *slog.Logger
	// IdleTimeout is how long a session stays open without use before it is QUIT;
	// 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// MaxPerSession is how many messages one session carries before a new one is
	// dialled; 0 means DefaultMaxPerSession.
	MaxPerSession int
	// Now stamps Health's last success; nil means time.Now.
	Now func() time.Time
}

// Sender submits mails over SMTP. It keeps the sessions it opened in a pool, so
// consecutive Sends share a connection (RSET between messages) and concurrent
// Sends each use one of their own: a Sender is safe for concurrent use, and opens
// at most as many connections at once as there are concurrent Sends.
type Sender struct {
	opts   Options
	port   int
	tlsCfg *tls.Config
	log    *slog.Logger

	connections atomic.Int64

	mu     sync.Mutex // guards idle, closed, health
	idle   []*session
	closed bool
	health health
}

// NewSender validates o and returns a Sender. It does not connect.
func NewSender(o Options) (*Sender, error) {
	var errs []error
	if o.Host == "" || strings.ContainsAny(o.Host, " \t\r\n/") {
		errs = append(errs, fmt.Errorf("host %q: want a host name or IP address", o.Host))
	}
	if o.TLS == "" {
		o.TLS = TLSStartTLS
	}
	port := o.Port
	switch o.TLS {
	case TLSNone:
		if port == 0 {
			port = 25
		}
	case TLSStartTLS:
		if port == 0 {
			port = 587
		}
	case TLSImplicit:
		if port == 0 {
			port = 465
		}
	default:
		errs = append(errs, fmt.Errorf("tls %q: want none, starttls or tls", o.TLS))
	}
	if port < 0 || port > 65535 {
		errs = append(errs, fmt.Errorf("port %d: out of range", o.Port))
	}
	if o.Password != "" && o.Username == "" {
		errs = append(errs, errors.New("password set without username"))
	}
	if strings.ContainsAny(o.Username+o.Password, "\r\n") {
		errs = append(errs, errors.New("username or password contains a line break"))
	}
	if strings.ContainsAny(o.HELO, " \t\r\n") {
		errs = append(errs, fmt.Errorf("helo %q: want a host name", o.HELO))
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v: must not be negative", o.Timeout))
	}
	if o.IdleTimeout < 0 {
		errs = append(errs, fmt.Errorf("idle timeout %v: must not be negative", o.IdleTimeout))
	}
	if o.MaxPerSession < 0 {
		errs = append(errs, fmt.Errorf("max per session %d: must not be negative", o.MaxPerSession))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("smtp options: %w", err)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxPerSession == 0 {
		o.MaxPerSession = DefaultMaxPerSession
	}
	var cfg *tls.Config
	if o.TLSConfig != nil {
		cfg = o.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = o.Host
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sender{opts: o, port: port, tlsCfg: cfg, log: log}
	// Build one client now so go-mail's own option checks fail at start-up.
	if _, err := s.client(func(context.Context, string, string) (net.Conn, error) { return nil, errors.ErrUnsupported }); err != nil {
		return nil, fmt.Errorf("smtp options: %w", err)
	}
	return s, nil
}

// Stage says where a send failed.
type Stage string

// Stages of one attempt, in order.
const (
	StageCompose Stage = "compose" // the Mail is invalid or an attachment could not be read
	StageConnect Stage = "connect" // dial, greeting, EHLO, STARTTLS or TLS handshake
	StageAuth    Stage = "auth"    // SMTP AUTH: a configuration problem
	StageMail    Stage = "mail"    // MAIL FROM refused
	StageRcpt    Stage = "rcpt"    // RCPT TO refused (for at least one recipient)
	StageData    Stage = "data"    // DATA, the content or the reply after the final dot
)

// SendError describes a failed attempt. Temporary means the outbox should keep the
// mail and try again later; otherwise the mail will never be accepted as it is.
//
// Classification:
//   - 4xx replies, network errors (refused, reset, timeouts), TLS failures,
//     context cancellation and any failure before MAIL FROM (greeting, EHLO) are
//     temporary;
//   - 5xx replies to MAIL, RCPT or DATA are permanent (550 user unknown, 552 too
//     big, 554 rejected as spam), except 530/534/535/538, which are about
//     authentication; a mail with several recipients is sent whole or not at all,
//     so one recipient refused with 5xx makes it permanent whatever the others
//     were told;
//   - authentication failures (Stage == StageAuth, or 53x codes) are temporary on
//     purpose: a wrong password or a disabled account is a configuration problem that
//     is fixed by an admin, not by the recipient, so the mail is kept. It does not heal
//     by itself, so the caller should make it loud (alert, health check) when
//     Stage == StageAuth rather than wait quietly for the retry limit;
//   - the desk's own sender refused at MAIL FROM (550, 553, 554: not allowed for this
//     login, domain unknown, a sending quota) is temporary for the same reason: every
//     reply has that sender, so failing each for good would drop them all; the caller
//     should make it loud (SenderRefused). A MAIL FROM refused for the mail's size
//     (552) or its parameters (555, 501) stays permanent;
//   - an invalid Mail (StageCompose) is permanent; an attachment that cannot be read
//     is permanent when the file does not exist and temporary otherwise.
type SendError struct {
	Temporary bool
	Code      int   // SMTP reply code, 0 when there was none
	Stage     Stage // where the attempt failed
	Err       error
}

// SenderRefused reports a refusal of the desk's own sender address at MAIL FROM:
// a configuration problem of the relay or of smtp.from, the same for every reply.
func (e *SendError) SenderRefused() bool {
	if e == nil || e.Stage != StageMail {
		return false
	}
	switch e.Code {
	case 550, 553, 554:
		return true
	}
	return false
}

func (e *SendError) Error() string {
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	return fmt.Sprintf("smtp %s (%s): %v", e.Stage, kind, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// IsTemporary reports whether err, from Send, leaves the mail worth retrying. An
// error that is not a *SendError is treated as temporary, so an unexpected failure
// keeps the mail instead of dropping it; nil is not temporary.
func IsTemporary(err error) bool {
	if err == nil {
		return false
	}
	var se *SendError
	if errors.As(err, &se) {
		return se.Temporary
	}
	return true
}

// Send submits m in one SMTP transaction, over an idle session of the pool when one
// still answers RSET, else over a new connection; the session goes back to the pool
// after an accepted message and is closed after any failure.
//
// It returns nil once the server has accepted the message (250 after the final
// dot), even if the session fails afterwards (an error reply to the next RSET or to
// QUIT, or the connection dropped: QQ Mail does this): the message counts as sent,
// because retrying would deliver it twice, and the next Send uses a new connection.
// Any other
// failure is a *SendError saying whether to retry.
//
// A reused session that fails before the message was handed over (RSET, or MAIL
// FROM: a server that closed an idle connection or caps messages per connection)
// is replaced by a new connection once, within this call: nothing of the message
// reached the server, so this cannot send it twice.
//
// The Message-ID is m.MessageID on every attempt. Attachments are read completely
// before connecting, so a missing file fails the attempt before any SMTP command.
// Cancelling ctx aborts the dial or the transaction (the connection is closed).
// The one window left is the classic one of RFC 1047: if the connection breaks
// after the final dot but before the 250 reply arrives, the attempt is reported as
// temporary although the server may have the message.
func (s *Sender) Send(ctx context.Context, m Mail) error {
	m, err := loadAttachments(m)
	if err != nil {
		return err
	}
	msg, err := Compose(m)
	if err != nil {
		return &SendError{Stage: StageCompose, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return &SendError{Temporary: true, Stage: StageConnect, Err: err}
	}
	for try := 0; ; try++ {
		sess, reused, err := s.take(ctx)
		if err != nil {
			se := classify(ctx, err)
			s.note(se)
			return se
		}
		err = sess.transact(ctx, msg)
		if msg.IsDelivered() {
			sess.sent++
			if err != nil {
				s.log.Warn("smtp session failed after the message was accepted",
					slog.String("message_id", m.MessageID), slog.String("error", pii.RedactAddresses(err.Error())))
				sess.close()
			} else {
				s.put(sess)
			}
			s.note(nil)
			return nil
		}
		sess.close()
		if err == nil {
			// go-mail marks a message delivered before it returns nil; keep the mail
			// rather than trust a success that was not recorded.
			return &SendError{Temporary: true, Stage: StageData, Err: errors.New("message not marked as delivered")}
		}
		se := classify(ctx, err)
		if se.Stage == StageRcpt {
			// All-or-nothing: one recipient refused for good makes the mail
			// undeliverable as it is, whatever the last recipient was told.
			if code := sess.refused.permanent(); code != 0 {
				se.Temporary, se.Code = false, code
			}
		}
		if reused && try == 0 && se.Temporary && (se.Stage == StageConnect || se.Stage == StageMail) && ctx.Err() == nil {
			continue
		}
		s.note(se)
		return se
	}
}

// now is the clock of Health.
func (s *Sender) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// client builds a go-mail client for one session; dial is the connection maker.
func (s *Sender) client(dial gomail.DialContextFunc) (*gomail.Client, error) {
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(s.opts.Timeout),
		gomail.WithTLSConfig(s.tlsCfg),
		gomail.WithDialContextFunc(dial),
		// take sends RSET before a session's next message instead: it resets the
		// transaction and proves the connection alive in one round trip. go-mail's
		// NOOP before and RSET after each message would cost two more, and the RSET
		// after would lengthen the window between the server's 250 and the outbox
		// recording the reply as sent, in which a crash makes a resend.
		gomail.WithoutNoop(),
		gomail.WithoutRset(),
	}
	if s.opts.TLS == TLSStartTLS {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	} else {
		// none, or tls where the dial function already did the handshake.
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.opts.HELO != "" {
		opts = append(opts, gomail.WithHELO(s.opts.HELO))
	}
	if s.opts.Username != "" {
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.opts.Username),
			gomail.WithPassword(s.opts.Password),
		)
	}
	return gomail.NewClient(s.opts.Host, opts...)
}

// dial connects, with the TLS handshake for implicit TLS. go-mail's own TLS dialer
// is not used because a custom dial function replaces it.
func (s *Sender) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if s.opts.TLS == TLSImplicit {
		d := tls.Dialer{NetDialer: &net.Dialer{}, Config: s.tlsCfg}
		return d.DialContext(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// loadAttachments reads every attachment into memory so that an unreadable file
// fails the attempt before the DATA command: go-mail writes attachments while the
// message is being transmitted, and a failure there leaves the session stuck in DATA.
func loadAttachments(m Mail) (Mail, error) {
	if len(m.Attachments) == 0 {
		return m, nil
	}
	loaded := make([]Attachment, len(m.Attachments))
	for i, a := range m.Attachments {
		if a.Open == nil && a.Data != nil {
			loaded[i] = a // in memory already, stored with the mail
			continue
		}
		if a.Open == nil {
			return m, &SendError{Stage: StageCompose, Err: invalidf("attachment %d: no content (neither Open nor Data)", i)}
		}
		data, err := readAll(a.Open)
		if err != nil {
			return m, &SendError{
				Temporary: !errors.Is(err, fs.ErrNotExist),
				Stage:     StageCompose,
				Err:       fmt.Errorf("attachment %d: %w", i, err),
			}
		}
		a.Open = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		loaded[i] = a
	}
	m.Attachments = loaded
	return m, nil
}

func readAll(open func() (io.ReadCloser, error)) ([]byte, error) {
	rc, err := open()
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	data, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return data, nil
}

// classify turns a go-mail error of an undelivered message into a SendError.
func classify(ctx context.Context, err error) *SendError {
	if cerr := ctx.Err(); cerr != nil {
		// The connection was closed under go-mail; its error says little.
		return &SendError{Temporary: true, Stage: StageConnect, Err: fmt.Errorf("%w: %w", cerr, err)}
	}
	var me *gomail.SendError
	if !errors.As(err, &me) {
		// Failed before MAIL FROM: dial, greeting, EHLO, TLS or AUTH.
		code := replyCode(err)
		stage := StageConnect
		if isAuthError(err) || isAuthCode(code) {
			stage = StageAuth
		}
		return &SendError{Temporary: true, Code: code, Stage: stage, Err: err}
	}
	code := me.ErrorCode()
	se := &SendError{Code: code, Err: err}
	switch me.Reason {
	case gomail.ErrSMTPMailFrom:
		se.Stage = StageMail
	case gomail.ErrSMTPRcptTo:
		se.Stage = StageRcpt
	case gomail.ErrSMTPData, gomail.ErrSMTPDataClose, gomail.ErrWriteContent:
		se.Stage = StageData
	case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
		// The message itself is unusable; Compose should have caught it.
		se.Stage = StageCompose
		return se
	default:
		// Connection check and the like: no verdict from the server.
		se.Stage = StageConnect
	}
	switch {
	case isAuthCode(code):
		se.Stage = StageAuth
		se.Temporary = true
	case se.SenderRefused():
		se.Temporary = true
	case code >= 500 && code < 600 && se.Stage != StageConnect:
		se.Temporary = false
	default:
		// 4xx, or no reply code at all (reset, timeout, broken pipe).
		se.Temporary = true
	}
	return se
}

// isAuthCode reports the reply codes about authentication (RFC 4954 §6, RFC 3207):
// 530 authentication required, 534 mechanism too weak, 535 credentials invalid,
// 538 encryption required; 454 is the temporary form.
func isAuthCode(code int) bool {
	switch code {
	case 454, 530, 534, 535, 538:
		return true
	}
	return false
}

// isAuthError recognises go-mail's authentication failures, which are plain
// wrapped errors.
func isAuthError(err error) bool {
	for _, target := range []error{
		gomail.ErrNoSupportedAuthDiscovered, gomail.ErrPlainAuthNotSupported,
		gomail.ErrLoginAuthNotSupported, gomail.ErrSCRAMSHA256AuthNotSupported,
		gosmtp.ErrUnencrypted,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	msg := err.Error()
	return strings.Contains(msg, "SMTP AUTH failed") || strings.Contains(msg, "does not support SMTP AUTH")
}

// replyCode returns the SMTP reply code carried by err, 0 when none.
func replyCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	// go-mail formats some replies into plain errors ("SMTP AUTH failed: 535 …").
	for _, part := range strings.Split(err.Error(), ": ") {
		if len(part) < 3 || (part[0] != '4' && part[0] != '5') || (len(part) > 3 && part[3] != ' ' && part[3] != '-') {
			continue
		}
		if n, err := strconv.Atoi(part[:3]); err == nil {
			return n
		}
	}
	return 0
}
