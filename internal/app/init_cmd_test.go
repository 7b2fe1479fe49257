package app

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// init writes a config that passes config check, a 0600 key the config points at, a
// secrets file and a unit whose hardening is there; a second init into the same
// directory is refused and leaves the key alone.
func TestInitWritesADesk(t *testing.T) {
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "s3cret")
	t.Setenv("COMPLAINTD_SMTP_PASSWORD", "")
	t.Setenv("COMPLAINTD_MASTER_KEY", "")
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	dir := filepath.Join(t.TempDir(), "etc")
	state := filepath.Join(t.TempDir(), "complaintd")
	var out, errb bytes.Buffer
	code := Main(t.Context(), []string{"init", "-mailbox", "tousu@desk.example", "-staff", "a@desk.example,b@desk.example",
		"-admin", "ops@desk.example", "-imap-host", "mail.desk.example", "-state", state, dir}, &out, &errb)
	if code != 0 {
		t.Fatalf("init: exit %d\n%s%s", code, out.String(), errb.String())
	}
	for name, mode := range map[string]os.FileMode{"config.yaml": 0o600, "master.key": 0o600, "secrets.env": 0o600, "complaintd.service": 0o600, ".": 0o700} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
	// The daemon's environment: the secrets file.
	secrets, _ := os.ReadFile(filepath.Join(dir, "secrets.env"))
	if !strings.Contains(string(secrets), "COMPLAINTD_IMAP_PASSWORD=s3cret\n") || !strings.Contains(string(secrets), "COMPLAINTD_SMTP_PASSWORD=s3cret\n") {
		t.Errorf("secrets.env:\n%s", secrets)
	}
	for _, l := range strings.Split(string(secrets), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(k, "#") {
			t.Setenv(k, v) // what systemd's EnvironmentFile does
		}
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	var check bytes.Buffer
	if code := Main(t.Context(), []string{"config", "check", "-config", cfgPath}, &check, &check); code != 0 {
		t.Fatalf("config check of the written config: exit %d\n%s", code, check.String())
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IMAP.Host != "mail.desk.example" || cfg.IMAP.Username != "tousu@desk.example" || cfg.SMTP.From != "tousu@desk.example" ||
		cfg.SMTP.Host != "smtp.desk.example" {
		t.Errorf("mailbox settings: imap %s %s, smtp %s from %s", cfg.IMAP.Host, cfg.IMAP.Username, cfg.SMTP.Host, cfg.SMTP.From)
	}
	if !slices.Equal(cfg.Staff.Addresses, []string{"a@desk.example", "b@desk.example"}) || !slices.Equal(cfg.Staff.Admins, []string{"ops@desk.example"}) {
		t.Errorf("people: staff %v admins %v", cfg.Staff.Addresses, cfg.Staff.Admins)
	}
	if cfg.Store.Path != filepath.Join(state, "complaintd.db") || cfg.Store.MasterKeyFile != filepath.Join(dir, "master.key") || cfg.Store.MasterKey != "" {
		t.Errorf("store: %+v", cfg.Store)
	}
	text, _ := os.ReadFile(cfgPath)
	if strings.Contains(string(text), "example.cn") && strings.Contains(string(text), "editor1@") {
		t.Error("the example's staff addresses are still in the config")
	}
	if !strings.Contains(string(text), "# required") {
		t.Error("the example's comments were not kept")
	}
	key, err := readMasterKey(cfg)
	if err != nil || len(key) != 32 {
		t.Fatalf("master key from store.master_key_file: %v (%d bytes)", err, len(key))
	}

	// The unit parses as [Section] key=value lines and carries the hardening.
	unit := parseUnit(t, filepath.Join(dir, "complaintd.service"))
	svc := unit["Service"]
	for k, want := range map[string]string{
		"User": "complaintd", "ReadWritePaths": state, "ExecReload": "/bin/kill -HUP $MAINPID",
		"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "UMask": "0077",
		"LoadCredential":           "master-key:" + filepath.Join(dir, "master.key"),
		"ExecStart":                "/usr/local/bin/complaintd run -config " + cfgPath,
		"EnvironmentFile":          filepath.Join(dir, "secrets.env"),
		"RestartPreventExitStatus": fmt.Sprint(ExitDecide),
	} {
		if !slices.Contains(svc[k], want) {
			t.Errorf("[Service] %s = %q, want %q", k, svc[k], want)
		}
	}
	if !slices.Contains(unit["Install"]["WantedBy"], "multi-user.target") {
		t.Errorf("[Install]: %v", unit["Install"])
	}
	if !strings.Contains(out.String(), "useradd") || !strings.Contains(out.String(), "systemctl enable") ||
		!strings.Contains(out.String(), "chmod 0640 "+cfgPath) || strings.Contains(out.String(), "%!") {
		t.Errorf("next steps:\n%s", out.String())
	}

	// Under systemd the credential is read before the file.
	cred := t.TempDir()
	os.WriteFile(filepath.Join(cred, "master-key"), []byte(strings.Repeat("cd", 32)+"\n"), 0o600)
	t.Setenv("CREDENTIALS_DIRECTORY", cred)
	if k, err := readMasterKey(cfg); err != nil || k[0] != 0xcd {
		t.Errorf("with a credential: %x, %v", k, err)
	}
	// COMPLAINTD_MASTER_KEY wins over everything.
	t.Setenv("COMPLAINTD_MASTER_KEY", strings.Repeat("ef", 32))
	cfg2, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := readMasterKey(cfg2); err != nil || k[0] != 0xef {
		t.Errorf("with COMPLAINTD_MASTER_KEY: %x, %v", k, err)
	}
	t.Setenv("COMPLAINTD_MASTER_KEY", "")
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	// A configured key file that is missing is an error, never a new key.
	cfg.Store.MasterKeyFile = filepath.Join(dir, "gone.key")
	if _, err := masterKey(cfg, newLogger(&bytes.Buffer{}, 0)); err == nil || !strings.Contains(err.Error(), "master_key_file") {
		t.Errorf("a missing master_key_file: %v", err)
	}

	// A second init into the directory is refused; the key is unchanged.
	before, _ := os.ReadFile(filepath.Join(dir, "master.key"))
	errb.Reset()
	if code := Main(t.Context(), []string{"init", "-mailbox", "x@y.example", "-staff", "a@y.example", "-admin", "b@y.example", dir}, &out, &errb); code == 0 {
		t.Fatal("init into a non-empty directory succeeded")
	}
	if !strings.Contains(errb.String(), "not empty") {
		t.Errorf("refusal: %s", errb.String())
	}
	after, _ := os.ReadFile(filepath.Join(dir, "master.key"))
	if !bytes.Equal(before, after) {
		t.Error("the refused init changed master.key")
	}
}

// Without passwords in the environment, init still writes a config that passes
// (once secrets.env is filled) and says to fill them in.
func TestInitWithoutPasswords(t *testing.T) {
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "")
	t.Setenv("COMPLAINTD_SMTP_PASSWORD", "")
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := Main(t.Context(), []string{"init", "-mailbox", "tousu@desk.example", "-staff", "a@desk.example", "-admin", "ops@desk.example",
		"-smtp-user", "-", "-smtp-tls", "none", "-start", "new", dir}, &out, &errb); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, errb.String())
	}
	unit := parseUnit(t, filepath.Join(dir, "complaintd.service"))
	// The default data directory is systemd's to make: StateDirectory, nothing else writable.
	if got := unit["Service"]; !slices.Equal(got["StateDirectory"], []string{"complaintd"}) || len(got["ReadWritePaths"]) != 0 {
		t.Errorf("the default state directory: StateDirectory %v, ReadWritePaths %v", got["StateDirectory"], got["ReadWritePaths"])
	}
	if !strings.Contains(out.String(), "put the mailbox passwords into") {
		t.Errorf("next steps do not ask for the passwords:\n%s", out.String())
	}
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "p")
	cfg, err := loadConfig(filepath.Join(dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SMTP.Username != "" || cfg.SMTP.Port != 25 || cfg.IMAP.Start != "new" {
		t.Errorf("smtp without auth: user %q port %d; imap.start %q", cfg.SMTP.Username, cfg.SMTP.Port, cfg.IMAP.Start)
	}
	if code := Main(t.Context(), []string{"init", "-mailbox", "nobody", "-staff", "a@x", "-admin", "b@x", t.TempDir()}, &out, &errb); code != 2 {
		t.Errorf("a mailbox that is no address: exit %d", code)
	}
}

// parseUnit reads a systemd unit: [Section] headers, key=value lines (a key may
// repeat), comments and blank lines; anything else fails the test.
func parseUnit(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string][]string{}
	var section string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";"):
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			section = l[1 : len(l)-1]
			out[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok || section == "" || strings.TrimSpace(k) != k || k == "" {
				t.Fatalf("%s:%d: not key=value in a section: %q", path, n, l)
			}
			out[section][k] = append(out[section][k], v)
		}
	}
	if len(out["Unit"]) == 0 || len(out["Service"]) == 0 {
		t.Fatalf("unit sections: %v", out)
	}
	return out
}

