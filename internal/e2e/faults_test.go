package e2e

// Faults are never the mail's fault (issue 17): a full disk, an IMAP link that drops,
// and the quarantine as a waiting room, on the real Dovecot + Postfix.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/internal/store"
)

// healthz is what the tests read of /healthz.
type healthz struct {
	OK                bool     `json:"ok"`
	IMAP              string   `json:"imap"`
	Quarantined       int      `json:"quarantined"`
	QuarantineReasons []string `json:"quarantine_reasons"`
	IntakePaused      string   `json:"intake_paused"`
}

func (d *daemon) health() (healthz, error) {
	var h healthz
	resp, err := http.Get("http://" + d.httpAddr + "/healthz")
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	return h, json.NewDecoder(resp.Body).Decode(&h)
}

// quarantineRow is a line of `complaintd quarantine list -json`.
type quarantineRow struct {
	ID     string `json:"id"`
	Fault  string `json:"fault"`
	Reason string `json:"reason"`
	Moved  bool   `json:"moved"`
	Folder string `json:"folder"`
}

func (d *daemon) quarantineList() ([]quarantineRow, error) {
	out, err := d.tryCLI("quarantine", "list", "-json")
	if err != nil {
		return nil, err
	}
	var rows []quarantineRow
	err = json.Unmarshal(out, &rows)
	return rows, err
}

// caseCount counts the cases through the CLI (the daemon's control socket).
func (d *daemon) caseCount() (int, error) {
	out, err := d.tryCLI("cases", "list", "-json")
	if err != nil {
		return 0, err
	}
	var cs []json.RawMessage
	err = json.Unmarshal(out, &cs)
	return len(cs), err
}

// waitCases waits until the daemon holds n cases with nothing in quarantine and
// nothing left to send.
func (d *daemon) waitCases(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, fmt.Sprintf("%d cases, quarantine empty, outbox drained", n), func() (bool, string) {
		c, err := d.caseCount()
		if err != nil {
			return false, err.Error()
		}
		q, err := d.quarantineList()
		if err != nil {
			return false, err.Error()
		}
		depth := d.metric("complaintd_outbox_depth")
		return c == n && len(q) == 0 && depth == 0, fmt.Sprintf("%d cases, %d quarantined %v, outbox %v", c, len(q), q, depth)
	})
}

// oneAcknowledgementEach checks the complainant's mailbox: n replies naming n cases,
// one each.
func oneAcknowledgementEach(t *testing.T, st *mailtest.Stack, user string, n int) {
	t.Helper()
	replies := st.WaitMessages(t, user, "INBOX", n, 90*time.Second)
	perCase := map[string]int{}
	for _, raw := range replies {
		m := parseMail(t, raw)
		tag := tagRe.FindStringSubmatch(decodedSubject(m.Header.Get("Subject")))
		if tag == nil {
			t.Errorf("reply without case tag: %q", m.Header.Get("Subject"))
			continue
		}
		perCase[tag[1]]++
	}
	if len(perCase) != n || len(replies) != n {
		t.Errorf("%d replies naming %d cases, want %d and %d", len(replies), len(perCase), n, n)
	}
	for c, k := range perCase {
		if k != 1 {
			t.Errorf("case %s: %d acknowledgements, want 1", c, k)
		}
	}
}

func backlog(t *testing.T, st *mailtest.Stack, prefix string, n int) {
	t.Helper()
	for i := range n {
		st.AppendRaw(t, "desk", "INBOX", complaint(fmt.Sprintf("申请人%d <alice@people.test>", i), numbered(prefix, i)+"@people.test",
			fmt.Sprintf("申请人%d申请删除凤凰资讯稿件", i), "申请人姓名：某某\n文章标题：某文\n删除原因：不实。",
			map[string]string{"删帖申请表.pdf": fmt.Sprintf("%%PDF form %d %s", i, strings.Repeat("x", 64<<10))}))
	}
}

