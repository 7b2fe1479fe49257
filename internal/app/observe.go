package app

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/metrics"
	"github.com/complaintd/complaintd/internal/store"
)

// smtpProbeInterval is how often the SMTP server is checked, so that
// complaintd_smtp_up is true right after a start and false during an outage even when
// the outbox is empty: every 30 s, or every smtp.retry_max when that is shorter (a
// desk configured to retry sooner — a test stack — learns of an outage as soon).
func (d *desk) smtpProbeInterval() time.Duration {
	if r := d.cfg.SMTP.RetryMax; r > 0 && r < 30*time.Second {
		return max(r, time.Second)
	}
	return 30 * time.Second
}

// metricsHandler serves /metrics.
func (d *desk) metricsHandler() http.Handler {
	return metrics.Handler(d.metrics, metrics.HandlerOptions{
		Build: buildInfo(), Snapshot: d.metricsSnapshot, Now: d.clock.Now,
	})
}

// metricsSnapshot reads the store's gauges in one read transaction: one pass over the
// cases' facts (small anonymous records kept beside each case; no case is opened), the
// outbox's pending index, the quarantine's key count and the alerts.
func (d *desk) metricsSnapshot() (metrics.Snapshot, error) {
	now := d.clock.Now()
	s := metrics.Snapshot{Overdue: map[string]int{}}
	for _, st := range cases.States() {
		if !st.Terminal() {
			s.Overdue[string(st)] = 0 // a series per state, so that a rule sees 0, not nothing
		}
	}
	err := d.store.View(func(tx *store.Tx) error {
		type key struct{ state, severity, dept string }
		counts := map[key]int{}
		var order []key
		err := tx.EachFacts(func(c *cases.Facts) error {
			sev := c.Severity
			if sev == "" {
				sev = cases.Ordinary
			}
			k := key{string(c.State), string(sev), c.Department}
			if counts[k] == 0 {
				order = append(order, k)
			}
			counts[k]++
			if !c.DueAt.IsZero() && now.After(c.DueAt) && !c.State.Terminal() {
				s.Overdue[string(c.State)]++
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("cases: %w", err)
		}
		for _, k := range order {
			s.Cases = append(s.Cases, metrics.CaseCount{State: k.state, Severity: k.severity, Department: k.dept, Cases: counts[k]})
		}
		byState, oldest, err := tx.OutboxStats()
		if err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		s.OutboxPending, s.OutboxFailed, s.OutboxOldest = byState[store.OutboxPending], byState[store.OutboxFailed], oldest
		s.Quarantined = tx.QuarantineCount()
		alerts, err := tx.OpenAlerts()
		if err != nil {
			return fmt.Errorf("alerts: %w", err)
		}
		s.AlertsOpen = len(alerts)
		return nil
	})
	return s, err
}

// buildInfo is what the binary says of itself (Go stamps the module version and, when
// built from a checkout without -buildvcs=false, the VCS revision).
func buildInfo() metrics.BuildInfo {
	b := metrics.BuildInfo{Version: "unknown", Revision: "unknown", GoVersion: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Version, b.GoVersion = bi.Main.Version, bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				b.Revision += "+dirty"
			}
		}
	}
	return b
}

// probeSMTP checks that the SMTP server answers with its greeting (after the TLS
// handshake for implicit TLS) and records the result in complaintd_smtp_up. It does
// not log in: a probe every 30 s must not count against a login limit.
func (d *desk) probeSMTP(ctx context.Context) error {
	err := smtpGreeting(ctx, d.cfg.SMTP.Host, d.cfg.SMTP.Port, d.cfg.SMTP.TLS == "tls", d.smtpTLS)
	// A server that greets but refuses our login, or the outbox's mail, is not up
	// for the desk.
	d.metrics.SMTPUp.Store(err == nil && (d.dispatcher == nil || d.dispatcher.Problem() == "") && d.smtpDeliveryProblem() == "")
	return err
}

// healthProbeFresh is how long /healthz answers with the last SMTP greeting check
// instead of making another: it is unauthenticated, and each request opened a
// connection to the relay (found in review). Real time: a cache, not a deadline.
const healthProbeFresh = 5 * time.Second

// smtpHealthProbe is the last check made for /healthz; requests that come while one
// runs wait for it and share it.
type smtpHealthProbe struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

func (d *desk) probeSMTPForHealth() error {
	p := &d.healthProbe
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.at.IsZero() && time.Since(p.at) < healthProbeFresh {
		return p.err
	}
	p.err = d.probeSMTP(context.Background())
	p.at = time.Now()
	return p.err
}

// smtpGreeting dials host:port and reads the server's 220 greeting (RFC 5321 §4.3.1),
// then says QUIT.
func smtpGreeting(ctx context.Context, host string, port int, implicitTLS bool, cfg *tls.Config) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	var c net.Conn
	var err error
	if implicitTLS {
		c, err = (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", addr)
	} else {
		c, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("read greeting of %s: %w", addr, err)
		}
		if !strings.HasPrefix(line, "220") {
			return fmt.Errorf("greeting of %s: %q", addr, strings.TrimSpace(line))
		}
		if len(line) < 4 || line[3] != '-' { // the last line of a multi-line reply
			break
		}
	}
	fmt.Fprint(c, "QUIT\r\n")
	return nil
}

// watchSMTP probes the SMTP server at once and then every smtpProbeInterval, until ctx
// ends.
func (d *desk) watchSMTP(ctx context.Context) {
	for {
		if err := d.probeSMTP(ctx); err != nil && ctx.Err() == nil {
			d.log.Debug("smtp probe", "err", err)
		}
		t := time.NewTimer(d.smtpProbeInterval())
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
