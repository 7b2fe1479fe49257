// SPDX-License-Identifier: MIT

package outbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// senderFor returns a Sender for ts with o's other fields kept.
func senderFor(t testing.TB, ts *testServer, o Options) *Sender {
	t.Helper()
	o.Host = ts.host
	o.Port = ts.port
	if o.TLS == "" {
		o.TLS = TLSNone
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	if ts.certs != nil && o.TLSConfig == nil {
		o.TLSConfig = &tls.Config{RootCAs: ts.certs, MinVersion: tls.VersionTLS12}
	}
	s, err := NewSender(o)
	if err != nil {
		t.Fatalf("NewSender: %v", err)
	}
	return s
}

func headerOf(t *testing.T, raw []byte) mail.Header {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse sent message: %v", err)
	}
	return msg.Header
}

func TestSendDelivers(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	s := senderFor(t, ts, Options{})
	m := sampleMail()
	m.To = append(m.To, Address{Address: "lisi@example.com"})

	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := ts.messages()
	if len(got) != 1 {
		t.Fatalf("server has %d messages, want 1", len(got))
	}
	if got[0].from != m.From.Address {
		t.Errorf("envelope from = %q, want %q", got[0].from, m.From.Address)
	}
	if want := []string{"zhangsan@qq.com", "lisi@example.com"}; strings.Join(got[0].rcpts, ",") != strings.Join(want, ",") {
		t.Errorf("envelope rcpts = %q, want %q", got[0].rcpts, want)
	}
	h := headerOf(t, got[0].raw)
	if id := h.Get("Message-Id"); id != "<"+m.MessageID+">" {
		t.Errorf("Message-ID = %q, want <%s>", id, m.MessageID)
	}
	if h.Get("Bcc") != "" {
		t.Errorf("Bcc header present")
	}
	// What the server got is exactly what WriteTo renders (boundaries aside).
	var buf bytes.Buffer
	if err := WriteTo(&buf, m); err != nil {
		t.Fatal(err)
	}
	if a, b := normaliseBoundaries(buf.String()), normaliseBoundaries(string(got[0].raw)); a != b {
		t.Errorf("sent message differs from WriteTo output:\n%s\n---\n%s", b, a)
	}
}

func TestSendClassifiesFailures(t *testing.T) {
	tests := []struct {
		name      string
		why       string
		f         faults
		server    serverConfig
		opts      Options
		temporary bool
		code      int
		stage     Stage
	}{
		{
			name: "rcpt 451", why: "greylisting or a full mailbox heals by itself",
			f:         faults{rcptErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted"}},
			temporary: true, code: 451, stage: StageRcpt,
		},
		{
			name: "rcpt 550", why: "an unknown user never becomes known: stop retrying",
			f:         faults{rcptErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "user unknown"}},
			temporary: false, code: 550, stage: StageRcpt,
		},
		{
			name: "data 451 after content", why: "a temporary local error at the end of DATA is retried",
			f:         faults{dataErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}},
			temporary: true, code: 451, stage: StageData,
		},
		{
			name: "data 554 after content", why: "content rejected as spam will be rejected again",
			f:         faults{dataErr: &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "spam"}},
			temporary: false, code: 554, stage: StageData,
		},
		{
			// Every reply has the desk's sender: failing each for good dropped every
			// reply of the queue, one after the other, for a relay's configuration.
			name: "mail 550", why: "the desk's sender refused is the relay's configuration: keep the mail",
			f:         faults{mailErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "not allowed"}},
			temporary: true, code: 550, stage: StageMail,
		},
		{
			name: "mail 552", why: "a mail too big for the relay (SIZE) stays too big",
			f:         faults{mailErr: &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "message size exceeds fixed limit"}},
			temporary: false, code: 552, stage: StageMail,
		},
		{
			name: "mail 530 auth required", why: "a missing login is a config problem: keep the mail",
			f:         faults{mailErr: &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}},
			temporary: true, code: 530, stage: StageAuth,
		},
		{
			name: "wrong password", why: "auth failures are kept (temporary) and flagged by stage",
			server:    serverConfig{user: "desk", pass: "right"},
			opts:      Options{Username: "desk", Password: "wrong"},
			temporary: true, code: 535, stage: StageAuth,
		},
		{
			name: "implicit tls against plain server", why: "a TLS handshake failure is a connection problem",
			opts:      Options{TLS: TLSImplicit, TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12}},
			temporary: true, stage: StageConnect,
		},
		{
			name: "starttls not offered", why: "STARTTLS is mandatory when configured: never fall back to clear text",
			opts:      Options{TLS: TLSStartTLS},
			temporary: true, stage: StageConnect,
		},
		{
			name: "untrusted certificate", why: "certificate verification failure is a TLS handshake failure",
			server:    serverConfig{tls: true},
			opts:      Options{TLS: TLSStartTLS, TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12}},
			temporary: true, stage: StageConnect,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, tt.server)
			ts.setFaults(tt.f)
			s := senderFor(t, ts, tt.opts)
			err := s.Send(context.Background(), sampleMail())
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send = %v, want *SendError (%s)", err, tt.why)
			}
			if se.Temporary != tt.temporary || IsTemporary(err) != tt.temporary {
				t.Errorf("Temporary = %v, want %v (%s): %v", se.Temporary, tt.temporary, tt.why, err)
			}
			if se.Code != tt.code {
				t.Errorf("Code = %d, want %d: %v", se.Code, tt.code, err)
			}
			if se.Stage != tt.stage {
				t.Errorf("Stage = %q, want %q: %v", se.Stage, tt.stage, err)
			}
			if n := len(ts.messages()); n != 0 {
				t.Errorf("server accepted %d messages, want 0", n)
			}
		})
	}
}

