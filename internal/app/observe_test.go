package app

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/metrics"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/templates"
)

// fixedClock is a clock that says t.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// testDesk is a desk with a store, the embedded templates, a fixed clock and an SMTP
// address (smtpAddr; "" for a closed port), enough for /healthz, /metrics and the
// control socket.
func testDesk(t testing.TB, now time.Time, smtpAddr string) *desk {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "c.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.MarkCurrent(); err != nil { // a fresh file of this version: facts kept beside the cases
		t.Fatal(err)
	}
	if smtpAddr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		smtpAddr = ln.Addr().String()
		ln.Close() // a port nobody listens on
	}
	host, port, _ := net.SplitHostPort(smtpAddr)
	p, _ := strconv.Atoi(port)
	cfg := &config.Config{}
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS = host, p, "none"
	tpl, err := render.NewReloader("", templates.FS(), "zh-CN", nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &desk{cfg: cfg, log: slog.New(slog.DiscardHandler), store: st, clock: fixedClock{now}, metrics: &metrics.Metrics{}}
	d.gen.Store(&live{cfg: cfg, templates: tpl})
	return d
}

// fakeSMTP greets every connection with 220 and returns its address.
func fakeSMTP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.WriteString(c, "220-smtp.test ESMTP\r\n220 ready\r\n")
				bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, "221 bye\r\n")
			}()
		}
	}()
	return ln.Addr().String()
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code, rec.Body.String()
}

// /metrics counts the store's cases by state, severity and department, the overdue
// ones (past due and not finished: a closed case past its old due date is not), the
// outbox with the age of its oldest mail, the quarantine and the open alerts.
func TestMetricsFromTheStore(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	d := testDesk(t, now, "")
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	err := d.store.Update(func(tx *store.Tx) error {
		for _, c := range []*cases.Case{
			{ID: "TS-2026-000001", State: cases.Accepted, Severity: cases.Major, Department: "news", DueAt: &past},
			{ID: "TS-2026-000002", State: cases.Accepted, Severity: cases.Major, Department: "news", DueAt: &future},
			{ID: "TS-2026-000003", State: cases.PendingReview, Department: "blog", DueAt: &past},
			{ID: "TS-2026-000004", State: cases.Closed, Department: "blog", DueAt: &past},
		} {
			if err := tx.PutCase(c); err != nil {
				return err
			}
		}
		if err := tx.Enqueue(&store.OutboxEntry{Kind: "acknowledgement", MessageID: "a@desk.test", CreatedAt: now.Add(-5 * time.Minute), NextAt: now}); err != nil {
			return err
		}
		if err := tx.PutQuarantined(store.Quarantined{Mailbox: "INBOX", UIDValidity: 1, UID: 7, Reason: "too big"}); err != nil {
			return err
		}
		return tx.AddAlert(store.Alert{At: now, Kind: "templates", Message: "broken"})
	})
	if err != nil {
		t.Fatal(err)
	}
	code, out := get(t, d.healthHandler(), "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d\n%s", code, out)
	}
	for _, want := range []string{
		`complaintd_cases{department="news",severity="major",state="accepted"} 2`,
		`complaintd_cases{department="blog",severity="ordinary",state="pending_review"} 1`,
		`complaintd_cases{department="blog",severity="ordinary",state="closed"} 1`,
		`complaintd_cases_overdue{state="accepted"} 1`,
		`complaintd_cases_overdue{state="pending_review"} 1`,
		`complaintd_cases_overdue{state="incomplete"} 0`,
		"complaintd_outbox_depth 1", "complaintd_outbox_oldest_age_seconds 300",
		"complaintd_quarantine_mails 1", "complaintd_alerts_open 1",
		"complaintd_build_info{", "go_goroutines ", "process_resident_memory_bytes ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
	if strings.Contains(out, `complaintd_cases_overdue{state="closed"}`) {
		t.Error("a closed case counted as overdue")
	}
}

// complaintd_smtp_up follows the server without any mail going out: 1 right after the
// first probe of a start, 0 once the server is gone.
func TestSMTPUpFollowsTheProbe(t *testing.T) {
	d := testDesk(t, time.Now(), fakeSMTP(t))
	if d.metrics.SMTPUp.Load() {
		t.Fatal("smtp up before any contact")
	}
	if err := d.probeSMTP(context.Background()); err != nil || !d.metrics.SMTPUp.Load() {
		t.Fatalf("probe of a greeting server: %v, up=%v", err, d.metrics.SMTPUp.Load())
	}
	_, out := get(t, d.healthHandler(), "/metrics")
	if !strings.Contains(out, "complaintd_smtp_up 1\n") {
		t.Error("complaintd_smtp_up is not 1 after a good probe")
	}
	down := testDesk(t, time.Now(), "")
	down.metrics.SMTPUp.Store(true) // as a send before the outage left it
	if err := down.probeSMTP(context.Background()); err == nil || down.metrics.SMTPUp.Load() {
		t.Fatalf("probe of a closed port: %v, up=%v", err, down.metrics.SMTPUp.Load())
	}
	var h health
	_, body := get(t, down.healthHandler(), "/healthz")
	if err := json.Unmarshal([]byte(body), &h); err != nil || h.SMTP != "unreachable" {
		t.Fatalf("/healthz during an SMTP outage: %s", body)
	}
}

// BenchmarkMetricsSnapshot measures the store's part of one scrape over 10,000 cases
// (go test -run x -bench MetricsSnapshot ./internal/app): 9–15 ms here reading the
// facts, where decoding the case records took 90–125 ms.
func BenchmarkMetricsSnapshot(b *testing.B) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	d := testDesk(b, now, "")
	states := cases.States()
	due := now.Add(-time.Hour)
	const n = 10_000
	for batch := 0; batch < n; batch += 1000 {
		err := d.store.Update(func(tx *store.Tx) error {
			for i := batch; i < batch+1000; i++ {
				c := &cases.Case{ID: "TS-2026-" + strconv.Itoa(100000+i), State: states[i%len(states)], Department: "news", DueAt: &due,
					Applicant: cases.Party{Name: "王小明", Org: "某某文化传媒有限公司", Email: "someone@example.cn"},
					Request:   cases.Request{Title: "某地新闻稿件标题", URL: "https://news.example.cn/c/abcdef", Reason: strings.Repeat("内容失实，", 20)},
					Why:       []string{"subject", "body"}, Threads: []string{"a@b", "c@d"}}
				if err := tx.PutCase(c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		s, err := d.metricsSnapshot()
		if err != nil || len(s.Cases) == 0 {
			b.Fatal(err)
		}
	}
}

// /healthz is unauthenticated, and each request opened a connection to the SMTP
// relay: anyone who could reach it could make the desk hammer its mail server. A
// burst of requests now shares one check (found in review of the CLI).
func TestHealthzBurstMakesOneSMTPConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				io.WriteString(c, "220 ready\r\n")
				bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, "221 bye\r\n")
			}()
		}
	}()
	d := testDesk(t, time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC), ln.Addr().String())
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if h := d.health(); h.SMTP != "reachable" {
				t.Errorf("smtp %q", h.SMTP)
			}
		})
	}
	wg.Wait()
	if n := conns.Load(); n != 1 {
		t.Errorf("50 /healthz requests made %d SMTP connections, want 1", n)
	}
}
