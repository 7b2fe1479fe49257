package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/policy"
)

// The shipped example must load as-is (with the secrets it leaves empty supplied),
// and its document rules must be exactly SPEC §2's defaults: admins copy this file.
func TestExampleConfigLoads(t *testing.T) {
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "x")
	t.Setenv("COMPLAINTD_SMTP_PASSWORD", "y")
	c, err := Load(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	if !reflect.DeepEqual(c.Policy.Documents, policy.DefaultRules()) {
		t.Errorf("example policy.documents differ from policy.DefaultRules():\n%#v", c.Policy.Documents)
	}
	if len(c.Policy.Calendar.Holidays) != 33 || len(c.Policy.Calendar.Workdays) != 6 {
		t.Errorf("2026 calendar: %d holidays, %d make-up days; want 33 and 6", len(c.Policy.Calendar.Holidays), len(c.Policy.Calendar.Workdays))
	}
}

// Every key of the Config struct must be documented in the example, so that an admin
// reading it sees every knob.
func TestExampleDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(rt reflect.Type, path string)
	walk = func(rt reflect.Type, path string) {
		for i := 0; i < rt.NumField(); i++ {
			f := rt.Field(i)
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if name == "" || name == "-" {
				continue
			}
			if !strings.Contains(string(b), name+":") {
				t.Errorf("config.example.yaml does not mention %s%s", path, name)
			}
			if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == rt.PkgPath() && f.Type.Name() != "Duration" {
				walk(f.Type, path+name+".")
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "")
}

// All problems are reported at once, each with its key path, so an admin fixes a
// config in one round.
func TestValidateReportsEveryProblemWithItsKey(t *testing.T) {
	_, err := Parse([]byte(`
imap:
  host: ""
  port: 70000
  tls: ssl
  username: u
  password: p
  colour: blue
smtp:
  host: s
  from: not-an-address
policy:
  case_prefix: ts
  calendar:
    holidays: [2026-13-01]
`))
	if err == nil {
		t.Fatal("no error")
	}
	// The unknown key is reported first (decoding stops there); fix it and the rest show.
	if !strings.Contains(err.Error(), "imap.colour: line 8: unknown key") {
		t.Errorf("unknown key not named with its path: %v", err)
	}
	_, err = Parse([]byte(`
imap:
  host: ""
  port: 70000
  tls: ssl
  username: u
  password: p
smtp:
  host: s
  from: not-an-address
policy:
  case_prefix: ts
  calendar:
    holidays: [2026-13-01]
`))
	for _, want := range []string{"imap.host: required", "imap.port: must be 1-65535", "imap.tls: must be none, starttls or tls",
		"smtp.from: must be an e-mail address", "policy.case_prefix: must be 1-8 capital letters", "policy.calendar.holidays[0]: must be YYYY-MM-DD"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

// Secrets from the environment override the file, so they need not be written down.
func TestEnvironmentSecrets(t *testing.T) {
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "from-env")
	c, err := Parse([]byte("imap: {host: h, username: u}\nsmtp: {host: s, from: desk@example.cn}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.IMAP.Password != "from-env" {
		t.Errorf("imap.password = %q", c.IMAP.Password)
	}
}