// A full disk under the store (the test hook: every store write fails with ENOSPC)
// pauses intake, says so in /healthz, quarantines nothing however long it lasts, and
// once space is back every complaint becomes a case with one acknowledgement.
func TestDiskFullQuarantinesNoGoodMail(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
	d := newDaemon(t, st, deskOptions{})
	full := filepath.Join(t.TempDir(), "full")
	d.env = append(d.env, "COMPLAINTD_TEST_STORE_FULL="+full)
	d.start()
	d.waitUp()
	if err := os.WriteFile(full, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	const n = 20
	backlog(t, st, "full", n)
	waitFor(t, 60*time.Second, "/healthz to say intake is paused", func() (bool, string) {
		h, err := d.health()
		return err == nil && h.IntakePaused != "" && !h.OK, fmt.Sprintf("%+v %v", h, err)
	})
	// Well beyond imap.max_attempts (3) refused commits: each used to count.
	// Each attempt logs the refusal once ("imap session ended"), the pause once more.
	// Three attempts are the first and two retries; the retries back off (1 s, 1-2 s,
	// 2-4 s, 4-8 s), so each further one would cost the test seconds more.
	waitFor(t, 60*time.Second, "the daemon to try again and again", func() (bool, string) {
		log, _ := os.ReadFile(d.logPath)
		k := strings.Count(string(log), "no space left on device")
		return k >= 4, fmt.Sprint(k, " refusals logged")
	})
	if q, err := d.quarantineList(); err != nil || len(q) != 0 {
		t.Fatalf("quarantine on a full disk: %+v %v, want empty", q, err)
	}
	if err := os.Remove(full); err != nil {
		t.Fatal(err)
	}
	d.waitCases(t, n, 3*time.Minute)
	oneAcknowledgementEach(t, st, "alice", n)
	waitFor(t, 30*time.Second, "/healthz ok again", func() (bool, string) {
		h, err := d.health()
		return err == nil && h.OK && h.IntakePaused == "", fmt.Sprintf("%+v %v", h, err)
	})
	if v := d.metric("complaintd_mail_failures_total"); v != 0 {
		t.Errorf("failures counted = %v, want 0", v)
	}
}

// A real full disk: the data directory on a small tmpfs filled to the last byte
// (store, vault and the attempt file all on it). Needs root for the mount.
func TestDiskFullOnTmpfs(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root (CI runs as root); TestDiskFullQuarantinesNoGoodMail covers the injected fault")
	}
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() }) // after the daemon stopped (cleanups run last first)
	d := newDaemon(t, st, deskOptions{dataDir: dir})
	d.start()
	d.waitUp()
	waitFor(t, 30*time.Second, "the daemon's first pass", func() (bool, string) {
		h, err := d.health()
		return err == nil && h.IMAP == "up", fmt.Sprintf("%+v %v", h, err)
	})
	filler := filepath.Join(dir, "filler")
	fillDisk(t, filler)
	const n = 15
	backlog(t, st, "tmpfs", n)
	waitFor(t, 60*time.Second, "intake paused on the full tmpfs", func() (bool, string) {
		h, err := d.health()
		return err == nil && h.IntakePaused != "", fmt.Sprintf("%+v %v", h, err)
	})
	// Each attempt logs the refusal once ("imap session ended"), the pause once more.
	// Three attempts are the first and two retries; the retries back off (1 s, 1-2 s,
	// 2-4 s, 4-8 s), so each further one would cost the test seconds more.
	waitFor(t, 60*time.Second, "the daemon to try again and again", func() (bool, string) {
		log, _ := os.ReadFile(d.logPath)
		k := strings.Count(string(log), "no space left on device")
		return k >= 4, fmt.Sprint(k, " refusals logged")
	})
	select {
	case <-d.exited:
		t.Fatal("the daemon died on the full disk")
	default:
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	d.waitCases(t, n, 3*time.Minute)
	oneAcknowledgementEach(t, st, "alice", n)
	if v := d.metric("complaintd_mail_failures_total"); v != 0 {
		t.Errorf("failures counted = %v, want 0", v)
	}
}

