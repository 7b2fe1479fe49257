// Package metrics holds the desk's counters and writes them in the Prometheus text
// format. It carries no personal data: no addresses, case numbers or subjects.
package metrics

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// Metrics are the desk's counters. They carry no personal data: no addresses, no case
// numbers, no subjects — only counts and times.
type Metrics struct {
	Processed         atomic.Int64 // messages registered (cases, follow-ups, noise)
	Duplicates        atomic.Int64 // messages recognised as already registered
	Quarantined       atomic.Int64 // messages given up on
	Failures          atomic.Int64 // processing attempts that failed
	RepliesQueued     atomic.Int64
	RepliesSuppressed atomic.Int64 // auto-replies held back by the per-sender cap
	RepliesSent       atomic.Int64
	RepliesFailed     atomic.Int64 // attempts that failed (temporary or permanent)
	RepliesDropped    atomic.Int64 // entries given up on (permanent error or too many attempts)
	SecurityEvents    atomic.Int64 // staff mail refused for want of authentication
	IMAPConnects      atomic.Int64
	IMAPErrors        atomic.Int64
	LastMessageDate   atomic.Int64 // Unix seconds of the newest processed mail's Date header (when plausible)
	LastProcessedAt   atomic.Int64 // Unix seconds when it was processed
	IMAPUp            atomic.Bool
	SMTPUp            atomic.Bool
}

// WritePrometheus writes the counters in the Prometheus text format. Gauges that need
// the store (outbox depth, quarantine count) are passed in by the caller.
func (m *Metrics) WritePrometheus(w io.Writer, outboxDepth, quarantined int, now time.Time) {
	counter := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	gauge := func(name, help string, v float64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %g\n", name, help, name, name, v)
	}
	counter("complaintd_mails_processed_total", "Mails registered.", m.Processed.Load())
	counter("complaintd_mails_duplicate_total", "Mails recognised as already registered.", m.Duplicates.Load())
	counter("complaintd_mails_quarantined_total", "Mails quarantined after failing.", m.Quarantined.Load())
	counter("complaintd_mail_failures_total", "Failed processing attempts.", m.Failures.Load())
	counter("complaintd_replies_queued_total", "Replies put in the outbox.", m.RepliesQueued.Load())
	counter("complaintd_replies_suppressed_total", "Automatic replies held back by the per-sender cap.", m.RepliesSuppressed.Load())
	counter("complaintd_replies_sent_total", "Replies handed to SMTP.", m.RepliesSent.Load())
	counter("complaintd_replies_failed_total", "Failed SMTP attempts.", m.RepliesFailed.Load())
	counter("complaintd_replies_dropped_total", "Replies given up on.", m.RepliesDropped.Load())
	counter("complaintd_security_events_total", "Staff mails refused for want of authentication.", m.SecurityEvents.Load())
	counter("complaintd_imap_connects_total", "IMAP connections made.", m.IMAPConnects.Load())
	counter("complaintd_imap_errors_total", "IMAP connection errors.", m.IMAPErrors.Load())
	gauge("complaintd_outbox_depth", "Replies waiting in the outbox.", float64(outboxDepth))
	gauge("complaintd_quarantine", "Mails in quarantine.", float64(quarantined))
	lag := 0.0
	if p, d := m.LastProcessedAt.Load(), m.LastMessageDate.Load(); p > 0 && d > 0 && p >= d {
		lag = float64(p - d)
	}
	gauge("complaintd_ingest_lag_seconds", "Delay between the Date header of the last mail processed and its processing (the sender's clock).", lag)
	up := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	gauge("complaintd_imap_up", "IMAP session established.", up(m.IMAPUp.Load()))
	gauge("complaintd_smtp_up", "Last SMTP attempt succeeded.", up(m.SMTPUp.Load()))
}
