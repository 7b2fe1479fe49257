package app

// Quarantine as a waiting room (issue 17): `complaintd quarantine list` shows each
// quarantined mail with whose fault it was and why; `quarantine retry ID | -all` asks
// for another attempt, which the pipeline makes on its next pass (the running daemon
// is woken over the control socket; with no daemon the request is written to the
// store and taken up at the next start).

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/complaintd/complaintd/internal/clock"
	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/pii"
	"github.com/complaintd/complaintd/internal/store"
)

// quarantineEntry is one quarantined mail as `quarantine list -json` prints it.
type quarantineEntry struct {
	ID             string    `json:"id"` // mailbox/uidvalidity/uid: what `retry` takes
	Mailbox        string    `json:"mailbox"`
	UIDValidity    uint32    `json:"uidvalidity"`
	UID            uint32    `json:"uid"`
	MessageID      string    `json:"message_id,omitempty"`
	Fault          string    `json:"fault"` // mail | environment
	Reason         string    `json:"reason"`
	Attempts       int       `json:"attempts"`
	At             time.Time `json:"at"`
	Moved          bool      `json:"moved"`
	Folder         string    `json:"folder,omitempty"`
	RetryRequested time.Time `json:"retry_requested,omitzero"`
}

func quarantineEntries(qs []store.Quarantined) []quarantineEntry {
	out := []quarantineEntry{}
	for _, q := range qs {
		out = append(out, quarantineEntry{ID: intake.QuarantineID(q), Mailbox: q.Mailbox, UIDValidity: q.UIDValidity, UID: q.UID,
			MessageID: q.MessageID, Fault: intake.QuarantineFault(q), Reason: q.Reason, Attempts: q.Attempts, At: q.At,
			Moved: q.Moved, Folder: q.Folder, RetryRequested: q.RetryRequested})
	}
	return out
}

func listQuarantine(s *store.Store) ([]quarantineEntry, error) {
	var qs []store.Quarantined
	err := s.View(func(tx *store.Tx) error {
		var err error
		qs, err = tx.Quarantined()
		return err
	})
	return quarantineEntries(qs), err
}

// quarantineSummary is the /healthz view: how many mails wait, and why, grouped
// ("environment: store commit: … (2)"), addresses hashed (/healthz is unauthenticated).
func quarantineSummary(qs []store.Quarantined) []string {
	count := map[string]int{}
	for _, q := range qs {
		count[intake.QuarantineFault(q)+": "+pii.RedactAddresses(q.Reason)]++
	}
	var out []string
	for k, n := range count {
		out = append(out, fmt.Sprintf("%s (%d)", k, n))
	}
	slices.Sort(out)
	return out
}

// serveQuarantineRetry is the control socket's side of `quarantine retry`: the request
// is recorded and the pipeline woken to take the mail back now.
func (d *desk) serveQuarantineRetry(w http.ResponseWriter, r *http.Request) {
	qs, err := intake.RequestRetry(d.store, r.URL.Query().Get("id"), r.URL.Query().Get("all") != "", d.clock.Now())
	if err == nil {
		d.log.Info("quarantine retry requested", "count", len(qs))
		d.pipeline.Wake()
	}
	writeJSON(w, quarantineEntries(qs), err)
}

