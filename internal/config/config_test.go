package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/policy"
	"github.com/complaintd/complaintd/internal/routing"
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

// The example's severity rules are the defaults word for word, so an admin who
// deletes them gets what the example showed.
func TestExampleRoutingDefaults(t *testing.T) {
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "x")
	t.Setenv("COMPLAINTD_SMTP_PASSWORD", "y")
	c, err := Load(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Routing.Severity.Rules, routing.DefaultSeverityRules()) {
		for i := range c.Routing.Severity.Rules {
			if i < len(routing.DefaultSeverityRules()) && !reflect.DeepEqual(c.Routing.Severity.Rules[i], routing.DefaultSeverityRules()[i]) {
				t.Errorf("example rule %d differs:\n%#v\n%#v", i, c.Routing.Severity.Rules[i], routing.DefaultSeverityRules()[i])
			}
		}
		t.Errorf("example has %d rules, defaults %d", len(c.Routing.Severity.Rules), len(routing.DefaultSeverityRules()))
	}
	if len(c.Routing.Departments) != 8 || c.Routing.DefaultDepartment == "" {
		t.Errorf("example departments: %d, default %q", len(c.Routing.Departments), c.Routing.DefaultDepartment)
	}
}

// A file without a routing section keeps the old behaviour (no departments) and gets
// the default severity rules and deadlines; leadership falls back to the supervisors.
func TestRoutingDefaults(t *testing.T) {
	c, err := Parse([]byte("imap: {host: h, username: u, password: p}\nsmtp: {host: s, from: desk@example.cn}\nstaff: {admins: [ops@example.cn]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Routing
	if len(r.Departments) != 0 || !reflect.DeepEqual(r.Severity.Rules, routing.DefaultSeverityRules()) ||
		r.Severity.RepeatWindowDays != 30 || r.Severity.RepeatThreshold != 2 || r.Severity.MajorReviewDays != 1 || r.Severity.MajorProcessDays != 2 {
		t.Errorf("defaults: %+v", r)
	}
	if len(r.Leadership) != 1 || r.Leadership[0] != "ops@example.cn" {
		t.Errorf("leadership = %v, want the supervisors (= admins)", r.Leadership)
	}
	// An explicit empty list switches the pattern rules off.
	c, err = Parse([]byte("imap: {host: h, username: u, password: p}\nsmtp: {host: s, from: desk@example.cn}\nrouting: {severity: {rules: []}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Routing.Severity.Rules) != 0 {
		t.Errorf("rules: [] gave %d rules", len(c.Routing.Severity.Rules))
	}
}

// Every routing mistake is reported at once with its key path.
func TestRoutingValidation(t *testing.T) {
	base := "imap: {host: h, username: u, password: p}\nsmtp: {host: s, from: desk@example.cn}\nstaff: {addresses: [a@example.cn, b@example.cn]}\n"
	_, err := Parse([]byte(base + `
routing:
  default_department: 体育
  domains: ["https://ifeng.com"]
  leadership: [not-an-address]
  departments:
    - name: 财经
      channels: [凤凰财经]
      hosts: [finance.ifeng.com, "https://finance.ifeng.com/"]
      path_prefixes: [c/]
      staff: [a@example.cn, stranger@example.cn]
      aliases: {fin: nobody}
    - name: 资讯
      channels: [凤凰财经]
      hosts: [finance.ifeng.com]
    - name: 财经
  severity:
    repeat_threshold: -1
    major_review_days: 9
    rules:
      - name: court
        pattern: '法院('
        exclude: '['
        fields: [body, headers]
        level: critical
      - name: court
      - name: ""
        keywords: [" "]
`))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"routing.default_department: \"体育\" is not one of routing.departments",
		"routing.domains[0]: must be a domain",
		"routing.leadership[0]: must be an e-mail address",
		"routing.departments[0].hosts[1]: must be a host name",
		"routing.departments[0].path_prefixes[0]: must be a URL path starting with /",
		"routing.departments[0].staff[1]: stranger@example.cn is not in staff.addresses",
		"routing.departments[0].aliases.fin: must be an e-mail address",
		"routing.departments[1].channels[0]: \"凤凰财经\" is also owned by department \"财经\"",
		"routing.departments[1].hosts[0]: \"finance.ifeng.com\" is also owned by department \"财经\"",
		"routing.departments[2].name: \"财经\" is also routing.departments[0]",
		"routing.departments[2]: owns no channel",
		"routing.severity.repeat_threshold: must be at least 1",
		"routing.severity.major_review_days: must be 1-3",
		"routing.severity.rules[0].pattern: not a regular expression",
		"routing.severity.rules[0].exclude: not a regular expression",
		"routing.severity.rules[0].fields[1]: must be subject, body, attachments, applicant_org or applicant_email, got \"headers\"",
		"routing.severity.rules[0].level: must be major or ordinary, got \"critical\"",
		"routing.severity.rules[1].name: \"court\" is also routing.severity.rules[0]",
		"routing.severity.rules[1]: needs a pattern or keywords",
		"routing.severity.rules[2].name: required",
		"routing.severity.rules[2].keywords[0]: empty keyword",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	// A misspelt key inside a rule is named with its full path.
	_, err = Parse([]byte(base + "routing:\n  severity:\n    rules:\n      - name: x\n        patern: y\n"))
	if err == nil || !strings.Contains(err.Error(), "routing.severity.rules[0].patern: unknown key, did you mean pattern?") {
		t.Errorf("unknown rule key: %v", err)
	}
}

// Short policy deadlines must not make the major-case defaults invalid.
func TestMajorDeadlineDefaultsFollowPolicy(t *testing.T) {
	c, err := Parse([]byte("imap: {host: h, username: u, password: p}\nsmtp: {host: s, from: desk@example.cn}\npolicy: {process_days: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Routing.Severity.MajorProcessDays != 1 || c.Routing.Severity.MajorReviewDays != 1 {
		t.Errorf("major days %d/%d", c.Routing.Severity.MajorReviewDays, c.Routing.Severity.MajorProcessDays)
	}
}

// Replies go out over several sessions unless the file says otherwise (issue 18).
func TestSMTPSessionDefaults(t *testing.T) {
	c, err := Parse([]byte("imap: {host: h, username: u, password: p}\nsmtp: {host: s, from: desk@example.cn}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Sessions != 4 || c.SMTP.IdleTimeout != 30*time.Second {
		t.Errorf("smtp.sessions %d, idle_timeout %v; want 4 and 30s", c.SMTP.Sessions, c.SMTP.IdleTimeout)
	}
	c, err = Parse([]byte("imap: {host: h, username: u, password: p}\nsmtp: {host: s, from: desk@example.cn, sessions: 1, idle_timeout: 5s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Sessions != 1 || c.SMTP.IdleTimeout != 5*time.Second {
		t.Errorf("smtp.sessions %d, idle_timeout %v; want 1 and 5s as written", c.SMTP.Sessions, c.SMTP.IdleTimeout)
	}
}
