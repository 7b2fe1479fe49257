package app

// This file is `complaintd init DIR`: the quick start. It writes, from the embedded
// example, a configuration for the mailbox named on the command line, a master key
// file and a hardened systemd unit, checks the configuration as `run` would, and
// prints what is left to do. It touches nothing outside DIR (no user, no unit
// installed): the operator reads and installs what it wrote.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"unicode"

	complaintd "github.com/complaintd/complaintd"
	"github.com/complaintd/complaintd/internal/config"
)

// initOptions are what `init` writes into the files.
type initOptions struct {
	dir      string // where the files go (absolute)
	mailbox  string // the desk's address
	imapHost string
	imapPort int
	imapTLS  string
	imapUser string
	smtpHost string
	smtpPort int
	smtpTLS  string
	smtpUser string // "-": no SMTP authentication
	staff    []string
	admins   []string
	state    string // the data directory (the unit's StateDirectory)
	binary   string
	user     string
	start    string // imap.start; "": left to the guard
	// The mailbox passwords, from the environment of `init`; empty: left for the
	// operator to fill into secrets.env.
	imapPassword, smtpPassword string
}

func cmdInit(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := initOptions{}
	fs.StringVar(&o.mailbox, "mailbox", "", "the desk's mailbox address (required), e.g. tousu@example.cn")
	fs.StringVar(&o.imapHost, "imap-host", "", "IMAP server (default imap.<mailbox domain>)")
	fs.IntVar(&o.imapPort, "imap-port", 0, "IMAP port (default: 993 for tls, 143 otherwise)")
	fs.StringVar(&o.imapTLS, "imap-tls", "tls", "IMAP TLS: none, starttls or tls")
	fs.StringVar(&o.imapUser, "imap-user", "", "IMAP user name (default: the mailbox)")
	fs.StringVar(&o.smtpHost, "smtp-host", "", "SMTP relay (default smtp.<mailbox domain>)")
	fs.IntVar(&o.smtpPort, "smtp-port", 0, "SMTP port (default: 465 for tls, 587 for starttls, 25 for none)")
	fs.StringVar(&o.smtpTLS, "smtp-tls", "starttls", "SMTP TLS: none, starttls or tls")
	fs.StringVar(&o.smtpUser, "smtp-user", "", `SMTP user name (default: the mailbox; "-": no authentication)`)
	staff := fs.String("staff", "", "staff addresses who work the desk, comma-separated (required)")
	admins := fs.String("admin", "", "admin addresses for alerts and weekly reports, comma-separated (required)")
	fs.StringVar(&o.state, "state", "/var/lib/complaintd", "data directory: the store, the attachments (the unit's StateDirectory)")
	fs.StringVar(&o.binary, "binary", "/usr/local/bin/complaintd", "where the complaintd binary is installed")
	fs.StringVar(&o.user, "user", "complaintd", "the service user")
	fs.StringVar(&o.start, "start", "", "imap.start: all (answer the mail already in the mailbox) or new (record it without replies)")
	// `init DIR -mailbox …` (as SPEC and mox write it) and `init -mailbox … DIR` alike.
	target, err := parseWithArg(fs, args)
	if err != nil {
		return err
	}
	if target == "" || fs.NArg() > 1 || (fs.NArg() == 1 && fs.Arg(0) != target) {
		return usageError{"init DIR -mailbox ADDR -staff A,B -admin C [flags]"}
	}
	o.staff, o.admins = splitList(*staff), splitList(*admins)
	o.imapPassword = os.Getenv("COMPLAINTD_IMAP_PASSWORD")
	o.smtpPassword = os.Getenv("COMPLAINTD_SMTP_PASSWORD")
	dir, err := filepath.Abs(target)
	if err != nil {
		return err
	}
	o.dir = dir
	if err := o.complete(); err != nil {
		return err
	}
	if err := writeInit(o); err != nil {
		return err
	}
	printNextSteps(stdout, o)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// complete fills the defaults that follow from the mailbox and checks what the flags
// cannot leave out.
func (o *initOptions) complete() error {
	var missing []string
	if o.mailbox == "" {
		missing = append(missing, "-mailbox")
	}
	if len(o.staff) == 0 {
		missing = append(missing, "-staff")
	}
	if len(o.admins) == 0 {
		missing = append(missing, "-admin")
	}
	if len(missing) > 0 {
		return usageError{"init: " + strings.Join(missing, ", ") + " required"}
	}
	_, domain, ok := strings.Cut(o.mailbox, "@")
	if !ok || domain == "" {
		return usageError{fmt.Sprintf("init: -mailbox %q is not an address", o.mailbox)}
	}
	if o.imapHost == "" {
		o.imapHost = "imap." + domain
	}
	if o.smtpHost == "" {
		o.smtpHost = "smtp." + domain
	}
	if o.imapUser == "" {
		o.imapUser = o.mailbox
	}
	switch o.smtpUser {
	case "":
		o.smtpUser = o.mailbox
	case "-":
		o.smtpUser = ""
	}
	// One mailbox account usually both reads and sends.
	if o.smtpUser != "" && o.smtpPassword == "" && o.smtpUser == o.imapUser {
		o.smtpPassword = o.imapPassword
	}
	if !filepath.IsAbs(o.state) || !filepath.IsAbs(o.binary) {
		return usageError{"init: -state and -binary must be absolute paths"}
	}
	// The unit names these paths as they are: systemd splits a command line at
	// spaces and reads % as a specifier, so such a path would start the daemon with
	// the wrong arguments (found in review).
	for _, p := range []struct{ flag, path string }{{"DIR", o.dir}, {"-state", o.state}, {"-binary", o.binary}} {
		if strings.ContainsFunc(p.path, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(`%"'\$;`, r) }) {
			return usageError{fmt.Sprintf("init: %s %q: a path with spaces, quotes, %%, $, ; or \\ cannot be named in the systemd unit", p.flag, p.path)}
		}
		// The unit's ProtectHome=yes makes these empty and inaccessible to the
		// service, ExecStartPre included: a config, data directory or binary there
		// gives a unit that can never start (found in review).
		for _, hidden := range []string{"/home", "/root", "/run/user"} {
			if rel, err := filepath.Rel(hidden, filepath.Clean(p.path)); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
				return usageError{fmt.Sprintf("init: %s %q: the unit's ProtectHome=yes hides %s from the service; choose a path outside /home, /root and /run/user (e.g. /etc/complaintd, /var/lib/complaintd, /usr/local/bin)", p.flag, p.path, hidden)}
			}
		}
	}
	return nil
}

