// SPDX-License-Identifier: MIT

package mailtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
)

// DefaultPassword is the password of every stack user without an entry in
// [StackOptions.Passwords].
const DefaultPassword = "secret"

// StackOptions configures [StartStack]. The zero value starts a stack with
// the single user "desk".
type StackOptions struct {
	// Users are the mailbox owners, as lower-case local parts ("desk",
	// "staff.li"). Mail to <user>@<any domain>, or <user>+<detail>@<any
	// domain>, lands in that user's INBOX; mail to other local parts is
	// refused at RCPT. Empty means {"desk"}.
	Users []string
	// Passwords overrides DefaultPassword per user.
	Passwords map[string]string
	// StartTimeout bounds each start of a daemon. Zero means 60s.
	StartTimeout time.Duration
	// Relay sends the mail for some domains on to another SMTP server instead of
	// delivering it into Dovecot, the way a desk's Postfix relays the replies to
	// the complainants' providers: domain -> host:port. Recipients are still
	// checked against Users at RCPT.
	Relay map[string]string
	// PostfixMain are main.cf lines added after the stack's own ("name = value"; a
	// name set twice takes the last value): a test's change of Postfix's behaviour,
	// such as a slower acceptance of mail.
	PostfixMain []string
}

// Stack is a private Dovecot and Postfix started by [StartStack]. The address
// fields are fixed for the stack's life: restarts reuse the same ports.
// Methods may be called from several goroutines, but stopping and starting
// daemons while other goroutines use them is the caller's business.
type Stack struct {
	// IMAPAddr is Dovecot's IMAP listener (plaintext, LOGIN allowed), host:port.
	IMAPAddr string
	// LMTPAddr is Dovecot's LMTP listener, host:port.
	LMTPAddr string
	// SMTPAddr is Postfix's smtpd listener, host:port; it accepts mail from
	// 127.0.0.1 without authentication.
	SMTPAddr string
	// Dir holds every file of the stack: configs, logs, queue and maildirs.
	Dir string

	layout      stackLayout
	token       string
	users       []string
	passwords   map[string]string
	relay       map[string]string
	postfixMain []string
	timeout     time.Duration
	imapPort    int
	lmtpPort    int
	smtpPort    int

	mu      sync.Mutex // guards dovecot, postfix
	dovecot *daemon
	postfix *daemon

	clientsMu sync.Mutex // guards clients
	clients   map[string]*imapclient.Client
}

// StartStack starts a private Dovecot and Postfix for the test and stops them
// in t.Cleanup. It skips the test when the servers cannot run here (packages
// missing, not root), unless the environment variable CI is "true": there a
// missing stack fails the test. It logs how long the start took.
func StartStack(t testing.TB, opts StackOptions) *Stack {
	t.Helper()
	if err := stackAvailable(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mailtest: CI=true but the mail stack cannot run: %v", err)
		}
		t.Skipf("mailtest: skipping, the mail stack cannot run: %v (install dovecot-imapd dovecot-lmtpd postfix and run as root, see .ci/run)", err)
	}
	begin := time.Now()
	s, err := newStack(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.shutdown(); err != nil {
			t.Errorf("mailtest: stop stack: %v", err)
		}
	})
	if err := s.startDovecot(true); err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	dovecotUp := time.Now()
	if err := s.startPostfix(true); err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	t.Logf("mailtest: stack up in %v (dovecot %v, postfix %v): imap %s, lmtp %s, smtp %s, dir %s",
		time.Since(begin).Round(time.Millisecond), dovecotUp.Sub(begin).Round(time.Millisecond),
		time.Since(dovecotUp).Round(time.Millisecond), s.IMAPAddr, s.LMTPAddr, s.SMTPAddr, s.Dir)
	return s
}

// Password returns the IMAP password of user.
func (s *Stack) Password(user string) string {
	if p, ok := s.passwords[user]; ok {
		return p
	}
	return DefaultPassword
}

