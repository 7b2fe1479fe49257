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

// `config check` passed a file that `run` refuses (found in review). Two departments owning
// channels that differ only by the 凤凰/凤凰网 prefix or the 频道 suffix (the same
// channel to the router, config.example.yaml says so) pass config's checkRouting, which
// compares the names as written, but routing.New (called by run and by every SIGHUP)
// refuses them. The unit's ExecStartPre (config check) then passes and ExecStart fails,
// restarting every 10 s.
func TestConfigCheckRefusesWhatRunRefuses(t *testing.T) {
	clearSecretsEnv(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	text := reloadConfig(dir, "a@desk.test") + `routing:
  default_department: 资讯
  departments:
    - {name: 资讯, channels: [凤凰资讯]}
    - {name: 财经, channels: [资讯频道]}
`
	os.WriteFile(path, []byte(text), 0o600)
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"config", "check", "-config", path}, &out, &errb)
	cfg, lerr := loadConfig(path)
	var runErr error
	if lerr != nil {
		runErr = lerr
	} else if d, err := openDesk(cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		runErr = err
	} else {
		d.store.Close()
	}
	if (code == 0) != (runErr == nil) {
		t.Errorf("config check: exit %d (%s%s); run: %v", code, out.String(), errb.String(), runErr)
	}
}

// A control socket path longer than a Unix socket address holds (108 bytes
// on Linux; by default the socket sits next to store.path) passed config check, and
// run failed at http.control_socket: bind: invalid argument (found in review).
func TestConfigCheckRefusesAnUnusableControlSocketPath(t *testing.T) {
	clearSecretsEnv(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	sock := filepath.Join(dir, strings.Repeat("s", 110)+".sock")
	text := strings.Replace(reloadConfig(dir, "a@desk.test"), "http: {control_socket: "+dir+"/sock}", "http: {control_socket: "+sock+"}", 1)
	if text == reloadConfig(dir, "a@desk.test") {
		t.Fatal("setup: the socket path was not replaced")
	}
	os.WriteFile(path, []byte(text), 0o600)
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"config", "check", "-config", path}, &out, &errb)
	if code == 0 || !strings.Contains(out.String(), "http.control_socket") {
		t.Errorf("config check: exit %d (%s%s); want the socket path refused", code, out.String(), errb.String())
	}
	// run reads the file the same way: it refuses it too, before it binds anything.
	if _, err := loadConfig(path); err == nil {
		t.Error("run's loadConfig accepts the path")
	}
}

// The default control socket sits next to the store, a path config resolves after its
// checks: a store in a deep directory made a socket path too long for a Unix socket,
// and config check passed it (found in review).
func TestConfigCheckRefusesATooLongDefaultSocketPath(t *testing.T) {
	clearSecretsEnv(t)
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.yaml")
	text := strings.Replace(reloadConfig(dir, "a@desk.test"), "http: {control_socket: "+dir+"/sock}\n", "", 1)
	if strings.Contains(text, "control_socket") {
		t.Fatal("setup: control_socket still set")
	}
	os.WriteFile(path, []byte(text), 0o600)
	if _, err := loadConfig(path); err == nil || !strings.Contains(err.Error(), "http.control_socket") {
		t.Errorf("loadConfig: %v; want the default socket path refused", err)
	}
}
