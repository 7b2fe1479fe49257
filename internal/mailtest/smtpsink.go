// SPDX-License-Identifier: MIT

package mailtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SinkOptions configures an [SMTPSink]. The zero value is ready to use.
type SinkOptions struct {
	// Addr is the listen address. Empty means 127.0.0.1 with a free port.
	Addr string
	// Domain is the host name in the greeting. Empty means
	// "sink.mailtest.localhost".
	Domain string
	// MaxMessageBytes is the largest message DATA accepts. Zero means 64 MiB.
	MaxMessageBytes int64
}

// SinkMessage is one message the sink stored.
type SinkMessage struct {
	// From is the envelope sender (MAIL FROM); empty for the null sender <>.
	From string
	// To lists the envelope recipients (RCPT TO) in the order given.
	To []string
	// Data is the message as received after dot-unstuffing, CRLF line ends.
	Data []byte
	// AuthUser is the user name of a successful AUTH PLAIN, if any. The sink
	// accepts any credentials.
	AuthUser string
	// FailedAfterStore is true when the sink kept the message but answered
	// the end of DATA with an error ([SMTPSink.AcceptThenFail]): the client
	// thinks it was not delivered.
	FailedAfterStore bool
	// Received is when the end of DATA arrived.
	Received time.Time
}

// Stage names the SMTP command at which [SMTPSink.FailNextAt] refuses a
// transaction.
type Stage int

// Stages of an SMTP transaction.
const (
	// StageMail refuses MAIL FROM.
	StageMail Stage = iota + 1
	// StageRcpt refuses every RCPT TO of the transaction.
	StageRcpt
	// StageData reads the message, discards it and refuses the end of DATA.
	StageData
)

// SMTPSink is an in-process SMTP server that accepts every message for any
// recipient and records it. Failure injection makes it refuse or half-accept
// the next transactions, to test a sender's retry logic. It offers AUTH
// PLAIN (accepting any credentials) without TLS. It is safe for concurrent
// use.
type SMTPSink struct {
	ln        net.Listener
	srv       *smtp.Server
	serveDone chan struct{}

	mu       sync.Mutex
	closed   bool
	sessions sync.WaitGroup // one per live session; Add only under mu while !closed
	msgs     []SinkMessage
	changed  chan struct{} // closed and replaced whenever msgs grows
	refused  int

	failStage     Stage
	failLeft      int
	failCode      int
	acceptAndFail int
}

// NewSMTPSink starts a sink. Call [SMTPSink.Close] to stop it.
func NewSMTPSink(opts SinkOptions) (*SMTPSink, error) {
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen smtp: %w", err)
	}
	s := &SMTPSink{
		ln:        ln,
		serveDone: make(chan struct{}),
		changed:   make(chan struct{}),
	}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = opts.Domain
	if srv.Domain == "" {
		srv.Domain = "sink.mailtest.localhost"
	}
	srv.MaxMessageBytes = opts.MaxMessageBytes
	if srv.MaxMessageBytes == 0 {
		srv.MaxMessageBytes = 64 << 20
	}
	srv.AllowInsecureAuth = true
	srv.EnableSMTPUTF8 = true
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(os.Stderr, "mailtest: smtpsink: ", log.LstdFlags)
	s.srv = srv
	go func() {
		defer close(s.serveDone)
		// Serve returns nil after Close; another error ends the sink early
		// and shows up as refused connections.
		_ = srv.Serve(ln)
	}()
	return s, nil
}

// Addr returns the host:port the sink listens on.
func (s *SMTPSink) Addr() string { return s.ln.Addr().String() }

// Messages returns a copy of the stored messages in arrival order.
func (s *SMTPSink) Messages() []SinkMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SinkMessage, len(s.msgs))
	for i, m := range s.msgs {
		m.To = slices.Clone(m.To)
		m.Data = bytes.Clone(m.Data)
		out[i] = m
	}
	return out
}

