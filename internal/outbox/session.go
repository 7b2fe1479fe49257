// SPDX-License-Identifier: MIT

package outbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"sync"
	"time"

	"github.com/complaintd/complaintd/internal/pii"
	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"
)

// DefaultIdleTimeout is how long an unused session stays open when
// Options.IdleTimeout is 0: long enough to carry the next reply of a burst, short
// enough to stay below the idle limits of common servers (Postfix drops a silent
// client after 300 s, many providers sooner).
const DefaultIdleTimeout = 30 * time.Second

// DefaultMaxPerSession is how many messages one session carries when
// Options.MaxPerSession is 0. Providers cap messages per connection (often at 100 or
// fewer) and answer the next MAIL FROM with a 4xx; reconnecting first is cheaper.
const DefaultMaxPerSession = 100

// session is one open SMTP connection after EHLO, STARTTLS and AUTH.
type session struct {
	gm   *gomail.Client // the options it was built with
	c    *gosmtp.Client
	conn net.Conn
	sent int         // messages accepted over it
	idle *time.Timer // QUITs it when it stays unused; nil while in use
	// refused notes the RCPT TO refusals of the current transaction.
	refused *refusals
}

// refusals notes the reply code of every RCPT TO the server refused in one
// transaction. go-mail's SendError keeps the code of the last refusal only, so a
// 550 for one recipient followed by a 451 for another read as temporary, and a mail
// that can never be accepted as it is was retried for half a day (found in review).
// It is go-mail's error handler for the session's commands and returns every error
// unchanged.
type refusals struct {
	mu    sync.Mutex
	codes []int
}

func (r *refusals) HandleError(_, command string, _ *textproto.Conn, err error) error {
	var te *textproto.Error
	if command == "rcpt" && errors.As(err, &te) {
		r.mu.Lock()
		r.codes = append(r.codes, te.Code)
		r.mu.Unlock()
	}
	return err
}

func (r *refusals) reset() {
	r.mu.Lock()
	r.codes = nil
	r.mu.Unlock()
}

// permanent returns the first refusal for good (5xx, not about authentication),
// 0 when there was none.
func (r *refusals) permanent() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, code := range r.codes {
		if code >= 500 && code < 600 && !isAuthCode(code) {
			return code
		}
	}
	return 0
}

