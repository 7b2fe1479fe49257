package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/staffauth"
	"github.com/complaintd/complaintd/internal/store"
)

// The store cannot re-seal its attachments under a new master key, so rotating the
// key is proved here, in the wiring, rather than on the real stack: staff tokens take
// their key from their own file, and a token minted before the rotation is accepted
// after it. The complainant tokens stay on the master-derived secret (unchanged).
func TestStaffTokensSurviveMasterKeyRotation(t *testing.T) {
	dir := t.TempDir()
	cfg := &config.Config{Staff: config.Staff{Addresses: []string{"editor@desk.test"},
		Auth: config.StaffAuth{Mode: "token", TokenTTL: time.Hour, TokenKeyFile: filepath.Join(dir, "keys", "staff-token.key")}}}
	log := slog.New(slog.DiscardHandler)
	before, err := staffAuth(cfg, bytes.Repeat([]byte{1}, 32), log)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(cfg.Staff.Auth.TokenKeyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v, %v; want 0600", fi, err)
	}
	if di, _ := os.Stat(filepath.Dir(cfg.Staff.Auth.TokenKeyFile)); di.Mode().Perm() != 0o700 {
		t.Errorf("key directory mode %v, want 0700", di.Mode().Perm())
	}
	if len(before.TokenKey) != 32 {
		t.Errorf("token key of %d bytes, want 32", len(before.TokenKey))
	}
	after, err := staffAuth(cfg, bytes.Repeat([]byte{2}, 32), log) // the master key rotated
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(before.Secret, after.Secret) {
		t.Fatal("the test rotates nothing: the master-derived secrets are equal")
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	const caseID, note = "TS-2026-000001", "ts-2026-000001.abc@desk.test"
	tok := staffauth.NewToken(before.TokenKey, caseID, note, now)
	d := staffauth.Verify(after, staffauth.Input{From: "editor@desk.test", CaseID: caseID, Now: now.Add(time.Minute),
		Recipients: []string{staffauth.ReplyAddress("desk@desk.test", caseID, tok)}, Replied: []string{note}})
	if !d.OK {
		t.Errorf("a token minted before the master key rotated is refused after it: %s", d.Reason)
	}
}

// revoke-tokens without a daemon writes the store itself; with -case it names a case
// that exists, records the revocation on it, and prints what it did.
func TestRevokeTokensWithoutDaemon(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte("store:\n  path: "+filepath.Join(dir, "c.db")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	clockFile := filepath.Join(dir, "now")
	os.WriteFile(clockFile, []byte("2026-12-01T10:00:00+08:00\n"), 0o600)
	t.Setenv("COMPLAINTD_CLOCK_FILE", clockFile)
	st, err := store.Open(filepath.Join(dir, "c.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	st.Update(func(tx *store.Tx) error { return tx.PutCase(&cases.Case{ID: "TS-2026-000001"}) })
	st.Close()

	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), append([]string{"staff", "revoke-tokens", "-config", cfgPath}, args...), &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := run("-case", "ts-2026-000001"); code != 0 || !strings.Contains(out, "revoked the staff tokens of TS-2026-000001 issued up to 2026-12-01T10:00:00+08:00") {
		t.Errorf("revoke one case: exit %d, %q", code, out)
	}
	if code, out := run("-case", "TS-2026-000099"); code != 1 || !strings.Contains(out, "not found") {
		t.Errorf("revoke an unknown case: exit %d, %q", code, out)
	}
	if code, out := run(); code != 0 || !strings.Contains(out, "revoked every staff token") {
		t.Errorf("revoke all: exit %d, %q", code, out)
	}
	if code := Main(context.Background(), []string{"staff", "forget"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("unknown staff subcommand: exit %d, want 2", code)
	}
	st, err = store.OpenReadOnly(filepath.Join(dir, "c.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.View(func(tx *store.Tx) error {
		r, _ := tx.StaffTokenRevocations("TS-2026-000001")
		want := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
		if !r.Case.Equal(want) || !r.All.Equal(want) {
			t.Errorf("revocations %+v, want both at %v", r, want)
		}
		evs, _ := tx.Events("TS-2026-000001")
		if len(evs) != 1 || evs[0].Type != cases.EventSecurity || evs[0].Actor != "operator" {
			t.Errorf("events %+v, want one security event by the operator", evs)
		}
		return nil
	})
}
