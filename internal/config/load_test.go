package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/complaintd/complaintd/internal/mailtest"
)

// minimal is the smallest file without problems: the keys that have no default.
const minimal = "imap: {host: h, username: u, password: p}\nsmtp: {host: s, from: desk@example.cn}\n"

// problemsOf parses text and returns its problems as lines, failing the test when the
// error is not Problems.
func problemsOf(t *testing.T, text string) []string {
	t.Helper()
	_, err := Parse([]byte(text))
	if err == nil {
		return nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error is %T, not Problems: %v", err, err)
	}
	lines := strings.Split(ps.Error(), "\n")
	if len(lines) != len(ps) {
		t.Fatalf("%d problems printed on %d lines:\n%v", len(ps), len(lines), ps)
	}
	return lines
}

// The issue: four runs were needed to see every problem of one file (unknown keys
// first, then type errors, then ranges). Now one Parse names every kind at once, each
// line starting with its key path, in the order the file has them.
func TestOneRunReportsEveryKind(t *testing.T) {
	got := problemsOf(t, `
imap:
  host: imap.example.cn
  port: "abc"
  colour: blue
  username: u
  password: p
  tls: ssl
  poll_interval: 5
smtp:
  host: smtp.example.cn
  from: not-an-address
  max_attempts: -3
  retry_min: -1s
staff:
  addresses: [a@example.cn, nobody]
  auth: {mode: magic}
policy:
  review_days: 0
  calendar: {holidays: [2026-13-01]}
schedule:
  deadlines: [5m]
`)
	want := []string{
		`imap.port: cannot use "abc" as an integer`,
		`imap.colour: unknown key (known: ca_file, command_timeout, erased_mail, fetch_timeout, host, idle, limits, mailbox, max_attempts, password, poll_interval, port, processed, processed_folder, quarantine_folder, server_name, start, tls, tls_min_version, username)`,
		`imap.tls: must be none, starttls or tls, got "ssl"`,
		`imap.poll_interval: cannot use "5" as a duration (like 90s, 5m or 1h30m)`,
		`smtp.from: must be an e-mail address like desk@example.cn, got "not-an-address"`,
		`smtp.max_attempts: must be at least 1, got -3`,
		`smtp.retry_min: must be more than 0s, got -1s`,
		`staff.addresses[1]: must be an e-mail address like desk@example.cn, got "nobody"`,
		`staff.auth.mode: must be token, auth-results, token+auth-results, token|auth-results, dkim, token+dkim or token|dkim, got "magic"`,
		`policy.review_days: must be 1-3650, got 0 (leave the key out for the default, 3)`,
		`policy.calendar.holidays[0]: must be a date YYYY-MM-DD, got "2026-13-01"`,
		`schedule.deadlines: must be a string, got a list`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// One small file per way of being wrong, each checked for the line it must produce.
func TestProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want []string // lines that must be among the problems
		not  []string // prefixes that must not be
	}{
		// A staff token that expires at once (or never sensibly) is a typo, named by its key.
		{"staff token ttl of seconds", minimal + "staff: {auth: {token_ttl: 30s}}\n",
			[]string{"staff.auth.token_ttl: must be at least 1m, got 30s (a token must outlive the time staff take to reply)"}, nil},
		{"staff token ttl of 0", minimal + "staff: {auth: {token_ttl: 0s}}\n",
			[]string{"staff.auth.token_ttl: must be more than 0s, got 0s (leave the key out for the default, 720h0m0s)"}, nil},
		{"the dkim mode needs no authserv-id", minimal + "staff: {auth: {mode: token+dkim}}\n", nil, []string{"staff.auth"}},
		// The vault is archived whole: holding the store's directory, it carried the
		// master key file and the live store into every backup (found in review).
		{"attachments in the store's directory", minimal + "store: {path: /var/lib/cd/complaintd.db, attachments_dir: /var/lib/cd}\n",
			[]string{"store.attachments_dir: must not be the store's directory or hold it (/var/lib/cd): backups would carry the master key and the live store"}, nil},
		{"attachments above the store's directory", minimal + "store: {path: /var/lib/cd/complaintd.db, attachments_dir: /var/lib}\n",
			[]string{"store.attachments_dir: must not be the store's directory or hold it (/var/lib/cd): backups would carry the master key and the live store"}, nil},
		// Each check walks the template directory: 1ms did so a thousand times a second.
		{"template reload of a millisecond", minimal + "templates: {reload_interval: 1ms}\n",
			[]string{"templates.reload_interval: must be at least 1s, got 1ms"}, nil},
		// Mail moved to the mailbox it was read from comes back under a new UID and is
		// read again, for ever; INBOX is INBOX in any case (found in review).
		{"processed folder is the mailbox", "imap: {host: h, username: u, password: p, processed: move, processed_folder: inbox}\nsmtp: {host: s, from: desk@example.cn}\n",
			[]string{"imap.processed_folder: must not be the mailbox read (imap.mailbox: INBOX): its mail would be read again and again"}, nil},
		{"quarantine folder is the mailbox", "imap: {host: h, username: u, password: p, mailbox: Desk, quarantine_folder: Desk}\nsmtp: {host: s, from: desk@example.cn}\n",
			[]string{"imap.quarantine_folder: must not be the mailbox read (imap.mailbox: Desk): its mail would be read again and again"}, nil},
		// A typo close to a real key gets the key, not the list of 16.
		{"misspelt key", minimal + "store: {pth: x}\n", []string{"store.pth: unknown key, did you mean path?"}, nil},
		// A type error names its key; yaml alone said only "line 3: cannot unmarshal !!str".
		{"type error has its path", "imap: {host: h, username: u, password: p, port: \"abc\"}\nsmtp: {host: s, from: desk@example.cn}\n",
			[]string{`imap.port: cannot use "abc" as an integer`}, nil},
		// The port that failed to decode keeps its default; "must be 1-65535" would be noise.
		{"a value that failed to decode is not also range-checked", "imap: {host: h, username: u, password: p, port: [1]}\nsmtp: {host: s, from: desk@example.cn}\n",
			[]string{"imap.port: must be an integer, got a list"}, []string{"imap.port: must be 1-65535"}},
		// A section written as a scalar: its keys' own checks would only repeat it.
		{"section not a mapping", "imap: yes\nsmtp: {host: s, from: desk@example.cn}\n",
			[]string{`imap: must be a mapping of keys, got "yes"`}, []string{"imap.host", "imap.username"}},
		{"bool", minimal + "policy: {survey: maybe}\n", []string{`policy.survey: cannot use "maybe" as true or false`}, nil},
		{"list of strings given a string", minimal + "staff: {addresses: a@example.cn}\n", []string{`staff.addresses: must be a list, got "a@example.cn"`}, nil},
		// yaml reports a key set twice; the second one used to win unnoticed in some tools.
		{"duplicate key", "imap: {host: h, username: u, password: p, host: g}\nsmtp: {host: s, from: desk@example.cn}\n",
			[]string{"imap.host: set twice (first on line 1)"}, nil},
		{"unknown key in a list element", minimal + "policy:\n  documents:\n    - name: x\n      requires: [id_card]\n",
			[]string{"policy.documents[0].requires: unknown key, did you mean require?"}, nil},
		{"unknown key in a map value", minimal + "staff: {aliases: {x: [a]}}\n", []string{"staff.aliases.x: must be a string, got a list"}, nil},
		// A file that is not YAML at all has one problem, with yaml's line.
		{"syntax error", "imap: [\n", []string{"yaml: line 1: did not find expected node content"}, nil},
		{"top level is a list", "- imap\n", []string{`the file must be a mapping of sections (imap:, smtp:, …), got a list`}, []string{"imap.host"}},
		// The required keys of an empty file, all at once.
		{"empty file", "", []string{"imap.host: required (the IMAP server's host name)", "imap.username: required",
			"imap.password: required (or set COMPLAINTD_IMAP_PASSWORD)", "smtp.host: required (the SMTP relay's host name)",
			"smtp.from: required (the desk's own address, like tousu@example.cn)"}, nil},
		{"host with a port", "imap: {host: \"imap.example.cn:993\", username: u, password: p}\nsmtp: {host: \"smtps://s\", from: desk@example.cn}\n",
			[]string{`imap.host: must be a host name without a port (the port goes in its own key), got "imap.example.cn:993" (port 993)`,
				`smtp.host: must be a host name like mail.example.cn (no scheme or path), got "smtps://s"`}, nil},
		// Two sections of one name: yaml would refuse the file, here it is one problem among the rest.
		// The first one is read and checked; the second is reported, not silently dropped.
		{"section written twice", "imap: {host: h, username: u, password: p}\nsmtp: {host: s, from: nobody}\nsmtp: {port: 25}\n",
			[]string{"smtp: set twice (first on line 2)", `smtp.from: must be an e-mail address like desk@example.cn, got "nobody"`}, nil},
		// 0 is replaced by the default, so it was silently "accepted"; it means nothing here.
		{"explicit zero where it means nothing", "imap: {host: h, username: u, password: p}\nsmtp: {host: s, from: desk@example.cn, max_attempts: 0, timeout: 0s}\n",
			[]string{"smtp.max_attempts: must be at least 1, got 0 (leave the key out for the default, 20)",
				"smtp.timeout: must be more than 0s, got 0s (leave the key out for the default, 1m0s)"}, nil},
		// For the *_after overrides 0 means "use the days": accepted.
		{"zero where it means not set", minimal + "policy: {review_after: 0s, appeal_after: -1s}\n",
			[]string{"policy.appeal_after: must not be negative, got -1s (0s means not set)"}, []string{"policy.review_after"}},
		{"smtp sessions out of range", "imap: {host: h, username: u, password: p}\nsmtp: {host: s, from: desk@example.cn, sessions: 100, idle_timeout: -1s}\n",
			[]string{"smtp.sessions: must be 1-32, got 100", "smtp.idle_timeout: must be more than 0s, got -1s"}, nil},
		{"smtp sessions zero", "imap: {host: h, username: u, password: p}\nsmtp: {host: s, from: desk@example.cn, sessions: 0}\n",
			[]string{"smtp.sessions: must be 1-32, got 0 (leave the key out for the default, 4)"}, nil},
		// The delay doubles from retry_min up to retry_max: a smaller cap is a typo.
		{"retry_max below retry_min", "imap: {host: h, username: u, password: p}\nsmtp: {host: s, from: desk@example.cn, retry_min: 1m, retry_max: 30s}\n",
			[]string{"smtp.retry_max: must be at least smtp.retry_min (1m0s), got 30s"}, nil},
		{"enums", "imap: {host: h, username: u, password: p, processed: delete}\nsmtp: {host: s, from: desk@example.cn}\ntemplates: {locale: fr}\nrouting: {severity: {rules: [{name: r, keywords: [x], level: high, fields: [url]}]}}\n",
			[]string{`imap.processed: must be flag, move or none, got "delete"`, `templates.locale: must be zh-CN or en, got "fr"`,
				`routing.severity.rules[0].level: must be major or ordinary, got "high"`,
				`routing.severity.rules[0].fields[0]: must be subject, body, attachments, applicant_org or applicant_email, got "url"`}, nil},
		{"auth-results needs its server", minimal + "staff: {auth: {mode: auth-results}}\n",
			[]string{"staff.auth.authserv_id: required when staff.auth.mode uses auth-results (the authserv-id your own server writes)"}, nil},
		// notify and supervisors default to copies of addresses and admins: one bad
		// address is one problem, under the key that was written.
		{"a defaulted list does not repeat its source's problems", minimal + "staff: {addresses: [bad], admins: [worse]}\n",
			[]string{`staff.addresses[0]: must be an e-mail address like desk@example.cn, got "bad"`,
				`staff.admins[0]: must be an e-mail address like desk@example.cn, got "worse"`},
			[]string{"staff.notify", "staff.supervisors", "routing.leadership"}},
		{"sensitive kinds are document kinds", minimal + "policy: {sensitive_kinds: [id_card, passport]}\n",
			[]string{`policy.sensitive_kinds[1]: unknown document kind "passport" (known: application_form, id_card, business_license, work_id, withdrawal_letter, explanation_letter, reason_proof, power_of_attorney, lawyer_letter, unclassified)`}, nil},
		{"calendar", minimal + "policy: {calendar: {time_zone: Mars/Base, weekend: [sunday, funday], holidays: [2026-1-1, 2026-10-10], workdays: [2026-10-10]}}\n",
			[]string{`policy.calendar.time_zone: unknown time zone "Mars/Base" (an IANA name like Asia/Shanghai)`,
				`policy.calendar.weekend[1]: must be a weekday name like saturday, got "funday"`,
				`policy.calendar.holidays[0]: must be a date YYYY-MM-DD, got "2026-1-1"`,
				`policy.calendar.workdays[0]: 2026-10-10 is also policy.calendar.holidays[1]`}, nil},
		// Seven weekend days would make every business-day deadline loop forever.
		{"no working day", minimal + "policy: {calendar: {weekend: [monday, tuesday, wednesday, thursday, friday, saturday, sunday]}}\n",
			[]string{"policy.calendar.weekend: leaves no working day in the week"}, nil},
		{"http listen", minimal + "http: {listen: localhost}\n",
			[]string{`http.listen: must be host:port with a port 1-65535, like 127.0.0.1:8025, got "localhost"`}, nil},
		{"imap start", "imap: {host: h, username: u, password: p, start: newest}\nsmtp: {host: s, from: desk@example.cn}\n",
			[]string{`imap.start: must be all or new, got "newest"`}, nil},
		{"master key", minimal + "store: {master_key: abc}\n",
			[]string{"store.master_key: must be 32 bytes as 64 hex digits or base64 (or set COMPLAINTD_MASTER_KEY, or store.master_key_file; leave all empty for a generated key file)"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := problemsOf(t, tc.text)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, strings.Join(got, "\n"))
				}
			}
			for _, n := range tc.not {
				for _, g := range got {
					if strings.HasPrefix(g, n) {
						t.Errorf("unexpected %q", g)
					}
				}
			}
			if tc.want == nil && got != nil {
				t.Errorf("want no problems, got:\n%s", strings.Join(got, "\n"))
			}
		})
	}
}

