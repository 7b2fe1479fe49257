package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"
	"time"

	"github.com/complaintd/complaintd/internal/caseprint"
	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/store"
)

func cmdRun(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (required)")
	verbose := fs.Bool("v", false, "debug logging")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile here until shutdown (for performance work)")
	traceOut := fs.String("trace", "", "write an execution trace here until shutdown (for performance work)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cfgPath == "" {
		return usageError{"run: -config FILE is required"}
	}
	if *cpuProfile != "" {
		f, err := os.OpenFile(*cpuProfile, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if *traceOut != "" {
		f, err := os.OpenFile(*traceOut, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("trace: %w", err)
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			return fmt.Errorf("trace: %w", err)
		}
		defer trace.Stop()
	}
	// Every problem of the file at once, the list `config check` prints.
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := newLogger(stderr, level)
	applyMemoryLimit(log, os.LookupEnv)
	// The signals are caught before the store is opened: opening waits for its lock
	// and may migrate it, and a SIGHUP in that time (systemctl reload) used Go's
	// default action, which ends the process, and systemd counts that a clean exit
	// and does not restart it (found in review). A SIGHUP then is a reload once up.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	d, err := openDesk(cfg, log)
	if err != nil {
		return err
	}
	d.cfgPath = *cfgPath
	reload := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				select {
				case reload <- struct{}{}:
				default:
				}
			}
		}
	}()
	return d.run(ctx, reload)
}

// controlTimeout is how long the CLI waits for the running daemon.
var controlTimeout = 30 * time.Second

// caseSource reads cases through the running daemon's control socket, or straight
// from the store file when no daemon runs.
type caseSource struct {
	cfg    *config.Config
	socket string
	dbPath string
	lock   time.Duration
}

func newCaseSource(cfgPath string) (*caseSource, error) {
	// Only the store and socket paths are needed: reading cases must work even when
	// the mail settings are incomplete on this machine.
	cfg, err := readPathsConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	return &caseSource{cfg: cfg, socket: cfg.HTTP.ControlSocket, dbPath: cfg.Store.Path, lock: time.Second}, nil
}

// location is the calendar's time zone: the CLI shows times as the mails do.
func (s *caseSource) location() (*time.Location, error) {
	loc, err := time.LoadLocation(s.cfg.Policy.Calendar.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("policy.calendar.time_zone: %w", err)
	}
	return loc, nil
}