// writeInit writes the three files (and secrets.env) into a new or empty directory,
// then checks the configuration with the passwords the daemon will have.
func writeInit(o initOptions) error {
	if entries, err := os.ReadDir(o.dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("init: %s is not empty: init writes a new configuration and key, it never overwrites one", o.dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("init: %w", err)
	}
	cfgText, err := initConfig(o)
	if err != nil {
		return err
	}
	secrets, err := initSecrets(o)
	if err != nil {
		return err
	}
	// Checked before anything is written: a refusal after the key was written left a
	// directory init then refused to write into, with a key in it (found in review).
	if err := checkInitConfig(o, cfgText); err != nil {
		return err
	}
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	// An empty directory made by someone else (0777 in a shared place) would let
	// them swap the unit or secrets.env before root installs them: it must be a
	// directory of ours, and is made 0700 (found in review).
	if fi, err := os.Lstat(o.dir); err != nil {
		return fmt.Errorf("init: %w", err)
	} else if st, ok := fi.Sys().(*syscall.Stat_t); !fi.IsDir() || ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("init: %s is not a directory of the user running init (a symbolic link, or another user's): make it yourself, or choose another", o.dir)
	}
	if err := os.Chmod(o.dir, 0o700); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	files := []struct {
		name string
		data []byte
	}{
		{"master.key", []byte(hex.EncodeToString(key) + "\n")},
		{"config.yaml", cfgText},
		{"secrets.env", secrets},
		{"complaintd.service", initUnit(o)},
	}
	for _, f := range files {
		p := filepath.Join(o.dir, f.name)
		// O_EXCL: a file that appeared meanwhile is never overwritten (above all not a key).
		fh, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("init: %w", err)
		}
		_, werr := fh.Write(f.data)
		if cerr := fh.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("init: write %s: %w", p, werr)
		}
	}
	return nil
}

