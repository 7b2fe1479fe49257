package app

// Staff authentication wiring (issue 13 "Staff proof"): the staff tokens' own key
// file, the staffauth configuration, the upgrade record, and `complaintd staff
// revoke-tokens`, which goes through the running daemon's control socket or, when
// none runs, writes the store itself.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/clock"
	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/staffauth"
	"github.com/complaintd/complaintd/internal/store"
)

// tokenKey reads the staff tokens' key file, creating it (0600, its directory 0700)
// with 32 random bytes, hex-encoded, when it does not exist. It is independent of the
// master key: rotating that leaves every token valid.
func tokenKey(path string, log *slog.Logger) ([]byte, error) {
	if path == "" {
		return nil, errors.New("no path (config.Load sets one next to the store)")
	}
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := config.DecodeKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	// O_EXCL: two starts racing must not each write a key and mail tokens under both.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	log.Info("generated the staff token key", "path", path)
	return key, nil
}

// staffAuth is the staffauth configuration of cfg: tokens under their own key, the
// master-derived secret for the complainant tokens and the old-form staff tokens.
func staffAuth(cfg *config.Config, master []byte, log *slog.Logger) (staffauth.Config, error) {
	key, err := tokenKey(cfg.Staff.Auth.TokenKeyFile, log)
	if err != nil {
		return staffauth.Config{}, fmt.Errorf("staff.auth.token_key_file: %w", err)
	}
	return staffauth.Config{Mode: staffauth.Mode(cfg.Staff.Auth.Mode), AuthServID: cfg.Staff.Auth.AuthServID,
		TrustedHop: cfg.Staff.Auth.TrustedHop, Staff: slices.Clone(cfg.Staff.Addresses),
		TokenKey: key, TokenTTL: cfg.Staff.Auth.TokenTTL, Secret: staffSecret(cfg, master)}, nil
}

// markTokenUpgrade records the first start with bound tokens; old-form tokens mailed
// before it stay valid for one token lifetime.
func markTokenUpgrade(s *store.Store, now time.Time, ttl time.Duration, log *slog.Logger) error {
	return s.Update(func(tx *store.Tx) error {
		u, err := tx.MarkStaffTokenUpgrade(now)
		if err == nil && u.Legacy && now.Before(u.At.Add(ttl)) {
			log.Info("staff tokens of the old form are accepted during the transition", "until", u.At.Add(ttl).Format(time.RFC3339))
		}
		return err
	})
}

// revocation is what revoke-tokens did: the instant up to which tokens are revoked.
type revocation struct {
	Case string    `json:"case,omitempty"`
	Upto time.Time `json:"upto"`
}

// revokeTokens revokes the staff tokens of caseID ("" for all) issued up to now, and
// records it: an event on the case, or an alert for a global revocation.
func revokeTokens(s *store.Store, caseID string, now time.Time) (revocation, error) {
	r := revocation{Case: caseID}
	err := s.Update(func(tx *store.Tx) error {
		if caseID != "" {
			// Its facts say it exists: reading the whole case needs the key of its
			// sealed personal data, which the CLI on a stopped desk does not open
			// (before, every real case failed so; found in review).
			if _, err := tx.Facts(caseID); err != nil {
				return err
			}
		}
		var err error
		if r.Upto, err = tx.RevokeStaffTokens(caseID, now); err != nil {
			return err
		}
		note := "staff tokens issued up to " + r.Upto.Format(time.RFC3339) + " revoked"
		if caseID != "" {
			return tx.AppendEvent(caseID, cases.Event{At: now, Type: cases.EventSecurity, Actor: "operator", Note: note})
		}
		return tx.AddAlert(store.Alert{At: now, Kind: "security", Message: "every " + note})
	})
	return r, err
}

// serveRevokeTokens is the control socket's side of revoke-tokens: the daemon holds
// the store and its clock.
func (d *desk) serveRevokeTokens(w http.ResponseWriter, r *http.Request) {
	rev, err := revokeTokens(d.store, r.URL.Query().Get("case"), d.clock.Now())
	if err == nil {
		d.log.Info("staff tokens revoked", "case", rev.Case, "upto", rev.Upto.Format(time.RFC3339))
	}
	writeJSON(w, rev, err)
}

func cmdStaff(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "revoke-tokens" {
		return usageError{"staff: revoke-tokens [-case ID]"}
	}
	fs := flag.NewFlagSet("staff revoke-tokens", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (or COMPLAINTD_CONFIG)")
	caseID := fs.String("case", "", "revoke only this case's tokens (default: every token)")
	// A case number without -case is refused: with COMPLAINTD_CONFIG set, `staff
	// revoke-tokens TS-2026-000001` revoked every token.
	if _, err := parseArgs(fs, args[1:], 0); err != nil {
		return err
	}
	cfg, err := readPathsConfig(*cfgPath)
	if err != nil {
		return err
	}
	id := strings.ToUpper(strings.TrimSpace(*caseID))
	rev, err := postRevoke(ctx, cfg, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("case %s: not found", id)
	}
	if err != nil {
		return err
	}
	if rev.Case != "" {
		fmt.Fprintf(stdout, "revoked the staff tokens of %s issued up to %s\n", rev.Case, rev.Upto.Format(time.RFC3339))
	} else {
		fmt.Fprintf(stdout, "revoked every staff token issued up to %s\n", rev.Upto.Format(time.RFC3339))
	}
	return nil
}

// postRevoke asks the running daemon, or, when none answers on the control socket,
// opens the store for writing itself (the daemon's lock makes the two exclusive).
func postRevoke(ctx context.Context, cfg *config.Config, caseID string) (revocation, error) {
	var rev revocation
	client := controlClient(cfg.HTTP.ControlSocket, 30*time.Second)
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://complaintd/staff/revoke-tokens?"+url.Values{"case": {caseID}}.Encode(), nil)
	resp, err := client.Do(req)
	if err == nil {
		defer resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return rev, json.NewDecoder(resp.Body).Decode(&rev)
		case http.StatusNotFound:
			return rev, store.ErrNotFound
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return rev, fmt.Errorf("daemon: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	clk, _, cerr := clock.FromEnv(os.Getenv)
	if cerr != nil {
		return rev, cerr
	}
	st, oerr := store.Open(cfg.Store.Path, time.Second)
	if oerr != nil {
		return rev, fmt.Errorf("no daemon at %s (%v) and %w", cfg.HTTP.ControlSocket, err, oerr)
	}
	defer st.Close()
	return revokeTokens(st, caseID, clk.Now())
}