// numericKeys lists the key path and type of every integer and duration key, walking
// the Config type, so a key added later is covered without editing the test.
func numericKeys(t reflect.Type, path string) map[string]reflect.Type {
	keys := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		p := join(path, name)
		switch f.Type.Kind() {
		case reflect.Struct:
			for k, v := range numericKeys(f.Type, p) {
				keys[k] = v
			}
		case reflect.Int, reflect.Int64:
			keys[p] = f.Type
		}
	}
	return keys
}

// withKey returns minimal with one more key set, built as YAML so any depth works.
func withKey(t *testing.T, path string, v any) string {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(minimal), &doc); err != nil {
		t.Fatal(err)
	}
	m := doc
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// smtp.max_attempts: -3 was accepted: not every number was range-checked. Every
// integer and duration key must refuse a negative value, under its own path.
func TestEveryNumberRejectsNegatives(t *testing.T) {
	keys := numericKeys(reflect.TypeFor[Config](), "")
	if len(keys) < 30 {
		t.Fatalf("found only %d numeric keys: %v", len(keys), keys)
	}
	for path, typ := range keys {
		var v any = -3
		if typ == reflect.TypeFor[time.Duration]() {
			v = "-3s"
		}
		got := problemsOf(t, withKey(t, path, v))
		if len(got) != 1 || !strings.HasPrefix(got[0], path+": must ") {
			t.Errorf("%s: %v: got %q, want one problem on %s", path, v, got, path)
		}
	}
}

