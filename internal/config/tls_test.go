package config

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/mailtest"
)

// The TLS keys of both sections are checked in the same run as everything else, each
// problem with its key path: an unreadable or non-PEM ca_file, a version that is not
// 1.2 or 1.3, a server name that is not one, verification keys on a plain connection.
func TestTLSKeysProblems(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600)
	got := problemsOf(t, `
imap: {host: h, username: u, password: p, ca_file: `+filepath.Join(dir, "missing.pem")+`, tls_min_version: "1.1", server_name: "a b"}
smtp: {host: s, from: desk@example.cn, tls: none, ca_file: `+notPEM+`, tls_min_version: 1.3}
`)
	for _, want := range []string{"imap.tls_min_version: ", "imap.server_name: ", "imap.ca_file: read: ", "smtp.tls: none, but smtp.ca_file", "smtp.ca_file: " + notPEM + ": no PEM certificate"} {
		if !slices.ContainsFunc(got, func(p string) bool { return strings.HasPrefix(p, want) }) {
			t.Errorf("no problem starting %q in:\n%s", want, strings.Join(got, "\n"))
		}
	}
	if slices.ContainsFunc(got, func(p string) bool { return strings.HasPrefix(p, "smtp.tls_min_version") }) {
		t.Errorf("1.3 (a YAML number) refused:\n%s", strings.Join(got, "\n"))
	}
}

// A valid file maps to the TLS configuration the dials use: the CA as the only root,
// the server name (or the host), the minimum version (1.2 by default).
func TestTLSKeysMapToTheDial(t *testing.T) {
	caFile, _ := mailtest.TestCA(t, "imap.desk.test")
	c, err := Parse([]byte(minimal[:len("imap: {host: h")] + ", ca_file: " + caFile + ", server_name: imap.desk.test, tls_min_version: \"1.3\"" +
		minimal[len("imap: {host: h"):]))
	if err != nil {
		t.Fatal(err)
	}
	it, err := c.IMAPTLS()
	if err != nil {
		t.Fatal(err)
	}
	if it.RootCAs == nil || it.ServerName != "imap.desk.test" || it.MinVersion != tls.VersionTLS13 {
		t.Errorf("imap TLS: roots %v, name %q, min %x", it.RootCAs != nil, it.ServerName, it.MinVersion)
	}
	st, err := c.SMTPTLS()
	if err != nil {
		t.Fatal(err)
	}
	if st.RootCAs != nil || st.ServerName != "s" || st.MinVersion != tls.VersionTLS12 {
		t.Errorf("smtp TLS defaults: roots %v, name %q, min %x", st.RootCAs != nil, st.ServerName, st.MinVersion)
	}
}