// Users returns the stack's users.
func (s *Stack) Users() []string { return slices.Clone(s.users) }

// Logs returns the tail of the Dovecot and Postfix logs, for failure messages.
func (s *Stack) Logs() string {
	l := s.layout
	return logTails(l.dovecotStdio(), l.dovecotLog(), l.postfixStdio(), l.postfixLog())
}

// DovecotLog returns Dovecot's whole log (logins, refusals, deliveries).
func (s *Stack) DovecotLog() string {
	b, _ := os.ReadFile(s.layout.dovecotLog())
	return string(b)
}

// Deliver submits raw to Postfix over SMTP with the given envelope. Postfix
// has accepted (queued) the message when Deliver returns; use WaitMessages
// to see it arrive.
func (s *Stack) Deliver(t testing.TB, raw []byte, from, to string) {
	t.Helper()
	s.DeliverHELO(t, raw, from, to, "mailtest.localhost")
}

// DeliverHELO is Deliver with the name the client gives in EHLO, which a sender
// chooses and Postfix writes, as given, after "from" in its Received line.
func (s *Stack) DeliverHELO(t testing.TB, raw []byte, from, to, helo string) {
	t.Helper()
	if err := s.deliver(raw, from, to, helo); err != nil {
		t.Fatalf("mailtest: deliver to %s: %v\n%s", to, err, s.Logs())
	}
}

// WaitMessages polls the user's mailbox over IMAP until it holds at least n
// messages, then returns every message's raw bytes in UID order. It fails
// the test when the timeout passes first.
func (s *Stack) WaitMessages(t testing.TB, user, mailbox string, n int, timeout time.Duration) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	msgs, err := s.waitMessages(ctx, user, mailbox, n)
	if err != nil {
		t.Fatalf("mailtest: wait for %d messages in %s/%s: %v\n%s", n, user, mailbox, err, s.Logs())
	}
	return msgs
}

// AppendRaw stores raw in the user's mailbox with IMAP APPEND (creating the
// mailbox if needed) and returns its UID. It reuses one logged-in connection
// per user, so appending a backlog of thousands of messages is quick.
func (s *Stack) AppendRaw(t testing.TB, user, mailbox string, raw []byte, flags ...imap.Flag) uint32 {
	t.Helper()
	uid, err := s.appendRaw(user, mailbox, raw, flags)
	if err != nil {
		t.Fatalf("mailtest: append to %s/%s: %v", user, mailbox, err)
	}
	return uid
}

// CreateMailbox creates an empty mailbox for user (a daemon told to watch it
// must find it before the first mail arrives).
func (s *Stack) CreateMailbox(t testing.TB, user, mailbox string) {
	t.Helper()
	c, err := s.dialIMAP(user)
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	defer c.Close()
	if err := c.Create(mailbox, nil).Wait(); err != nil {
		t.Fatalf("mailtest: create %s/%s: %v", user, mailbox, err)
	}
}

// UIDValidity returns the mailbox's UIDVALIDITY as Dovecot reports it.
func (s *Stack) UIDValidity(t testing.TB, user, mailbox string) uint32 {
	t.Helper()
	v, err := s.uidValidity(user, mailbox)
	if err != nil {
		t.Fatalf("mailtest: uidvalidity of %s/%s: %v", user, mailbox, err)
	}
	return v
}

// ChangeUIDValidity makes Dovecot give the mailbox a new UIDVALIDITY while
// its messages stay in place (they get new UIDs), as a server does after an
// index rebuild. It restarts Dovecot, deleting the mailbox's UID list and
// indexes in between, and fails the test unless the UIDVALIDITY changed.
// It returns the old and new values.
func (s *Stack) ChangeUIDValidity(t testing.TB, user, mailbox string) (before, after uint32) {
	t.Helper()
	before, after, err := s.changeUIDValidity(user, mailbox)
	if err != nil {
		t.Fatalf("mailtest: change uidvalidity of %s/%s: %v", user, mailbox, err)
	}
	return before, after
}

