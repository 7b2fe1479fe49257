// SPDX-License-Identifier: MIT

package app

import (
	"archive/tar"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/clock"
	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/privacy"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
)

// readMasterKey returns the master key from the first place that has one:
// store.master_key (or COMPLAINTD_MASTER_KEY, which config puts there), the systemd
// credential $CREDENTIALS_DIRECTORY/master-key (the unit's LoadCredential, so the
// service user needs no read access to the key file), store.master_key_file, or the
// generated key file next to the store. Unlike masterKey it never makes one (the CLI
// must not invent a key the data was not sealed with). Only the generated file's
// absence is os.ErrNotExist: a configured file that is missing is an error of its own.
func readMasterKey(cfg *config.Config) ([]byte, error) {
	if cfg.Store.MasterKey != "" {
		return config.DecodeKey(cfg.Store.MasterKey)
	}
	if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, "master-key"))
		if err == nil {
			return decodeKeyFile(b, "credential master-key")
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("master key: %w", err)
		}
	}
	if f := cfg.Store.MasterKeyFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("master key: store.master_key_file: %s", strings.TrimPrefix(err.Error(), "open "))
		}
		return decodeKeyFile(b, f)
	}
	b, err := os.ReadFile(masterKeyPath(cfg))
	if err != nil {
		return nil, fmt.Errorf("master key: none configured (store.master_key, COMPLAINTD_MASTER_KEY, store.master_key_file) and %w", err)
	}
	return decodeKeyFile(b, masterKeyPath(cfg))
}

func decodeKeyFile(b []byte, name string) ([]byte, error) {
	k, err := config.DecodeKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("master key in %s: %w", name, err)
	}
	return k, nil
}

// masterKeyPath is where a generated master key is kept: next to the store.
func masterKeyPath(cfg *config.Config) string {
	return filepath.Join(filepath.Dir(cfg.Store.Path), "master.key")
}

// openVaultFor opens the attachments vault of cfg and makes st seal and unseal with
// it. Only for a store this process holds: opening the vault clears its spool.
func openVaultFor(st *store.Store, cfg *config.Config) (*vault.Vault, error) {
	key, err := readMasterKey(cfg)
	if err != nil {
		return nil, err
	}
	v, err := vault.Open(cfg.Store.AttachmentsDir, key)
	if err != nil {
		return nil, fmt.Errorf("attachments: %w", err)
	}
	st.SetSealer(v)
	return v, nil
}

// openStoreReadOnly opens the store when no daemon runs, able to read its sealed
// personal information.
func openStoreReadOnly(cfg *config.Config) (*store.Store, error) {
	st, err := store.OpenReadOnly(cfg.Store.Path, cfg.Store.LockTimeout)
	if err != nil {
		return nil, err
	}
	if _, err := openVaultFor(st, cfg); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// controlClient speaks HTTP to the daemon over its control socket (0600, next to the
// store): how the CLI reaches a store the running daemon holds. timeout bounds each
// wait for the daemon (its answer's headers, then each read of the body; 0: none),
// not the whole exchange: a listing streamed to a slow reader (`cases list | less`,
// an export of a large desk) takes as long as the reader does, and a deadline on the
// whole of it cut the output off half-way, where the same command with the daemon
// stopped printed every case (found in review).
func controlClient(socket string, timeout time.Duration) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "unix", socket)
			if err != nil || timeout <= 0 {
				return c, err
			}
			return idleConn{Conn: c, idle: timeout}, nil
		},
		ResponseHeaderTimeout: timeout,
	}}
}

// idleConn fails a read that waits longer than idle for the daemon. The deadline is
// set as each read starts, so time the CLI spends writing its output does not count.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c idleConn) Read(p []byte) (int, error) {
	if err := c.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

// cliActor names the person running the CLI in the events it records.
func cliActor() string {
	name := os.Getenv("SUDO_USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	if name == "" {
		name = fmt.Sprintf("uid %d", os.Getuid())
	}
	return "cli:" + name
}

// cliNow is "now" for what the CLI records: the one clock (COMPLAINTD_CLOCK_FILE in
// drills), as the daemon's.
func cliNow() (time.Time, error) {
	clk, _, err := clock.FromEnv(os.Getenv)
	if err != nil {
		return time.Time{}, err
	}
	return clk.Now(), nil
}

