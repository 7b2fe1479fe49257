package demo

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/config"
)

// demoConfig is the daemon's configuration for the demo: the in-process
// servers, the data in dir, and a fresh master key kept in the configuration
// itself, so that the file written by writeConfig alone opens the kept data.
func demoConfig(dir, imapAddr, smtpAddr string) (*config.Config, error) {
	ih, iport, err := splitHostPort(imapAddr)
	if err != nil {
		return nil, fmt.Errorf("imap address: %w", err)
	}
	sh, sport, err := splitHostPort(smtpAddr)
	if err != nil {
		return nil, fmt.Errorf("smtp address: %w", err)
	}
	cfg := &config.Config{}
	cfg.IMAP = config.IMAP{Host: ih, Port: iport, TLS: "none", Username: deskUser, Password: deskPass, PollInterval: time.Second}
	cfg.SMTP = config.SMTP{Host: sh, Port: sport, TLS: "none", From: deskAddr, FromName: "凤凰网投诉受理中心", RetryMin: time.Second}
	cfg.Store = config.Store{Path: filepath.Join(dir, "complaintd.db"), AttachmentsDir: filepath.Join(dir, "attachments"),
		MasterKey: newKey()}
	cfg.Staff = config.Staff{Addresses: []string{editor}, Auth: config.StaffAuth{TokenKeyFile: filepath.Join(dir, "staff-token.key")}}
	cfg.HTTP = config.HTTP{ControlSocket: filepath.Join(dir, "complaintd.sock")}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("demo configuration: %w", err)
	}
	return cfg, nil
}

// newKey is a random 32-byte master key in hex, a form store.master_key
// accepts. (crypto/rand.Read does not fail: it crashes the program instead.)
func newKey() string {
	key := make([]byte, 32)
	rand.Read(key)
	return hex.EncodeToString(key)
}

func splitHostPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", p, err)
	}
	return h, port, nil
}

// writeConfig writes the keys of cfg the demo set as a configuration file
// that `complaintd cases list -config FILE` (and every other command) reads.
// It is 0600: it holds the master key and the mailbox password. YAML is
// written by hand because only internal/config may use the YAML library.
func writeConfig(path string, cfg *config.Config) error {
	q := strconv.Quote // a Go quoted string is a valid YAML double-quoted scalar
	var b strings.Builder
	fmt.Fprintf(&b, `# Written by complaintd demo -keep. The IMAP server and SMTP sink below lived
# inside the demo and are gone; the file serves to read the kept data:
#   complaintd cases list -config FILE
# A production configuration keeps the master key and the passwords out of
# the file (COMPLAINTD_MASTER_KEY etc., see config.example.yaml).
imap:
  host: %[1]s
  port: %[2]d
  tls: %[3]s
  username: %[4]s
  password: %[5]s
  poll_interval: %[6]s
smtp:
  host: %[7]s
  port: %[8]d
  tls: %[9]s
  from: %[10]s
  from_name: %[11]s
  retry_min: %[12]s
store:
  path: %[13]s
  attachments_dir: %[14]s
  master_key: %[15]s
staff:
  addresses:
`, q(cfg.IMAP.Host), cfg.IMAP.Port, q(cfg.IMAP.TLS), q(cfg.IMAP.Username), q(cfg.IMAP.Password), cfg.IMAP.PollInterval,
		q(cfg.SMTP.Host), cfg.SMTP.Port, q(cfg.SMTP.TLS), q(cfg.SMTP.From), q(cfg.SMTP.FromName), cfg.SMTP.RetryMin,
		q(cfg.Store.Path), q(cfg.Store.AttachmentsDir), q(cfg.Store.MasterKey))
	for _, a := range cfg.Staff.Addresses {
		fmt.Fprintf(&b, "    - %s\n", q(a))
	}
	fmt.Fprintf(&b, "http:\n  control_socket: %s\n", q(cfg.HTTP.ControlSocket))
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write the demo configuration: %w", err)
	}
	return nil
}