// checkInitConfig checks the configuration init is about to write as `run` will
// read it, with the passwords of secrets.env. A password not given yet is the one
// problem allowed: the operator fills it in.
func checkInitConfig(o initOptions, cfgText []byte) error {
	cfgPath := filepath.Join(o.dir, "config.yaml")
	// The passwords go in as placeholders when not given: the file itself must pass.
	text := string(cfgText)
	text = setKey(text, "imap", "password", orPlaceholder(o.imapPassword))
	if o.smtpUser != "" {
		text = setKey(text, "smtp", "password", orPlaceholder(o.smtpPassword))
	}
	cfg, err := config.Parse([]byte(text), scheduleProblems, routingProblems)
	if err == nil {
		// Where run puts the control socket when the file names none: next to the
		// store (init writes absolute paths).
		if cfg.HTTP.ControlSocket == "" {
			cfg.HTTP.ControlSocket = filepath.Join(filepath.Dir(cfg.Store.Path), "complaintd.sock")
		}
		if ps := socketProblems(cfg); len(ps) > 0 {
			err = ps
		}
	}
	if err != nil {
		return fmt.Errorf("init: %s would not pass config check; nothing was written:\n%w", cfgPath, err)
	}
	return nil
}

func orPlaceholder(s string) string {
	if s == "" {
		return "placeholder"
	}
	return s
}

// initConfig is the example with the mailbox, the hosts, the people and the paths of
// this desk; every comment stays, so the file remains the documentation.
func initConfig(o initOptions) ([]byte, error) {
	text := string(complaintd.ExampleConfig)
	// The example's people, replaced where they stand (staff, aliases, departments), so
	// every reference stays consistent.
	for i, ex := range []string{"editor1@example.cn", "editor2@example.cn"} {
		text = strings.ReplaceAll(text, ex, o.staff[i%len(o.staff)])
	}
	set := func(section, key, value string) error {
		n := setKey(text, section, key, value)
		if n == text && !strings.Contains(text, "\n"+section+":") {
			return fmt.Errorf("init: the example has no %s section", section)
		}
		text = n
		return nil
	}
	// A port left out is the default of its TLS mode, written out so the file says it.
	imapPort, smtpPort := o.imapPort, o.smtpPort
	if imapPort == 0 {
		imapPort = map[string]int{"tls": 993}[o.imapTLS]
		if imapPort == 0 {
			imapPort = 143
		}
	}
	if smtpPort == 0 {
		smtpPort = map[string]int{"tls": 465, "starttls": 587}[o.smtpTLS]
		if smtpPort == 0 {
			smtpPort = 25
		}
	}
	for _, kv := range [][3]string{
		{"imap", "host", o.imapHost}, {"imap", "port", strconv.Itoa(imapPort)}, {"imap", "tls", o.imapTLS}, {"imap", "username", o.imapUser},
		{"smtp", "host", o.smtpHost}, {"smtp", "port", strconv.Itoa(smtpPort)}, {"smtp", "tls", o.smtpTLS}, {"smtp", "username", o.smtpUser},
		{"smtp", "from", o.mailbox},
		{"store", "path", filepath.Join(o.state, "complaintd.db")},
		{"store", "attachments_dir", filepath.Join(o.state, "attachments")},
		{"store", "master_key_file", filepath.Join(o.dir, "master.key")},
		{"imap", "start", o.start},
	} {
		if err := set(kv[0], kv[1], kv[2]); err != nil {
			return nil, err
		}
	}
	text = setList(text, "staff", "addresses", o.staff)
	text = setList(text, "staff", "admins", o.admins)
	header := fmt.Sprintf("# Written by `complaintd init` for %s. Passwords are in secrets.env (the unit's\n"+
		"# EnvironmentFile); the master key in master.key (the unit's LoadCredential).\n#\n", o.mailbox)
	return []byte(header + text), nil
}