// A number written as 0 is refused where 0 means nothing (the default would quietly
// take its place); the *_after overrides are the keys where 0 means "not set".
func TestZeroIsRefusedWhereMeaningless(t *testing.T) {
	zeroMeansUnset := map[string]bool{"policy.review_after": true, "policy.process_after": true,
		"policy.expire_after": true, "policy.retention_after": true, "policy.appeal_after": true}
	for path, typ := range numericKeys(reflect.TypeFor[Config](), "") {
		var v any = 0
		if typ == reflect.TypeFor[time.Duration]() {
			v = "0s"
		}
		got := problemsOf(t, withKey(t, path, v))
		if zeroMeansUnset[path] {
			if got != nil {
				t.Errorf("%s: 0 means not set, got %q", path, got)
			}
			continue
		}
		if len(got) != 1 || !strings.HasPrefix(got[0], path+": must ") || !strings.Contains(got[0], "leave the key out for the default") {
			t.Errorf("%s: 0: got %q", path, got)
		}
	}
}

// The shipped example must have no problems at all, even with no secrets in the
// environment beyond the ones it leaves empty.
func TestExampleHasNoProblems(t *testing.T) {
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "x")
	t.Setenv("COMPLAINTD_SMTP_PASSWORD", "y")
	b, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := problemsOf(t, string(b)); got != nil {
		t.Errorf("config.example.yaml:\n%s", strings.Join(got, "\n"))
	}
}