// StopDovecot stops Dovecot (IMAP and LMTP) and waits until its ports are
// closed. Postfix keeps accepting mail and queues it meanwhile.
func (s *Stack) StopDovecot(t testing.TB) {
	t.Helper()
	if err := s.stopDovecot(); err != nil {
		t.Fatalf("mailtest: %v", err)
	}
}

// StartDovecot starts Dovecot again on the same ports, with the same mail.
func (s *Stack) StartDovecot(t testing.TB) {
	t.Helper()
	if err := s.startDovecot(false); err != nil {
		t.Fatalf("mailtest: %v", err)
	}
}

// StopPostfix stops Postfix and waits until its SMTP port is closed. Queued
// mail stays in the queue.
func (s *Stack) StopPostfix(t testing.TB) {
	t.Helper()
	if err := s.stopPostfix(); err != nil {
		t.Fatalf("mailtest: %v", err)
	}
}

// StartPostfix starts Postfix again on the same port, with the same queue.
func (s *Stack) StartPostfix(t testing.TB) {
	t.Helper()
	if err := s.startPostfix(false); err != nil {
		t.Fatalf("mailtest: %v", err)
	}
}

// SMTPSessions counts, from Postfix's log, the SMTP connections smtpd has
// accepted so far (Deliver's included), the ones that have ended, and the ended
// ones that carried mail (their disconnect line counts MAIL commands): a greeting
// probe or a bare connection is not a mail session.
func (s *Stack) SMTPSessions(t testing.TB) (connected, ended, withMail int) {
	t.Helper()
	b, err := os.ReadFile(s.layout.postfixLog())
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "/smtpd[") {
			continue
		}
		switch {
		case strings.Contains(line, ": connect from "):
			connected++
		case strings.Contains(line, ": disconnect from "):
			ended++
			if strings.Contains(line, " mail=") {
				withMail++
			}
		}
	}
	return connected, ended, withMail
}

// MaildirPath returns the directory holding the user's mailbox on disk.
func (s *Stack) MaildirPath(user, mailbox string) string { return s.layout.maildir(user, mailbox) }

// --- implementation, free of package testing ---

// stackBinaries are what the stack runs; dovecot-lmtpd provides the last.
var stackBinaries = []string{"/usr/sbin/dovecot", "/usr/sbin/postfix", "/usr/lib/dovecot/lmtp", "/usr/lib/dovecot/imap"}

