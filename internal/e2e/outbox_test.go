// SPDX-License-Identifier: MIT

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
)

// healthz reads /healthz: its ok flag and its smtp field ("" when the daemon does
// not answer).
func (d *daemon) healthz() (ok bool, smtp string) {
	resp, err := http.Get("http://" + d.httpAddr + "/healthz")
	if err != nil {
		return false, ""
	}
	defer resp.Body.Close()
	var h struct {
		OK   bool   `json:"ok"`
		SMTP string `json:"smtp"`
	}
	if json.NewDecoder(resp.Body).Decode(&h) != nil {
		return false, ""
	}
	if h.OK != (resp.StatusCode == http.StatusOK) {
		return false, "status " + resp.Status + " disagrees with ok"
	}
	return h.OK, h.SMTP
}

// setConfig replaces old by new in the daemon's config file.
func (d *daemon) setConfig(old, new string) {
	d.t.Helper()
	b, err := os.ReadFile(d.cfgPath)
	if err != nil {
		d.t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		d.t.Fatalf("config has no %q", old)
	}
	if err := os.WriteFile(d.cfgPath, []byte(strings.Replace(string(b), old, new, 1)), 0o600); err != nil {
		d.t.Fatal(err)
	}
}

// acksOnce fails unless user's INBOX holds exactly n replies, one per case, each with
// its own Message-ID.
func acksOnce(t *testing.T, st *mailtest.Stack, user string, n int) {
	t.Helper()
	replies := st.WaitMessages(t, user, "INBOX", n, 0)
	cases, ids := map[string]int{}, map[string]int{}
	for _, raw := range replies {
		m := parseMail(t, raw)
		tag := tagRe.FindStringSubmatch(decodedSubject(m.Header.Get("Subject")))
		if tag == nil {
			t.Errorf("reply without a case tag: %q", m.Header.Get("Subject"))
			continue
		}
		cases[tag[1]]++
		ids[m.Header.Get("Message-ID")]++
	}
	if len(replies) != n || len(cases) != n || len(ids) != n {
		t.Errorf("%d replies naming %d cases with %d Message-IDs, want %d of each (nothing twice)", len(replies), len(cases), len(ids), n)
	}
}

// Postfix is down while acknowledgements are due (issue 17): /healthz says so (its
// SMTP check speaks SMTP), and once Postfix is back every acknowledgement arrives,
// once, within seconds — although retry_max is an hour and the injected clock never
// moves, so no reply's own backoff ever expires: only the recovery sends them.
func TestOutboxRecoversAtOnceOnRealStack(t *testing.T) {
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor"}})
	const n = 30
	for i := range n {
		st.AppendRaw(t, "desk", "INBOX", complaint("某某 <alice@people.test>", numbered("outage", i)+"@people.test",
			fmt.Sprintf("申请人%d申请删除凤凰资讯稿件", i), "删除原因：不实。", nil))
	}
	st.StopPostfix(t)
	d := newDaemon(t, st, deskOptions{})
	d.setConfig("retry_min: 200ms", "retry_min: 1h")
	d.setConfig("retry_max: 2s", "retry_max: 1h")
	d.driveClock("2026-12-07T10:00:00+08:00") // and it stays there
	d.start()
	d.waitUp()
	waitFor(t, 120*time.Second, "the backlog processed while Postfix is down", func() (bool, string) {
		v := d.metric("complaintd_mails_processed_total")
		return v == n, fmt.Sprint(v)
	})
	waitFor(t, 30*time.Second, "/healthz to report the SMTP outage", func() (bool, string) {
		ok, smtp := d.healthz()
		return !ok && smtp == "unreachable", fmt.Sprintf("ok=%v smtp=%q", ok, smtp)
	})
	if depth := d.metric("complaintd_outbox_depth"); depth < n {
		t.Fatalf("outbox depth %v during the outage, want at least %d acknowledgements waiting", depth, n)
	}
	// The worker probes a failing relay instead of charging queued replies: a few
	// attempts (those in flight when it failed), not one per reply.
	failed := d.metric("complaintd_replies_failed_total")
	if failed < 1 || failed > 10 {
		t.Errorf("%v failed attempts during the outage, want 1..10 (4 sessions, then probes only)", failed)
	}

	st.StartPostfix(t)
	up := time.Now()
	st.WaitMessages(t, "alice", "INBOX", n, 60*time.Second)
	took := time.Since(up)
	t.Logf("%d acknowledgements delivered %v after Postfix came back (%v failed attempts during the outage)", n, took.Round(100*time.Millisecond), failed)
	// The probe runs every 5 s at most; delivery through Postfix and Dovecot adds a
	// few seconds on a loaded machine. A reply's own backoff would be an hour.
	if took > 45*time.Second {
		t.Errorf("acknowledgements arrived %v after recovery, want well within 45s", took)
	}
	waitFor(t, 30*time.Second, "the outbox to drain", func() (bool, string) {
		v := d.metric("complaintd_outbox_depth")
		return v == 0, fmt.Sprint(v)
	})
	waitFor(t, 30*time.Second, "/healthz ok again", func() (bool, string) {
		ok, smtp := d.healthz()
		return ok && smtp == "reachable", fmt.Sprintf("ok=%v smtp=%q", ok, smtp)
	})
	d.stop()
	acksOnce(t, st, "alice", n)
}

// A burst of 100 complaints (issue 17: 298 SMTP connections for 293 replies): every
// acknowledgement arrives once, over a handful of SMTP sessions. The complaints go
// straight into Dovecot, so every session Postfix logs is the daemon's: those that
// carried mail, and the greeting probes of /metrics' smtp_up.
func TestOutboxBurstReusesConnectionsOnRealStack(t *testing.T) {
	if testing.Short() {
		t.Skip("long test")
	}
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor"}})
	const n = 100
	for i := range n {
		st.AppendRaw(t, "desk", "INBOX", complaint("某某 <alice@people.test>", numbered("burst", i)+"@people.test",
			fmt.Sprintf("申请人%d申请删除凤凰资讯稿件", i), "删除原因：不实。", nil))
	}
	_, _, before := st.SMTPSessions(t)
	d := newDaemon(t, st, deskOptions{})
	begin := time.Now()
	d.start()
	st.WaitMessages(t, "alice", "INBOX", n, 180*time.Second)
	t.Logf("%d acknowledgements delivered %v after the start", n, time.Since(begin).Round(100*time.Millisecond))
	waitFor(t, 30*time.Second, "the outbox to drain", func() (bool, string) {
		v := d.metric("complaintd_outbox_depth")
		return v == 0, fmt.Sprint(v)
	})
	sent := d.metric("complaintd_replies_sent_total")
	d.stop() // the kept sessions are QUIT: Postfix logs how many mails each carried
	var connected, conns int
	waitFor(t, 30*time.Second, "Postfix to log the end of every session", func() (bool, string) {
		c, ended, withMail := st.SMTPSessions(t)
		connected, conns = c, withMail-before
		return ended == c, fmt.Sprintf("%d connected, %d ended", c, ended)
	})
	t.Logf("%v replies sent over %d SMTP sessions (smtp.sessions 4); %d connections in all, with the greeting probes", sent, conns, connected)
	if sent < n {
		t.Errorf("replies_sent_total %v, want at least %d", sent, n)
	}
	if conns < 1 || conns > n/10 {
		t.Errorf("%d SMTP connections for %v replies, want 1..%d", conns, sent, n/10)
	}
	acksOnce(t, st, "alice", n)
}