// fillDisk writes path until the file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			t.Fatal(err)
		}
	}
	// Smaller writes take the last partial blocks too.
	for _, size := range []int{4096, 512, 1} {
		for {
			if _, err := f.Write(buf[:size]); err != nil {
				break
			}
		}
	}
}

// linkProxy stands between the daemon and Dovecot and cuts the link at will.
type linkProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	conns   map[net.Conn]bool
	down    bool
	cuts    int
	refused int // connections turned away while down
}

func startLinkProxy(t *testing.T, target string) *linkProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &linkProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *linkProxy) serve(c net.Conn) {
	p.mu.Lock()
	down := p.down
	p.mu.Unlock()
	if down {
		p.mu.Lock()
		p.refused++
		p.mu.Unlock()
		c.Close()
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// cut closes every connection through the proxy.
func (p *linkProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.conns) > 0 {
		p.cuts++
	}
	for c := range p.conns {
		c.Close()
	}
}

func (p *linkProxy) setDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
	if down {
		p.cut()
	}
}

func (p *linkProxy) refusedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

func (p *linkProxy) cutCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}

// An IMAP link that drops again and again while mail arrives and is read (a cut at a
// random moment after each delivery, and once an outage that turns away two
// reconnects): nothing is quarantined, nothing lost, one acknowledgement each.
func TestFlappingIMAPLinkLosesNothing(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
	proxy := startLinkProxy(t, st.IMAPAddr)
	d := newDaemon(t, st, deskOptions{imapAddr: proxy.ln.Addr().String()})
	d.start()
	d.waitUp()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 17))
	const rounds, per = 10, 6
	for r := range rounds {
		connects := d.metric("complaintd_imap_connects_total")
		waitFor(t, 60*time.Second, "an IMAP session through the proxy", func() (bool, string) {
			h, err := d.health()
			return err == nil && h.IMAP == "up", fmt.Sprintf("%+v %v", h, err)
		})
		for i := range per {
			n := r*per + i
			st.AppendRaw(t, "desk", "INBOX", complaint(fmt.Sprintf("申请人%d <alice@people.test>", n), numbered("flap", n)+"@people.test",
				fmt.Sprintf("申请人%d申请删除凤凰资讯稿件", n), "申请人姓名：某某\n文章标题：某文\n删除原因：不实。",
				map[string]string{"删帖申请表.pdf": fmt.Sprintf("%%PDF form %d %s", n, strings.Repeat("x", 256<<10))}))
		}
		time.Sleep(time.Duration(rng.Int64N(int64(300 * time.Millisecond)))) // a random moment of the reading, by design
		if r == rounds/2 {
			// An outage: the link is gone until the daemon has been turned away
			// twice (its reconnects back off: 1 s, then 1-2 s).
			refused := proxy.refusedCount()
			proxy.setDown(true)
			waitFor(t, 60*time.Second, "two reconnects turned away", func() (bool, string) {
				n := proxy.refusedCount() - refused
				return n >= 2, fmt.Sprint(n)
			})
			proxy.setDown(false)
		} else {
			proxy.cut()
		}
		waitFor(t, 60*time.Second, "a reconnect", func() (bool, string) {
			v := d.metric("complaintd_imap_connects_total")
			return v > connects, fmt.Sprint(v)
		})
	}
	d.waitCases(t, rounds*per, 3*time.Minute)
	oneAcknowledgementEach(t, st, "alice", rounds*per)
	if proxy.cutCount() < rounds/2 {
		t.Errorf("the link was cut %d times: the test exercised nothing", proxy.cutCount())
	}
	if v := d.metric("complaintd_mail_failures_total"); v != 0 {
		t.Errorf("failures counted = %v, want 0", v)
	}
	t.Logf("%d cuts of the IMAP link", proxy.cutCount())
}

