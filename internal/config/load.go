package config

// This file turns a file into a checked Config: read, strict decode, environment
// secrets, defaults, validation, and the paths relative to the file. It is the only
// way in, so every caller gets the same checks.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Load reads, decodes strictly, applies defaults and environment secrets, and validates.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.resolvePaths(filepath.Dir(path))
	return c, nil
}

// Parse decodes YAML text; see Load.
func Parse(b []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	var problems []error
	if len(root.Content) > 0 {
		problems = append(problems, unknownKeys(root.Content[0], reflect.TypeOf(Config{}), "")...)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		problems = append(problems, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	c.applyEnv(os.Getenv)
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// unknownKeys walks the YAML tree against the struct's yaml tags so an unknown key is
// reported with its full path and line, not as a Go type name.
func unknownKeys(n *yaml.Node, t reflect.Type, path string) []error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var errs []error
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				return nil
			}
			if t == reflect.TypeOf(time.Duration(0)) {
				return nil
			}
			return []error{fmt.Errorf("%s: line %d: expected a mapping", orRoot(path), n.Line)}
		}
		fields := map[string]reflect.StructField{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if name != "" && name != "-" {
				fields[name] = f
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fields[k.Value]
			p := join(path, k.Value)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: line %d: unknown key (known: %s)", p, k.Line, knownList(fields)))
				continue
			}
			errs = append(errs, unknownKeys(v, f.Type, p)...)
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				errs = append(errs, unknownKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				errs = append(errs, unknownKeys(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))...)
			}
		}
	}
	return errs
}

func knownList(fields map[string]reflect.StructField) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sortStrings(names)
	return strings.Join(names, ", ")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

func orRoot(p string) string {
	if p == "" {
		return "(top level)"
	}
	return p
}

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
	c.Templates.Dir = abs(c.Templates.Dir)
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
	c.resolvePaths(filepath.Dir(path))
	return &c, nil
}
