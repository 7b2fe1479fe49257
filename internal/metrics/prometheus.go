package metrics

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HandlerOptions configure Handler.
type HandlerOptions struct {
	Build BuildInfo
	// Snapshot reads the store's gauges; it is called once per scrape and should be
	// one read-only transaction. Nil: those gauges are not served. An error is served
	// as a scrape error of those gauges only; the counters are still served.
	Snapshot func() (Snapshot, error)
	// Now is the clock of the age gauges. Nil: time.Now.
	Now func() time.Time
}

// Handler serves /metrics: the Go runtime and process collectors, build info, the
// counters of m and the store's gauges.
func Handler(m *Metrics, o HandlerOptions) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newCollector(m, o),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// The descriptions, one per metric the desk serves (README "Metrics" lists them).
var (
	dBuild = desc("complaintd_build_info", "The running binary: always 1.", "version", "revision", "goversion")

	dIntakeBusy  = desc("complaintd_intake_busy_seconds_total", "Time spent in each stage of the intake pipeline (prepare: summed over the parsing workers; commit: store transactions; fetch: reading mail off IMAP; backpressure: the fetcher waiting for the stages after it; pace: the fetcher waiting for the replies to catch up).", "stage")
	dProcessed   = desc("complaintd_mails_processed_total", "Mails registered (cases, follow-ups, noise).")
	dDuplicates  = desc("complaintd_mails_duplicate_total", "Mails recognised as already registered.")
	dQuarantined = desc("complaintd_mails_quarantined_total", "Mails quarantined after failing.")
	dFailures    = desc("complaintd_mail_failures_total", "Failed processing attempts.")
	dQueued      = desc("complaintd_replies_queued_total", "Mails put in the outbox, by template kind.", "kind")
	dSuppressed  = desc("complaintd_replies_suppressed_total", "Automatic replies held back by the per-sender cap.")
	dSent        = desc("complaintd_replies_sent_total", "Mails the SMTP server accepted, by template kind.", "kind")
	dYield       = desc("complaintd_outbox_intake_wait_seconds_total", "Time sending waited for intake to catch up on a backlog.")
	dFailed      = desc("complaintd_replies_failed_total", "Failed SMTP attempts.")
	dDropped     = desc("complaintd_replies_dropped_total", "Mails given up on (permanent error or too many attempts).")
	dSecurity    = desc("complaintd_security_events_total", "Staff mails refused for want of authentication.")
	dConnects    = desc("complaintd_imap_connects_total", "IMAP sessions established.")
	dIMAPErrors  = desc("complaintd_imap_errors_total", "IMAP sessions that ended in an error.")
	dAuthFail    = desc("complaintd_auth_failures_total", "Logins refused and certificates not trusted, by service (imap, smtp).", "service")

	dIMAPUp   = desc("complaintd_imap_up", "1 while an IMAP session is established.")
	dSMTPUp   = desc("complaintd_smtp_up", "1 when the last contact with the SMTP server (a send or the periodic probe) succeeded.")
	dLastPoll = desc("complaintd_last_imap_poll_timestamp_seconds", "When the mailbox was last read to the end; 0: not since the start.")
	dLastSend = desc("complaintd_last_smtp_send_timestamp_seconds", "When the SMTP server last accepted a mail; 0: not since the start.")
	dLag      = desc("complaintd_ingest_lag_seconds", "Delay between the Date header of the last mail processed and its processing (the sender's clock).")

	dCases        = desc("complaintd_cases", "Cases by state, severity and department (\"\": none).", "state", "severity", "department")
	dOverdue      = desc("complaintd_cases_overdue", "Cases past their due date that are not finished, by state.", "state")
	dOutbox       = desc("complaintd_outbox_depth", "Mails waiting in the outbox.")
	dOutboxFailed = desc("complaintd_outbox_failed", "Mails given up on that are still kept in the outbox.")
	dOutboxAge    = desc("complaintd_outbox_oldest_age_seconds", "Age of the oldest mail waiting in the outbox; 0 when it is empty.")
	dQuarantine   = desc("complaintd_quarantine_mails", "Mails in quarantine.")
	dAlerts       = desc("complaintd_alerts_open", "Operator alerts not yet acknowledged (complaintd alerts ack).")
)

