package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// 转交 refuses an address that is not on the staff list, and a department's alias to
// one is a problem of the file; but staff.aliases were checked for their syntax only.
// An alias left behind when its person left staff.addresses (a SIGHUP took them off)
// made `转交 李四` assign the case to a mailbox that cannot command: the case's
// notifications, with the complainant's data and documents, and its reminders went
// there, and the case waited on someone who could not act.
func TestStaffAliasOutsideTheStaffListIsAProblem(t *testing.T) {
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "")
	got := problemsOf(t, minimal+"staff: {addresses: [a@example.cn], aliases: {李四: lisi@example.cn, 张三: A@example.cn}}\n")
	want := "staff.aliases.李四: lisi@example.cn is not in staff.addresses"
	if !slices.ContainsFunc(got, func(p string) bool { return strings.HasPrefix(p, want) }) {
		t.Errorf("no problem %q in:\n%s", want, strings.Join(got, "\n"))
	}
	if slices.ContainsFunc(got, func(p string) bool { return strings.HasPrefix(p, "staff.aliases.张三") }) {
		t.Errorf("an alias of a staff member (another case) is refused:\n%s", strings.Join(got, "\n"))
	}
}