func cmdQuarantine(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "retry") {
		return usageError{"quarantine: list [-json] | retry ID | retry -all"}
	}
	fs := flag.NewFlagSet("quarantine "+args[0], flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (or COMPLAINTD_CONFIG)")
	asJSON := fs.Bool("json", false, "print JSON (list)")
	all := fs.Bool("all", false, "retry every quarantined mail (retry)")
	id, err := parseWithArg(fs, args[1:])
	if err != nil {
		return err
	}
	cfg, err := readPathsConfig(*cfgPath)
	if err != nil {
		return err
	}
	if args[0] == "list" {
		if id != "" {
			return usageError{fmt.Sprintf("quarantine list: unexpected argument %q", id)}
		}
		var qs []quarantineEntry
		if err := quarantineCall(ctx, cfg, "GET", "/quarantine", &qs, func(st *store.Store) (any, error) { return listQuarantine(st) }, true); err != nil {
			return err
		}
		if *asJSON {
			return writeIndented(stdout, qs)
		}
		printQuarantine(stdout, qs)
		return nil
	}
	if (id == "") == !*all {
		return usageError{"quarantine retry: give one ID (see quarantine list) or -all"}
	}
	var qs []quarantineEntry
	q := url.Values{"id": {id}}
	if *all {
		q.Set("all", "1")
	}
	err = quarantineCall(ctx, cfg, "POST", "/quarantine/retry?"+q.Encode(), &qs, func(st *store.Store) (any, error) {
		clk, _, err := clock.FromEnv(os.Getenv)
		if err != nil {
			return nil, err
		}
		recs, err := intake.RequestRetry(st, id, *all, clk.Now())
		return quarantineEntries(recs), err
	}, false)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("quarantine %s: not found (see quarantine list)", id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "retry requested for %d quarantined mail(s); the daemon takes them back from the mailbox on its next pass\n", len(qs))
	for _, e := range qs {
		fmt.Fprintf(stdout, "  %s\n", e.ID)
	}
	return nil
}

// quarantineCall asks the running daemon over the control socket; with none, it opens
// the store itself (read-only for a read), as `staff revoke-tokens` does.
func quarantineCall(ctx context.Context, cfg *config.Config, method, path string, v any, offline func(*store.Store) (any, error), readOnly bool) error {
	client := controlClient(cfg.HTTP.ControlSocket, 30*time.Second)
	req, _ := http.NewRequestWithContext(ctx, method, "http://complaintd"+path, nil)
	resp, err := client.Do(req)
	if err == nil {
		defer resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return json.NewDecoder(resp.Body).Decode(v)
		case http.StatusNotFound:
			return store.ErrNotFound
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("daemon: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	open := store.Open
	if readOnly {
		open = store.OpenReadOnly
	}
	st, oerr := open(cfg.Store.Path, time.Second)
	if oerr != nil {
		return fmt.Errorf("no daemon at %s (%v) and %w", cfg.HTTP.ControlSocket, err, oerr)
	}
	defer st.Close()
	got, err := offline(st)
	if err != nil {
		return err
	}
	b, err := json.Marshal(got)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func printQuarantine(w io.Writer, qs []quarantineEntry) {
	if len(qs) == 0 {
		fmt.Fprintln(w, "quarantine is empty")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFAULT\tATTEMPTS\tAT\tWHERE\tRETRY\tREASON")
	for _, q := range qs {
		where := "flagged in " + q.Mailbox
		if q.Moved {
			where = "moved to " + q.Folder
			if q.Folder == "" {
				where = "moved aside"
			}
		}
		retry := "-"
		if !q.RetryRequested.IsZero() {
			retry = "requested " + q.RetryRequested.Format(time.RFC3339)
		} else if q.Fault == store.FaultEnvironment {
			retry = "automatic"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", q.ID, q.Fault, q.Attempts, q.At.Format(time.RFC3339), where, retry, q.Reason)
	}
	tw.Flush()
}

// envStoreFull names a file whose presence makes every store write fail as on a full
// disk (ENOSPC): a hook for the end-to-end tests of issue 17, off unless set.
const envStoreFull = "COMPLAINTD_TEST_STORE_FULL"

// injectStoreFault wires the envStoreFull hook when the environment sets it.
func injectStoreFault(st *store.Store, getenv func(string) string, log interface{ Warn(string, ...any) }) {
	path := getenv(envStoreFull)
	if path == "" {
		return
	}
	log.Warn("store fault injection enabled: writes fail while the file exists (tests only)", "file", path)
	st.SetFault(func() error {
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("write store: %w", syscall.ENOSPC)
		}
		return nil
	})
}