// A password reads the same through systemd's EnvironmentFile and the shell's `.`.
func TestInitSecretsQuoting(t *testing.T) {
	for in, want := range map[string]string{"s3cret": "s3cret", "a b$c#d": "'a b$c#d'", "": ""} {
		if got, err := envValue(in); err != nil || got != want {
			t.Errorf("envValue(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"it's", "a\\b", "a\nb"} {
		if _, err := envValue(bad); err == nil {
			t.Errorf("envValue(%q) accepted", bad)
		}
	}
	// The shell reads the quoted value back as it was.
	dir := t.TempDir()
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "p a$s`s#w\"d")
	var out, errb bytes.Buffer
	if code := Main(t.Context(), []string{"init", "-mailbox", "d@x.example", "-staff", "a@x.example", "-admin", "b@x.example", dir}, &out, &errb); code != 0 {
		t.Fatalf("init: %s", errb.String())
	}
	got, err := exec.Command("sh", "-c", `set -a; . "$1"; printf %s "$COMPLAINTD_IMAP_PASSWORD"`, "sh", filepath.Join(dir, "secrets.env")).Output()
	if err != nil || string(got) != "p a$s`s#w\"d" {
		t.Errorf("sourced back: %q, %v", got, err)
	}
}

// `init DIR -mailbox …`, as the spec and mox write it, works like `init -mailbox … DIR`;
// two directories are refused.
func TestInitTakesTheDirectoryFirstOrLast(t *testing.T) {
	t.Setenv("COMPLAINTD_MASTER_KEY", "")
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	flags := []string{"-mailbox", "tousu@desk.example", "-staff", "a@desk.example", "-admin", "ops@desk.example",
		"-imap-host", "mail.desk.example", "-state", t.TempDir()}
	for _, args := range [][]string{
		append([]string{"init", filepath.Join(t.TempDir(), "first")}, flags...),
		append(append([]string{"init"}, flags...), filepath.Join(t.TempDir(), "last")),
	} {
		var out, errb bytes.Buffer
		if code := Main(t.Context(), args, &out, &errb); code != 0 {
			t.Errorf("%v: exit %d\n%s", args, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	args := append([]string{"init", filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}, flags...)
	if code := Main(t.Context(), args, &out, &errb); code == 0 {
		t.Error("two directories were accepted")
	}
}
