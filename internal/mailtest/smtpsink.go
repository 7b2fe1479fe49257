// SPDX-License-Identifier: MIT

package mailtest

import (
	"sync"

	"github.com/complaintd/complaintd/internal/demo/memserver"
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
type SinkMessage = memserver.SinkMessage

// Stage names the SMTP command at which [SMTPSink.FailNextAt] refuses a
// transaction.
type Stage = memserver.Stage

// Stages of an SMTP transaction.
const (
	// StageMail refuses MAIL FROM.
	StageMail = memserver.StageMail
	// StageRcpt refuses every RCPT TO of the transaction.
	StageRcpt = memserver.StageRcpt
	// StageData reads the message, discards it and refuses the end of DATA.
	StageData = memserver.StageData
)

// SMTPSink is the demo's in-process SMTP sink ([memserver.SMTPSink]: it
// accepts every message for any recipient and records it) with failure
// injection: it can refuse or half-accept the next transactions, to test a
// sender's retry logic. It is safe for concurrent use.
type SMTPSink struct {
	*memserver.SMTPSink

	mu            sync.Mutex
	refused       int
	failStage     Stage
	failLeft      int
	failCode      int
	acceptAndFail int
}

// NewSMTPSink starts a sink. Call [SMTPSink.Close] to stop it.
func NewSMTPSink(opts SinkOptions) (*SMTPSink, error) {
	if opts.Domain == "" {
		opts.Domain = "sink.mailtest.localhost"
	}
	s := &SMTPSink{}
	inner, err := memserver.NewSMTPSink(memserver.SinkOptions{
		Addr: opts.Addr, Domain: opts.Domain, MaxMessageBytes: opts.MaxMessageBytes,
		Refuse: s.takeFailure, AfterStore: s.takeAcceptThenFail,
	})
	if err != nil {
		return nil, err
	}
	s.SMTPSink = inner
	return s, nil
}

// Refused returns how many transactions the sink refused by injection
// (FailNext, FailNextAt); AcceptThenFail messages are not counted here.
func (s *SMTPSink) Refused() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
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

// takeFailure is the sink's Refuse hook: it refuses the transaction at stage
// when a FailNext/FailNextAt is pending there, consuming one. It returns
// error, not *smtp.SMTPError, so that "no failure" is a nil interface and not
// a nil pointer the sink would take for a refusal.
func (s *SMTPSink) takeFailure(stage Stage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failLeft <= 0 || s.failStage != stage {
		return nil
	}
	s.failLeft--
	s.refused++
	return injected(s.failCode)
}

// takeAcceptThenFail is the sink's AfterStore hook.
func (s *SMTPSink) takeAcceptThenFail() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acceptAndFail <= 0 {
		return nil
	}
	s.acceptAndFail--
	return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "mailtest: stored, then failed"}
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
