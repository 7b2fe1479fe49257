package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/store"
)

func post(t *testing.T, d *desk, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	d.controlHandler().ServeHTTP(rec, httptest.NewRequest("POST", path, nil))
	return rec.Code, rec.Body.String()
}

// /healthz says why it is not ok, one reason per problem, without personal data; an
// alert keeps it not ok until it is acknowledged over the control socket, and then is
// no longer listed. The fields scripts read are all still there.
func TestHealthReasonsAndAcknowledgedAlerts(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	d := testDesk(t, now, fakeSMTP(t))
	d.metrics.IMAPUp.Store(true)
	healthz := func() (int, health, map[string]any) {
		t.Helper()
		code, body := get(t, d.healthHandler(), "/healthz")
		var h health
		var raw map[string]any
		if err := json.Unmarshal([]byte(body), &h); err != nil {
			t.Fatal(err)
		}
		json.Unmarshal([]byte(body), &raw)
		return code, h, raw
	}
	if code, h, raw := healthz(); code != 200 || !h.OK || len(h.Reasons) != 0 {
		t.Fatalf("healthy desk: %d %+v", code, h)
	} else {
		for _, field := range []string{"ok", "imap", "smtp", "outbox_pending", "outbox_failed", "quarantined", "store", "templates", "templates_loaded_at"} {
			if _, ok := raw[field]; !ok {
				t.Errorf("/healthz lost its field %q", field)
			}
		}
	}
	err := d.store.Update(func(tx *store.Tx) error {
		if err := tx.AddAlert(store.Alert{At: now, Kind: "security", Message: "mail from mallory@evil.test refused"}); err != nil {
			return err
		}
		return tx.AddAlert(store.Alert{At: now, Kind: "uidvalidity", Message: "UIDVALIDITY of INBOX changed"})
	})
	if err != nil {
		t.Fatal(err)
	}
	d.metrics.IMAPUp.Store(false)
	code, h, _ := healthz()
	if code != 503 || h.OK || len(h.Alerts) != 2 {
		t.Fatalf("with two alerts and IMAP down: %d %+v", code, h)
	}
	all := strings.Join(h.Reasons, "\n")
	for _, want := range []string{"imap: not connected to", "alert 1 (security)", "complaintd alerts ack 1", "alert 2 (uidvalidity): UIDVALIDITY of INBOX changed"} {
		if !strings.Contains(all, want) {
			t.Errorf("reasons lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "mallory") || strings.Contains(strings.Join(h.Alerts, "\n"), "mallory") {
		t.Errorf("an address in /healthz:\n%s", all)
	}
	d.metrics.IMAPUp.Store(true)
	if code, body := post(t, d, "/alerts/ack?id=1"); code != 200 || !strings.Contains(body, `"acked":1`) {
		t.Fatalf("ack 1: %d %s", code, body)
	}
	if code, body := post(t, d, "/alerts/ack?id=99"); code != 404 {
		t.Fatalf("ack of an unknown alert: %d %s", code, body)
	}
	code, h, _ = healthz()
	if code != 503 || len(h.Alerts) != 1 || len(h.Reasons) != 1 || !strings.HasPrefix(h.Reasons[0], "alert 2 ") {
		t.Fatalf("after ack 1: %d %+v", code, h)
	}
	if code, body := post(t, d, "/alerts/ack?all=1"); code != 200 || !strings.Contains(body, `"acked":1`) {
		t.Fatalf("ack -all: %d %s", code, body)
	}
	if code, h, _ := healthz(); code != 200 || !h.OK || len(h.Alerts) != 0 {
		t.Fatalf("after ack -all: %d %+v", code, h)
	}
}

// Without a daemon the CLI lists and acknowledges on the store itself; a wrong ID or
// a missing one is a usage error, an unknown one is said so.
func TestAlertsCLIWithoutDaemon(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "c.db")
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte("store:\n  path: "+db+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(db, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	st.Update(func(tx *store.Tx) error {
		tx.AddAlert(store.Alert{At: time.Now(), Kind: "templates", Message: "broken"})
		return tx.AddAlert(store.Alert{At: time.Now(), Kind: "imap", Message: "login refused"})
	})
	st.Close()
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), append([]string{"alerts"}, args...), &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run("-config", cfgPath); code != 0 || !strings.Contains(out, "1\t") || !strings.Contains(out, "imap\tlogin refused") {
		t.Fatalf("alerts: %d %q", code, out)
	}
	if code, out := run("ack", "2", "-config", cfgPath); code != 0 || !strings.Contains(out, "acknowledged 1") {
		t.Fatalf("ack 2: %d %q", code, out)
	}
	if code, out := run("ack", "-config", cfgPath, "7"); code != 1 || !strings.Contains(out, "alert 7: not found") {
		t.Fatalf("ack 7: %d %q", code, out)
	}
	for _, bad := range [][]string{{"ack", "-config", cfgPath}, {"ack", "x", "-config", cfgPath}, {"ack", "-all", "1", "-config", cfgPath}} {
		if code, out := run(bad...); code != 2 {
			t.Errorf("alerts %v: exit %d %q, want a usage error", bad, code, out)
		}
	}
	if code, out := run("-json", "-config", cfgPath); code != 0 || !strings.Contains(out, `"kind":"templates"`) || strings.Contains(out, `"imap"`) {
		t.Fatalf("alerts -json after ack 2: %d %q", code, out)
	}
	if code, out := run("ack", "-all", "-config", cfgPath); code != 0 || !strings.Contains(out, "acknowledged 1") {
		t.Fatalf("ack -all: %d %q", code, out)
	}
	if code, out := run("-config", cfgPath); code != 0 || !strings.Contains(out, "no open alerts") {
		t.Fatalf("alerts after ack -all: %d %q", code, out)
	}
}