// Refused returns how many transactions the sink refused by injection
// (FailNext, FailNextAt); AcceptThenFail messages are not counted here.
func (s *SMTPSink) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// WaitN blocks until at least n messages are stored, then returns them all.
// It returns the context's error, with the messages so far, when ctx ends.
func (s *SMTPSink) WaitN(ctx context.Context, n int) ([]SinkMessage, error) {
	for {
		s.mu.Lock()
		got, changed := len(s.msgs), s.changed
		s.mu.Unlock()
		if got >= n {
			return s.Messages(), nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return s.Messages(), fmt.Errorf("wait for %d messages, have %d: %w", n, got, ctx.Err())
		}
	}
}

// FailNext refuses the next n transactions at MAIL FROM with the SMTP reply
// code (4xx: temporary, 5xx: permanent). It replaces any pending FailNext or
// FailNextAt.
func (s *SMTPSink) FailNext(n int, code int) { s.FailNextAt(StageMail, n, code) }

// FailNextAt refuses the next n transactions at the given stage with the
// SMTP reply code. It replaces any pending FailNext or FailNextAt.
func (s *SMTPSink) FailNextAt(stage Stage, n int, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStage, s.failLeft, s.failCode = stage, n, code
}

// AcceptThenFail makes the next n messages be stored and then answered with
// "451 4.3.0" at the end of DATA — what some large providers do under load,
// and what makes a naive retry deliver a message twice. Stored messages have
// FailedAfterStore set.
func (s *SMTPSink) AcceptThenFail(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acceptAndFail = n
}

// Close stops the sink, drops every connection and waits for the serving
// goroutines. Calling it again is harmless.
func (s *SMTPSink) Close() error {
	s.mu.Lock()
	already := s.closed
	s.closed = true
	s.mu.Unlock()
	if already {
		return nil
	}
	err := s.srv.Close()
	<-s.serveDone
	s.sessions.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close smtp sink: %w", err)
	}
	return nil
}

var errSinkClosed = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "mailtest: sink closing"}

func (s *SMTPSink) newSession(*smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errSinkClosed
	}
	s.sessions.Add(1)
	return &sinkSession{sink: s}, nil
}

// takeFailure reports whether the current transaction must be refused at
// stage, consuming one injected failure if so.
func (s *SMTPSink) takeFailure(stage Stage) *smtp.SMTPError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failLeft <= 0 || s.failStage != stage {
		return nil
	}
	s.failLeft--
	s.refused++
	return injected(s.failCode)
}

func (s *SMTPSink) store(m SinkMessage) *smtp.SMTPError {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err *smtp.SMTPError
	if s.acceptAndFail > 0 {
		s.acceptAndFail--
		m.FailedAfterStore = true
		err = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "mailtest: stored, then failed"}
	}
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
	return err
}

func injected(code int) *smtp.SMTPError {
	class := code / 100
	if class != 4 && class != 5 {
		class = 4
	}
	return &smtp.SMTPError{
		Code:         code,
		EnhancedCode: smtp.EnhancedCode{class, 0, 0},
		Message:      "mailtest: injected failure",
	}
}

// sinkSession is one SMTP connection. go-smtp calls its methods from the
// connection's goroutine only.
type sinkSession struct {
	sink     *SMTPSink
	authUser string
	from     string
	to       []string
	refusal  *smtp.SMTPError // non-nil: every RCPT of this transaction is refused
}

var _ smtp.AuthSession = (*sinkSession)(nil)

func (ss *sinkSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *sinkSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, _ string) error {
		ss.authUser = username
		return nil
	}), nil
}

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	if err := ss.sink.takeFailure(StageMail); err != nil {
		return err
	}
	ss.from, ss.to, ss.refusal = from, nil, nil
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.refusal != nil {
		return ss.refusal
	}
	if err := ss.sink.takeFailure(StageRcpt); err != nil {
		ss.refusal = err
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	if err := ss.sink.takeFailure(StageData); err != nil {
		return err // go-smtp drains the rest of the message
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read data: %w", err)
	}
	if err := ss.sink.store(SinkMessage{
		From:     ss.from,
		To:       slices.Clone(ss.to),
		Data:     data,
		AuthUser: ss.authUser,
		Received: time.Now(),
	}); err != nil {
		return err
	}
	return nil
}

func (ss *sinkSession) Reset() { ss.from, ss.to, ss.refusal = "", nil, nil }

func (ss *sinkSession) Logout() error {
	ss.sink.sessions.Done()
	return nil
}
