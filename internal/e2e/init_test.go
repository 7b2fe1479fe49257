package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/mailtest"
)

// The quick start on the real stack: `complaintd init` writes a desk for the mailbox,
// and the daemon runs on those files as the unit runs it — the passwords from
// secrets.env, the master key as the systemd credential — and answers a complaint.
func TestInitDeskRunsOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
	etc := filepath.Join(t.TempDir(), "etc")
	state := filepath.Join(t.TempDir(), "state")
	ih, ip, _ := net.SplitHostPort(st.IMAPAddr)
	sh, sp, _ := net.SplitHostPort(st.SMTPAddr)
	cmd := exec.Command(binary, "init", "-mailbox", "desk@desk.test", "-imap-host", ih, "-imap-port", ip, "-imap-tls", "none",
		"-imap-user", "desk", "-smtp-host", sh, "-smtp-port", sp, "-smtp-tls", "none", "-smtp-user", "-",
		"-staff", "editor@desk.test", "-admin", "admin@desk.test", "-state", state, "-binary", binary, etc)
	cmd.Env = append(os.Environ(), "COMPLAINTD_IMAP_PASSWORD="+st.Password("desk"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	// A free port for /healthz instead of the example's 8025.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := ln.Addr().String()
	ln.Close()
	cfgPath := filepath.Join(etc, "config.yaml")
	cfg, _ := os.ReadFile(cfgPath)
	text := strings.Replace(string(cfg), "listen: 127.0.0.1:8025", "listen: "+httpAddr, 1)
	text = strings.Replace(text, "poll_interval: 60s", "poll_interval: 2s", 1)
	if text == string(cfg) {
		t.Fatal("the written config has no http.listen line to move")
	}
	os.WriteFile(cfgPath, []byte(text), 0o600)

	// The unit's environment: secrets.env, and the key as a credential (systemd copies
	// the file into $CREDENTIALS_DIRECTORY/master-key).
	var env []string
	secrets, _ := os.ReadFile(filepath.Join(etc, "secrets.env"))
	for _, l := range strings.Split(string(secrets), "\n") {
		if k, _, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(k, "#") {
			env = append(env, l)
		}
	}
	creds := t.TempDir()
	key, _ := os.ReadFile(filepath.Join(etc, "master.key"))
	os.WriteFile(filepath.Join(creds, "master-key"), key, 0o400)
	env = append(env, "CREDENTIALS_DIRECTORY="+creds)
	check := exec.Command(binary, "config", "check", "-config", cfgPath)
	check.Env = append(os.Environ(), env...)
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("config check (the unit's ExecStartPre): %v\n%s", err, out)
	}
	d := &daemon{t: t, cfgPath: cfgPath, httpAddr: httpAddr, dataDir: state, logPath: filepath.Join(t.TempDir(), "daemon.log"), env: env}
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			b, _ := os.ReadFile(d.logPath)
			t.Logf("daemon log:\n%s", b)
		}
	})
	d.start()
	d.waitUp()
	st.Deliver(t, complaint("某某 <alice@people.test>", "init-1@people.test", "申请人甲申请删除凤凰资讯稿件", "删除原因：不实。", nil),
		"alice@people.test", "desk@desk.test")
	_, ack := nth(t, st, "alice", 1)
	if !strings.Contains(ack, "TS-") {
		t.Errorf("the acknowledgement:\n%s", ack)
	}
	if _, err := os.Stat(filepath.Join(state, "master.key")); err == nil {
		t.Error("the daemon generated a key next to the store instead of reading the credential")
	}
	// The CLI reads the cases with the key file of the config (no credential there).
	d.env = d.env[:len(d.env)-1]
	d.stop()
	if out := string(d.cli("cases", "list")); !strings.Contains(out, "TS-") {
		t.Errorf("cases list with store.master_key_file:\n%s", out)
	}
}
