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
)

// Without a daemon, backup reads the store file; restore refuses a data directory in
// use and fills an empty one that then opens with the same key.
func TestBackupWithoutDaemonAndRestore(t *testing.T) {
	for _, v := range []string{"COMPLAINTD_MASTER_KEY", "COMPLAINTD_IMAP_PASSWORD", "COMPLAINTD_SMTP_PASSWORD", "COMPLAINTD_STAFF_SECRET", "CREDENTIALS_DIRECTORY", "COMPLAINTD_CONFIG"} {
		t.Setenv(v, "")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	os.WriteFile(path, []byte(reloadConfig(dir, "a@desk.test")), 0o600)
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := openDesk(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	d.store.Close()

	archive := filepath.Join(t.TempDir(), "b.tar.gz")
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"backup", "-o", archive, "-config", path}, &out, &errb); code != 0 {
		t.Fatalf("backup: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "from the store file") || !strings.Contains(out.String(), "store.master_key in the configuration file") {
		t.Errorf("backup said: %s", out.String())
	}
	if _, err := os.Stat(archive + ".part"); err == nil {
		t.Error("the .part file stayed")
	}
	errb.Reset()
	if code := Main(context.Background(), []string{"restore", "-i", archive, "-config", path}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "exists") {
		t.Errorf("restore over the live store: exit %d: %s", code, errb.String())
	}

	// Another data directory, the same key.
	dir2 := t.TempDir()
	path2 := filepath.Join(dir2, "config.yaml")
	os.WriteFile(path2, []byte(reloadConfig(dir2, "a@desk.test")), 0o600)
	out.Reset()
	if code := Main(context.Background(), []string{"restore", "-i", archive, "-config", path2}, &out, &errb); code != 0 {
		t.Fatalf("restore: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "0 cases") {
		t.Errorf("restore said: %s", out.String())
	}
	for _, p := range []string{"complaintd.db", "staff-token.key"} {
		if fi, err := os.Stat(filepath.Join(dir2, p)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v", p, err)
		}
	}
}