// request asks the daemon; ok is false when no daemon answers on the socket (the
// caller then reads the file itself).
func (s *caseSource) request(ctx context.Context, path string) (resp *http.Response, ok bool, err error) {
	client := controlClient(s.socket, controlTimeout)
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://complaintd"+path, nil)
	resp, err = client.Do(req)
	if err != nil {
		return nil, false, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return resp, true, nil
	case http.StatusNotFound:
		resp.Body.Close()
		return nil, true, store.ErrNotFound
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	return nil, true, fmt.Errorf("daemon: %s: %s", resp.Status, strings.TrimSpace(string(b)))
}

// offline opens the file read-only when no daemon runs (this fails fast if a daemon
// holds it but its socket is somewhere else).
func (s *caseSource) offline(daemonErr error) (*store.Store, error) {
	st, err := openStoreReadOnly(s.cfg)
	if err != nil {
		return nil, fmt.Errorf("no daemon at %s (%v) and %w", s.socket, daemonErr, err)
	}
	return st, nil
}

// show reads one case.
func (s *caseSource) show(ctx context.Context, id string) (*cases.Case, error) {
	resp, ok, err := s.request(ctx, "/cases/"+url.PathEscape(id))
	if ok {
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var c *cases.Case
		return c, json.NewDecoder(resp.Body).Decode(&c)
	}
	st, err := s.offline(err)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return showCase(st, id)
}

// each calls fn with every case the filter selects, as they come: through the daemon,
// its streamed array element by element.
func (s *caseSource) each(ctx context.Context, f caseFilter, fn func(*cases.Case) error) error {
	resp, ok, err := s.request(ctx, "/cases?"+f.query())
	if !ok {
		st, err := s.offline(err)
		if err != nil {
			return err
		}
		defer st.Close()
		return eachCase(st, f, fn)
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return fmt.Errorf("daemon: case list: not an array (%v)", err)
	}
	for dec.More() {
		var c *cases.Case
		if err := dec.Decode(&c); err != nil {
			return fmt.Errorf("daemon: case list cut off: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("daemon: case list cut off: %w", err)
	}
	return nil
}

// jsonArray prints a JSON array element by element, indented as writeIndented would
// print the whole slice.
type jsonArray struct {
	w io.Writer
	n int
}

func (a *jsonArray) add(v any) error {
	b, err := marshalIndented(v, "  ")
	if err != nil {
		return err
	}
	sep := ",\n  "
	if a.n == 0 {
		sep = "[\n  "
	}
	a.n++
	if _, err := io.WriteString(a.w, sep); err != nil {
		return err
	}
	_, err = a.w.Write(b)
	return err
}

func (a *jsonArray) close() error {
	end := "\n]\n"
	if a.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(a.w, end)
	return err
}

func cmdCases(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"cases: list, show, export, erase or documents"}
	}
	fs := flag.NewFlagSet("cases "+args[0], flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (or COMPLAINTD_CONFIG)")
	asJSON := fs.Bool("json", false, "print JSON")
	state := fs.String("state", "", "only cases in this state (list)")
	dept := fs.String("dept", "", "only cases of this department (list)")
	severity := fs.String("severity", "", "only cases of this severity: ordinary or major (list)")
	reveal := fs.Bool("reveal", false, "show ID numbers and phones in full (show; recorded on the case with your user name)")
	switch args[0] {
	case "export":
		return cmdCasesExport(ctx, args[1:], stdout)
	case "erase":
		return cmdCasesErase(ctx, args[1:], stdout)
	case "documents":
		return cmdCasesDocuments(ctx, args[1:], stdout)
	case "list":
		if _, err := parseArgs(fs, args[1:], 0); err != nil {
			return err
		}
		src, err := newCaseSource(*cfgPath)
		if err != nil {
			return err
		}
		f := caseFilter{state: *state, dept: *dept, severity: *severity}
		if err := f.check(); err != nil {
			return err
		}
		if *asJSON {
			arr := &jsonArray{w: stdout}
			if err := src.each(ctx, f, func(c *cases.Case) error { return arr.add(c) }); err != nil {
				return err
			}
			return arr.close()
		}
		loc, err := src.location()
		if err != nil {
			return err
		}
		table := caseprint.NewTable(stdout, loc)
		err = src.each(ctx, f, func(c *cases.Case) error {
			table.Row(c)
			return nil
		})
		table.Flush()
		return err
	case "show":
		id, err := parseWithArg(fs, args[1:])
		if err != nil {
			return err
		}
		if id == "" {
			return usageError{"cases show ID"}
		}
		src, err := newCaseSource(*cfgPath)
		if err != nil {
			return err
		}
		var c *cases.Case
		if *reveal {
			c, err = revealCase(ctx, *cfgPath, id)
		} else {
			c, err = src.show(ctx, id)
		}
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("case %s: not found", id)
			}
			return err
		}
		if *asJSON {
			return writeIndented(stdout, c)
		}
		loc, err := src.location()
		if err != nil {
			return err
		}
		caseprint.Detail(stdout, c, loc)
		return nil
	}
	return usageError{fmt.Sprintf("cases: unknown subcommand %q", args[0])}
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// marshalIndented is one value as writeIndented prints it (no HTML escaping), with
// every line after the first prefixed, and no final newline.
func marshalIndented(v any, prefix string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent(prefix, "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// parseWithArg parses a subcommand's flags around one positional argument, which may
// come first (`cases show ID -json`, as people type it), after the flags (the flag
// package's own order) or between them. It returns "" when there is none.
func parseWithArg(fs *flag.FlagSet, args []string) (string, error) {
	pos, err := parseArgs(fs, args, 1)
	if err != nil || len(pos) == 0 {
		return "", err
	}
	return pos[0], nil
}

// parseArgs parses flags and positional arguments in any order and returns the
// positional ones, refusing more than max. The flag package stops at the first word
// that is not a flag: `cases show -config F ID -json` dropped -json unseen and printed
// text with exit 0, and a stray word (`cases list -config F incomplete -json`) ended
// the flags the same way (found in review).
func parseArgs(fs *flag.FlagSet, args []string, max int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) > max {
		return nil, usageError{fmt.Sprintf("%s: unexpected argument %q", fs.Name(), pos[max])}
	}
	return pos, nil
}
