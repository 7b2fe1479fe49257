// SPDX-License-Identifier: MIT

package outbox

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// rcptServer is an SMTP server that answers RCPT TO per recipient: refuse maps an
// address to its refusal; every other recipient is accepted. It returns the
// Sender options to reach it and a counter of accepted messages.
func rcptServer(t *testing.T, refuse map[string]*smtp.SMTPError) (Options, func() int) {
	t.Helper()
	accepted := make(chan struct{}, 100)
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &rcptSession{refuse: refuse, accepted: accepted}, nil
	}))
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.Close(); _ = ln.Close(); <-done })
	o := Options{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, TLS: TLSNone, Timeout: 5 * time.Second}
	return o, func() int { return len(accepted) }
}

type rcptSession struct {
	refuse   map[string]*smtp.SMTPError
	accepted chan struct{}
}

func (s *rcptSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *rcptSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if e := s.refuse[to]; e != nil {
		return e
	}
	return nil
}
func (s *rcptSession) Data(r io.Reader) error {
	if _, err := io.ReadAll(r); err != nil {
		return err
	}
	s.accepted <- struct{}{}
	return nil
}
func (s *rcptSession) Reset()        {}
func (s *rcptSession) Logout() error { return nil }

// A mail to several recipients is sent whole or not at all; when one recipient is
// refused for good (550 user unknown), the mail will never be accepted as it is,
// whatever the other recipients were told (a 451 greylisting): the failure is
// permanent, whichever order the recipients come in, not retried for half a day
// when the refused address happens to come first.
func TestRecipientRefusedForGoodIsPermanentInAnyOrder(t *testing.T) {
	unknown := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "user unknown"}
	grey := &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted"}
	o, accepted := rcptServer(t, map[string]*smtp.SMTPError{"gone@example.org": unknown, "grey@example.org": grey})
	s, err := NewSender(o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, order := range [][]string{{"gone@example.org", "grey@example.org"}, {"grey@example.org", "gone@example.org"}} {
		m := sampleMail()
		m.To = nil
		for _, a := range order {
			m.To = append(m.To, Address{Address: a})
		}
		err := s.Send(context.Background(), m)
		var se *SendError
		if !errors.As(err, &se) || se.Stage != StageRcpt || se.Temporary || IsRelayFault(err) {
			t.Errorf("recipients %v: Send = %v, want a permanent RCPT failure", order, err)
		}
	}
	if n := accepted(); n != 0 {
		t.Errorf("%d messages accepted, want 0", n)
	}
}
