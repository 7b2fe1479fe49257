// Package metrics holds the desk's counters and serves them, with the Go runtime's and
// the process's, in the Prometheus exposition format through
// github.com/prometheus/client_golang — the one door of that library.
//
// Invariants:
//   - Nothing here carries personal data: no addresses, case numbers or subjects, only
//     counts, times and bounded labels (case state, severity, department names from
//     the config, template kinds).
//   - The parts count through the atomic fields of Metrics (lock-free, cheap in the
//     mail path); what lives in the store (cases by state, the outbox, quarantine) is
//     read once per scrape through a Snapshot function the caller provides, so a
//     gauge is never stale and the mail path never updates it.
//   - Names follow the Prometheus conventions: the unit in the name (_seconds,
//     _timestamp_seconds), _total for counters, one metric with labels instead of a
//     series that is the sum of others.
package metrics

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Metrics are the desk's counters. They carry no personal data: no addresses, no case
// numbers, no subjects — only counts and times. The zero value is ready to use.
type Metrics struct {
	Processed         atomic.Int64 // messages registered (cases, follow-ups, noise)
	Duplicates        atomic.Int64 // messages recognised as already registered
	Quarantined       atomic.Int64 // messages given up on
	Failures          atomic.Int64 // processing attempts that failed
	RepliesSuppressed atomic.Int64 // auto-replies held back by the per-sender cap
	RepliesFailed     atomic.Int64 // attempts that failed (temporary or permanent)
	RepliesDropped    atomic.Int64 // entries given up on (permanent error or too many attempts)
	SecurityEvents    atomic.Int64 // staff mail refused for want of authentication
	IMAPConnects      atomic.Int64
	IMAPErrors        atomic.Int64
	LastMessageDate   atomic.Int64 // Unix seconds of the newest processed mail's Date header (when plausible)
	LastProcessedAt   atomic.Int64 // Unix seconds when it was processed
	// LastPollAt is the Unix time of the last successful look at the mailbox (a
	// catch-up pass that finished); 0: none since the start. LastSendAt is the Unix
	// time the SMTP server last accepted a reply. Both are wall-clock time, even
	// under a simulated clock: alert rules compare them with Prometheus's time().
	LastPollAt atomic.Int64
	LastSendAt atomic.Int64
	IMAPUp     atomic.Bool
	// SMTPUp is whether the last contact with the SMTP server (a send or a probe)
	// succeeded.
	SMTPUp atomic.Bool

	// RepliesQueued and RepliesSent count by template kind (acknowledgement,
	// missing_items, accepted, staff_notification …): use ReplyQueued / ReplySent.
	RepliesQueued KindCounter
	RepliesSent   KindCounter

	// IntakeBusy is the time spent in each stage of the intake pipeline, in
	// nanoseconds: "prepare", parsing on the workers (summed over them); "commit", the
	// committer's store transactions; "fetch", reading mail off the IMAP connection;
	// "backpressure", the fetcher waiting for a free worker, buffer budget or queue
	// slot; "pace", the fetcher waiting for the replies to catch up. With the wall time it tells which stage bounds the rate: the fetcher and
	// the committer are serial, so fetch (or commit) time close to the wall time says
	// the server (or the store) is the bottleneck, much backpressure that parsing is.
	IntakeBusy KindCounter
	// OutboxYield is the time, in nanoseconds, sending waited for intake to catch up
	// on a backlog (dispatch.IntakeFirst).
	OutboxYield atomic.Int64

	// AuthFailures counts refused logins and untrusted certificates by service
	// ("imap", "smtp"): configuration problems that must be loud.
	AuthFailures KindCounter
}

// ReplyQueued counts one mail of the template kind put in the outbox.
func (m *Metrics) ReplyQueued(kind string) { m.RepliesQueued.Add(kind) }

// ReplySent counts one mail of the template kind the SMTP server accepted.
func (m *Metrics) ReplySent(kind string) {
	m.RepliesSent.Add(kind)
	m.LastSendAt.Store(time.Now().Unix())
	m.SMTPUp.Store(true)
}

// Polled records a successful pass over the mailbox.
func (m *Metrics) Polled() { m.LastPollAt.Store(time.Now().Unix()) }

// KindCounter is a counter per label value (a template kind, a service). The set of
// values is small and bounded by the code and the config, never by mail content. The
// zero value is ready to use.
type KindCounter struct {
	mu sync.Mutex
	n  map[string]int64
}

// Add counts one for kind.
func (k *KindCounter) Add(kind string) { k.AddN(kind, 1) }

// AddN counts n for kind.
func (k *KindCounter) AddN(kind string, n int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.n == nil {
		k.n = map[string]int64{}
	}
	k.n[kind] += n
}

// Busy adds the time since start to the stage's share of IntakeBusy.
func (m *Metrics) Busy(stage string, start time.Time) {
	m.IntakeBusy.AddN(stage, int64(time.Since(start)))
}

// Get is the count for kind.
func (k *KindCounter) Get(kind string) int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.n[kind]
}

// Total is the sum over every kind.
func (k *KindCounter) Total() int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	var t int64
	for _, v := range k.n {
		t += v
	}
	return t
}

// counts is a copy of the counts, in kind order.
func (k *KindCounter) counts() ([]string, map[string]int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c := maps.Clone(k.n)
	return slices.Sorted(maps.Keys(c)), c
}

// CaseCount is the number of cases with one state, severity and department.
type CaseCount struct {
	State, Severity, Department string
	Cases                       int
}

// Snapshot is what the store holds that /metrics shows, read in one read-only
// transaction per scrape.
type Snapshot struct {
	Cases []CaseCount
	// Overdue counts the cases past their due date that are not finished, by state.
	Overdue       map[string]int
	OutboxPending int
	OutboxFailed  int       // replies given up on, still in the store
	OutboxOldest  time.Time // creation of the oldest pending reply; zero: none
	Quarantined   int
	// AlertsOpen is the number of operator alerts not yet acknowledged.
	AlertsOpen int
}

// BuildInfo names the binary, for complaintd_build_info.
type BuildInfo struct {
	Version, Revision, GoVersion string
}