// The key-by-key decode must give exactly what yaml's own strict decode gives, so
// that no file changes meaning: the example, and the YAML features files may use
// (anchors, merge keys, nulls, quoting, explicit empty lists).
func TestDecodeMatchesYAML(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"example": string(example),
		"features": `
imap:
  <<: &conn {host: "h", tls: none, username: ~}
  port: 0x3e1
  idle: no
  limits: {max_parts: 7}
smtp:
  <<: *conn
  tls: tls
  port: 25
  from: desk@example.cn
  retry_max: 1h30m
staff:
  addresses: []
  notify:
  aliases: {a: b@example.cn, "1": c@example.cn}
policy:
  sensitive_kinds: []
  documents:
    - name: r
      when: [{entrusted: true, content_kind: [news]}]
      require: [id_card]
routing:
  severity: {rules: []}
`,
	} {
		t.Run(name, func(t *testing.T) {
			var want Config
			dec := yaml.NewDecoder(strings.NewReader(text))
			dec.KnownFields(true)
			if err := dec.Decode(&want); err != nil {
				t.Fatalf("yaml: %v", err)
			}
			got, _, ps, _ := decode([]byte(text))
			if ps != nil {
				t.Fatalf("problems: %v", ps)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("decode differs from yaml:\n got %+v\nwant %+v", *got, want)
			}
		})
	}
}

