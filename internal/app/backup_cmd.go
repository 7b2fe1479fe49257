package app

// This file is `complaintd backup` and `complaintd restore`: the archive of
// internal/backup, made by the running daemon over its control socket (a consistent
// snapshot while it works on) or from the store file when no daemon runs, and put
// back into an empty data directory.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/backup"
	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/store"
)

// backupSource is what the archive of cfg holds, around the open store st.
func backupSource(st *store.Store, cfg *config.Config, now time.Time) backup.Source {
	schema, _ := st.Schema()
	return backup.Source{Store: st, AttachmentsDir: cfg.Store.AttachmentsDir, TokenKeyFile: cfg.Staff.Auth.TokenKeyFile,
		Version: version(), Schema: schema, MasterKey: masterKeySource(cfg), Now: now}
}

// masterKeySource says where the master key of cfg is read from, never the key.
func masterKeySource(cfg *config.Config) string {
	switch {
	case os.Getenv("COMPLAINTD_MASTER_KEY") != "":
		return "COMPLAINTD_MASTER_KEY (the daemon's environment)"
	case cfg.Store.MasterKey != "":
		return "store.master_key in the configuration file"
	case os.Getenv("CREDENTIALS_DIRECTORY") != "":
		return "the systemd credential master-key (LoadCredential)"
	case cfg.Store.MasterKeyFile != "":
		return "store.master_key_file " + cfg.Store.MasterKeyFile
	}
	return "the generated key file " + masterKeyPath(cfg) + " next to the store: copy it apart from the backups"
}

// serveBackup is the control socket's GET /backup: the archive, streamed.
func (d *desk) serveBackup(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/gzip")
	src := backupSource(d.store, d.cfg, d.clock.Now())
	// The store's section is read at start only; the staff token key file is
	// reloadable: the archive holds the key the desk signs with now, not the one it
	// started with (found in review).
	src.TokenKeyFile = d.current().cfg.Staff.Auth.TokenKeyFile
	m, err := backup.Write(w, src)
	if err != nil {
		// The client's verification fails on the cut archive; the log says why.
		d.log.Error("backup", "err", err)
		return
	}
	d.log.Info("backup written", "files", len(m.Files), "bytes", m.Bytes(), "schema", m.Schema)
}

func cmdBackup(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (or COMPLAINTD_CONFIG)")
	out := fs.String("o", "", "the archive to write (a new file, 0600)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return usageError{"backup -o FILE [-config FILE]"}
	}
	cfg, err := readPathsConfig(*cfgPath)
	if err != nil {
		return err
	}
	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("backup: %s exists", *out)
	}
	part := *out + ".part"
	f, err := os.OpenFile(part, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(part) // after the rename, nothing
	via, err := writeBackup(ctx, cfg, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// Read back what was written: a daemon that failed half-way leaves a cut archive.
	rf, err := os.Open(part)
	if err != nil {
		return err
	}
	m, err := backup.Verify(rf)
	rf.Close()
	if err != nil {
		return fmt.Errorf("backup: the archive does not verify: %w", err)
	}
	if err := os.Rename(part, *out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup %s: %d files, %d bytes, schema %d, %s, from %s\n", *out, len(m.Files), m.Bytes(), m.Schema,
		m.CreatedAt.Format(time.RFC3339), via)
	fmt.Fprintf(stdout, "the master key is %s\n", m.MasterKey)
	return nil
}

// writeBackup asks the running daemon for the archive, or makes it from the store
// file when no daemon runs. It says which.
func writeBackup(ctx context.Context, cfg *config.Config, w io.Writer) (string, error) {
	client := controlClient(cfg.HTTP.ControlSocket, 0)
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://complaintd/backup", nil)
	resp, err := client.Do(req)
	if err == nil {
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			return "", fmt.Errorf("daemon: %s: %s", resp.Status, strings.TrimSpace(string(b)))
		}
		if _, err := io.Copy(w, resp.Body); err != nil {
			return "", err
		}
		return "the running daemon", nil
	}
	st, oerr := store.OpenReadOnly(cfg.Store.Path, cfg.Store.LockTimeout)
	if oerr != nil {
		return "", fmt.Errorf("no daemon at %s (%v) and %w", cfg.HTTP.ControlSocket, err, oerr)
	}
	defer st.Close()
	if _, err := backup.Write(w, backupSource(st, cfg, time.Now())); err != nil {
		return "", err
	}
	return "the store file (no daemon running)", nil
}

func cmdRestore(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (or COMPLAINTD_CONFIG)")
	in := fs.String("i", "", "the archive that complaintd backup wrote")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || fs.NArg() > 0 {
		return usageError{"restore -i FILE [-config FILE]"}
	}
	cfg, err := readPathsConfig(*cfgPath)
	if err != nil {
		return err
	}
	if c, err := net.DialTimeout("unix", cfg.HTTP.ControlSocket, 2*time.Second); err == nil {
		c.Close()
		return fmt.Errorf("restore: a daemon is running (%s): stop it first", cfg.HTTP.ControlSocket)
	}
	f, err := os.Open(*in)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	m, err := backup.Restore(f, backup.Target{StorePath: cfg.Store.Path, AttachmentsDir: cfg.Store.AttachmentsDir,
		TokenKeyFile: cfg.Staff.Auth.TokenKeyFile})
	if err != nil {
		return err
	}
	// The restored data must open with this configuration's master key.
	st, err := openStoreReadOnly(cfg)
	if err != nil {
		return fmt.Errorf("restored %d files, but they do not open: %w", len(m.Files), err)
	}
	defer st.Close()
	// Every case read whole: its sealed records open with the restored key files.
	n := 0
	err = st.View(func(tx *store.Tx) error {
		return tx.EachCase(true, func(*cases.Case) error { n++; return nil })
	})
	if err != nil {
		return fmt.Errorf("restored %d files, but the cases do not read: %w", len(m.Files), err)
	}
	fmt.Fprintf(stdout, "restored %s (%s, schema %d, by complaintd %s): %d files, %d cases, into %s\n", *in,
		m.CreatedAt.Format(time.RFC3339), m.Schema, m.Version, len(m.Files), n, filepath.Dir(cfg.Store.Path))
	fmt.Fprintln(stdout, "mail that arrived after the backup is read again at the next start; start the daemon now")
	return nil
}
