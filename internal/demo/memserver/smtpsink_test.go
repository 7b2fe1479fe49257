// SPDX-License-Identifier: MIT

package memserver

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// send is a minimal plaintext SMTP client: one transaction on a fresh
// connection, with AUTH PLAIN when user is set. (smtp.SendMail insists on
// STARTTLS, which the sink does not offer.)
func send(addr, user, from string, to []string, msg string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if user != "" {
		if err := c.Auth(sasl.NewPlainClient("", user, "pw")); err != nil {
			return err
		}
	}
	if err := c.SendMail(from, to, strings.NewReader(msg)); err != nil {
		return err
	}
	return c.Quit()
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// The hooks are all internal/mailtest's failure injection rests on: a refusal
// at RCPT holds for the whole transaction, and AfterStore keeps the message
// while the client sees the error.
func TestSMTPSinkHooks(t *testing.T) {
	var rcptRefusals, afterStore atomic.Int32
	rcptRefusals.Store(1)
	afterStore.Store(1)
	s, err := NewSMTPSink(SinkOptions{
		Refuse: func(st Stage) error {
			if st == StageRcpt && rcptRefusals.Add(-1) >= 0 {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no"}
			}
			return nil
		},
		AfterStore: func() error {
			if afterStore.Add(-1) >= 0 {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "later"}
			}
			return nil
		},
	})
	if err != nil {
		t.Fatalf("NewSMTPSink: %v", err)
	}
	defer s.Close()
	to := []string{"a@x.example", "b@y.example"}
	for i, want := range []int{550, 451, 0} {
		if got := smtpCode(send(s.Addr(), "", "desk@portal.example", to, "Subject: hi\r\n\r\nbody\r\n")); got != want {
			t.Fatalf("attempt %d: code %d, want %d", i+1, got, want)
		}
	}
	msgs := s.Messages()
	if len(msgs) != 2 || !msgs[0].FailedAfterStore || msgs[1].FailedAfterStore {
		t.Fatalf("stored %d messages (%+v); want the 451 one marked FailedAfterStore, then a clean one", len(msgs), msgs)
	}
	if len(msgs[0].To) != 2 {
		t.Errorf("recipients %q: a transaction after a refused one must start afresh", msgs[0].To)
	}
}

func TestSMTPSinkWaitAndAuth(t *testing.T) {
	s, err := NewSMTPSink(SinkOptions{})
	if err != nil {
		t.Fatalf("NewSMTPSink: %v", err)
	}
	defer s.Close()

	// WaitN gives up at the context's deadline and says how far it got.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	msgs, err := s.WaitN(ctx, 1)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || len(msgs) != 0 {
		t.Fatalf("WaitN on an empty sink: %v, %d messages", err, len(msgs))
	}

	// A waiter is woken by a delivery that happens after it started.
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := s.WaitN(ctx, 1)
		done <- err
	}()
	err = send(s.Addr(), "outbox@portal.example", "", []string{"x@y.example"}, "Subject: bounce\r\n\r\n")
	if err != nil {
		t.Fatalf("send with AUTH: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	m := s.Messages()[0]
	if m.AuthUser != "outbox@portal.example" || m.From != "" {
		t.Fatalf("auth user %q, from %q; want the AUTH name and the null sender", m.AuthUser, m.From)
	}
	// Messages returns copies: a caller cannot corrupt the record.
	m.Data[0] = 'X'
	if bytes.HasPrefix(s.Messages()[0].Data, []byte("X")) {
		t.Fatal("Messages exposes the sink's own buffers")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// Closing right after starting — before the serving goroutines ran — returns (a demo
// that ended at once hung for ten minutes once on a loaded machine).
func TestCloseRightAfterStart(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200 {
			s, err := NewSMTPSink(SinkOptions{})
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
			m, err := NewIMAP("")
			if err != nil {
				t.Error(err)
				return
			}
			m.Close()
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("Close hung")
	}
}
