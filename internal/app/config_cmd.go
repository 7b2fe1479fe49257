package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/routing"
	"github.com/complaintd/complaintd/internal/schedule"
)

// cmdConfig runs `config check`: every problem of the file on stdout, one per line and
// each starting with its key path, exactly as `run` would refuse the file; the exit
// code is 1 when there is any, so a deployment script can check before it restarts.
func cmdConfig(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return usageError{"config: check -config FILE"}
	}
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (required)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *cfgPath == "" || fs.NArg() > 0 {
		return usageError{"config check -config FILE"}
	}
	_, err := loadConfig(*cfgPath)
	var ps config.Problems
	switch {
	case errors.As(err, &ps):
		for _, p := range ps {
			fmt.Fprintln(stdout, p)
		}
		n := fmt.Sprintf("%d problems", len(ps))
		if len(ps) == 1 {
			n = "1 problem"
		}
		return fmt.Errorf("%s: %s", *cfgPath, n)
	case err != nil:
		return err // unreadable: the message says why
	}
	fmt.Fprintf(stdout, "ok: %s\n", *cfgPath)
	return nil
}

// loadConfig is how `run` and `config check` read a file, so that both report the
// same problems: config's own checks, and those only the parts that use a setting can
// make: the cron specs (schedule), the departments' channels (routing, which knows
// 凤凰资讯 and 资讯频道 for one channel) and the control socket's path. Before, the
// last two passed `config check` and stopped `run` (found in review). All are checks
// of the one run, so that every problem is listed at once: the socket's path, checked
// only once the rest was good, came a run later (found in review). Config resolves
// the paths (the socket's default next to the store) before it runs the checks.
func loadConfig(path string) (*config.Config, error) {
	return config.Load(path, scheduleProblems, routingProblems, socketProblems)
}

// routingProblems are routing.New's refusals of the routing section, one per key.
func routingProblems(cfg *config.Config) config.Problems {
	_, err := routing.New(cfg.Routing)
	if err == nil {
		return nil
	}
	var ps config.Problems
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			key, msg, ok := strings.Cut(e.Error(), ": ")
			if !ok {
				key, msg = "routing", e.Error()
			}
			ps = append(ps, config.Problem{Path: key, Msg: msg})
		}
		return ps
	}
	return config.Problems{{Path: "routing", Msg: strings.TrimPrefix(err.Error(), "routing: ")}}
}

// maxSocketPath is the longest path a Unix socket address holds on Linux (sun_path,
// 108 bytes with its NUL).
const maxSocketPath = 107

func socketProblems(cfg *config.Config) config.Problems {
	if p := cfg.HTTP.ControlSocket; len(p) > maxSocketPath {
		return config.Problems{{Path: "http.control_socket", Msg: fmt.Sprintf("%d bytes long: a Unix socket's path holds at most %d (choose a shorter one)", len(p), maxSocketPath)}}
	}
	return nil
}

// scheduleProblems checks each cron spec with the scheduler's own parser, one key at
// a time so that each problem carries its key.
func scheduleProblems(cfg *config.Config) config.Problems {
	s := cfg.Schedule
	var ps config.Problems
	for _, one := range []struct {
		key   string
		specs schedule.Specs
	}{
		{"schedule.deadlines", schedule.Specs{Deadlines: s.Deadlines}},
		{"schedule.digest", schedule.Specs{Digest: s.Digest}},
		{"schedule.weekly", schedule.Specs{Weekly: s.Weekly}},
		{"schedule.retention", schedule.Specs{Retention: s.Retention}},
	} {
		if err := schedule.CheckSpecs(one.specs); err != nil {
			// CheckSpecs starts its message with the key, which the Problem carries.
			ps = append(ps, config.Problem{Path: one.key, Msg: strings.TrimPrefix(err.Error(), one.key+": ")})
		}
	}
	return ps
}
