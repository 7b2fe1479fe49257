package app

// `complaintd alerts` lists the operator alerts not yet acknowledged and `complaintd
// alerts ack [-all | ID]` acknowledges them: an acknowledged alert stays in the store
// for the record but no longer makes /healthz not ok. Both go through the running
// daemon's control socket or, when none runs, the store itself.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/store"
)

// alertView is one alert as the CLI and the control socket show it.
type alertView struct {
	ID      uint64    `json:"id"`
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
}

// ackResult is what an acknowledgement did.
type ackResult struct {
	Acked int `json:"acked"`
}

func openAlerts(s *store.Store) ([]alertView, error) {
	out := []alertView{}
	err := s.View(func(tx *store.Tx) error {
		as, err := tx.OpenAlerts()
		for _, a := range as {
			out = append(out, alertView{ID: a.ID, At: a.At, Kind: a.Kind, Message: a.Message})
		}
		return err
	})
	return out, err
}

// ackAlerts acknowledges alert id, or every open alert when all.
func ackAlerts(s *store.Store, id uint64, all bool, now time.Time) (ackResult, error) {
	var r ackResult
	err := s.Update(func(tx *store.Tx) error {
		if all {
			n, err := tx.AckAllAlerts(now)
			r.Acked = n
			return err
		}
		r.Acked = 1
		return tx.AckAlert(id, now)
	})
	return r, err
}

// alertHandlers are the control socket's side of `complaintd alerts`.
func (d *desk) alertHandlers(mux *http.ServeMux) {
	mux.HandleFunc("GET /alerts", func(w http.ResponseWriter, r *http.Request) {
		as, err := openAlerts(d.store)
		writeJSON(w, as, err)
	})
	mux.HandleFunc("POST /alerts/ack", func(w http.ResponseWriter, r *http.Request) {
		all := r.URL.Query().Get("all") == "1"
		id, err := strconv.ParseUint(r.URL.Query().Get("id"), 10, 64)
		if !all && err != nil {
			http.Error(w, `{"error":"want id=N or all=1"}`, http.StatusBadRequest)
			return
		}
		res, err := ackAlerts(d.store, id, all, d.clock.Now())
		if err == nil {
			d.log.Info("alerts acknowledged", "count", res.Acked)
		}
		writeJSON(w, res, err)
	})
}

const alertsUsage = "alerts [list] [-json] | alerts ack (-all | ID) [-config FILE]"

func cmdAlerts(ctx context.Context, args []string, stdout io.Writer) error {
	sub := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("alerts "+sub, flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (or COMPLAINTD_CONFIG)")
	switch sub {
	case "list":
		asJSON := fs.Bool("json", false, "print JSON")
		if _, err := parseArgs(fs, args, 0); err != nil {
			return err
		}
		cfg, err := readPathsConfig(*cfgPath)
		if err != nil {
			return err
		}
		as, err := listAlerts(ctx, cfg)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(stdout).Encode(as)
		}
		if len(as) == 0 {
			fmt.Fprintln(stdout, "no open alerts")
		}
		for _, a := range as {
			fmt.Fprintf(stdout, "%d\t%s\t%s\t%s\n", a.ID, a.At.Format(time.RFC3339), a.Kind, a.Message)
		}
		return nil
	case "ack":
		all := fs.Bool("all", false, "acknowledge every open alert")
		var pos []string
		// The ID may come before or after the flags (`ack 3 -config F`).
		for len(args) > 0 {
			if err := fs.Parse(args); err != nil {
				return err
			}
			if fs.NArg() == 0 {
				break
			}
			pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
		}
		var id uint64
		switch {
		case *all && len(pos) == 0:
		case !*all && len(pos) == 1:
			var err error
			if id, err = strconv.ParseUint(pos[0], 10, 64); err != nil || id == 0 {
				return usageError{fmt.Sprintf("alerts ack %q: an alert ID is a number (complaintd alerts lists them)", pos[0])}
			}
		default:
			return usageError{"usage: complaintd alerts ack (-all | ID) [-config FILE]"}
		}
		cfg, err := readPathsConfig(*cfgPath)
		if err != nil {
			return err
		}
		res, err := postAck(ctx, cfg, id, *all)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("alert %d: not found", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "acknowledged %d alert(s)\n", res.Acked)
		return nil
	}
	return usageError{"usage: complaintd " + alertsUsage}
}

// controlCall asks the running daemon over its control socket; ok is false when no
// daemon answers (then the caller opens the store itself: the daemon's lock makes the
// two exclusive).
func controlCall(ctx context.Context, cfg *config.Config, method, path string, v any) (ok bool, err error) {
	client := controlClient(cfg.HTTP.ControlSocket, 30*time.Second)
	req, _ := http.NewRequestWithContext(ctx, method, "http://complaintd"+path, nil)
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, json.NewDecoder(resp.Body).Decode(v)
	case http.StatusNotFound:
		return true, store.ErrNotFound
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return true, fmt.Errorf("daemon: %s: %s", resp.Status, strings.TrimSpace(string(b)))
}

func listAlerts(ctx context.Context, cfg *config.Config) ([]alertView, error) {
	var as []alertView
	ok, err := controlCall(ctx, cfg, "GET", "/alerts", &as)
	if ok {
		return as, err
	}
	st, oerr := store.OpenReadOnly(cfg.Store.Path, time.Second)
	if oerr != nil {
		return nil, fmt.Errorf("no daemon at %s (%v) and %w", cfg.HTTP.ControlSocket, err, oerr)
	}
	defer st.Close()
	return openAlerts(st)
}

func postAck(ctx context.Context, cfg *config.Config, id uint64, all bool) (ackResult, error) {
	var res ackResult
	q := url.Values{"id": {strconv.FormatUint(id, 10)}}
	if all {
		q = url.Values{"all": {"1"}}
	}
	ok, err := controlCall(ctx, cfg, "POST", "/alerts/ack?"+q.Encode(), &res)
	if ok {
		return res, err
	}
	now, cerr := cliNow()
	if cerr != nil {
		return res, cerr
	}
	st, oerr := store.Open(cfg.Store.Path, time.Second)
	if oerr != nil {
		return res, fmt.Errorf("no daemon at %s (%v) and %w", cfg.HTTP.ControlSocket, err, oerr)
	}
	defer st.Close()
	return ackAlerts(st, id, all, now)
}
