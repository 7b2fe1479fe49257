package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/store"
)

// quarantine list and retry work on the store itself when no daemon runs: list says
// whose fault each mail was (an earlier version's full-disk record is the
// environment's) and why; retry ID and retry -all record the request for the next
// start; an unknown ID is refused.
func TestQuarantineCommandsWithoutDaemon(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte("store:\n  path: "+filepath.Join(dir, "c.db")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "c.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	st.Update(func(tx *store.Tx) error {
		tx.PutQuarantined(store.Quarantined{Mailbox: "INBOX", UIDValidity: 7, UID: 3, MessageID: "a@x", Reason: "parse: MaxParts exceeded",
			Attempts: 1, At: at, Moved: true, Folder: "Quarantine", Fault: store.FaultMail})
		return tx.PutQuarantined(store.Quarantined{Mailbox: "INBOX", UIDValidity: 7, UID: 4, MessageID: "b@x",
			Reason: "store commit: write: no space left on device", Attempts: 3, At: at})
	})
	st.Close()
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), append(append([]string{"quarantine"}, args...), "-config", cfgPath), &out, &errb)
		return code, out.String() + errb.String()
	}
	code, out := run("list")
	if code != 0 || !strings.Contains(out, "INBOX/7/3") || !strings.Contains(out, "MaxParts exceeded") ||
		!strings.Contains(out, "moved to Quarantine") || !strings.Contains(out, "automatic") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	code, out = run("list", "-json")
	var qs []quarantineEntry
	if err := json.Unmarshal([]byte(out), &qs); code != 0 || err != nil || len(qs) != 2 {
		t.Fatalf("list -json: exit %d, %v\n%s", code, err, out)
	}
	if qs[0].Fault != "mail" || qs[1].Fault != "environment" || qs[1].ID != "INBOX/7/4" {
		t.Errorf("list -json: %+v", qs)
	}
	if code, out := run("retry", "INBOX/7/3"); code != 0 || !strings.Contains(out, "retry requested for 1") {
		t.Errorf("retry ID: exit %d, %q", code, out)
	}
	if code, out := run("retry", "INBOX/7/99"); code != 1 || !strings.Contains(out, "not found") {
		t.Errorf("retry of an unknown ID: exit %d, %q", code, out)
	}
	if code, _ := run("retry"); code != 2 {
		t.Errorf("retry without ID or -all: exit %d, want 2", code)
	}
	if code, out := run("retry", "-all"); code != 0 || !strings.Contains(out, "retry requested for 2") {
		t.Errorf("retry -all: exit %d, %q", code, out)
	}
	code, out = run("list", "-json")
	qs = nil
	if err := json.Unmarshal([]byte(out), &qs); code != 0 || err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.RetryRequested.IsZero() {
			t.Errorf("%s: no retry recorded", q.ID)
		}
	}
	h := quarantineSummary([]store.Quarantined{{Reason: "mail from alice@example.cn is broken", Fault: store.FaultMail}, {Reason: "x", Fault: store.FaultMail}, {Reason: "x", Fault: store.FaultMail}})
	if len(h) != 2 || strings.Contains(strings.Join(h, " "), "alice@") || h[1] != "mail: x (2)" {
		t.Errorf("healthz summary %q: grouped, addresses hashed", h)
	}
}