// Any input yaml's strict decoder accepts decodes to the same values here, and
// anything it rejects gives at least one problem.
func FuzzDecode(f *testing.F) {
	f.Add(minimal)
	f.Add("imap: &a {host: h}\nsmtp: {<<: *a, port: 1}\n")
	f.Add("policy: {documents: [{name: x, when: [{reposted: yes}]}]}\n")
	f.Add("staff: {aliases: {a: b, a: c}}\n")
	f.Add("imap: {port: 1e3, idle: ~}\n")
	f.Fuzz(func(t *testing.T, text string) {
		var want Config
		dec := yaml.NewDecoder(strings.NewReader(text))
		dec.KnownFields(true)
		yerr := dec.Decode(&want)
		var got *Config
		var ps Problems
		// Our decoding (not the YAML library's, measured above) stays linear.
		mailtest.Cost(t, time.Second+time.Duration(len(text)>>12)*time.Second, 8<<20+uint64(256*len(text)), func() {
			got, _, ps, _ = decode([]byte(text))
		})
		switch {
		case yerr != nil && yerr.Error() == "EOF":
			if ps != nil {
				t.Fatalf("empty document: problems %v", ps)
			}
		case yerr != nil:
			if ps == nil {
				t.Fatalf("yaml refused (%v), decode did not", yerr)
			}
		case ps != nil && !hasNullKey(text):
			t.Fatalf("yaml accepted, decode found %v", ps)
		case ps != nil:
			// yaml skips a pair whose key is null; decode reports it.
		case !reflect.DeepEqual(*got, want):
			t.Fatalf("decode differs from yaml:\n got %+v\nwant %+v", *got, want)
		}
	})
}

