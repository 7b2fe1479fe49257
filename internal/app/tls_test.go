package app

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/dispatch"
	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpServer is an in-process SMTP server with TLS (STARTTLS or implicit) and AUTH
// PLAIN for one password; it counts logins and accepted mails.
type smtpServer struct {
	addr             string
	logins, accepted atomic.Int64
	password         string
}

type smtpBackend struct{ s *smtpServer }

func (b smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{s: b.s}, nil }

type smtpSession struct{ s *smtpServer }

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, _, password string) error {
		s.s.logins.Add(1)
		if password != s.s.password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
		}
		return nil
	}), nil
}
func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *smtpSession) Data(r io.Reader) error {
	io.Copy(io.Discard, r)
	s.s.accepted.Add(1)
	return nil
}
func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }

// newSMTPServer starts a server with a certificate for caHost from a new test CA
// (implicit: TLS from the first byte, else STARTTLS) and returns it with the CA file.
func newSMTPServer(t *testing.T, caHost string, implicit bool, password string) (*smtpServer, string) {
	t.Helper()
	caFile, serverTLS := mailtest.TestCA(t, caHost)
	s := &smtpServer{password: password}
	srv := smtp.NewServer(smtpBackend{s})
	srv.Domain, srv.TLSConfig, srv.ReadTimeout, srv.WriteTimeout = caHost, serverTLS, 10*time.Second, 10*time.Second
	var ln net.Listener
	var err error
	if implicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s.addr = ln.Addr().String()
	return s, caFile
}

// smtpConfig is an smtp section for s.
func smtpConfig(t *testing.T, s *smtpServer, mode, caFile, serverName, password string) *config.Config {
	t.Helper()
	host, port, _ := net.SplitHostPort(s.addr)
	p, _ := strconv.Atoi(port)
	c := &config.Config{}
	c.SMTP = config.SMTP{Host: host, Port: p, TLS: mode, Username: "desk", Password: password, From: "desk@desk.test",
		Timeout: 10 * time.Second, CAFile: caFile, ServerName: serverName, TLSMinVersion: "1.2"}
	return c
}

func testMail() outbox.Mail {
	return outbox.Mail{MessageID: "m1@desk.test", From: outbox.Address{Address: "desk@desk.test"},
		To: []outbox.Address{{Address: "someone@example.cn"}}, Subject: "test", Text: "hello", Date: time.Now()}
}

// smtp.ca_file, smtp.server_name through the sender the daemon builds: the test CA's
// file makes the server trusted (STARTTLS and implicit TLS); without it, or with
// another name, the send fails before any login and is classified as a certificate
// failure, which pauses sending.
func TestSMTPTLSVerification(t *testing.T) {
	for _, implicit := range []bool{false, true} {
		mode := map[bool]string{false: "starttls", true: "tls"}[implicit]
		t.Run(mode, func(t *testing.T) {
			srv, caFile := newSMTPServer(t, "smtp.desk.test", implicit, "right")
			for _, tt := range []struct {
				name, caFile, serverName string
				ok                       bool
			}{
				{"trusted with ca_file", caFile, "smtp.desk.test", true},
				{"refused without ca_file", "", "smtp.desk.test", false},
				{"refused on a server_name mismatch", caFile, "other.desk.test", false},
			} {
				sender, _, err := smtpSender(smtpConfig(t, srv, mode, tt.caFile, tt.serverName, "right"), slog.New(slog.DiscardHandler))
				if err != nil {
					t.Fatal(err)
				}
				logins := srv.logins.Load()
				err = sender.Send(context.Background(), testMail())
				if tt.ok {
					if err != nil {
						t.Errorf("%s: %v", tt.name, err)
					}
					continue
				}
				if err == nil {
					t.Errorf("%s: sent", tt.name)
					continue
				}
				if why := dispatch.ConfigFailure(err); why != "certificate not trusted" {
					t.Errorf("%s: classified %q: %v", tt.name, why, err)
				}
				if srv.logins.Load() != logins {
					t.Errorf("%s: the password was sent to an untrusted server", tt.name)
				}
			}
		})
	}
}

// A refused SMTP login is classified as such, from the real client's error.
func TestSMTPLoginRefusedIsClassified(t *testing.T) {
	srv, caFile := newSMTPServer(t, "smtp.desk.test", false, "right")
	sender, _, err := smtpSender(smtpConfig(t, srv, "starttls", caFile, "smtp.desk.test", "wrong"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	err = sender.Send(context.Background(), testMail())
	var se *outbox.SendError
	if !errors.As(err, &se) || dispatch.ConfigFailure(err) != "login refused" || srv.logins.Load() != 1 {
		t.Fatalf("send with a wrong password: %v (classified %q, %d logins)", err, dispatch.ConfigFailure(err), srv.logins.Load())
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the password is in the error: %v", err)
	}
}

// refusingSender is an SMTP sender whose server refuses the login.
type refusingSender struct{ calls atomic.Int64 }

func (s *refusingSender) Send(context.Context, outbox.Mail) error {
	s.calls.Add(1)
	return &outbox.SendError{Temporary: true, Code: 535, Stage: outbox.StageAuth, Err: errors.New("SMTP AUTH failed: 535 5.7.8 authentication failed for desk@desk.test")}
}

// A refused SMTP login reaches /healthz as a reason (the login's address hashed), and
// complaintd_smtp_up stays 0 although the server greets the probe: the desk cannot
// send.
func TestRefusedSMTPLoginInHealth(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	d := testDesk(t, now, fakeSMTP(t))
	d.metrics.IMAPUp.Store(true)
	sender := &refusingSender{}
	d.dispatcher = dispatch.New(dispatch.Options{Store: d.store, Sender: sender, Now: d.clock.Now, Metrics: d.metrics})
	if err := d.store.Update(func(tx *store.Tx) error {
		return tx.Enqueue(&store.OutboxEntry{Kind: "acknowledgement", Mail: []byte(`{}`), MessageID: "a@desk.test", NextAt: now, CreatedAt: now})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.dispatcher.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := d.health()
	all := strings.Join(h.Reasons, "\n")
	if h.OK || !strings.Contains(all, "smtp: login refused") || !strings.Contains(all, "sending paused until 2026-12-05T10:02:00Z") {
		t.Fatalf("health after a refused login: %+v", h)
	}
	if strings.Contains(all, "desk@desk.test") {
		t.Errorf("an address in the reasons: %s", all)
	}
	if d.metrics.SMTPUp.Load() {
		t.Error("complaintd_smtp_up is 1 while the login is refused")
	}
	if sender.calls.Load() != 1 {
		t.Errorf("%d logins", sender.calls.Load())
	}
}