// collector reads m's atomics and the store snapshot on every scrape.
type collector struct {
	m *Metrics
	o HandlerOptions
}

func newCollector(m *Metrics, o HandlerOptions) *collector {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &collector{m: m, o: o}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dBuild, dProcessed, dDuplicates, dQuarantined, dFailures, dQueued, dSuppressed,
		dSent, dFailed, dDropped, dSecurity, dConnects, dIMAPErrors, dAuthFail, dIMAPUp, dSMTPUp, dLastPoll, dLastSend, dLag, dIntakeBusy, dYield} {
		ch <- d
	}
	if c.o.Snapshot != nil {
		for _, d := range []*prometheus.Desc{dCases, dOverdue, dOutbox, dOutboxFailed, dOutboxAge, dQuarantine, dAlerts} {
			ch <- d
		}
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	b := c.o.Build
	gauge(dBuild, 1, b.Version, b.Revision, b.GoVersion)
	counter(dProcessed, m.Processed.Load())
	counter(dDuplicates, m.Duplicates.Load())
	counter(dQuarantined, m.Quarantined.Load())
	counter(dFailures, m.Failures.Load())
	byKind := func(d *prometheus.Desc, k *KindCounter) {
		kinds, n := k.counts()
		for _, kind := range kinds {
			counter(d, n[kind], kind)
		}
	}
	byKind(dQueued, &m.RepliesQueued)
	counter(dSuppressed, m.RepliesSuppressed.Load())
	byKind(dSent, &m.RepliesSent)
	counter(dFailed, m.RepliesFailed.Load())
	counter(dDropped, m.RepliesDropped.Load())
	counter(dSecurity, m.SecurityEvents.Load())
	counter(dConnects, m.IMAPConnects.Load())
	counter(dIMAPErrors, m.IMAPErrors.Load())
	byKind(dAuthFail, &m.AuthFailures)
	stages, busy := m.IntakeBusy.counts()
	for _, stage := range stages {
		ch <- prometheus.MustNewConstMetric(dIntakeBusy, prometheus.CounterValue, time.Duration(busy[stage]).Seconds(), stage)
	}
	ch <- prometheus.MustNewConstMetric(dYield, prometheus.CounterValue, time.Duration(m.OutboxYield.Load()).Seconds())
	gauge(dIMAPUp, up(m.IMAPUp.Load()))
	gauge(dSMTPUp, up(m.SMTPUp.Load()))
	gauge(dLastPoll, float64(m.LastPollAt.Load()))
	gauge(dLastSend, float64(m.LastSendAt.Load()))
	lag := 0.0
	if p, d := m.LastProcessedAt.Load(), m.LastMessageDate.Load(); p > 0 && d > 0 && p >= d {
		lag = float64(p - d)
	}
	gauge(dLag, lag)

	if c.o.Snapshot == nil {
		return
	}
	s, err := c.o.Snapshot()
	if err != nil {
		// The counters above are still served; the store's gauges are missing and
		// the scrape says why.
		ch <- prometheus.NewInvalidMetric(dOutbox, fmt.Errorf("read store: %w", err))
		return
	}
	for _, cc := range s.Cases {
		gauge(dCases, float64(cc.Cases), cc.State, cc.Severity, cc.Department)
	}
	for state, n := range s.Overdue {
		gauge(dOverdue, float64(n), state)
	}
	gauge(dOutbox, float64(s.OutboxPending))
	gauge(dOutboxFailed, float64(s.OutboxFailed))
	age := 0.0
	if !s.OutboxOldest.IsZero() {
		age = max(0, c.o.Now().Sub(s.OutboxOldest).Seconds())
	}
	gauge(dOutboxAge, age)
	gauge(dQuarantine, float64(s.Quarantined))
	gauge(dAlerts, float64(s.AlertsOpen))
}

func up(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
