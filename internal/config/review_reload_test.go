package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/complaintd/complaintd/internal/mailtest"
)

// Relative paths are relative to the configuration file (config.example.yaml says
// so, and store.path, templates.dir and the key files are), but imap.ca_file and
// smtp.ca_file were read relative to the working directory: `config check` run next
// to the file passed, and the daemon started by systemd elsewhere refused the file
// (or trusted another bundle of the same name).
func TestCAFileIsRelativeToTheConfigFile(t *testing.T) {
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "")
	t.Setenv("COMPLAINTD_SMTP_PASSWORD", "")
	ca, _ := mailtest.TestCA(t, "mail.desk.test")
	dir := t.TempDir()
	b, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "ca.pem"), b, 0o600)
	path := filepath.Join(dir, "config.yaml")
	os.WriteFile(path, []byte(`imap: {host: mail.desk.test, username: u, password: p, ca_file: ca.pem}
smtp: {host: mail.desk.test, from: desk@example.cn, ca_file: ca.pem}
`), 0o600)
	t.Chdir(t.TempDir()) // the daemon's working directory is not the file's
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{c.IMAP.CAFile, c.SMTP.CAFile} {
		if f != filepath.Join(dir, "ca.pem") {
			t.Errorf("ca_file resolved to %q, want the file next to the configuration", f)
		}
	}
	if tc, err := c.IMAPTLS(); err != nil || tc.RootCAs == nil {
		t.Errorf("imap TLS: %v", err)
	}
}
