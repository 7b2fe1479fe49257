package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/store"
)

func reloadConfig(dir, staff string) string {
	return fmt.Sprintf(`imap: {host: 127.0.0.1, port: 1, tls: none, username: desk, password: p}
smtp: {host: 127.0.0.1, port: 1, tls: none, from: desk@desk.test}
store: {path: %s/complaintd.db, master_key: "%s"}
staff: {addresses: [%s], admins: [admin@desk.test]}
http: {control_socket: %s/sock}
`, dir, strings.Repeat("ab", 32), staff, dir)
}

// A reload swaps the whole generation when the new file builds; a file with problems
// leaves the running generation in service, logged and alerted with every problem.
func TestReloadSwapsOrRefusesWhole(t *testing.T) {
	for _, v := range []string{"COMPLAINTD_MASTER_KEY", "COMPLAINTD_IMAP_PASSWORD", "COMPLAINTD_SMTP_PASSWORD", "COMPLAINTD_STAFF_SECRET", "CREDENTIALS_DIRECTORY"} {
		t.Setenv(v, "")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	os.WriteFile(path, []byte(reloadConfig(dir, "a@desk.test")), 0o600)
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	d, err := openDesk(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.store.Close()
	d.cfgPath = path
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := d.startGeneration(ctx, d.current())
	defer func() { stop() }()
	first := d.current()

	os.WriteFile(path, []byte(reloadConfig(dir, "a@desk.test, b@desk.test")+"policy: {review_days: 9}\n"), 0o600)
	stop = d.reload(ctx, stop)
	second := d.current()
	if second == first || !slices.Equal(second.cfg.Staff.Addresses, []string{"a@desk.test", "b@desk.test"}) ||
		second.processor == first.processor || second.mailer == first.mailer || second.deadlines.Policy.ReviewDays != 9 {
		t.Fatalf("after a good reload: same generation %v, staff %v, review days %d", second == first, second.cfg.Staff.Addresses, second.deadlines.Policy.ReviewDays)
	}

	// Two problems and a changed mailbox host: refused whole, both problems logged and alerted.
	bad := strings.Replace(reloadConfig(dir, "c@desk.test"), "host: 127.0.0.1, port: 1, tls: none, username", "host: 127.0.0.2, port: 1, tls: ssl, username", 1) +
		"smtp_typo: 1\n"
	os.WriteFile(path, []byte(bad), 0o600)
	stop = d.reload(ctx, stop)
	if d.current() != second {
		t.Fatal("a broken configuration replaced the running one")
	}
	for _, want := range []string{"configuration refused", "imap.tls", "smtp_typo"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	var alerts []store.Alert
	d.store.View(func(tx *store.Tx) error { alerts, err = tx.Alerts(); return err })
	found := false
	for _, a := range alerts {
		found = found || (a.Kind == "config" && strings.Contains(a.Message, "imap.tls") && strings.Contains(a.Message, "smtp_typo"))
	}
	if !found {
		t.Errorf("no config alert with both problems: %+v", alerts)
	}
	// A good file that changes the mailbox: applied except the mailbox, which is named.
	os.WriteFile(path, []byte(strings.Replace(reloadConfig(dir, "c@desk.test"), "host: 127.0.0.1, port: 1, tls: none, username", "host: 127.0.0.2, port: 1, tls: none, username", 1)), 0o600)
	stop = d.reload(ctx, stop)
	if got := d.current().cfg.Staff.Addresses; !slices.Equal(got, []string{"c@desk.test"}) {
		t.Errorf("staff after the third reload: %v", got)
	}
	if got := d.current().cfg.IMAP.Host; got != "127.0.0.1" {
		t.Errorf("the new generation runs on imap.host %q, not the running mailbox", got)
	}
	if !strings.Contains(logs.String(), "only at a restart") || !strings.Contains(logs.String(), "sections=imap") {
		t.Errorf("the changed mailbox is not named:\n%s", logs.String())
	}
}