// stackAvailable reports why the stack cannot run here, or nil.
func stackAvailable() error {
	var missing []string
	for _, b := range stackBinaries {
		if _, err := os.Stat(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	if os.Geteuid() != 0 {
		return errors.New("postfix needs root to start")
	}
	for _, name := range []string{"postfix", "dovecot", "dovenull"} {
		if _, err := user.Lookup(name); err != nil {
			return fmt.Errorf("system user %q: %w", name, err)
		}
	}
	return nil
}

func newStack(dir string, opts StackOptions) (*Stack, error) {
	users := opts.Users
	if len(users) == 0 {
		users = []string{"desk"}
	}
	for _, u := range users {
		if !validUser.MatchString(u) {
			return nil, fmt.Errorf("user %q: want a lower-case local part of [a-z0-9._-]", u)
		}
	}
	for u, p := range opts.Passwords {
		if !slices.Contains(users, u) {
			return nil, fmt.Errorf("password for %q, who is not in Users", u)
		}
		if p == "" || strings.ContainsAny(p, ":\n\r") {
			return nil, fmt.Errorf("password for %q: must be non-empty without ':' or line breaks", u)
		}
	}
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	tok := make([]byte, 6)
	if _, err := rand.Read(tok); err != nil {
		return nil, fmt.Errorf("make stack token: %w", err)
	}
	s := &Stack{
		Dir:         dir,
		layout:      stackLayout{root: dir},
		token:       hex.EncodeToString(tok),
		users:       slices.Clone(users),
		passwords:   maps.Clone(opts.Passwords),
		relay:       maps.Clone(opts.Relay),
		postfixMain: slices.Clone(opts.PostfixMain),
		timeout:     timeout,
		clients:     make(map[string]*imapclient.Client),
	}
	if err := s.prepareDirs(); err != nil {
		return nil, err
	}
	return s, nil
}

// prepareDirs creates the directory tree with the owners the daemons need.
func (s *Stack) prepareDirs() error {
	l := s.layout
	mailUID, mailGID, err := mailOwner()
	if err != nil {
		return err
	}
	pf, err := user.Lookup("postfix")
	if err != nil {
		return fmt.Errorf("look up postfix user: %w", err)
	}
	pfUID, _ := strconv.Atoi(pf.Uid)
	for _, d := range []string{l.dovecotBase(), l.dovecotState(), l.mailRoot(), l.postfixConf(), l.postfixQueue(), l.postfixData()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create stack dir: %w", err)
		}
	}
	if err := os.Chown(l.mailRoot(), mailUID, mailGID); err != nil {
		return fmt.Errorf("chown mail root: %w", err)
	}
	if err := os.Chown(l.postfixData(), pfUID, -1); err != nil {
		return fmt.Errorf("chown postfix data dir: %w", err)
	}
	if err := makePostfixQueue(l.postfixQueue(), pfUID); err != nil {
		return err
	}
	// Test temp dirs are created 0700; the unprivileged mail and postfix
	// users must be able to traverse down to their directories.
	tmp := filepath.Clean(os.TempDir())
	for d := filepath.Clean(s.Dir); strings.HasPrefix(d, tmp+string(filepath.Separator)); d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("stat %s: %w", d, err)
		}
		if st.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, st.Mode().Perm()|0o011); err != nil {
				return fmt.Errorf("make %s traversable: %w", d, err)
			}
		}
	}
	if err := os.WriteFile(l.dovecotPasswd(), []byte(dovecotPasswd(s.users, s.Password)), 0o640); err != nil {
		return fmt.Errorf("write passwd file: %w", err)
	}
	dv, err := user.Lookup("dovecot")
	if err != nil {
		return fmt.Errorf("look up dovecot user: %w", err)
	}
	dvGID, _ := strconv.Atoi(dv.Gid)
	// The auth process runs as the dovecot user and reads the passwd file.
	if err := os.Chown(l.dovecotPasswd(), 0, dvGID); err != nil {
		return fmt.Errorf("chown passwd file: %w", err)
	}
	return nil
}

// postfixQueueDirs mirrors the $queue_directory entries of Debian's
// /etc/postfix/postfix-files, which `post-install create-missing` applies:
// name, owned by root (else by mail_owner), group setgid_group, mode.
var postfixQueueDirs = []struct {
	name        string
	root, pdgrp bool
	mode        os.FileMode
}{
	{"active", false, false, 0o700}, {"bounce", false, false, 0o700},
	{"corrupt", false, false, 0o700}, {"defer", false, false, 0o700},
	{"deferred", false, false, 0o700}, {"flush", false, false, 0o700},
	{"hold", false, false, 0o700}, {"incoming", false, false, 0o700},
	{"private", false, false, 0o700}, {"saved", false, false, 0o700},
	{"trace", false, false, 0o700},
	{"maildrop", false, true, 0o730}, {"public", false, true, 0o710},
	{"pid", true, false, 0o755},
}

