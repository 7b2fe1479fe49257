package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/pii"
	"github.com/complaintd/complaintd/internal/store"
)

// health is the /healthz body. It holds counts, states and reasons only, no personal
// data: /healthz is unauthenticated.
type health struct {
	OK            bool   `json:"ok"`
	IMAP          string `json:"imap"` // up | down
	SMTP          string `json:"smtp"` // reachable | unreachable
	OutboxPending int    `json:"outbox_pending"`
	OutboxOldest  string `json:"outbox_oldest_age,omitempty"`
	OutboxFailed  int    `json:"outbox_failed"`
	Quarantined   int    `json:"quarantined"`
	// QuarantineReasons groups the mails waiting in quarantine by whose fault and why.
	QuarantineReasons []string `json:"quarantine_reasons,omitempty"`
	// IntakePaused says why intake is paused by a fault of the environment (the store,
	// the disk), and since when; "" while it runs.
	IntakePaused    string    `json:"intake_paused,omitempty"`
	Store           string    `json:"store"`     // ok | why it could not be read
	Templates       string    `json:"templates"` // ok | the last reload error
	TemplatesLoaded time.Time `json:"templates_loaded_at"`
	// Alerts are the operator alerts not yet acknowledged (`complaintd alerts ack`),
	// the newest maxHealthAlerts.
	Alerts []string `json:"alerts,omitempty"`
	// Reasons say why OK is false, one line each, for a person: what is wrong and,
	// where there is one, what to do.
	Reasons []string `json:"reasons,omitempty"`
}

// maxHealthAlerts bounds the alerts listed in /healthz; `complaintd alerts` lists all.
const maxHealthAlerts = 20

func (d *desk) health() health {
	h := health{IMAP: "down", SMTP: "unreachable", Store: "ok", Templates: "ok"}
	reason := func(format string, args ...any) { h.Reasons = append(h.Reasons, fmt.Sprintf(format, args...)) }
	if d.metrics.IMAPUp.Load() {
		h.IMAP = "up"
	}
	// A classified failure (a refused login, an untrusted certificate) says more than
	// "not connected", and when the next attempt is.
	problems := d.connProblems()
	if h.IMAP != "up" && problems["imap"] == "" {
		reason("imap: not connected to %s:%d", d.cfg.IMAP.Host, d.cfg.IMAP.Port)
	}
	if err := d.probeSMTPForHealth(); err == nil {
		h.SMTP = "reachable"
	} else {
		reason("smtp: %s", pii.RedactAddresses(err.Error()))
	}
	if p := d.smtpDeliveryProblem(); p != "" && problems["smtp"] == "" {
		reason("smtp: replies cannot be delivered: %s", p)
	}
	for _, svc := range []string{"imap", "smtp"} {
		if p := problems[svc]; p != "" {
			reason("%s: %s", svc, pii.RedactAddresses(p)) // the server's text may quote the login
		}
	}
	var open []store.Alert
	err := d.store.View(func(tx *store.Tx) error {
		byState, oldest, err := tx.OutboxStats()
		if err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		h.OutboxPending, h.OutboxFailed = byState[store.OutboxPending], byState[store.OutboxFailed]
		if !oldest.IsZero() {
			h.OutboxOldest = time.Since(oldest).Round(time.Second).String()
		}
		q, err := tx.Quarantined()
		if err != nil {
			return fmt.Errorf("quarantine: %w", err)
		}
		h.Quarantined = len(q)
		h.QuarantineReasons = quarantineSummary(q)
		if open, err = tx.OpenAlerts(); err != nil {
			return fmt.Errorf("alerts: %w", err)
		}
		return nil
	})
	if err != nil {
		h.Store = err.Error()
		reason("store: %s", err)
	}
	for _, a := range open[max(0, len(open)-maxHealthAlerts):] {
		// /healthz is unauthenticated: an alert's addresses (a refused sender,
		// a staff member) are shown as hashes, and ID and phone numbers masked
		// (alerts are written to hold neither; this is the second line).
		msg := pii.MaskText(pii.RedactAddresses(a.Message))
		h.Alerts = append(h.Alerts, a.At.Format(time.RFC3339)+" "+a.Kind+": "+msg)
		reason("alert %d (%s): %s; once handled: complaintd alerts ack %d", a.ID, a.Kind, firstLine(msg), a.ID)
	}
	if len(open) > maxHealthAlerts {
		reason("%d older alerts: complaintd alerts lists them all", len(open)-maxHealthAlerts)
	}
	ok, lastErr, loadedAt := d.current().templates.Status()
	h.TemplatesLoaded = loadedAt
	if !ok {
		h.Templates = lastErr
		reason("templates: %s; the last good set is in use", firstLine(lastErr))
	}
	for _, r := range h.QuarantineReasons {
		reason("quarantine: %s; complaintd quarantine list shows them, quarantine retry takes them back", r)
	}
	if d.pipeline != nil { // nil in tests of the HTTP side alone
		if since, cause := d.pipeline.Paused(); cause != "" {
			h.IntakePaused = "since " + since.UTC().Format(time.RFC3339) + ": " + pii.RedactAddresses(cause)
			reason("intake paused %s", h.IntakePaused)
		}
	}
	h.OK = len(h.Reasons) == 0
	return h
}