func TestSendConnectionRefusedIsTemporary(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close() // nothing listens there any more

	s, err := NewSender(Options{Host: "127.0.0.1", Port: port, TLS: TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), sampleMail())
	if !IsTemporary(err) {
		t.Fatalf("Send = %v, want temporary", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Send = %v, want it to wrap ECONNREFUSED", err)
	}
	var se *SendError
	if errors.As(err, &se) && se.Stage != StageConnect {
		t.Errorf("Stage = %q, want %q", se.Stage, StageConnect)
	}
}

// The QQ case: the server says 250 after the final dot and then the session
// breaks. The mail is delivered; reporting an error would make the outbox send a
// second copy.
func TestSendAcceptedThenSessionFails(t *testing.T) {
	// Neither failure is seen by the Send itself: the drop shows at the next RSET,
	// and QUIT comes only when the session is closed, when its reply no longer
	// matters. The next reply goes out over a new connection.
	tests := []struct {
		name  string
		after afterAccept
	}{
		{"connection dropped after 250", dropAfter250},
		{"QUIT answered with 421", quitReply421},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, serverConfig{})
			ts.setFaults(faults{after: tt.after})
			var logs bytes.Buffer
			s := senderFor(t, ts, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			m := sampleMail()

			if err := s.Send(context.Background(), m); err != nil {
				t.Fatalf("Send = %v, want nil: the server accepted the message", err)
			}
			ts.setFaults(faults{})
			next := mailN(1)
			if err := s.Send(context.Background(), next); err != nil {
				t.Fatalf("the next Send: %v", err)
			}
			s.Close() // QUIT now
			ids := acceptedIDs(t, ts)
			if ids["<"+m.MessageID+">"] != 1 || ids["<"+next.MessageID+">"] != 1 {
				t.Fatalf("server has %v, want exactly one copy of each", ids)
			}
			out := logs.String()
			if strings.Contains(out, "张三您好") {
				t.Errorf("the body leaked into the log: %q", out)
			}
		})
	}
}

func TestSendKeepsMessageIDAcrossAttempts(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	s := senderFor(t, ts, Options{})
	m := sampleMail()

	ts.setFaults(faults{dataErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}})
	if err := s.Send(context.Background(), m); !IsTemporary(err) {
		t.Fatalf("first attempt = %v, want a temporary error", err)
	}
	ts.setFaults(faults{})
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	attempts := ts.allAttempts()
	if len(attempts) != 2 {
		t.Fatalf("server saw %d attempts, want 2", len(attempts))
	}
	first, second := headerOf(t, attempts[0].raw), headerOf(t, attempts[1].raw)
	if first.Get("Message-Id") != "<"+m.MessageID+">" || first.Get("Message-Id") != second.Get("Message-Id") {
		t.Errorf("Message-ID changed between attempts: %q then %q (want <%s>)",
			first.Get("Message-Id"), second.Get("Message-Id"), m.MessageID)
	}
	if a, b := normaliseBoundaries(string(attempts[0].raw)), normaliseBoundaries(string(attempts[1].raw)); a != b {
		t.Errorf("the two attempts differ beyond boundaries")
	}
}