// privacyAction runs one recorded operation on a case: through the running daemon's
// control socket (POST path), or, when no daemon runs, on the store and vault opened
// here for writing. body receives the daemon's answer.
func privacyAction(ctx context.Context, cfgPath, path string, offline func(*store.Store, *vault.Vault, time.Time) error, body func(io.Reader) error) error {
	cfg, err := readPathsConfig(cfgPath)
	if err != nil {
		return err
	}
	client := controlClient(cfg.HTTP.ControlSocket, 10*time.Minute)
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://complaintd"+path, nil)
	resp, err := client.Do(req)
	if err == nil {
		defer resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return body(resp.Body)
		case http.StatusNotFound:
			return store.ErrNotFound
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("daemon: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	st, oerr := store.Open(cfg.Store.Path, time.Second)
	if oerr != nil {
		return fmt.Errorf("no daemon at %s (%v) and %w", cfg.HTTP.ControlSocket, err, oerr)
	}
	defer st.Close()
	v, err := openVaultFor(st, cfg)
	if err != nil {
		return err
	}
	now, err := cliNow()
	if err != nil {
		return err
	}
	return offline(st, v, now)
}

// cmdCasesErase: `complaintd cases erase ID -reason TEXT` (PIPL art. 47).
func cmdCasesErase(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("cases erase", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (or COMPLAINTD_CONFIG)")
	reason := fs.String("reason", "", "why (recorded in clear: no personal data), e.g. 本人申请删除 2026-12-04")
	id, err := parseWithID(fs, args, "cases erase ID -reason TEXT")
	if err != nil {
		return err
	}
	if strings.TrimSpace(*reason) == "" {
		return usageError{"cases erase: -reason is required (it is recorded with the erasure)"}
	}
	who := cliActor()
	q := url.Values{"by": {who}, "reason": {*reason}}
	err = privacyAction(ctx, *cfgPath, "/cases/"+url.PathEscape(id)+"/erase?"+q.Encode(),
		func(st *store.Store, v *vault.Vault, now time.Time) error {
			return privacy.Erase(st, v, id, who, *reason, now)
		},
		func(io.Reader) error { return nil })
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("case %s: not found", id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "case %s: personal information and documents erased\n", id)
	return nil
}

// cmdCasesDocuments: `complaintd cases documents ID -out DIR` decrypts the case's
// documents into DIR (created 0700; files 0600), recorded on the case.
func cmdCasesDocuments(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("cases documents", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (or COMPLAINTD_CONFIG)")
	out := fs.String("out", "", "directory to write the documents to (created 0700)")
	id, err := parseWithID(fs, args, "cases documents ID -out DIR")
	if err != nil {
		return err
	}
	if *out == "" {
		return usageError{"cases documents: -out DIR is required"}
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	n := 0
	write := func(d privacy.Document) error {
		f, err := os.OpenFile(filepath.Join(*out, d.Name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, d.Body); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", d.Name, err)
		}
		n++
		fmt.Fprintln(stdout, filepath.Join(*out, d.Name))
		return f.Close()
	}
	who := cliActor()
	err = privacyAction(ctx, *cfgPath, "/cases/"+url.PathEscape(id)+"/documents?"+url.Values{"by": {who}}.Encode(),
		func(st *store.Store, v *vault.Vault, now time.Time) error {
			_, err := privacy.Export(st, v, id, who, now, write)
			return err
		},
		func(r io.Reader) error {
			tr := tar.NewReader(r)
			for {
				h, err := tr.Next()
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return fmt.Errorf("read documents from the daemon: %w", err)
				}
				if err := write(privacy.Document{Name: filepath.Base(h.Name), Size: h.Size, Body: tr}); err != nil {
					return err
				}
			}
		})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("case %s: not found", id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "case %s: %d documents written to %s (the export is recorded on the case)\n", id, n, *out)
	return nil
}

// parseWithID parses the one ID among the flags, before, after or between them.
func parseWithID(fs *flag.FlagSet, args []string, use string) (string, error) {
	id, err := parseWithArg(fs, args)
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", usageError{use}
	}
	return id, nil
}

// privacyHandlers serve the recorded operations on the control socket.
func (d *desk) privacyHandlers(mux *http.ServeMux) {
	mux.HandleFunc("POST /cases/{id}/erase", func(w http.ResponseWriter, r *http.Request) {
		err := privacy.Erase(d.store, d.vault, r.PathValue("id"), r.URL.Query().Get("by"), r.URL.Query().Get("reason"), d.clock.Now())
		if err == nil {
			d.log.Info("case erased", "case", r.PathValue("id"), "by", r.URL.Query().Get("by"))
			d.mailEraser.wake()
		}
		writeJSON(w, map[string]bool{"erased": err == nil}, err)
	})
	mux.HandleFunc("POST /cases/{id}/reveal", func(w http.ResponseWriter, r *http.Request) {
		c, err := privacy.Reveal(d.store, r.PathValue("id"), r.URL.Query().Get("by"), d.clock.Now())
		if err != nil {
			writeJSON(w, nil, err)
			return
		}
		writeJSON(w, c.Public(), nil)
	})
	mux.HandleFunc("POST /cases/{id}/documents", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		var tw *tar.Writer
		_, err := privacy.Export(d.store, d.vault, id, r.URL.Query().Get("by"), d.clock.Now(), func(doc privacy.Document) error {
			if tw == nil {
				w.Header().Set("Content-Type", "application/x-tar")
				tw = tar.NewWriter(w)
			}
			if err := tw.WriteHeader(&tar.Header{Name: doc.Name, Mode: 0o600, Size: doc.Size, Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			_, err := io.Copy(tw, doc.Body)
			return err
		})
		if tw == nil {
			if err != nil {
				writeJSON(w, nil, err)
				return
			}
			tw = tar.NewWriter(w)
		}
		if err != nil {
			d.log.Error("export documents", "case", id, "err", err)
			// Abort the response: the CLI then reads a broken stream. An
			// unterminated tar cut between two files reads as a clean end, and the
			// CLI reported success with documents missing (found in review).
			panic(http.ErrAbortHandler)
		}
		tw.Close()
	})
}

// revealCase is `cases show ID -reveal`.
func revealCase(ctx context.Context, cfgPath, id string) (*cases.Case, error) {
	var c *cases.Case
	who := cliActor()
	err := privacyAction(ctx, cfgPath, "/cases/"+url.PathEscape(id)+"/reveal?"+url.Values{"by": {who}}.Encode(),
		func(st *store.Store, _ *vault.Vault, now time.Time) error {
			rc, err := privacy.Reveal(st, id, who, now)
			if err == nil {
				c = rc.Public()
			}
			return err
		},
		func(r io.Reader) error { return jsonDecode(r, &c) })
	return c, err
}
