// SPDX-License-Identifier: MIT

package mailtest

import (
	"context"
	"errors"
	"strings"
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

func TestSMTPSink(t *testing.T) {
	const msg = "Subject: hi\r\n\r\nline one\r\n.leading dot\r\n"
	cases := []struct {
		name      string
		inject    func(s *SMTPSink)
		wantCodes []int // per attempt; 0 means accepted
		wantMsgs  int   // stored after all attempts
		wantFASt  int   // stored with FailedAfterStore
		wantRefus int
	}{
		{"plain delivery is stored", func(*SMTPSink) {}, []int{0}, 1, 0, 0},
		{"a temporary refusal at MAIL lets the retry through", func(s *SMTPSink) { s.FailNext(1, 451) }, []int{451, 0}, 1, 0, 1},
		{"a permanent refusal counts down per transaction", func(s *SMTPSink) { s.FailNext(2, 550) }, []int{550, 550, 0}, 1, 0, 2},
		{"a refusal at RCPT stores nothing", func(s *SMTPSink) { s.FailNextAt(StageRcpt, 1, 550) }, []int{550, 0}, 1, 0, 1},
		{"a refusal at end of DATA stores nothing", func(s *SMTPSink) { s.FailNextAt(StageData, 1, 554) }, []int{554, 0}, 1, 0, 1},
		{"accept-then-fail stores the message although the client sees 451, so a naive retry duplicates it",
			func(s *SMTPSink) { s.AcceptThenFail(1) }, []int{451, 0}, 2, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSMTPSink(SinkOptions{})
			if err != nil {
				t.Fatalf("NewSMTPSink: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			tc.inject(s)
			for i, want := range tc.wantCodes {
				err := send(s.Addr(), "", "desk@portal.example", []string{"a@x.example", "b@y.example"}, msg)
				if got := smtpCode(err); got != want || (want == 0 && err != nil) {
					t.Fatalf("attempt %d: got %v (code %d), want code %d", i+1, err, got, want)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			msgs, err := s.WaitN(ctx, tc.wantMsgs)
			if err != nil {
				t.Fatalf("WaitN: %v", err)
			}
			if len(msgs) != tc.wantMsgs {
				t.Fatalf("stored %d messages, want %d", len(msgs), tc.wantMsgs)
			}
			failed := 0
			for _, m := range msgs {
				if m.FailedAfterStore {
					failed++
				}
				if m.From != "desk@portal.example" || len(m.To) != 2 || m.To[1] != "b@y.example" {
					t.Errorf("envelope: from %q to %q", m.From, m.To)
				}
				if want := "Subject: hi\r\n\r\nline one\r\n.leading dot\r\n"; string(m.Data) != want {
					t.Errorf("data %q, want %q", m.Data, want)
				}
			}
			if failed != tc.wantFASt {
				t.Errorf("%d messages marked FailedAfterStore, want %d", failed, tc.wantFASt)
			}
			if got := s.Refused(); got != tc.wantRefus {
				t.Errorf("Refused() = %d, want %d", got, tc.wantRefus)
			}
		})
	}
}
