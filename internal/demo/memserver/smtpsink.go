// SPDX-License-Identifier: MIT

package memserver

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
	// "sink.memserver.localhost".
	Domain string
	// MaxMessageBytes is the largest message DATA accepts. Zero means 64 MiB.
	MaxMessageBytes int64
	// Refuse, when set, is asked at each stage of every transaction; a
	// non-nil error refuses the transaction there and is the reply (an
	// *smtp.SMTPError sets the code). At StageRcpt one refusal answers every
	// later RCPT of the transaction too, as a real server refusing the
	// sender would. It is how tests inject failures.
	Refuse func(Stage) error
	// AfterStore, when set, is asked once a message is stored; a non-nil
	// error answers the end of DATA with it although the message is kept,
	// marked [SinkMessage.FailedAfterStore].
	AfterStore func() error
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
	// the end of DATA with an error ([SinkOptions.AfterStore]): the client
	// thinks it was not delivered.
	FailedAfterStore bool
	// Received is when the end of DATA arrived.
	Received time.Time
}

// Stage names the point of an SMTP transaction at which
// [SinkOptions.Refuse] is asked.
type Stage int

// Stages of an SMTP transaction.
const (
	// StageMail is MAIL FROM.
	StageMail Stage = iota + 1
	// StageRcpt is each RCPT TO.
	StageRcpt
	// StageData is the end of DATA, before the message is stored: a
	// refusal there discards the message.
	StageData
)

// SMTPSink is an in-process SMTP server that accepts every message for any
// recipient and records it. It offers AUTH PLAIN (accepting any credentials)
// without TLS. It is safe for concurrent use.
type SMTPSink struct {
	ln         net.Listener
	srv        *smtp.Server
	serveDone  chan struct{}
	refuse     func(Stage) error
	afterStore func() error

	mu       sync.Mutex
	closed   bool
	sessions sync.WaitGroup // one per live session; Add only under mu while !closed
	msgs     []SinkMessage
	changed  chan struct{} // closed and replaced whenever msgs grows
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
		ln:         ln,
		serveDone:  make(chan struct{}),
		refuse:     opts.Refuse,
		afterStore: opts.AfterStore,
		changed:    make(chan struct{}),
	}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = opts.Domain
	if srv.Domain == "" {
		srv.Domain = "sink.memserver.localhost"
	}
	srv.MaxMessageBytes = opts.MaxMessageBytes
	if srv.MaxMessageBytes == 0 {
		srv.MaxMessageBytes = 64 << 20
	}
	srv.AllowInsecureAuth = true
	srv.EnableSMTPUTF8 = true
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(os.Stderr, "memserver: smtpsink: ", log.LstdFlags)
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
	// Closing the listener too: a Close that comes before the serving goroutine has
	// started (a demo that ends at once) would otherwise leave Serve to start on it
	// afterwards and wait for ever.
	s.ln.Close()
	<-s.serveDone
	s.sessions.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close smtp sink: %w", err)
	}
	return nil
}

var errSinkClosed = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "memserver: sink closing"}

func (s *SMTPSink) newSession(*smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errSinkClosed
	}
	s.sessions.Add(1)
	return &sinkSession{sink: s}, nil
}

// refusal asks the Refuse hook about stage; nil when there is no hook.
func (s *SMTPSink) refusal(stage Stage) error {
	if s.refuse == nil {
		return nil
	}
	return s.refuse(stage)
}

// store keeps m and returns the reply error the AfterStore hook asks for.
// The hook runs outside mu: it is the caller's code and may take its own
// locks.
func (s *SMTPSink) store(m SinkMessage) error {
	var err error
	if s.afterStore != nil {
		err = s.afterStore()
	}
	m.FailedAfterStore = err != nil
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
	return err
}

// sinkSession is one SMTP connection. go-smtp calls its methods from the
// connection's goroutine only.
type sinkSession struct {
	sink     *SMTPSink
	authUser string
	from     string
	to       []string
	refused  error // non-nil: every RCPT of this transaction is refused
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
	if err := ss.sink.refusal(StageMail); err != nil {
		return err
	}
	ss.from, ss.to, ss.refused = from, nil, nil
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.refused != nil {
		return ss.refused
	}
	if err := ss.sink.refusal(StageRcpt); err != nil {
		ss.refused = err
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	if err := ss.sink.refusal(StageData); err != nil {
		return err // go-smtp drains the rest of the message
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read data: %w", err)
	}
	return ss.sink.store(SinkMessage{
		From:     ss.from,
		To:       slices.Clone(ss.to),
		Data:     data,
		AuthUser: ss.authUser,
		Received: time.Now(),
	})
}

func (ss *sinkSession) Reset() { ss.from, ss.to, ss.refused = "", nil, nil }

func (ss *sinkSession) Logout() error {
	ss.sink.sessions.Done()
	return nil
}
