package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func initArgs(extra ...string) []string {
	return append([]string{"init", "-mailbox", "tousu@desk.example", "-staff", "a@desk.example", "-admin", "ops@desk.example"}, extra...)
}

// An existing empty directory (made by someone else, or 0777 in a /tmp-like place)
// kept its mode (found in review): README promises "all 0600 in a 0700 directory"; whoever can write
// the directory can swap complaintd.service (which root then installs) or secrets.env.
func TestInitTightensAnExistingDirectory(t *testing.T) {
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "s3cret")
	dir := filepath.Join(t.TempDir(), "desk")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	var out, errb bytes.Buffer
	if code := Main(t.Context(), initArgs(dir), &out, &errb); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, errb.String())
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("%s: mode %v after init, want 0700 (or a refusal)", dir, fi.Mode().Perm())
	}
}

// A bad flag value was found only after the key and secrets were written; the
// directory was left non-empty, so the corrected re-run was refused, and the message
// called the operator's typo "a bug of init" (found in review).
func TestInitBadFlagWritesNothing(t *testing.T) {
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "s3cret")
	dir := filepath.Join(t.TempDir(), "desk")
	var out, errb bytes.Buffer
	if code := Main(t.Context(), initArgs("-imap-tls", "ssl", dir), &out, &errb); code == 0 {
		t.Fatal("init accepted -imap-tls ssl")
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("a refused init left %d files in %s; the corrected re-run is now refused", len(es), dir)
	}
	if strings.Contains(errb.String(), "a bug of init") {
		t.Errorf("an operator's bad flag is reported as a bug of init: %s", errb.String())
	}
}

// A password that is a YAML keyword ("null") works in secrets.env, but init's own
// check wrote it into YAML unquoted and failed, after writing everything (found in
// review).
func TestInitPasswordNull(t *testing.T) {
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "null")
	t.Setenv("COMPLAINTD_SMTP_PASSWORD", "")
	dir := filepath.Join(t.TempDir(), "desk")
	var out, errb bytes.Buffer
	if code := Main(t.Context(), initArgs(dir), &out, &errb); code != 0 {
		t.Fatalf("init with password \"null\": exit %d\n%s", code, errb.String())
	}
}

// A directory with a space (or a %) made a unit whose ExecStart split the config path
// into two arguments: run got "-config /…/my" and a stray "desk/config.yaml" (found in
// review). init refuses such a path, before it writes anything.
func TestInitUnitQuotesPaths(t *testing.T) {
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "s3cret")
	for _, name := range []string{"my desk", "desk%i"} {
		dir := filepath.Join(t.TempDir(), name)
		var out, errb bytes.Buffer
		if code := Main(t.Context(), initArgs(dir), &out, &errb); code == 0 {
			unit, _ := os.ReadFile(filepath.Join(dir, "complaintd.service"))
			t.Errorf("init %q: exit 0; unit:\n%s", dir, unit)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("init %q refused, but wrote %s", dir, dir)
		}
	}
}