var keyLine = regexp.MustCompile(`^(\s+)([a-z_]+):(\s*)([^#]*?)(\s*)(#.*)?$`)

// setKey sets section.key (a key right under a top-level section) to value, keeping
// the line's comment. An empty value writes "" (the default applies). Only the first
// such key of the section changes.
func setKey(text, section, key, value string) string {
	lines := strings.Split(text, "\n")
	in := false
	for i, l := range lines {
		if len(l) > 0 && l[0] != ' ' && l[0] != '#' {
			in = strings.HasPrefix(l, section+":")
			continue
		}
		if !in {
			continue
		}
		m := keyLine.FindStringSubmatch(l)
		if m == nil || m[1] != "  " || m[2] != key {
			continue
		}
		v := yamlScalar(value)
		pad := m[5]
		if m[6] != "" {
			// Keep the comment's column where the new value allows it.
			col := len(m[1]) + len(m[2]) + 1 + len(m[3]) + len(m[4]) + len(m[5])
			pad = " "
			if w := len(m[1]) + len(m[2]) + 2 + len(v); w < col {
				pad = strings.Repeat(" ", col-w)
			}
		}
		lines[i] = m[1] + m[2] + ": " + v + pad + m[6]
		return strings.Join(lines, "\n")
	}
	return text
}

// setList replaces the block list under section.key with items.
func setList(text, section, key string, items []string) string {
	lines := strings.Split(text, "\n")
	in := false
	for i, l := range lines {
		if len(l) > 0 && l[0] != ' ' && l[0] != '#' {
			in = strings.HasPrefix(l, section+":")
			continue
		}
		if !in || !strings.HasPrefix(l, "  "+key+":") {
			continue
		}
		j := i + 1
		for j < len(lines) && strings.HasPrefix(strings.TrimLeft(lines[j], " "), "- ") && strings.HasPrefix(lines[j], "    ") {
			j++
		}
		var block []string
		for _, it := range items {
			block = append(block, "    - "+yamlScalar(it))
		}
		out := append(append(append([]string{}, lines[:i+1]...), block...), lines[j:]...)
		return strings.Join(out, "\n")
	}
	return text
}

var plainScalar = regexp.MustCompile(`^[A-Za-z0-9@._/+-][A-Za-z0-9@._/+:-]*$`)

func yamlScalar(s string) string {
	if s == "" {
		return `""`
	}
	// A word YAML reads as something else (null, ~, a boolean) is quoted: a
	// password or user name "null" was read as empty (found in review).
	switch strings.ToLower(s) {
	case "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n":
		return strconv.Quote(s)
	}
	if plainScalar.MatchString(s) {
		return s
	}
	return strconv.Quote(s)
}

// initSecrets is the unit's EnvironmentFile: the passwords stay out of the config,
// readable by root only (systemd reads it before dropping to the service user).
func initSecrets(o initOptions) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# complaintd's secrets, read by systemd (EnvironmentFile) as root. Keep 0600 root.\n")
	vars := [][2]string{{"COMPLAINTD_IMAP_PASSWORD", o.imapPassword}}
	if o.smtpUser != "" {
		vars = append(vars, [2]string{"COMPLAINTD_SMTP_PASSWORD", o.smtpPassword})
	}
	for _, kv := range vars {
		v, err := envValue(kv[1])
		if err != nil {
			return nil, fmt.Errorf("init: %s: %w", kv[0], err)
		}
		fmt.Fprintf(&b, "%s=%s\n", kv[0], v)
	}
	return b.Bytes(), nil
}

var plainEnv = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]*$`)

// envValue writes a value that systemd's EnvironmentFile and a POSIX shell's `.` read
// alike: plain when it is, else in single quotes (literal in both).
func envValue(s string) (string, error) {
	if plainEnv.MatchString(s) {
		return s, nil
	}
	if strings.ContainsAny(s, "'\n\r\\") {
		return "", errors.New("has a quote, a backslash or a line break: leave it out of the environment of init and write secrets.env by hand")
	}
	return "'" + s + "'", nil
}

// initUnit is a hardened systemd service: its own user, its own state directory and
// nothing else writable, the master key as a credential (the service user cannot read
// the key file itself), HUP to reload.
func initUnit(o initOptions) []byte {
	cfg := filepath.Join(o.dir, "config.yaml")
	return fmt.Appendf(nil, `# complaintd's systemd unit, written by complaintd init. Install:
