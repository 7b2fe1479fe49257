package imapsource

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

const (
	testUser = "desk@example.com"
	testPass = "s3cret-pass"
)

// recorder keeps what a client sent, as command lines without their tag.
type recorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// maxRecorded bounds the recorder: tests record commands, not big literals.
const maxRecorded = 1 << 20

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if room := maxRecorded - r.buf.Len(); room > 0 {
		r.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (r *recorder) add(line string) {
	_, _ = r.Write([]byte(line + "\r\n"))
}

// commands returns the recorded lines with the tag removed.
func (r *recorder) commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, line := range strings.Split(r.buf.String(), "\r\n") {
		if line == "" {
			continue
		}
		if tag, rest, ok := strings.Cut(line, " "); ok && strings.HasPrefix(tag, "T") {
			line = rest
		}
		out = append(out, line)
	}
	return out
}

// sent reports whether a recorded command starts with prefix
// (case-insensitive).
func (r *recorder) sent(prefix string) bool {
	for _, c := range r.commands() {
		if strings.HasPrefix(strings.ToUpper(c), strings.ToUpper(prefix)) {
			return true
		}
	}
	return false
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// memServer is an in-process go-imap server with one user and INBOX.
type memServer struct {
	host string
	port int
	user *imapmemserver.User
	rec  *recorder // client→server bytes when started with a proxy
}

type memServerConfig struct {
	caps      imap.CapSet // nil: IMAP4rev1 MOVE UIDPLUS
	starttls  *tls.Config // offered STARTTLS; plaintext login is then refused
	implicit  *tls.Config // TLS listener
	withProxy bool        // record client commands through a TCP proxy
}

func startMemServer(t *testing.T, cfg memServerConfig) *memServer {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(testUser, testPass)
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	caps := cfg.caps
	if caps == nil {
		caps = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapMove: {}, imap.CapUIDPlus: {}}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         caps,
		Logger:       log.New(io.Discard, "", 0),
		TLSConfig:    cfg.starttls,
		InsecureAuth: cfg.starttls == nil && cfg.implicit == nil,
	})
	var ln net.Listener
	var err error
	if cfg.implicit != nil {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", cfg.implicit)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	ms := &memServer{user: user}
	addr := ln.Addr().(*net.TCPAddr)
	if cfg.withProxy {
		ms.rec = &recorder{}
		addr = startProxy(t, addr.String(), ms.rec)
	}
	ms.host, ms.port = "127.0.0.1", addr.Port
	return ms
}

// startProxy forwards TCP connections to target and copies what clients
// send into rec.
func startProxy(t *testing.T, target string, rec *recorder) *net.TCPAddr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, client, server)
			mu.Unlock()
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(client, server)
				client.Close()
			}()
			go func() {
				defer wg.Done()
				// Record first: an assertion may run as soon as the server answers.
				_, _ = io.Copy(io.MultiWriter(rec, server), client)
				server.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().(*net.TCPAddr)
}

func (ms *memServer) options() Options {
	return Options{
		Host: ms.host, Port: ms.port, TLS: TLSNone,
		Username: testUser, Password: testPass,
		CommandTimeout: 10 * time.Second,
	}
}

// bytesLiteral adapts a byte slice to imap.LiteralReader.
type bytesLiteral struct {
	*bytes.Reader
}

