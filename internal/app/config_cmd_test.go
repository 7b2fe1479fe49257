package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// broken has one problem of each kind the issue listed, plus a cron spec that only
// schedule can parse: `config check` must print all of them in one run.
const broken = `imap:
  host: imap.example.cn
  port: "abc"
  colour: blue
  username: u
  password: p
  tls: ssl
smtp:
  host: smtp.example.cn
  username: u
  password: p
  from: desk@example.cn
  max_attempts: -3
schedule:
  digest: "0 9 * *"
`

var brokenProblems = []string{
	`imap.port: cannot use "abc" as an integer`,
	`imap.colour: unknown key (known: ca_file, command_timeout, erased_mail, fetch_timeout, host, idle, limits, mailbox, max_attempts, password, poll_interval, port, processed, processed_folder, quarantine_folder, server_name, start, tls, tls_min_version, username)`,
	`imap.tls: must be none, starttls or tls, got "ssl"`,
	`smtp.max_attempts: must be at least 1, got -3`,
	`schedule.digest: "0 9 * *": expected 5 to 6 fields, found 4: [0 9 * *]`,
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// `config check` is what an admin runs before a restart: the exit code says whether
// the file is good, stdout has the problems (or "ok: FILE"), stderr a summary.
func TestConfigCheckCommand(t *testing.T) {
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "x")
	t.Setenv("COMPLAINTD_SMTP_PASSWORD", "y")
	brokenPath := writeConfig(t, broken)
	example := filepath.Join("..", "..", "config.example.yaml")
	for _, tc := range []struct {
		name      string
		args      []string
		code      int
		stdout    string
		stderrHas string
	}{
		// The shipped example (with the secrets it leaves to the environment) is clean.
		{"example is ok", []string{"config", "check", "-config", example}, 0, "ok: " + example + "\n", ""},
		// Every problem at once, one per line, in file order; exit 1.
		{"broken file", []string{"config", "check", "-config", brokenPath}, 1,
			strings.Join(brokenProblems, "\n") + "\n", "complaintd: " + brokenPath + ": 5 problems\n"},
		// A file that is not there is an error, not a list of problems.
		{"missing file", []string{"config", "check", "-config", filepath.Join(t.TempDir(), "nope.yaml")}, 1, "", "no such file"},
		// Usage mistakes exit 2 like every other command's.
		{"no -config", []string{"config", "check"}, 2, "", "config check -config FILE"},
		{"no subcommand", []string{"config"}, 2, "", "config: check -config FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(context.Background(), tc.args, &out, &errOut)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, errOut.String())
			}
			if out.String() != tc.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), tc.stdout)
			}
			if !strings.Contains(errOut.String(), tc.stderrHas) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tc.stderrHas)
			}
		})
	}
}

// `run` refuses the same file with the same list at once, one problem per line,
// before it opens anything.
func TestRunReportsEveryConfigProblem(t *testing.T) {
	path := writeConfig(t, broken)
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"run", "-config", path}, &out, &errOut); code != 1 {
		t.Fatalf("exit %d, want 1; stderr: %s", code, errOut.String())
	}
	want := "complaintd: " + path + ": 5 problems:\n  " + strings.Join(brokenProblems, "\n  ") + "\n"
	if errOut.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut.String(), want)
	}
}