// makePostfixQueue creates the queue directory tree with Postfix's owners
// and modes, as `postfix start` would on its first run.
func makePostfixQueue(queue string, postfixUID int) error {
	g, err := user.LookupGroup("postdrop")
	if err != nil {
		return fmt.Errorf("look up postdrop group: %w", err)
	}
	postdrop, _ := strconv.Atoi(g.Gid)
	for _, d := range postfixQueueDirs {
		p := filepath.Join(queue, d.name)
		if err := os.MkdirAll(p, d.mode); err != nil {
			return fmt.Errorf("create postfix queue: %w", err)
		}
		uid, gid := postfixUID, 0
		if d.root {
			uid = 0
		}
		if d.pdgrp {
			gid = postdrop
		}
		if err := os.Chown(p, uid, gid); err != nil {
			return fmt.Errorf("chown %s: %w", p, err)
		}
		if err := os.Chmod(p, d.mode); err != nil { // MkdirAll applies the umask
			return fmt.Errorf("chmod %s: %w", p, err)
		}
	}
	return nil
}

// mailOwner picks the system user that owns the maildirs: "mail" exists on
// every Debian system; Dovecot's own user is the fallback.
func mailOwner() (uid, gid int, err error) {
	for _, name := range []string{"mail", "dovecot"} {
		u, lerr := user.Lookup(name)
		if lerr != nil {
			err = lerr
			continue
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		return uid, gid, nil
	}
	return 0, 0, fmt.Errorf("no user to own maildirs: %w", err)
}

// startAttempts is how often a first start picks new ports after finding
// one taken by another process.
const startAttempts = 3

func (s *Stack) startDovecot(first bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dovecot != nil && !s.dovecot.exited() {
		return errors.New("start dovecot: already running")
	}
	var err error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		if first {
			ports, perr := freePorts(2)
			if perr != nil {
				return perr
			}
			s.imapPort, s.lmtpPort = ports[0], ports[1]
			s.IMAPAddr = "127.0.0.1:" + strconv.Itoa(s.imapPort)
			s.LMTPAddr = "127.0.0.1:" + strconv.Itoa(s.lmtpPort)
		}
		err = s.startDovecotOnce()
		if err == nil || !first || !isPortClash(err) {
			break
		}
	}
	return err
}

func (s *Stack) startDovecotOnce() error {
	l := s.layout
	mailUID, mailGID, err := mailOwner()
	if err != nil {
		return err
	}
	conf := dovecotConfig(l, s.token, s.imapPort, s.lmtpPort, mailUID, mailGID)
	if err := os.WriteFile(l.dovecotConf(), []byte(conf), 0o644); err != nil {
		return fmt.Errorf("write dovecot.conf: %w", err)
	}
	d, err := startDaemon("dovecot", l.dovecotStdio(), []string{l.dovecotLog()},
		"/usr/sbin/dovecot", "-F", "-c", l.dovecotConf())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	for _, addr := range []string{s.IMAPAddr, s.LMTPAddr} {
		if err := waitGreeting(ctx, d, addr, "mailtest-"+s.token); err != nil {
			d.kill()
			return fmt.Errorf("start dovecot: %w\n%s", err, d.logTail())
		}
	}
	s.dovecot = d
	if s.postfix != nil && !s.postfix.exited() {
		// Mail Postfix queued while Dovecot was down is delivered now rather than at
		// its next retry: a retry after a refused connection was seen to wait past
		// a minute on a loaded machine ("skipped, still being delivered").
		flush := exec.CommandContext(ctx, "/usr/sbin/postqueue", "-c", l.postfixConf(), "-f")
		flush.Run() // best effort: the queue runs on its own too
	}
	return nil
}

func (s *Stack) startPostfix(first bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.postfix != nil && !s.postfix.exited() {
		return errors.New("start postfix: already running")
	}
	var err error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		if first {
			ports, perr := freePorts(1)
			if perr != nil {
				return perr
			}
			s.smtpPort = ports[0]
			s.SMTPAddr = "127.0.0.1:" + strconv.Itoa(s.smtpPort)
		}
		err = s.startPostfixOnce()
		if err == nil || !first || !isPortClash(err) {
			break
		}
	}
	return err
}