func (ms *memServer) appendMsg(t *testing.T, mailbox string, raw []byte, flags ...imap.Flag) uint32 {
	t.Helper()
	data, err := ms.user.Append(mailbox, bytesLiteral{bytes.NewReader(raw)}, &imap.AppendOptions{Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	return uint32(data.UID)
}

// inspect opens a plain go-imap session on mailbox for assertions.
func (ms *memServer) inspect(t *testing.T, mailbox string) *imapclient.Client {
	t.Helper()
	ic, err := imapclient.DialInsecure(net.JoinHostPort(ms.host, strconv.Itoa(ms.port)), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ic.Close() })
	if err := ic.Login(testUser, testPass).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.Select(mailbox, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	return ic
}

// flagsOf returns the flags of uid as seen by another session.
func (ms *memServer) flagsOf(t *testing.T, mailbox string, uid uint32) []imap.Flag {
	t.Helper()
	ic := ms.inspect(t, mailbox)
	msgs, err := ic.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("uid %d: %d messages", uid, len(msgs))
	}
	return msgs[0].Flags
}

func testMessage(n int) []byte {
	return []byte(fmt.Sprintf("From: a%d@example.org\r\nTo: desk@example.com\r\nSubject: test %d\r\nMessage-ID: <%d@example.org>\r\n\r\nbody %d\r\n", n, n, n, n))
}

func dialT(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := Dial(context.Background(), o)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// selfSigned returns a server certificate for 127.0.0.1/localhost and a
// client config that trusts it.
func selfSigned(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "imapsource test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}
	client = &tls.Config{RootCAs: pool}
	return server, client
}

// fakeServer is a scripted IMAP server that speaks just enough IMAP for the
// cases imapmemserver cannot produce (no MOVE, no UIDPLUS, no IDLE, ID,
// restrictive PERMANENTFLAGS, stalls). It records every command.
type fakeServer struct {
	caps         string          // after the IMAP4rev1 atom
	permFlags    string          // PERMANENTFLAGS list content; "-" omits the response
	searchUIDs   string          // answer to UID SEARCH
	stall        map[string]bool // command names never answered
	greetingOnly bool            // answer nothing after the greeting
	noopExists   bool            // NOOP reports "* 4 EXISTS"
	fetchSize    int64           // UID FETCH streams a generated body this big; 0 answers no message
	fetchStallAt int64           // stop sending the body after this many bytes
	bodyFirst    bool            // send BODY[] before UID, which go-imap cannot attribute
	// fetch, when set, answers UID FETCH instead (the UID set as sent, a writer for
	// the untagged lines and bodies); it returns the tagged status ("OK done", "NO
	// ..."), or "" to drop the connection.
	fetch func(set string, conn net.Conn) string

	rec  recorder
	host string
	port int
}

func (f *fakeServer) start(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				f.serve(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	addr := ln.Addr().(*net.TCPAddr)
	f.host, f.port = "127.0.0.1", addr.Port
}

func (f *fakeServer) options() Options {
	return Options{
		Host: f.host, Port: f.port, TLS: TLSNone,
		Username: testUser, Password: testPass,
		CommandTimeout: 10 * time.Second,
	}
}

func (f *fakeServer) serve(conn net.Conn) {
	br := bufio.NewReader(conn)
	w := func(format string, args ...any) {
		fmt.Fprintf(conn, format+"\r\n", args...)
	}
	w("* OK fake IMAP ready")
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		f.rec.add(line)
		if f.greetingOnly {
			continue
		}
		tag, rest, _ := strings.Cut(line, " ")
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			w("%s BAD empty command", tag)
			continue
		}
		name := strings.ToUpper(fields[0])
		args := fields[1:]
		if name == "UID" && len(args) > 0 {
			name += " " + strings.ToUpper(args[0])
			args = args[1:]
		}
		if f.stall[name] {
			continue
		}
		switch name {
		case "CAPABILITY":
			w("* CAPABILITY IMAP4rev1 %s", f.caps)
			w("%s OK done", tag)
		case "LOGIN", "CREATE", "UID STORE", "EXPUNGE", "MOVE", "UID MOVE", "STORE":
			w("%s OK done", tag)
		case "AUTHENTICATE":
			if len(args) < 2 { // no SASL-IR: ask for the response
				w("+ ")
				resp, err := br.ReadString('\n')
				if err != nil {
					return
				}
				f.rec.add(strings.TrimRight(resp, "\r\n"))
			}
			w("%s OK authenticated", tag)
		case "ID":
			w(`* ID ("name" "fake")`)
			w("%s OK done", tag)
		case "SELECT", "EXAMINE":
			w(`* FLAGS (\Seen \Flagged \Deleted \Answered \Draft)`)
			w("* 3 EXISTS")
			w("* OK [UIDVALIDITY 42] ok")
			w("* OK [UIDNEXT 10] ok")
			if f.permFlags != "-" {
				w("* OK [PERMANENTFLAGS (%s)] ok", f.permFlags)
			}
			w("%s OK [READ-WRITE] selected", tag)
		case "UID SEARCH":
			w("* SEARCH %s", f.searchUIDs)
			w("%s OK done", tag)
		case "UID COPY", "COPY":
			if strings.Contains(f.caps, "UIDPLUS") && len(args) > 0 {
				w("%s OK [COPYUID 43 %s 1] copied", tag, args[0])
			} else {
				w("%s OK copied", tag)
			}
		case "UID FETCH":
			if f.fetch != nil && len(args) > 0 {
				status := f.fetch(args[0], conn)
				if status == "" {
					return
				}
				w("%s %s", tag, status)
				continue
			}
			if f.fetchSize > 0 && len(args) > 0 {
				if f.bodyFirst {
					w("* 1 FETCH (BODY[] {%d}", f.fetchSize)
				} else {
					w("* 1 FETCH (UID %s RFC822.SIZE %d BODY[] {%d}", args[0], f.fetchSize, f.fetchSize)
				}
				n := f.fetchSize
				if f.fetchStallAt > 0 {
					n = f.fetchStallAt
				}
				if _, err := io.Copy(conn, io.LimitReader(repeatReader{}, n)); err != nil {
					return
				}
				if f.fetchStallAt > 0 {
					continue // the rest never comes
				}
				if f.bodyFirst {
					w(" UID %s)", args[0])
				} else {
					w(")")
				}
			}
			w("%s OK done", tag)
		case "UID EXPUNGE":
			w("* 1 EXPUNGE")
			w("%s OK done", tag)
		case "NOOP":
			if f.noopExists {
				w("* 4 EXISTS")
			}
			w("%s OK done", tag)
		case "IDLE":
			w("+ idling")
			done, err := br.ReadString('\n')
			if err != nil {
				return
			}
			f.rec.add(strings.TrimRight(done, "\r\n"))
			w("%s OK idle done", tag)
		case "LOGOUT":
			w("* BYE bye")
			w("%s OK done", tag)
			return
		default:
			w("%s BAD unknown command", tag)
		}
	}
}

// repeatReader yields an endless stream of printable lines without holding
// more than the caller's buffer.
type repeatReader struct{}

func (repeatReader) Read(p []byte) (int, error) {
	const line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n"
	for i := range p {
		p[i] = line[i%len(line)]
	}
	return len(p), nil
}
