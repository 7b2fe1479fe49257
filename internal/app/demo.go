package app

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"time"

	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/demo"
)

// cmdDemo is `complaintd demo`: the flow of internal/demo around the real
// daemon as wired here. It needs no setup and leaves nothing behind unless
// -keep names a directory.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keep := fs.String("keep", "", "keep the data directory here, with a config.yaml to inspect it (default: a temporary one, removed at exit)")
	verbose := fs.Bool("v", false, "show the daemon's log")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logW := io.Discard
	if *verbose {
		logW = stderr
	}
	return demo.Run(ctx, demo.Options{
		Daemon:    runDesk,
		OpenStore: openStoreReadOnly,
		Log:       newLogger(logW, slog.LevelDebug),
		Stdout:    stdout,
		Keep:      *keep,
		Timeout:   *timeout,
	})
}

// runDesk builds the daemon from cfg and runs it until ctx ends, as `run`
// does without signals.
func runDesk(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	d, err := openDesk(cfg, log)
	if err != nil {
		return err
	}
	return d.run(ctx, nil)
}
