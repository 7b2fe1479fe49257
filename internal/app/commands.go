package app

import (
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
	d, err := openDesk(cfg, log)
	if err != nil {
		return err
	}
	d.cfgPath = *cfgPath
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
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

func (s *caseSource) get(ctx context.Context, path string, v any) error {
	client := controlClient(s.socket, 30*time.Second)
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://complaintd"+path, nil)
	resp, err := client.Do(req)
	if err == nil {
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return store.ErrNotFound
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			return fmt.Errorf("daemon: %s: %s", resp.Status, strings.TrimSpace(string(b)))
		}
		return json.NewDecoder(resp.Body).Decode(v)
	}
	// No daemon: open the file read-only (this fails fast if a daemon holds it but
	// its socket is somewhere else).
	st, oerr := openStoreReadOnly(s.cfg)
	if oerr != nil {
		return fmt.Errorf("no daemon at %s (%v) and %w", s.socket, err, oerr)
	}
	defer st.Close()
	u, _ := url.Parse(path)
	if id, ok := strings.CutPrefix(u.Path, "/cases/"); ok {
		c, err := showCase(st, id)
		if err != nil {
			return err
		}
		*(v.(**cases.Case)) = c
		return nil
	}
	cs, err := listCases(st, filterFrom(u.Query()))
	if err != nil {
		return err
	}
	*(v.(*[]*cases.Case)) = cs
	return nil
}

func cmdCases(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"cases: list or show"}
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
		if err := fs.Parse(args[1:]); err != nil {
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
		var cs []*cases.Case
		if err := src.get(ctx, "/cases?"+f.query(), &cs); err != nil {
			return err
		}
		if *asJSON {
			return writeIndented(stdout, cs)
		}
		caseprint.Table(stdout, cs)
		return nil
	case "show":
		rest := args[1:]
		var id string
		if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
			id, rest = rest[0], rest[1:]
		}
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if id == "" && fs.NArg() > 0 {
			id = fs.Arg(0)
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
			err = src.get(ctx, "/cases/"+url.PathEscape(id), &c)
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
		caseprint.Detail(stdout, c)
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
