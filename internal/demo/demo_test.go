package demo

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/config"
)

// The file -keep writes must load into the configuration the daemon ran with:
// same servers, same data, same master key (else the kept attachments could
// not be opened), and nothing from the environment.
func TestWrittenConfigLoadsBack(t *testing.T) {
	for _, v := range []string{"COMPLAINTD_IMAP_PASSWORD", "COMPLAINTD_SMTP_PASSWORD", "COMPLAINTD_MASTER_KEY", "COMPLAINTD_STAFF_SECRET"} {
		t.Setenv(v, "")
	}
	dir := t.TempDir()
	cfg, err := demoConfig(dir, "127.0.0.1:1143", "127.0.0.1:1025")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := writeConfig(path, cfg); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v, mode %v; want 0600 (it holds the master key)", err, fi.Mode())
	}
	got, err := config.Load(path)
	if err != nil {
		t.Fatalf("load the written config: %v", err)
	}
	if !reflect.DeepEqual(got, cfg) {
		t.Errorf("loaded config differs from the one the daemon ran with:\n got %+v\nwant %+v", got, cfg)
	}
	if _, err := config.DecodeKey(got.Store.MasterKey); err != nil {
		t.Errorf("master key: %v", err)
	}
}

func TestKeepRefusesADirectoryWithData(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "complaintd.db"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Run(context.Background(), Options{Daemon: func(context.Context, *config.Config, *slog.Logger) error { return nil },
		Stdout: &bytes.Buffer{}, Keep: dir})
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("got %v, want a refusal: the demo's mails would be duplicates of the last run's", err)
	}
}

// A daemon that cannot start ends the demo at once with its error, not at the
// timeout.
func TestDaemonFailingEarlyEndsTheDemo(t *testing.T) {
	boom := errors.New("store locked")
	start := time.Now()
	err := Run(context.Background(), Options{
		Daemon: func(context.Context, *config.Config, *slog.Logger) error { return boom },
		Stdout: &bytes.Buffer{}, Timeout: 30 * time.Second,
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the daemon's error", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("took %v: the demo waited for its timeout", d)
	}
}
