package app

import (
	"context"
	"fmt"
	"github.com/complaintd/complaintd/internal/config"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/store"
)

// TestHelperDaemonProcess is `complaintd run` in a child process (not a test by itself).
func TestHelperDaemonProcess(t *testing.T) {
	if os.Getenv("COMPLAINTD_TEST_HELPER_CONFIG") == "" {
		t.Skip("helper process only")
	}
	os.Exit(Main(context.Background(), []string{"run", "-config", os.Getenv("COMPLAINTD_TEST_HELPER_CONFIG")}, os.Stdout, os.Stderr))
}

// `complaintd run` installed its SIGHUP handler only after openDesk, which waits up to
// store.lock_timeout for the store's lock and migrates the store. A SIGHUP in that
// window (`systemctl reload complaintd` — ExecReload=kill -HUP — right after a start or
// during an upgrade's migration) killed the daemon with Go's default action; systemd
// counts death by SIGHUP as a clean exit, so Restart=on-failure did not bring it back
// (found in review).
func TestSIGHUPDuringStartIsNotFatal(t *testing.T) {
	clearSecretsEnv(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	cfgText := strings.Replace(reloadConfig(dir, "a@desk.test"), "store: {", "store: {lock_timeout: 8s, ", 1)
	os.WriteFile(path, []byte(cfgText), 0o600)
	if _, err := loadConfig(path); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "complaintd.db")
	st, err := store.Open(dbPath, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	// A reader holds the file for a moment (the start waits for the lock: as during a
	// long migration, the window is open).
	reader, err := store.OpenReadOnly(dbPath, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperDaemonProcess$")
	cmd.Env = append(os.Environ(), "COMPLAINTD_TEST_HELPER_CONFIG="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	time.Sleep(1500 * time.Millisecond) // the daemon is in openDesk, waiting for the lock
	cmd.Process.Signal(syscall.SIGHUP)
	select {
	case err := <-exited:
		reader.Close()
		exited <- err
		var ws string
		if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			ws = fmt.Sprintf("killed by %v", st.Signal())
		} else {
			ws = fmt.Sprint(err)
		}
		t.Fatalf("a SIGHUP during the start ended the daemon (%s)", ws)
	case <-time.After(2 * time.Second):
		reader.Close()
	}
}

// clearSecretsEnv keeps the environment's secrets out of a test's configuration.
func clearSecretsEnv(t *testing.T) {
	for _, v := range []string{"COMPLAINTD_MASTER_KEY", "COMPLAINTD_IMAP_PASSWORD", "COMPLAINTD_SMTP_PASSWORD", "COMPLAINTD_STAFF_SECRET", "CREDENTIALS_DIRECTORY", "COMPLAINTD_CONFIG"} {
		t.Setenv(v, "")
	}
}

// openFileDesk writes reloadConfig into a new directory and opens the desk from it,
// as run does: the desk, its configuration, the directory and the file's path.
func openFileDesk(t *testing.T) (*desk, *config.Config, string, string) {
	t.Helper()
	clearSecretsEnv(t)
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
	return d, cfg, dir, path
}
