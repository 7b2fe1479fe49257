package imapsource

import (
	"context"
	"crypto/tls"
	"testing"

	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/mailtest"
)

// imap.ca_file, imap.server_name and imap.tls_min_version, through the config's TLS
// configuration, on the in-process server with a certificate from a test CA: the CA
// file makes it trusted; without it, or with another name, the dial is refused and
// classified as a certificate failure (the hard backoff), and TLS 1.3 is refused by a
// server that stops at 1.2 — in both TLS modes.
func TestTLSVerificationFromConfig(t *testing.T) {
	caFile, serverTLS := mailtest.TestCA(t, "imap.desk.test")
	tls12 := serverTLS.Clone()
	tls12.MaxVersion = tls.VersionTLS12
	tests := []struct {
		name                     string
		server                   *tls.Config
		caFile, serverName, minV string
		wantCertFailure, wantErr bool
	}{
		{"trusted with ca_file", serverTLS, caFile, "imap.desk.test", "1.2", false, false},
		{"trusted with TLS 1.3 minimum", serverTLS, caFile, "imap.desk.test", "1.3", false, false},
		{"refused without ca_file", serverTLS, "", "imap.desk.test", "1.2", true, true},
		{"refused on a server_name mismatch", serverTLS, caFile, "other.desk.test", "1.2", true, true},
		{"refused when the server stops below tls_min_version", tls12, caFile, "imap.desk.test", "1.3", false, true},
	}
	for _, mode := range []TLSMode{TLSImplicit, TLSStartTLS} {
		for _, tt := range tests {
			t.Run(string(mode)+" "+tt.name, func(t *testing.T) {
				cfg := memServerConfig{implicit: tt.server}
				if mode == TLSStartTLS {
					cfg = memServerConfig{starttls: tt.server}
				}
				ms := startMemServer(t, cfg)
				o := ms.options()
				clientTLS, err := config.ClientTLS(o.Host, tt.caFile, tt.serverName, tt.minV)
				if err != nil {
					t.Fatal(err)
				}
				o.TLS, o.TLSConfig = mode, clientTLS
				c, err := Dial(context.Background(), o)
				if !tt.wantErr {
					if err != nil {
						t.Fatalf("dial: %v", err)
					}
					c.Close()
					return
				}
				if err == nil {
					c.Close()
					t.Fatal("dial succeeded")
				}
				if got := ConfigFailure(err) == "certificate not trusted"; got != tt.wantCertFailure {
					t.Errorf("classified %q for %v", ConfigFailure(err), err)
				}
			})
		}
	}
}