// hasNullKey reports a mapping key that is null anywhere in text.
func hasNullKey(text string) bool {
	var root yaml.Node
	if yaml.Unmarshal([]byte(text), &root) != nil {
		return false
	}
	// Aliases are not followed: what they name is walked where it is anchored.
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		for i, c := range n.Content {
			if n.Kind == yaml.MappingNode && i%2 == 0 && isNull(resolve(c)) {
				return true
			}
			if walk(c) {
				return true
			}
		}
		return false
	}
	return walk(&root)
}

// Problems come in the order the file has them; a key left out is reported where its
// section ends, and sections left out come last, in section order.
func TestProblemsInFileOrder(t *testing.T) {
	_, err := Parse([]byte("smtp:\n  from: x\nimap:\n  port: -1\n"))
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("%v", err)
	}
	var paths []string
	for _, p := range ps {
		paths = append(paths, fmt.Sprintf("%s@%d", p.Path, p.Line))
	}
	// A key the file leaves out comes after its section's last line: smtp.host after
	// smtp.from, imap.host after imap.port. Its Line is its section's.
	want := []string{"smtp.from@2", "smtp.host@1", "imap.port@4", "imap.host@3", "imap.username@3", "imap.password@3"}
	if !slices.Equal(paths, want) {
		t.Errorf("order: %v, want %v", paths, want)
	}
}

// Validate on a configuration built in code (the demo's) checks it as if written.
func TestValidateInCode(t *testing.T) {
	c := &Config{IMAP: IMAP{Host: "h", Username: "u", Password: "p"}, SMTP: SMTP{Host: "s", From: "desk@example.cn", MaxAttempts: -1}}
	c.ApplyDefaults()
	err := c.Validate()
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 1 || ps[0].Error() != "smtp.max_attempts: must be at least 1, got -1" {
		t.Errorf("Validate: %v", err)
	}
	c.SMTP.MaxAttempts = 3
	if err := c.Validate(); err != nil {
		t.Errorf("a sound config: %v", err)
	}
}

// Load names the file once, then one problem per line, so `run` prints the list as
// `config check` does.
func TestLoadWrapsProblemsWithTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("imap: {host: h, username: u, password: p, port: -1}\nsmtp: {host: s, from: desk@example.cn, max_attempts: -3}\n"), 0o600)
	_, err := Load(path)
	want := path + ": 2 problems:\nimap.port: must be 1-65535, got -1\nsmtp.max_attempts: must be at least 1, got -3"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 2 {
		t.Errorf("errors.As: %v", ps)
	}
}

// A Check from another package (app's cron check) adds its problems to the same list,
// in file order, and is dropped where the key did not decode.
func TestChecksJoinTheList(t *testing.T) {
	check := func(c *Config) Problems {
		return Problems{{Path: "schedule.digest", Msg: "bad " + c.Schedule.Digest}, {Path: "imap.port", Msg: "from the check"}}
	}
	_, err := Parse([]byte("imap: {host: h, username: u, password: p, port: x}\nsmtp: {host: s, from: desk@example.cn}\nschedule: {digest: nope}\n"), check)
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatal(err)
	}
	want := "imap.port: cannot use \"x\" as an integer\nschedule.digest: bad nope"
	if ps.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", ps, want)
	}
}

// store.master_key_file is relative to the file, like the other paths; imap.start
// stays empty (the guard's "not set") unless written.
func TestMasterKeyFileAndStart(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	os.WriteFile(p, []byte("imap: {host: h, username: u, password: p}\nsmtp: {host: s, from: desk@example.cn}\nstore: {master_key_file: keys/master.key}\n"), 0o600)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.MasterKeyFile != filepath.Join(dir, "keys", "master.key") || c.IMAP.Start != "" {
		t.Errorf("master_key_file %q, start %q", c.Store.MasterKeyFile, c.IMAP.Start)
	}
}