func (s *Stack) startPostfixOnce() error {
	l := s.layout
	files := map[string]string{
		"main.cf":    postfixMain(l, s.token, s.lmtpPort) + postfixRelay(s.relay) + postfixExtra(s.postfixMain),
		"master.cf":  postfixMaster(s.smtpPort),
		"recipients": postfixRecipients(s.users),
	}
	// Postfix will not read a main.cf modified within the last second or two: it
	// waits in steps of 300 ms for the file to "cool down" (dict_load_file), which
	// was 1.5 s of every start. The files are complete when written, so they are
	// dated back.
	cooled := time.Now().Add(-time.Hour)
	for name, content := range files {
		p := filepath.Join(l.postfixConf(), name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return fmt.Errorf("write postfix %s: %w", name, err)
		}
		if err := os.Chtimes(p, cooled, cooled); err != nil {
			return fmt.Errorf("date back postfix %s: %w", name, err)
		}
	}
	// prepareDirs laid out the queue, so postfix-script's integrity checks
	// (dozens of shell processes: seconds on a busy CI machine) are skipped
	// with the quick-start marker, which postfix-script consumes.
	if err := os.WriteFile(filepath.Join(l.postfixQueue(), "quick-start"), nil, 0o644); err != nil {
		return fmt.Errorf("write postfix quick-start marker: %w", err)
	}
	// start-fg keeps the postfix command running until the master ends, so
	// the stack owns a process it can wait for.
	d, err := startDaemon("postfix", l.postfixStdio(), []string{l.postfixLog()},
		"/usr/sbin/postfix", "-c", l.postfixConf(), "start-fg")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	if err := waitGreeting(ctx, d, s.SMTPAddr, "mailtest-"+s.token); err != nil {
		s.postfixDown(d)
		return fmt.Errorf("start postfix: %w\n%s", err, d.logTail())
	}
	s.postfix = d
	return nil
}

// isPortClash reports whether a start failed because another process holds
// one of the ports.
func isPortClash(err error) bool {
	return errors.Is(err, errPortTaken) || strings.Contains(err.Error(), "Address already in use")
}

func (s *Stack) stopDovecot() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeClients()
	if s.dovecot == nil {
		return nil
	}
	d := s.dovecot
	s.dovecot = nil
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	// SIGTERM makes the master stop its children and exit; its pid is the
	// one in base_dir/master.pid since it runs in the foreground. Once its
	// children are gone but its log process, the master only sleeps a second
	// before it ends that one and exits (a second of every test's cleanup and
	// of every restart), so both are killed then: the processes that write
	// mail and indexes have ended.
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	pgid := d.cmd.Process.Pid
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
wait:
	for !d.exited() && !groupOthersGone(pgid, "log") {
		select {
		case <-ctx.Done():
			break wait // killed below
		case <-tick.C:
		}
	}
	d.kill()
	// Login and LMTP children share the listening sockets; end stragglers, and wait
	// until they are gone: a SIGKILLed process ends when it is next scheduled, or
	// when the disk write it is in (an LMTP delivery's fsync) returns, which on a
	// busy machine is not at once (TestStack saw one still running).
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	for !groupOthersGone(pgid) || !processGone(pgid) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("stop dovecot: processes of group %d still run", pgid)
		case <-tick.C:
		}
	}
	for _, addr := range []string{s.IMAPAddr, s.LMTPAddr} {
		if err := waitPortClosed(ctx, addr); err != nil {
			return fmt.Errorf("stop dovecot: %w", err)
		}
	}
	return nil
}

func (s *Stack) stopPostfix() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.postfix == nil {
		return nil
	}
	d := s.postfix
	s.postfix = nil
	s.postfixDown(d)
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	if err := waitPortClosed(ctx, s.SMTPAddr); err != nil {
		return fmt.Errorf("stop postfix: %w", err)
	}
	return nil
}

