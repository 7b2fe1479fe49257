package config

// This file turns a file into a checked Config: read, strict decode, environment
// secrets, defaults, validation, and the paths relative to the file. It is the only
// way in, so every caller gets the same checks.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"go.yaml.in/yaml/v3"
)

// Check is a check of the loaded configuration that config cannot make itself,
// because what it checks against lives in a package config may not import (the cron
// parser is schedule's). Load and Parse run each Check on the defaulted values with
// their own checks, so its problems come in the same list.
type Check func(*Config) Problems

// Load reads path and returns the configuration the daemon runs with: decoded
// strictly, with environment secrets and defaults applied, checked, and with relative
// paths resolved against path's directory. A file with problems returns every one of
// them at once, as Problems wrapped with the file name (errors.As finds them).
func Load(path string, checks ...Check) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := parse(b, filepath.Dir(path), checks)
	var ps Problems
	if errors.As(err, &ps) {
		// The problems start on their own lines, so each starts with its key path.
		return nil, fmt.Errorf("%s: %s:\n%w", path, plural(len(ps)), ps)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse decodes YAML text; see Load. Its error, when not nil, is Problems. Relative
// paths stay as written: there is no file to be relative to.
func Parse(b []byte, checks ...Check) (*Config, error) {
	return parse(b, "", checks)
}

// parse is Parse with the relative paths resolved against base first ("": left as
// written), so that the checks that read a file (the ca_file bundles) read the one
// the daemon will.
func parse(b []byte, base string, checks []Check) (*Config, error) {
	c, src, decoding, unreadable := decode(b)
	if unreadable {
		return nil, decoding
	}
	c.applyEnv(os.Getenv)
	c.ApplyDefaults()
	if base != "" {
		c.resolvePaths(base)
	}
	k := &checker{src: src}
	c.check(k)
	for _, check := range checks {
		k.ps = append(k.ps, check(c)...)
	}
	ps := slices.Concat(decoding, src.without(k.ps))
	if len(ps) > 0 {
		return nil, src.ordered(ps)
	}
	return c, nil
}

// applyEnv lets the secrets stay out of the file (SPEC §6); the environment wins.
func (c *Config) applyEnv(getenv func(string) string) {
	if v := getenv("COMPLAINTD_IMAP_PASSWORD"); v != "" {
		c.IMAP.Password = v
	}
	if v := getenv("COMPLAINTD_SMTP_PASSWORD"); v != "" {
		c.SMTP.Password = v
	}
	if v := getenv("COMPLAINTD_MASTER_KEY"); v != "" {
		c.Store.MasterKey = v
	}
	if v := getenv("COMPLAINTD_STAFF_SECRET"); v != "" {
		c.Staff.Auth.Secret = v
	}
}

// resolvePaths makes relative paths relative to the file, not to wherever the daemon
// was started from.
func (c *Config) resolvePaths(base string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	c.Store.Path = abs(c.Store.Path)
	if c.Store.AttachmentsDir == "" {
		c.Store.AttachmentsDir = filepath.Join(filepath.Dir(c.Store.Path), "attachments")
	}
	c.Store.AttachmentsDir = abs(c.Store.AttachmentsDir)
	if c.HTTP.ControlSocket == "" {
		c.HTTP.ControlSocket = filepath.Join(filepath.Dir(c.Store.Path), "complaintd.sock")
	}
	c.HTTP.ControlSocket = abs(c.HTTP.ControlSocket)
	if c.Staff.Auth.TokenKeyFile == "" {
		c.Staff.Auth.TokenKeyFile = defaultTokenKeyFile(c.Store)
	}
	c.Staff.Auth.TokenKeyFile = abs(c.Staff.Auth.TokenKeyFile)
	c.Templates.Dir = abs(c.Templates.Dir)
	c.Store.MasterKeyFile = abs(c.Store.MasterKeyFile)
	c.IMAP.CAFile = abs(c.IMAP.CAFile)
	c.SMTP.CAFile = abs(c.SMTP.CAFile)
}

// defaultTokenKeyFile is where the staff token key is kept when the file names no
// place: next to the store.
func defaultTokenKeyFile(s Store) string {
	return filepath.Join(filepath.Dir(s.Path), "staff-token.key")
}

// KeepStore gives c the store section the daemon runs with (a reload cannot move the
// store), and with it the staff token key's default place: a token key left at its
// default is the one next to the store in service, not a new one next to the new
// file's store.path, which would be generated and would refuse every staff token
// mailed so far. c is a Load result.
func (c *Config) KeepStore(running Store) {
	if c.Staff.Auth.TokenKeyFile == defaultTokenKeyFile(c.Store) {
		c.Staff.Auth.TokenKeyFile = defaultTokenKeyFile(running)
	}
	c.Store = running
}

// ParsePaths reads only where the store and the control socket are, leniently, for
// the CLI's readers: `cases list` must work on a machine whose mail settings are
// incomplete (secrets kept in the daemon's environment).
func ParsePaths(b []byte, path string) (*Config, error) {
	var c Config
	if err := yaml.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: yaml: %w", path, err)
	}
	c.ApplyDefaults()
	c.applyEnv(os.Getenv)
	c.resolvePaths(filepath.Dir(path))
	return &c, nil
}
