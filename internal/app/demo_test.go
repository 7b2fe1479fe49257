package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/config"
)

// `demo -keep DIR` must end by printing commands that work on what it kept,
// and its config.yaml alone (no environment) must open the kept data,
// attachments included.
func TestDemoKeepPrintsWorkingInspectCommands(t *testing.T) {
	for _, v := range []string{"COMPLAINTD_CONFIG", "COMPLAINTD_MASTER_KEY", "COMPLAINTD_IMAP_PASSWORD", "COMPLAINTD_SMTP_PASSWORD", "COMPLAINTD_STAFF_SECRET"} {
		t.Setenv(v, "")
	}
	dir := filepath.Join(t.TempDir(), "kept")
	var out, errOut bytes.Buffer
	if rc := Main(context.Background(), []string{"demo", "-keep", dir}, &out, &errOut); rc != 0 {
		t.Fatalf("demo exited %d: %s\n%s", rc, errOut.String(), out.String())
	}
	for _, want := range []string{"→ delivered: a bounce", "=== Cases (3) ===", "TS-2026-000001  accepted", "demo finished:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	var commands [][]string
	for _, line := range strings.Split(out.String(), "\n") {
		if args, ok := strings.CutPrefix(line, "  complaintd "); ok {
			commands = append(commands, strings.Fields(args))
		}
	}
	if len(commands) < 2 || !strings.Contains(out.String(), "complaintd cases list -config "+cfgPath) {
		t.Fatalf("the demo printed %d inspect commands; want `cases list -config %s` among them:\n%s", len(commands), cfgPath, out.String())
	}
	for _, args := range commands {
		var cmdOut, cmdErr bytes.Buffer
		if rc := Main(context.Background(), args, &cmdOut, &cmdErr); rc != 0 || cmdOut.Len() == 0 {
			t.Errorf("complaintd %s: exit %d, %d bytes out: %s", strings.Join(args, " "), rc, cmdOut.Len(), cmdErr.String())
		}
	}

	// The whole daemon opens on the file: the master key in it unseals the
	// vault's key files.
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatalf("load %s: %v", cfgPath, err)
	}
	d, err := openDesk(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("open the kept data with its config alone: %v", err)
	}
	if err := d.store.Close(); err != nil {
		t.Fatal(err)
	}
}