// postfixDown stops a Postfix started by startPostfixOnce. The master runs
// in its own session, so it is found through queue/pid/master.pid. It gets
// SIGTERM, which is what `postfix stop` sends, without that command's
// one-second polling loop; `postfix stop` remains the fallback.
func (s *Stack) postfixDown(d *daemon) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	masterPID := s.postfixMasterPID()
	if masterPID > 0 {
		_ = syscall.Kill(masterPID, syscall.SIGTERM)
	} else {
		stop := exec.CommandContext(ctx, "/usr/sbin/postfix", "-c", s.layout.postfixConf(), "stop")
		_ = stop.Run() // fails when the master never came up; handled below
	}
	if err := d.wait(ctx); err != nil {
		d.kill()
	}
	if masterPID > 0 {
		_ = syscall.Kill(-masterPID, syscall.SIGKILL) // stragglers of its group
		tick := time.NewTicker(pollInterval)
		defer tick.Stop()
		for !processGone(masterPID) {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}
}

// postfixMasterPID returns the running master's pid, or 0. A stale pid file
// whose pid now belongs to another program is ignored.
func (s *Stack) postfixMasterPID() int {
	b, err := os.ReadFile(filepath.Join(s.layout.postfixQueue(), "pid", "master.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || processGone(pid) {
		return 0
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || strings.TrimSpace(string(comm)) != "master" {
		return 0
	}
	return pid
}

// shutdown stops both daemons; it runs in t.Cleanup.
func (s *Stack) shutdown() error {
	return errors.Join(s.stopPostfix(), s.stopDovecot())
}

func (s *Stack) deliver(raw []byte, from, to, helo string) error {
	c, err := smtp.Dial(s.SMTPAddr)
	if err != nil {
		return fmt.Errorf("dial smtp: %w", err)
	}
	defer c.Close()
	if err := c.Hello(helo); err != nil {
		return fmt.Errorf("ehlo: %w", err)
	}
	if err := c.SendMail(from, []string{to}, bytes.NewReader(raw)); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("quit: %w", err)
	}
	return nil
}

// dialIMAP opens a logged-in IMAP connection for user.
func (s *Stack) dialIMAP(user string) (*imapclient.Client, error) {
	c, err := imapclient.DialInsecure(s.IMAPAddr, nil)
	if err != nil {
		return nil, fmt.Errorf("dial imap: %w", err)
	}
	if err := c.Login(user, s.Password(user)).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("login %q: %w", user, err)
	}
	return c, nil
}