#   install -m 0644 %[1]s /etc/systemd/system/complaintd.service
#   systemctl daemon-reload && systemctl enable --now complaintd
[Unit]
Description=complaintd: the complaint and takedown desk over e-mail (%[2]s)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=%[3]s
Group=%[3]s
EnvironmentFile=%[4]s
LoadCredential=master-key:%[5]s
ExecStartPre=%[6]s config check -config %[7]s
ExecStart=%[6]s run -config %[7]s
ExecReload=/bin/kill -HUP $MAINPID
KillSignal=SIGTERM
TimeoutStopSec=60s
Restart=on-failure
RestartSec=10s
# 78: a fresh store over a processed mailbox waits for imap.start (see the log).
RestartPreventExitStatus=78
%[8]s
UMask=0077
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
RemoveIPC=yes
CapabilityBoundingSet=
AmbientCapabilities=
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged
SystemCallErrorNumber=EPERM

[Install]
WantedBy=multi-user.target
`, filepath.Join(o.dir, "complaintd.service"), o.mailbox, o.user, filepath.Join(o.dir, "secrets.env"),
		filepath.Join(o.dir, "master.key"), o.binary, cfg, stateDirective(o.state))
}

// stateDirective makes the data directory the one writable place: systemd creates a
// directory under /var/lib (StateDirectory, owned by the service user, 0700); one
// elsewhere must exist and is named writable.
func stateDirective(state string) string {
	if rel, ok := strings.CutPrefix(filepath.Clean(state), "/var/lib/"); ok && rel != "" {
		return "StateDirectory=" + rel + "\nStateDirectoryMode=0700"
	}
	return "ReadWritePaths=" + state
}

func printNextSteps(w io.Writer, o initOptions) {
	cfg := filepath.Join(o.dir, "config.yaml")
	fmt.Fprintf(w, "Wrote %s: config.yaml, master.key (0600), secrets.env (0600), complaintd.service.\n\n", o.dir)
	fmt.Fprintf(w, "The master key seals every case: keep a copy of %s somewhere safe, apart from the backups\n", filepath.Join(o.dir, "master.key"))
	fmt.Fprint(w, "of the data (without it nothing sealed can be read; with it, an old backup is readable).\n\nNext steps (as root):\n")
	step := 0
	next := func(format string, a ...any) {
		step++
		fmt.Fprintf(w, "  %d. "+format+"\n", append([]any{step}, a...)...)
	}
	if o.imapPassword == "" || (o.smtpUser != "" && o.smtpPassword == "") {
		next("put the mailbox passwords into %s", filepath.Join(o.dir, "secrets.env"))
	}
	next("read %s: routing.departments, staff.aliases and the policy are the example's", cfg)
	next("useradd --system --home-dir %s --shell /usr/sbin/nologin %s", o.state, o.user)
	next("chgrp %s %s %s && chmod 0750 %s && chmod 0640 %s   # the service reads the config; the key and secrets stay root's",
		o.user, o.dir, cfg, o.dir, cfg)
	next("set -a; . %s; %s config check -config %s", filepath.Join(o.dir, "secrets.env"), o.binary, cfg)
	next("install -m 0644 %s /etc/systemd/system/ && systemctl daemon-reload && systemctl enable --now complaintd", filepath.Join(o.dir, "complaintd.service"))
	next("journalctl -u complaintd -f; curl -s http://127.0.0.1:8025/healthz; %s cases list -config %s", o.binary, cfg)
	fmt.Fprintf(w, "\nAfter an edit: %s config check -config %s && systemctl reload complaintd (a bad file is refused, the running one stays).\n", o.binary, cfg)
	fmt.Fprintf(w, "Backups: %s backup -config %s -o FILE (README, Operations).\n", o.binary, cfg)
}