func TestSendContextCancelAbortsTransaction(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	block := make(chan struct{})
	ts.setFaults(faults{blockData: block})
	s := senderFor(t, ts, Options{Timeout: time.Minute})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	result := make(chan error, 1)
	go func() { result <- s.Send(ctx, sampleMail()) }()

	select {
	case <-ts.dataEntered:
	case <-time.After(5 * time.Second):
		t.Fatal("the server never saw DATA")
	}
	cancel()
	select {
	case err := <-result:
		if !errors.Is(err, context.Canceled) || !IsTemporary(err) {
			t.Errorf("Send = %v, want a temporary error wrapping context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Send did not return after cancel (the 1 minute timeout would have)")
	}
	close(block)
}

func TestSendCancelledBeforeDialing(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	s := senderFor(t, ts, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Send(ctx, sampleMail())
	if !errors.Is(err, context.Canceled) || !IsTemporary(err) {
		t.Fatalf("Send = %v, want temporary context.Canceled", err)
	}
	if n := ts.sessionCount(); n != 0 {
		t.Errorf("server saw %d sessions, want 0", n)
	}
}

func TestSendOverTLSWithAuth(t *testing.T) {
	tests := []struct {
		name   string
		server serverConfig
		mode   string
	}{
		{"starttls", serverConfig{tls: true, user: "desk", pass: "s3cret"}, TLSStartTLS},
		{"implicit tls", serverConfig{implicit: true, user: "desk", pass: "s3cret"}, TLSImplicit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, tt.server)
			s := senderFor(t, ts, Options{TLS: tt.mode, Username: "desk", Password: "s3cret"})
			if err := s.Send(context.Background(), sampleMail()); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := ts.messages()
			if len(got) != 1 || !got[0].tls {
				t.Fatalf("want one message received over TLS, got %d (tls=%v)", len(got), len(got) == 1 && got[0].tls)
			}
		})
	}
}

func TestSendAttachmentUnreadable(t *testing.T) {
	tests := []struct {
		name      string
		why       string
		openErr   error
		temporary bool
	}{
		{"missing file", "a deleted file does not come back", fs.ErrNotExist, false},
		{"io error", "a disk hiccup may heal", errors.New("input/output error"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, serverConfig{})
			s := senderFor(t, ts, Options{})
			m := sampleMail()
			m.Attachments = []Attachment{{Filename: "身份证.jpg", ContentType: "image/jpeg",
				Open: func() (io.ReadCloser, error) { return nil, tt.openErr }}}
			err := s.Send(context.Background(), m)
			var se *SendError
			if !errors.As(err, &se) || se.Temporary != tt.temporary || se.Stage != StageCompose {
				t.Fatalf("Send = %#v, want Stage compose, Temporary %v (%s)", err, tt.temporary, tt.why)
			}
			if n := ts.sessionCount(); n != 0 {
				t.Errorf("server saw %d sessions, want 0: attachments are read before dialling", n)
			}
		})
	}
}

func TestSendInvalidMailIsPermanent(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	s := senderFor(t, ts, Options{})
	m := sampleMail()
	m.MessageID = "no-at-sign"
	err := s.Send(context.Background(), m)
	if IsTemporary(err) || !errors.Is(err, ErrInvalidMail) {
		t.Fatalf("Send = %v, want permanent ErrInvalidMail", err)
	}
}

func TestNewSenderValidates(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"defaults to starttls on 587", Options{Host: "smtp.example.org"}, true},
		{"no host", Options{}, false},
		{"unknown tls mode", Options{Host: "smtp.example.org", TLS: "ssl"}, false},
		{"port out of range", Options{Host: "smtp.example.org", Port: 70000}, false},
		{"password without user", Options{Host: "smtp.example.org", Password: "x"}, false},
		{"helo with space", Options{Host: "smtp.example.org", HELO: "a b"}, false},
		{"negative timeout", Options{Host: "smtp.example.org", Timeout: -time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSender(tt.o)
			if (err == nil) != tt.ok {
				t.Fatalf("NewSender(%+v) = %v, want ok=%v", tt.o, err, tt.ok)
			}
			if tt.ok && (s.port != 587 || s.opts.TLS != TLSStartTLS || s.opts.Timeout != DefaultTimeout) {
				t.Errorf("defaults: port %d tls %q timeout %v", s.port, s.opts.TLS, s.opts.Timeout)
			}
		})
	}
}

func TestIsTemporary(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil is not an error", nil, false},
		{"unknown errors keep the mail", errors.New("boom"), true},
		{"permanent SendError", &SendError{Code: 550}, false},
		{"wrapped temporary SendError", errors.Join(errors.New("ctx"), &SendError{Temporary: true}), true},
	}
	for _, tt := range tests {
		if got := IsTemporary(tt.err); got != tt.want {
			t.Errorf("%s: IsTemporary = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A report loaded from the outbox carries its chart and CSV as Data and no Open: it
// is sent as composed (it was refused for good with "Open is nil" on the real stack).
func TestSendStoredContent(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	s := senderFor(t, ts, Options{})
	stored, err := json.Marshal(reportMail())
	if err != nil {
		t.Fatal(err)
	}
	var m Mail
	if err := json.Unmarshal(stored, &m); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := ts.messages()
	if len(got) != 1 || !bytes.Contains(got[0].raw, []byte("Content-Id: <chart-state.2026-w10@desk.example.org>")) {
		t.Fatalf("server got %d messages; the first lacks the inline chart", len(got))
	}
}
