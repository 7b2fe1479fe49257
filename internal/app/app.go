// Package app wires complaintd together: it builds the parts from the configuration,
// runs the subcommands, handles signals and shuts down in a fixed order. It holds no
// business logic and is the one place a logger is built.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/complaintd/complaintd/internal/imapsource"
)

const usage = `complaintd — the complaint and takedown desk over e-mail

Usage:
  complaintd init -mailbox ADDR -staff A,B -admin C [-imap-host H] [-smtp-host H] [-smtp-user U|-]
                  [-state DIR] [-binary F] [-user U] [-start all|new] DIR   (init -h: every flag)
                                          a config, a master key and a systemd unit for a new desk
  complaintd run -config FILE [-v] [-cpuprofile F] [-trace F]   run the daemon (SIGHUP: reload the config)
  complaintd demo [-keep DIR] [-v]        the whole flow on an embedded mail server, with sample mails
  complaintd cases list [-state S] [-dept D] [-severity S] [-json] [-config FILE]
  complaintd cases show ID [-json] [-reveal] [-config FILE]   -reveal: ID numbers and phones in full, recorded
  complaintd cases erase ID -reason TEXT [-config FILE]      erase a case's personal data and documents (PIPL art. 47)
  complaintd cases documents ID -out DIR [-config FILE]      decrypt a case's documents for staff, recorded
  complaintd cases export -csv [-state S] [-config FILE]    the case table for Excel (UTF-8 with BOM)
  complaintd stats [-since YYYY-MM-DD] [-json] [-config FILE]
  complaintd staff revoke-tokens [-case ID] [-config FILE]   revoke the staff tokens issued so far
  complaintd alerts [-json] [-config FILE]              the operator alerts not yet acknowledged
  complaintd alerts ack (-all | ID) [-config FILE]      acknowledge them: /healthz no longer lists them
  complaintd quarantine list [-json] [-config FILE]   quarantined mail: whose fault, why, where it is
  complaintd quarantine retry ID | -all [-config FILE]   take quarantined mail back for another attempt
  complaintd backup -o FILE [-config FILE]    a consistent archive of the store and the vault, also while the daemon runs
  complaintd restore -i FILE [-config FILE]  put an archive back into an empty data directory (daemon stopped)
  complaintd config check -config FILE   every problem of the file, one per line; exit 1 if any
  complaintd templates check [-dir D] [-locale L] [-config FILE]
  complaintd templates preview NAME [-dir D] [-locale L] [-config FILE [-case ID]] [-raw]
  complaintd version

Secrets may come from the environment: COMPLAINTD_IMAP_PASSWORD, COMPLAINTD_SMTP_PASSWORD,
COMPLAINTD_MASTER_KEY, COMPLAINTD_STAFF_SECRET (config check reads them too, as run does).
`

// ExitDecide is the exit code of a start that waits for the operator's decision (the
// adoption guard: set imap.start): a restart cannot change it, so the systemd unit
// does not restart on it (RestartPreventExitStatus).
const ExitDecide = 78 // EX_CONFIG of sysexits.h

// Main runs one command and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	out := &outWriter{w: stdout}
	stdout = out
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(ctx, args[1:], stderr)
	case "init":
		err = cmdInit(args[1:], stdout, stderr)
	case "demo":
		err = cmdDemo(ctx, args[1:], stdout, stderr)
	case "cases":
		err = cmdCases(ctx, args[1:], stdout)
	case "backup":
		err = cmdBackup(ctx, args[1:], stdout)
	case "restore":
		err = cmdRestore(ctx, args[1:], stdout)
	case "config":
		err = cmdConfig(args[1:], stdout, stderr)
	case "templates":
		err = cmdTemplates(args[1:], stdout)
	case "stats":
		err = cmdStats(ctx, args[1:], stdout)
	case "staff":
		err = cmdStaff(ctx, args[1:], stdout)
	case "alerts":
		err = cmdAlerts(ctx, args[1:], stdout)
	case "quarantine":
		err = cmdQuarantine(ctx, args[1:], stdout)
	case "version":
		fmt.Fprintln(stdout, "complaintd", version())
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "complaintd: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err == nil && out.err != nil {
		err = fmt.Errorf("write output: %w", out.err)
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "complaintd: %v\n", err)
			return 2
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "complaintd: %s\n", indentJoined(err))
		if imapsource.IsRefused(err) {
			return ExitDecide
		}
		return 1
	}
	return 0
}

// outWriter remembers the first error writing the output, and writes nothing after
// it: the printed forms (tables, `cases show`, `stats`) ignored their write errors,
// and `cases list > report.txt` on a full disk exited 0 with the list cut off (found
// in review). Main makes such a command fail.
type outWriter struct {
	w   io.Writer
	err error
}

func (o *outWriter) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	o.err = err
	return n, err
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// indentJoined prints errors.Join results one per line, so that every config problem
// is visible at once.
func indentJoined(err error) string {
	lines := strings.Split(err.Error(), "\n")
	if len(lines) == 1 {
		return lines[0]
	}
	return strings.Join(lines, "\n  ")
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// version is the module version and the VCS revision the binary was built from (Go
// stamps both into the build info; `go run` and test binaries have "(devel)" and no
// revision).
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (no build info)"
	}
	v := bi.Main.Version
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev != "" {
		v += " " + rev[:min(12, len(rev))] + dirty
	}
	if at != "" {
		v += " " + at
	}
	return v + " " + bi.GoVersion
}
