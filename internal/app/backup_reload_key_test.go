package app

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// staff.auth.token_key_file is reloadable (SIGHUP rebuilds staffAuth from the new file:
// tokens are signed and checked with the new key), but the online backup archived
// d.cfg's — the key file named at start. After a reload that moved the key, every
// backup held the old key; a restore put it where the config now points, and every
// staff token mailed since the reload was refused (found in review).
func TestBackupAfterReloadArchivesTheKeyInUse(t *testing.T) {
	d, _, dir, path := openFileDesk(t)
	defer d.store.Close()
	d.cfgPath = path
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := d.startGeneration(ctx, d.current())
	defer func() { stop() }()

	newKey := filepath.Join(dir, "keys2", "staff-token.key")
	moved := strings.Replace(reloadConfig(dir, "a@desk.test"), "admins: [admin@desk.test]}",
		"admins: [admin@desk.test], auth: {token_key_file: "+newKey+"}}", 1)
	os.WriteFile(path, []byte(moved), 0o600)
	stop = d.reload(ctx, stop)
	if d.current().cfg.Staff.Auth.TokenKeyFile != newKey {
		t.Fatalf("reload not applied: %s", d.current().cfg.Staff.Auth.TokenKeyFile)
	}
	inUse, err := os.ReadFile(newKey) // the key the running desk now signs tokens with
	if err != nil {
		t.Fatal(err)
	}

	rec := httptest.NewRecorder()
	d.serveBackup(rec, httptest.NewRequest("GET", "/backup", nil))
	gz, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var archived []byte
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if h.Name == "staff-token.key" {
			archived, _ = io.ReadAll(tr)
		}
	}
	if !bytes.Equal(archived, inUse) {
		t.Errorf("the backup holds the staff token key %q, the desk signs with %q (%s)", archived, inUse, newKey)
	}
}
