// SPDX-License-Identifier: MIT

package outbox

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// afterAccept is what the test server does once it has accepted a message.
type afterAccept int

const (
	keepSession  afterAccept = iota
	dropAfter250             // send "250 OK" for DATA, then close the connection
	quitReply421             // answer QUIT with 421 instead of 221
)

// faults are the failures the test server injects; the zero value accepts everything.
type faults struct {
	mailErr   *smtp.SMTPError // reply to MAIL FROM
	rcptErr   *smtp.SMTPError // reply to RCPT TO
	dataErr   *smtp.SMTPError // reply after the content was read (the attempt is still recorded)
	after     afterAccept
	blockData chan struct{} // when set, Data waits until it is closed (or the connection dies)
	cutData   int           // the next cutData messages: the connection is cut in DATA, before any reply
	delay     time.Duration // Data takes this long (a server's per-message work)
}

// received is one DATA payload the server read.
type received struct {
	from     string
	rcpts    []string
	raw      []byte
	accepted bool
	tls      bool
}

// testServer is an in-process SMTP server (go-smtp) that records every message
// and injects the configured faults.
type testServer struct {
	t        testing.TB
	addr     string
	host     string
	port     int
	certs    *x509.CertPool // trusts the server's certificate when TLS is on
	listener *faultListener

	mu          sync.Mutex
	f           faults
	attempts    []received
	sessions    int
	dataEntered chan struct{} // receives when Data starts
	user, pass  string
}

type serverConfig struct {
	tls      bool // offer STARTTLS
	implicit bool // TLS from the first byte
	user     string
	pass     string
}

func newTestServer(t testing.TB, cfg serverConfig) *testServer {
	t.Helper()
	ts := &testServer{t: t, dataEntered: make(chan struct{}, 16), user: cfg.user, pass: cfg.pass}
	s := smtp.NewServer(smtp.BackendFunc(ts.newSession))
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.MaxRecipients = 10

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	fl := &faultListener{Listener: ln}
	ts.listener = fl
	var l net.Listener = fl
	if cfg.tls || cfg.implicit {
		cert, pool := selfSignedCert(t)
		ts.certs = pool
		tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if cfg.implicit {
			l = tls.NewListener(l, tlsCfg)
		} else {
			s.TLSConfig = tlsCfg
		}
	}
	ts.addr = ln.Addr().String()
	ts.host = "127.0.0.1"
	ts.port = ln.Addr().(*net.TCPAddr).Port

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(l)
	}()
	t.Cleanup(func() {
		ts.mu.Lock()
		if ts.f.blockData != nil {
			select {
			case <-ts.f.blockData:
			default:
				close(ts.f.blockData)
			}
		}
		ts.mu.Unlock()
		_ = s.Close()
		_ = ln.Close() // Close misses a listener that Serve has not registered yet
		// A CI run once hung here for 16 minutes with Serve still in Accept; bound
		// the wait so such a hang is reported, not a stalled job.
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("test SMTP server did not stop within 10s of Close")
		}
	})
	return ts
}

func (ts *testServer) setFaults(f faults) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.f = f
}

// messages returns the payloads the server accepted.
func (ts *testServer) messages() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var out []received
	for _, r := range ts.attempts {
		if r.accepted {
			out = append(out, r)
		}
	}
	return out
}

func (ts *testServer) allAttempts() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.attempts...)
}

func (ts *testServer) sessionCount() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.sessions
}

func (ts *testServer) newSession(c *smtp.Conn) (smtp.Session, error) {
	ts.mu.Lock()
	ts.sessions++
	ts.mu.Unlock()
	return &testSession{ts: ts, conn: c}, nil
}

type testSession struct {
	ts    *testServer
	conn  *smtp.Conn
	from  string
	rcpts []string
}

func (s *testSession) AuthMechanisms() []string {
	if s.ts.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *testSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != s.ts.user || password != s.ts.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
		}
		return nil
	}), nil
}

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	s.ts.mu.Lock()
	defer s.ts.mu.Unlock()
	if s.ts.f.mailErr != nil {
		return s.ts.f.mailErr
	}
	s.from = from
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.ts.mu.Lock()
	defer s.ts.mu.Unlock()
	if s.ts.f.rcptErr != nil {
		return s.ts.f.rcptErr
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	select {
	case s.ts.dataEntered <- struct{}{}:
	default: // nobody is watching (a session carries many messages)
	}
	s.ts.mu.Lock()
	block := s.ts.f.blockData
	s.ts.mu.Unlock()
	if block != nil {
		<-block
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.ts.mu.Lock()
	defer s.ts.mu.Unlock()
	if d := s.ts.f.delay; d > 0 {
		s.ts.mu.Unlock()
		time.Sleep(d) // the simulated server's work on the message
		s.ts.mu.Lock()
	}
	if s.ts.f.cutData > 0 {
		s.ts.f.cutData--
		s.ts.attempts = append(s.ts.attempts, received{from: s.from, rcpts: append([]string(nil), s.rcpts...), raw: raw, tls: isTLS})
		_ = s.conn.Conn().Close()
		return errors.New("connection cut")
	}
	rec := received{from: s.from, rcpts: append([]string(nil), s.rcpts...), raw: raw, tls: isTLS}
	if s.ts.f.dataErr != nil {
		s.ts.attempts = append(s.ts.attempts, rec)
		return s.ts.f.dataErr
	}
	rec.accepted = true
	s.ts.attempts = append(s.ts.attempts, rec)
	if fc, ok := s.conn.Conn().(*faultConn); ok {
		fc.arm(s.ts.f.after)
	}
	return nil
}

func (s *testSession) Reset() {
	s.from = ""
	s.rcpts = nil
}

func (s *testSession) Logout() error { return nil }

// faultListener hands out faultConns so a session can misbehave after accepting.
type faultListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *faultListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.conns = append(l.conns, c)
	l.mu.Unlock()
	return &faultConn{Conn: c}, nil
}

// cutAll closes every connection accepted so far, as a server restart would.
func (l *faultListener) cutAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		_ = c.Close()
	}
	l.conns = nil
}

// faultConn implements the misbehaviour seen from QQ Mail after a message was
// accepted: the connection drops right after "250", or QUIT gets an error reply.
type faultConn struct {
	net.Conn
	mu    sync.Mutex
	armed afterAccept
}

func (c *faultConn) arm(a afterAccept) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armed = a
}

func (c *faultConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	armed := c.armed
	c.mu.Unlock()
	switch {
	case armed == dropAfter250 && bytes.HasPrefix(p, []byte("250")):
		n, err := c.Conn.Write(p)
		c.arm(keepSession)
		_ = c.Conn.Close()
		return n, err
	case armed == quitReply421 && bytes.HasPrefix(p, []byte("221")):
		c.arm(keepSession)
		if _, err := c.Conn.Write([]byte("421 4.4.2 connection timed out\r\n")); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// selfSignedCert returns a certificate for 127.0.0.1 and a pool that trusts it.
func selfSignedCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