// firstLine is s up to its first line break: a reason is one line.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// connProblems are the classified connection failures of the mail servers that last
// (a refused login, an untrusted certificate), by service ("imap", "smtp").
func (d *desk) connProblems() map[string]string {
	out := map[string]string{}
	if d.pipeline != nil {
		if p := d.pipeline.Problem(); p != "" {
			out["imap"] = p
		}
	}
	if d.dispatcher != nil {
		if p := d.dispatcher.Problem(); p != "" {
			out["smtp"] = p
		}
	}
	return out
}

func (d *desk) healthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		h := d.health()
		w.Header().Set("Content-Type", "application/json")
		if !h.OK {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(h)
	})
	mux.Handle("GET /metrics", d.metricsHandler())
	return mux
}

// controlHandler serves the CLI over the 0600 Unix socket while the daemon holds the
// bbolt lock. Reads use bbolt read transactions, which never block the daemon's writes.
func (d *desk) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cases", func(w http.ResponseWriter, r *http.Request) {
		streamCases(w, d.store, filterFrom(r.URL.Query()))
	})
	mux.HandleFunc("GET /stats", d.serveStats)
	mux.HandleFunc("GET /backup", d.serveBackup)
	mux.HandleFunc("POST /staff/revoke-tokens", d.serveRevokeTokens)
	mux.HandleFunc("GET /quarantine", func(w http.ResponseWriter, r *http.Request) {
		qs, err := listQuarantine(d.store)
		writeJSON(w, qs, err)
	})
	mux.HandleFunc("POST /quarantine/retry", d.serveQuarantineRetry)
	mux.HandleFunc("GET /cases/{id}", func(w http.ResponseWriter, r *http.Request) {
		c, err := showCase(d.store, r.PathValue("id"))
		writeJSON(w, c, err)
	})
	d.privacyHandlers(mux)
	d.alertHandlers(mux)
	return mux
}

func writeJSON(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		return
	}
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	json.NewEncoder(w).Encode(v)
}

// caseFilter selects cases for `cases list`; empty fields match everything.
type caseFilter struct{ state, dept, severity string }

func filterFrom(q url.Values) caseFilter {
	return caseFilter{state: q.Get("state"), dept: q.Get("dept"), severity: q.Get("severity")}
}

// check refuses a filter value that can match nothing: `-state acepted` listed nothing
// and said nothing. (Departments are the config's and are not checked here.)
func (f caseFilter) check() error {
	if f.state != "" && !cases.State(f.state).Valid() {
		var known []string
		for _, s := range cases.States() {
			known = append(known, string(s))
		}
		return usageError{fmt.Sprintf("-state %q: not a case state (one of %s)", f.state, strings.Join(known, ", "))}
	}
	if f.severity != "" && !cases.Severity(f.severity).Valid() {
		return usageError{fmt.Sprintf("-severity %q: ordinary or major", f.severity)}
	}
	return nil
}

func (f caseFilter) query() string {
	return url.Values{"state": {f.state}, "dept": {f.dept}, "severity": {f.severity}}.Encode()
}

func (f caseFilter) match(c *cases.Facts) bool {
	return (f.state == "" || string(c.State) == f.state) && (f.dept == "" || c.Department == f.dept) &&
		(f.severity == "" || string(c.Severity) == f.severity || (f.severity == "ordinary" && c.Severity == ""))
}

// listChunk is how many cases one read transaction of a listing holds: a client that
// reads slowly must not keep a transaction open for long (bbolt cannot grow its file
// under a reader, and the daemon's writes would wait).
const listChunk = 256

var errChunkFull = errors.New("chunk full")

// eachCase calls emit with every case the filter selects, masked for display, in
// case-number order, as soon as each chunk is read. The filter looks at the cases'
// facts, so that only the cases selected are read whole.
func eachCase(s *store.Store, f caseFilter, emit func(*cases.Case) error) error {
	after := ""
	for {
		var chunk []*cases.Case
		err := s.View(func(tx *store.Tx) error {
			return tx.EachFactsAfter(after, func(fa *cases.Facts) error {
				after = fa.ID
				if !f.match(fa) {
					return nil
				}
				c, err := tx.Case(fa.ID)
				if err != nil {
					return err
				}
				chunk = append(chunk, c.Public().Masked())
				if len(chunk) == listChunk {
					return errChunkFull
				}
				return nil
			})
		})
		more := errors.Is(err, errChunkFull)
		if err != nil && !more {
			return err
		}
		for _, c := range chunk {
			if err := emit(c); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
	}
}

// streamCases writes the selected cases as one JSON array, element by element, so
// that the CLI prints the first at once on a desk of 100,000. An error after the first
// byte cannot change the status any more: the response is cut off, and the client's
// decoder reports the truncated array.
func streamCases(w http.ResponseWriter, s *store.Store, f caseFilter) {
	w.Header().Set("Content-Type", "application/json")
	flusher, _ := w.(http.Flusher)
	n := 0
	err := eachCase(s, f, func(c *cases.Case) error {
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		sep := ",\n"
		if n == 0 {
			sep = "[\n"
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		if n++; (n == 1 || n%listChunk == 0) && flusher != nil {
			flusher.Flush()
		}
		return nil
	})
	switch {
	case err != nil && n == 0:
		writeJSON(w, nil, err)
	case err != nil:
		panic(http.ErrAbortHandler)
	case n == 0:
		io.WriteString(w, "[]\n")
	default:
		io.WriteString(w, "\n]\n")
	}
}

func showCase(s *store.Store, id string) (*cases.Case, error) {
	var c *cases.Case
	err := s.View(func(tx *store.Tx) error {
		var err error
		c, err = tx.Case(id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c.Public().Masked(), nil
}