func (s *Stack) waitMessages(ctx context.Context, user, mailbox string, n int) ([][]byte, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var (
		c    *imapclient.Client
		last error
	)
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for {
		if c == nil {
			c, last = s.dialIMAP(user)
		}
		if c != nil {
			st, err := c.Status(mailbox, &imap.StatusOptions{NumMessages: true}).Wait()
			switch {
			case err != nil:
				last = err
				var imapErr *imap.Error
				if !errors.As(err, &imapErr) { // connection trouble: redial
					c.Close()
					c = nil
				}
			case st.NumMessages != nil && int(*st.NumMessages) >= n:
				return fetchAll(c, mailbox)
			default:
				last = fmt.Errorf("have %d", *st.NumMessages)
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// fetchAll returns the raw bytes of every message in mailbox in UID order.
func fetchAll(c *imapclient.Client, mailbox string) ([][]byte, error) {
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("select %q: %w", mailbox, err)
	}
	if sel.NumMessages == 0 {
		return nil, nil
	}
	section := &imap.FetchItemBodySection{Peek: true}
	bufs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, // 1:*
		&imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return nil, fmt.Errorf("fetch %q: %w", mailbox, err)
	}
	slices.SortFunc(bufs, func(a, b *imapclient.FetchMessageBuffer) int { return int(a.UID) - int(b.UID) })
	out := make([][]byte, 0, len(bufs))
	for _, b := range bufs {
		out = append(out, b.FindBodySection(section))
	}
	return out, nil
}

func (s *Stack) appendRaw(user, mailbox string, raw []byte, flags []imap.Flag) (uint32, error) {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	var lastErr error
	// One retry: a cached connection may have died with a Dovecot restart.
	for range 2 {
		c := s.clients[user]
		if c == nil {
			var err error
			if c, err = s.dialIMAP(user); err != nil {
				return 0, err
			}
			s.clients[user] = c
		}
		uid, err := appendOnce(c, mailbox, raw, flags)
		if err == nil {
			return uid, nil
		}
		lastErr = err
		var imapErr *imap.Error
		if errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeTryCreate {
			if cerr := c.Create(mailbox, nil).Wait(); cerr != nil {
				return 0, fmt.Errorf("create %q: %w", mailbox, cerr)
			}
			continue
		}
		if errors.As(err, &imapErr) {
			return 0, err
		}
		c.Close()
		delete(s.clients, user)
	}
	return 0, lastErr
}

func appendOnce(c *imapclient.Client, mailbox string, raw []byte, flags []imap.Flag) (uint32, error) {
	cmd := c.Append(mailbox, int64(len(raw)), &imap.AppendOptions{Flags: flags})
	if _, err := cmd.Write(raw); err != nil {
		cmd.Close()
		return 0, fmt.Errorf("write literal: %w", err)
	}
	if err := cmd.Close(); err != nil {
		return 0, fmt.Errorf("close literal: %w", err)
	}
	data, err := cmd.Wait()
	if err != nil {
		return 0, err
	}
	return uint32(data.UID), nil
}

// closeClients drops the cached APPEND connections.
func (s *Stack) closeClients() {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	for u, c := range s.clients {
		c.Close()
		delete(s.clients, u)
	}
}

func (s *Stack) uidValidity(user, mailbox string) (uint32, error) {
	c, err := s.dialIMAP(user)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	st, err := c.Status(mailbox, &imap.StatusOptions{UIDValidity: true}).Wait()
	if err != nil {
		return 0, fmt.Errorf("status %q: %w", mailbox, err)
	}
	return st.UIDValidity, nil
}

func (s *Stack) changeUIDValidity(user, mailbox string) (before, after uint32, err error) {
	before, err = s.uidValidity(user, mailbox)
	if err != nil {
		return 0, 0, err
	}
	if err := s.stopDovecot(); err != nil {
		return 0, 0, err
	}
	// The folder's UID list and indexes hold the UIDVALIDITY; the mailbox
	// list index in the Maildir root caches it too. The messages (cur/, new/)
	// stay. Dovecot picks a fresh value from Maildir/dovecot-uidvalidity,
	// which only grows, so the new value cannot equal the old.
	root := s.layout.maildir(user, "INBOX")
	folder := s.layout.maildir(user, mailbox)
	var victims []string
	for _, pattern := range []string{
		filepath.Join(folder, "dovecot-uidlist"),
		filepath.Join(folder, "dovecot.index*"),
		filepath.Join(root, "dovecot.list.index*"),
	} {
		m, _ := filepath.Glob(pattern) // patterns are well-formed
		victims = append(victims, m...)
	}
	for _, v := range victims {
		if err := os.Remove(v); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, 0, fmt.Errorf("remove %s: %w", v, err)
		}
	}
	if err := s.startDovecot(false); err != nil {
		return 0, 0, err
	}
	after, err = s.uidValidity(user, mailbox)
	if err != nil {
		return 0, 0, err
	}
	if after == before {
		return before, after, fmt.Errorf("uidvalidity still %d after removing %d index files", after, len(victims))
	}
	return before, after, nil
}

// ServerPIDs returns the process ids of the running Dovecot and Postfix masters (0
// for one that is down): their process trees are the servers, for a benchmark that
// accounts the CPU each side spends.
func (s *Stack) ServerPIDs() (dovecot, postfix int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dovecot != nil {
		dovecot = s.dovecot.cmd.Process.Pid
	}
	if s.postfix != nil {
		postfix = s.postfixMasterPID()
	}
	return dovecot, postfix
}
