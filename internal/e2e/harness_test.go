package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/clock"
	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
)

var binary string

// e2eParallel is how many end-to-end tests run at once unless -parallel says
// otherwise. They spend most of their time waiting on the mail servers, the daemon's
// polls and its clock, so more of them than cores fit; the ones whose assertions
// depend on the machine's speed (the bounds on CPU and delay) do not call t.Parallel
// and run alone. The kill loop runs beside the others: its window adapts to the
// machine (5 runs beside 5 other tests at load 6-8 passed, with 16-38 kills).
const e2eParallel = 4

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", strconv.Itoa(e2eParallel))
	}
	var err error
	if binary, err = buildDaemon(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// buildDaemon builds the complaintd under test. The binary goes to the same path on
// every run from this source tree, so that go build finds it up to date and skips the
// link (2-3 s before any test could start); a lock keeps concurrent runs from one tree
// from building at once. (Two concurrent runs of one tree whose sources differ in
// between would share the newer binary: run them from separate worktrees.)
func buildDaemon() (string, error) {
	src, err := filepath.Abs("../../cmd/complaintd")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(src))
	dir := filepath.Join(os.TempDir(), "complaintd-e2e-bin-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close() // releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", dir, err)
	}
	bin := filepath.Join(dir, "complaintd")
	out, err := exec.Command("go", "build", "-o", bin, src).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build complaintd: %w\n%s", err, out)
	}
	return bin, nil
}

// daemon is one complaintd process.
type daemon struct {
	t        *testing.T
	cfgPath  string
	dataDir  string
	logPath  string
	httpAddr string
	cmd      *exec.Cmd
	exited   chan struct{}
	env      []string // extra environment of the daemon and the CLI (COMPLAINTD_CLOCK_FILE)
}

type deskOptions struct {
	extraIMAP string // extra YAML lines under imap:
	extraSMTP string
	imapAddr  string // host:port the daemon reads mail from; "": the stack's Dovecot (a proxy in front of it)
	dataDir   string // the store, vault and config; "": a fresh t.TempDir() (a small tmpfs)
}

// newDaemon writes a config for the stack (desk mailbox "desk", replies through
// Postfix) and returns a stopped daemon.
func newDaemon(t *testing.T, st *mailtest.Stack, o deskOptions) *daemon {
	t.Helper()
	dir := o.dataDir
	if dir == "" {
		dir = t.TempDir()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := ln.Addr().String()
	ln.Close()
	imapAddr := st.IMAPAddr
	if o.imapAddr != "" {
		imapAddr = o.imapAddr
	}
	ih, ip, _ := net.SplitHostPort(imapAddr)
	sh, sp, _ := net.SplitHostPort(st.SMTPAddr)
	cfg := fmt.Sprintf(`imap:
  host: %s
  port: %s
  tls: none
  username: desk
  password: %s
  poll_interval: 2s
  command_timeout: 10s
%s
smtp:
  host: %s
  port: %s
  tls: none
  from: desk@desk.test
  retry_min: 200ms
  retry_max: 2s
  auto_reply_limit: 100000
  auto_reply_domain_limit: 100000
  auto_reply_global_limit: 100000
%s
store:
  path: %s/complaintd.db
  master_key: "%s"
staff:
  addresses: [editor@desk.test]
templates:
  reload_interval: 1s
http:
  listen: %s
`, ih, ip, st.Password("desk"), o.extraIMAP, sh, sp, o.extraSMTP, dir, strings.Repeat("ab", 32), httpAddr)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, cfgPath: path, httpAddr: httpAddr, dataDir: dir, logPath: filepath.Join(dir, "daemon.log")}
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			b, _ := os.ReadFile(d.logPath)
			if len(b) > 8000 {
				b = b[len(b)-8000:]
			}
			t.Logf("daemon log tail:\n%s", b)
		}
	})
	return d
}

func (d *daemon) start() {
	d.t.Helper()
	d.freeHTTPPort()
	logf, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		d.t.Fatal(err)
	}
	args := []string{"run", "-config", d.cfgPath}
	if p := os.Getenv("COMPLAINTD_E2E_CPUPROFILE"); p != "" {
		args = append(args, "-cpuprofile", p) // performance work: profile the daemon under test
	}
	if p := os.Getenv("COMPLAINTD_E2E_TRACE"); p != "" {
		args = append(args, "-trace", p)
	}
	d.cmd = exec.Command(binary, args...)
	d.cmd.Env = append(os.Environ(), d.env...)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	logf.Close()
	d.exited = make(chan struct{})
	go func(c *exec.Cmd, ch chan struct{}) { c.Wait(); close(ch) }(d.cmd, d.exited)
}

// freeHTTPPort moves the daemon's HTTP listener to another port when its own was
// taken since it was picked: an outgoing connection of any test on the machine may
// get it as its ephemeral port, and the daemon then refused to start (http.listen:
// address already in use; seen once in .ci/run).
func (d *daemon) freeHTTPPort() {
	d.t.Helper()
	if ln, err := net.Listen("tcp", d.httpAddr); err == nil {
		ln.Close()
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	d.setConfig("  listen: "+d.httpAddr+"\n", "  listen: "+addr+"\n")
	d.httpAddr = addr
}

// waitUp waits until the daemon answers on its HTTP listener (it has opened its store
// and started intake) or has exited.
func (d *daemon) waitUp() {
	d.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-d.exited:
			return
		default:
		}
		if c, err := net.DialTimeout("tcp", d.httpAddr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	d.t.Fatalf("daemon not up within 60s")
}

// kill is SIGKILL: no shutdown code runs.
func (d *daemon) kill() {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Kill()
	<-d.exited
	d.cmd = nil
}

// stop is SIGTERM with a deadline.
func (d *daemon) stop() {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		d.t.Errorf("daemon did not stop within 20s of SIGTERM")
		d.cmd.Process.Kill()
		<-d.exited
	}
	d.cmd = nil
}