// open dials a new session: the one place a connection to the server is made (the
// dial itself, with implicit TLS, is Sender.dial).
func (s *Sender) open(ctx context.Context) (*session, error) {
	sess := &session{}
	// The context bounds the whole handshake (go-mail's own use of it ends with the
	// dial): a cancelled attempt closes the connection under EHLO or AUTH.
	var stop func() bool
	gm, err := s.client(func(dctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := s.dial(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		sess.conn = conn
		stop = context.AfterFunc(ctx, func() { _ = conn.Close() })
		return conn, nil
	})
	if err != nil {
		return nil, err
	}
	c, err := gm.DialToSMTPClientWithContext(ctx)
	if stop != nil {
		stop()
	}
	if err != nil {
		if sess.conn != nil {
			_ = sess.conn.Close() // go-mail leaves it open when EHLO, STARTTLS or AUTH fails
		}
		return nil, err
	}
	sess.gm, sess.c, sess.refused = gm, c, &refusals{}
	c.ErrorHandlerRegistry.SetDefaultHandler(sess.refused)
	s.connections.Add(1)
	return sess, nil
}

// take returns an idle session that still answers RSET, or a new one. reused says
// whether it carried messages before this call.
func (s *Sender) take(ctx context.Context) (sess *session, reused bool, err error) {
	for {
		s.mu.Lock()
		n := len(s.idle)
		if n == 0 {
			s.mu.Unlock()
			break
		}
		sess = s.idle[n-1]
		s.idle = s.idle[:n-1]
		if sess.idle != nil {
			sess.idle.Stop()
			sess.idle = nil
		}
		s.mu.Unlock()
		// RSET ends the previous transaction; a connection the server closed while
		// it was idle (timeout, restart, a drop after the last 250) fails here,
		// before any mail is at stake: dial a new one instead.
		if err := sess.reset(ctx, s.opts.Timeout); err == nil {
			return sess, true, nil
		}
		sess.close()
	}
	sess, err = s.open(ctx)
	return sess, false, err
}

// put returns a healthy session to the pool, where it is QUIT after IdleTimeout
// unless a Send takes it first. A Sender that is closed QUITs it at once.
func (s *Sender) put(sess *session) {
	if sess.sent >= s.opts.MaxPerSession {
		go sess.quit(s.opts.Timeout)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		go sess.quit(s.opts.Timeout)
		return
	}
	sess.idle = time.AfterFunc(s.opts.IdleTimeout, func() {
		s.mu.Lock()
		for i, o := range s.idle {
			if o == sess {
				s.idle = append(s.idle[:i], s.idle[i+1:]...)
				s.mu.Unlock()
				sess.quit(s.opts.Timeout)
				return
			}
		}
		s.mu.Unlock() // taken meanwhile
	})
	s.idle = append(s.idle, sess)
}

// Close QUITs every idle session and makes later sessions close after use. Send
// still works after Close (each attempt then uses a connection of its own); Close is
// for shutdown, so the server sees a polite QUIT rather than a reset.
func (s *Sender) Close() error {
	s.mu.Lock()
	s.closed = true
	idle := s.idle
	s.idle = nil
	for _, sess := range idle {
		if sess.idle != nil {
			sess.idle.Stop()
		}
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, sess := range idle {
		wg.Go(func() { sess.quit(s.opts.Timeout) })
	}
	wg.Wait()
	return nil
}

// transact sends msg over the session, tied to ctx: cancelling ctx closes the
// connection, which ends the transaction at once.
func (sess *session) transact(ctx context.Context, msg *gomail.Msg) error {
	stop := context.AfterFunc(ctx, func() { _ = sess.conn.Close() })
	defer stop()
	sess.refused.reset()
	return sess.gm.SendWithSMTPClient(sess.c, msg)
}

func (sess *session) reset(ctx context.Context, timeout time.Duration) error {
	stop := context.AfterFunc(ctx, func() { _ = sess.conn.Close() })
	defer stop()
	if err := sess.c.UpdateDeadline(timeout); err != nil {
		return err
	}
	if err := sess.c.Reset(); err != nil {
		return fmt.Errorf("rset: %w", err)
	}
	return nil
}

// quit ends the session politely; errors are of no interest any more.
func (sess *session) quit(timeout time.Duration) {
	if err := sess.c.UpdateDeadline(timeout); err == nil {
		_ = sess.c.Quit()
	}
	sess.close()
}

func (sess *session) close() { _ = sess.conn.Close() }

// Probe checks that the server answers SMTP: RSET on an idle session, or a new
// session (greeting, EHLO, STARTTLS, AUTH) kept for the next reply. The result
// counts for Health.
func (s *Sender) Probe(ctx context.Context) error {
	sess, _, err := s.take(ctx)
	if err != nil {
		se := classify(ctx, err)
		s.note(se)
		return se
	}
	s.put(sess)
	s.noteProbeOK()
	return nil
}

// Connections returns how many SMTP sessions (connections through greeting, EHLO,
// STARTTLS and AUTH) the Sender has opened.
func (s *Sender) Connections() int64 { return s.connections.Load() }

// health is what the Sender knows of the server from its own traffic.
type health struct {
	fault       *SendError // the last relay fault not cleared since; nil when fine
	lastSuccess time.Time  // the last message the server accepted
}

// note records the outcome of one attempt: nil for an accepted message.
func (s *Sender) note(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.health.fault = nil
		s.health.lastSuccess = s.now()
		return
	}
	var se *SendError
	if errors.As(err, &se) && se.RelayFault() {
		s.health.fault = se
	}
}

// noteProbeOK clears a fault that a probe disproves: the server answered greeting,
// EHLO and AUTH, so it is reachable again. A refusal of MAIL FROM (a full queue, a
// blocked account) stays until a message is accepted.
func (s *Sender) noteProbeOK() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.health.fault; f != nil && (f.Stage == StageConnect || f.Stage == StageAuth) {
		s.health.fault = nil
	}
}

// Health reports whether the server takes mail, as far as the last attempts and
// probes show: ok is false from a relay fault (see SendError.RelayFault) until a
// message is accepted (or, for a connection or AUTH fault, until a Probe succeeds);
// reason then says why, without addresses. lastSuccess is when the server last
// accepted a message (zero: never since start).
func (s *Sender) Health() (ok bool, reason string, lastSuccess time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.health.fault; f != nil {
		reason = pii.RedactAddresses(f.Error())
	}
	return s.health.fault == nil, reason, s.health.lastSuccess
}

// RelayFault reports whether the failure is the server's rather than the mail's:
// nothing can be delivered through it now (connection, greeting, EHLO, TLS, AUTH,
// a temporary refusal of MAIL FROM — the same desk address for every reply — or
// 421 "service not available" at any stage). A refused recipient or content is the
// mail's, and so is a connection lost after MAIL FROM: one message can cause that
// (a server that drops a client over a message's size), and if the server is the
// cause, the next attempt fails before MAIL FROM and says so.
func (e *SendError) RelayFault() bool {
	switch {
	case !e.Temporary:
		return false
	case e.Stage == StageConnect, e.Stage == StageAuth, e.Stage == StageMail:
		return true
	}
	return e.Code == 421
}

// IsRelayFault reports whether err, from Send, is a *SendError with RelayFault.
func IsRelayFault(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.RelayFault()
}