// A mail quarantined for its own fault (over imap.limits.max_message_bytes) is listed
// with its reason, keeps /healthz not ok, and after the limit is raised `complaintd
// quarantine retry ID` takes it back from the quarantine folder: one case, one
// acknowledgement, the folder and the quarantine empty.
func TestQuarantineRetryThroughCLI(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
	d := newDaemon(t, st, deskOptions{extraIMAP: "  limits:\n    max_message_bytes: 32768"})
	d.start()
	d.waitUp()
	st.AppendRaw(t, "desk", "INBOX", complaint("王五 <alice@people.test>", "too-big@people.test", "王五申请删除凤凰资讯稿件",
		"申请人姓名：王五\n文章标题：某文\n删除原因：不实。", map[string]string{"删帖申请表.pdf": "%PDF " + strings.Repeat("y", 64<<10)}))
	var q []quarantineRow
	waitFor(t, 60*time.Second, "the oversized mail quarantined and moved", func() (bool, string) {
		var err error
		q, err = d.quarantineList()
		return err == nil && len(q) == 1 && q[0].Moved, fmt.Sprintf("%+v %v", q, err)
	})
	if q[0].Fault != "mail" || !strings.Contains(q[0].Reason, "MaxMessageBytes") || q[0].Folder != "Quarantine" {
		t.Errorf("quarantine record %+v: the mail's fault, its reason, the folder", q[0])
	}
	h, err := d.health()
	if err != nil || h.OK || h.Quarantined != 1 || len(h.QuarantineReasons) != 1 || !strings.HasPrefix(h.QuarantineReasons[0], "mail: ") {
		t.Errorf("/healthz with a mail in quarantine: %+v %v, want not ok, the count and the reason", h, err)
	}
	if text, err := d.tryCLI("quarantine", "list"); err != nil || !strings.Contains(string(text), q[0].ID) {
		t.Errorf("quarantine list: %s %v", text, err)
	}
	// The operator raises the limit and restarts, then asks for the mail again.
	d.stop()
	cfg, err := os.ReadFile(d.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.cfgPath, []byte(strings.Replace(string(cfg), "max_message_bytes: 32768", "max_message_bytes: 10485760", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	d.start()
	d.waitUp()
	waitFor(t, 30*time.Second, "the control socket", func() (bool, string) {
		_, err := d.tryCLI("quarantine", "list")
		return err == nil, fmt.Sprint(err)
	})
	out := d.cli("quarantine", "retry", q[0].ID)
	if !strings.Contains(string(out), "retry requested for 1") {
		t.Errorf("quarantine retry: %s", out)
	}
	d.waitCases(t, 1, 2*time.Minute)
	oneAcknowledgementEach(t, st, "alice", 1)
	if got := len(st.WaitMessages(t, "desk", "Quarantine", 0, time.Second)); got != 0 {
		t.Errorf("the quarantine folder holds %d mails, want 0", got)
	}
	if out, err := d.tryCLI("quarantine", "retry", q[0].ID); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("a second retry of the released mail: %s %v, want not found", out, err)
	}
}

// Order does not matter: a follow-up delivered and processed before the mail it
// answers opens the case; the original joins it when it comes: one case with both
// mails' documents, a linked event, one acknowledgement in the complainant's mailbox.
func TestFollowUpBeforeOriginalOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
	d := newDaemon(t, st, deskOptions{})
	d.start()
	d.waitUp()
	followUp := complaint("王五 <alice@people.test>", "late-followup@people.test", "Re: 王五申请删除凤凰资讯稿件",
		"补充材料：身份证复印件见附件。", map[string]string{"身份证复印件.jpg": "JPEG id card"})
	followUp = bytes.Replace(followUp, []byte("MIME-Version"), []byte("In-Reply-To: <late-original@people.test>\r\nReferences: <late-original@people.test>\r\nMIME-Version"), 1)
	st.AppendRaw(t, "desk", "INBOX", followUp)
	waitFor(t, 60*time.Second, "the follow-up registered", func() (bool, string) {
		c, err := d.caseCount()
		return err == nil && c == 1, fmt.Sprint(c, err)
	})
	st.AppendRaw(t, "desk", "INBOX", complaint("王五 <alice@people.test>", "late-original@people.test", "王五申请删除凤凰资讯稿件",
		"申请人姓名：王五\n文章标题：某文\n文章链接：https://news.ifeng.com/c/abc\n删除原因：不实。", map[string]string{"删帖申请表.pdf": "%PDF form"}))
	waitFor(t, 60*time.Second, "the original processed", func() (bool, string) {
		v := d.metric("complaintd_mails_processed_total")
		return v == 2 && d.metric("complaintd_outbox_depth") == 0, fmt.Sprint(v)
	})
	if c, err := d.caseCount(); err != nil || c != 1 {
		t.Fatalf("cases = %d %v, want 1: the original opened a case of its own", c, err)
	}
	d.stop()
	f := readFacts(t, d)
	c := f.cases[0]
	var docs []string
	for _, doc := range c.Documents {
		docs = append(docs, doc.Filename)
	}
	if len(docs) != 2 {
		t.Errorf("documents %v, want both mails'", docs)
	}
	linked := 0
	for _, e := range c.Events {
		if e.Type == "linked" {
			linked++
		}
	}
	if linked != 2 {
		t.Errorf("%d linked events, want the link and the join", linked)
	}
	acks := 0
	for _, e := range f.outbox {
		if e.Kind == "acknowledgement" {
			acks++
		}
	}
	if acks != 1 {
		t.Errorf("%d acknowledgements queued, want 1", acks)
	}
	replies := st.WaitMessages(t, "alice", "INBOX", len(f.outbox), 60*time.Second)
	for _, raw := range replies {
		m := parseMail(t, raw)
		if tag := tagRe.FindStringSubmatch(decodedSubject(m.Header.Get("Subject"))); tag == nil || tag[1] != c.ID {
			t.Errorf("a reply names %q, want %s", m.Header.Get("Subject"), c.ID)
		}
	}
}

// The upgrade after issue 17's full disk: an earlier version quarantined good mail for
// the store's fault (no fault recorded, the error in the reason) and moved it to the
// quarantine folder. The new daemon takes it back by itself at start: each becomes a
// case with one acknowledgement, and the folder and the quarantine end empty.
func TestEnvironmentQuarantineTakenBackAfterUpgrade(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
	d := newDaemon(t, st, deskOptions{})
	d.start() // makes the store
	d.waitUp()
	d.stop()
	const n = 3
	var uids []uint32
	for i := range n {
		uids = append(uids, st.AppendRaw(t, "desk", "Quarantine", complaint(fmt.Sprintf("申请人%d <alice@people.test>", i),
			numbered("upgrade", i)+"@people.test", fmt.Sprintf("申请人%d申请删除凤凰资讯稿件", i), "申请人姓名：某某\n删除原因：不实。", nil)))
	}
	folderValidity := st.UIDValidity(t, "desk", "Quarantine")
	s, err := store.Open(d.dataDir+"/complaintd.db", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(func(tx *store.Tx) error {
		for i, uid := range uids {
			q := store.Quarantined{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(100 + i), MessageID: numbered("upgrade", i) + "@people.test",
				Reason: "commit: write /var/lib/complaintd/complaintd.db: no space left on device", Attempts: 3, At: time.Now(), Moved: true}
			if i > 0 { // the first only by its Message-ID: what the earlier version recorded
				q.Folder, q.FolderValidity, q.FolderUID = "Quarantine", folderValidity, uid
			}
			if err := tx.PutQuarantined(q); err != nil {
				return err
			}
		}
		return nil
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	d.start()
	d.waitUp()
	d.waitCases(t, n, 2*time.Minute)
	oneAcknowledgementEach(t, st, "alice", n)
	if got := len(st.WaitMessages(t, "desk", "Quarantine", 0, time.Second)); got != 0 {
		t.Errorf("the quarantine folder holds %d mails, want 0", got)
	}
}