// removeData deletes the stopped daemon's store and vault (its config and log stay).
func (d *daemon) removeData() {
	d.t.Helper()
	entries, err := os.ReadDir(d.dataDir)
	if err != nil {
		d.t.Fatal(err)
	}
	for _, e := range entries {
		p := filepath.Join(d.dataDir, e.Name())
		if p == d.cfgPath || p == d.logPath {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			d.t.Fatal(err)
		}
	}
}

// cli runs a complaintd subcommand and returns its stdout.
func (d *daemon) cli(args ...string) []byte {
	d.t.Helper()
	out, err := d.tryCLI(args...)
	if err != nil {
		d.t.Fatalf("complaintd %v: %v", args, err)
	}
	return out
}

// tryCLI is cli for polling: the daemon may not have opened its store yet.
func (d *daemon) tryCLI(args ...string) ([]byte, error) {
	if d.cmd != nil {
		// A CLI that starts before the daemon listens finds no control socket and
		// opens the store itself, to wait store.lock_timeout (10 s) for the lock the
		// starting daemon takes: that was 10 s lost at random in a test.
		d.waitUp()
	}
	cmd := exec.Command(binary, append(args, "-config", d.cfgPath)...)
	cmd.Env = append(os.Environ(), d.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, stderr.String())
	}
	return out, nil
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s (last: %s)", timeout, what, last)
}

// complaint builds a plain complaint mail.
func complaint(from, msgID, subject, body string, files map[string]string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: desk@desk.test\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n",
		from, mimeWord(subject), time.Now().Format(time.RFC1123Z), msgID)
	if len(files) == 0 {
		fmt.Fprintf(&b, "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n", body)
		return b.Bytes()
	}
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\r\n\r\n--BOUNDARY\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n", body)
	for name, content := range files {
		fmt.Fprintf(&b, "--BOUNDARY\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n", mimeWord(name), content)
	}
	b.WriteString("--BOUNDARY--\r\n")
	return b.Bytes()
}

// mimeWord encodes a header value as an RFC 2047 word when it is not ASCII.
func mimeWord(s string) string { return mime.BEncoding.Encode("UTF-8", s) }

func parseMail(t *testing.T, raw []byte) *mail.Message {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse reply: %v", err)
	}
	return m
}

// metric reads one counter or gauge from /metrics (-1 when the daemon is not up or
// does not serve it). A name without labels sums every labelled series of that name
// (complaintd_replies_sent_total over its kinds); a name with labels
// (`complaintd_cases_overdue{state="accepted"}`) reads that one series.
func (d *daemon) metric(name string) float64 {
	resp, err := http.Get("http://" + d.httpAddr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	sum, found := 0.0, false
	for _, line := range strings.Split(string(b), "\n") {
		i := strings.LastIndexByte(line, ' ') // label values may hold spaces; the value does not
		if i < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		series, v := line[:i], line[i+1:]
		if series == name || (!strings.Contains(name, "{") && strings.HasPrefix(series, name+"{")) {
			f, _ := strconv.ParseFloat(v, 64)
			sum, found = sum+f, true
		}
	}
	if !found {
		return -1
	}
	return sum
}

// openDaemonStore opens the store a stopped daemon left, read-only, with the vault
// that unseals its personal information (the harness's master key).
func openDaemonStore(t *testing.T, d *daemon) (*store.Store, error) {
	t.Helper()
	s, err := store.OpenReadOnly(d.dataDir+"/complaintd.db", 5*time.Second)
	if err != nil {
		return nil, err
	}
	s.SetSealer(openVault(t, d))
	return s, nil
}

// openVault opens a stopped daemon's vault with the harness's master key.
func openVault(t *testing.T, d *daemon) *vault.Vault {
	t.Helper()
	v, err := vault.Open(d.dataDir+"/attachments", bytes.Repeat([]byte{0xab}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// driveClock gives the daemon (and the CLI it runs) a clock file starting at start
// (RFC 3339) and returns the function that moves it. The file is re-read at every
// reading of the clock (clock.EnvUncached): what the test does after a move happens
// at the new time, without a real second to wait out.
func (d *daemon) driveClock(start string) func(rfc3339 string) {
	d.t.Helper()
	path := filepath.Join(d.t.TempDir(), "now")
	set := func(rfc3339 string) {
		d.t.Helper()
		// Written aside and renamed into place: a daemon starting while the file was
		// rewritten in place read it empty and refused to start (seen once in CI).
		if err := os.WriteFile(path+".tmp", []byte(rfc3339+"\n"), 0o600); err != nil {
			d.t.Fatal(err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			d.t.Fatal(err)
		}
	}
	set(start)
	d.env = append(d.env, clock.EnvFile+"="+path, clock.EnvUncached+"=1")
	return set
}
