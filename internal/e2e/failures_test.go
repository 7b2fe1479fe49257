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

// A wrong IMAP password on the real Dovecot: the daemon says so in /healthz (503, a
// reason naming the refused login and the next attempt) and at ERROR, and does not
// knock again at the reconnect pace: over 15 s Dovecot sees one refused login, where
// the reconnect loop (1 s, doubling) knocked every 7 s or so on this stack, Dovecot's
// own delay of a refusal included — a lockout risk on a real mail server.
func TestWrongIMAPPasswordBacksOffHard(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk"}})
	d := newDaemon(t, st, deskOptions{})
	cfg, err := os.ReadFile(d.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(string(cfg), "password: "+st.Password("desk"), "password: not-the-password", 1)
	if wrong == string(cfg) {
		t.Fatal("no IMAP password line to replace")
	}
	if err := os.WriteFile(d.cfgPath, []byte(wrong), 0o600); err != nil {
		t.Fatal(err)
	}
	refusals := func() int { return strings.Count(st.DovecotLog(), "auth failed") }
	before := refusals()
	d.start()
	d.waitUp()

	var h struct {
		OK      bool     `json:"ok"`
		IMAP    string   `json:"imap"`
		Reasons []string `json:"reasons"`
	}
	waitFor(t, 60*time.Second, "/healthz to name the refused login", func() (bool, string) {
		resp, err := http.Get("http://" + d.httpAddr + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		h.Reasons = nil
		json.NewDecoder(resp.Body).Decode(&h)
		for _, r := range h.Reasons {
			if strings.HasPrefix(r, "imap: login refused") && strings.Contains(r, "next attempt at") {
				return resp.StatusCode == http.StatusServiceUnavailable && !h.OK, ""
			}
		}
		return false, strings.Join(h.Reasons, "; ")
	})
	// Dovecot logs a refusal when the client has gone; the reason may come first.
	waitFor(t, 10*time.Second, "Dovecot to log the refused login", func() (bool, string) {
		n := refusals() - before
		return n >= 1, fmt.Sprint(n)
	})
	// Watch for 5 s: no second knock. At the reconnect pace (1 s, then 1-2 s, then
	// 2-4 s) two more would come within 5 s; the hard backoff waits minutes.
	end := time.Now().Add(5 * time.Second)
	for time.Now().Before(end) {
		if n := refusals() - before; n > 1 {
			t.Fatalf("%d refused logins within 5 s: the wrong password is retried at the reconnect pace\n%s", n, st.Logs())
		}
		time.Sleep(250 * time.Millisecond)
	}
	if n := refusals() - before; n != 1 {
		t.Errorf("%d refused logins, want 1", n)
	}
	log, _ := os.ReadFile(d.logPath)
	if !strings.Contains(string(log), `level=ERROR msg="imap login refused"`) {
		t.Errorf("no ERROR record of the refused login in the daemon log")
	}
	if v := d.metric(`complaintd_auth_failures_total{service="imap"}`); v != 1 {
		t.Errorf("complaintd_auth_failures_total{service=\"imap\"} = %v, want 1", v)
	}
	if v := d.metric("complaintd_imap_up"); v != 0 {
		t.Errorf("complaintd_imap_up = %v during a refused login", v)
	}
	if strings.Contains(strings.Join(h.Reasons, "\n"), "not-the-password") {
		t.Error("the password is in /healthz")
	}
}
