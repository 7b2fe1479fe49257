package metrics

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// scrape GETs /metrics from h and returns the exposition.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d:\n%s", resp.StatusCode, b)
	}
	return string(b)
}

// The exposition carries the runtime and process collectors, the build, the counters
// with their kinds, the store's gauges and the ages computed on the given clock — and
// nothing personal.
func TestHandlerServesEveryMetric(t *testing.T) {
	var m Metrics
	m.Processed.Add(3)
	m.LastMessageDate.Store(1000)
	m.LastProcessedAt.Store(1042)
	m.ReplyQueued("acknowledgement")
	m.ReplyQueued("acknowledgement")
	m.ReplyQueued("missing_items")
	m.ReplySent("acknowledgement")
	m.AuthFailures.Add("imap")
	m.IMAPUp.Store(true)
	m.Polled()
	now := time.Unix(100_000, 0)
	h := Handler(&m, HandlerOptions{
		Build: BuildInfo{Version: "v1.2.3", Revision: "abc", GoVersion: "go1.26.8"},
		Now:   func() time.Time { return now },
		Snapshot: func() (Snapshot, error) {
			return Snapshot{
				Cases: []CaseCount{{State: "accepted", Severity: "major", Department: "news", Cases: 2},
					{State: "incomplete", Severity: "ordinary", Department: "", Cases: 5}},
				Overdue:       map[string]int{"accepted": 1, "pending_review": 0},
				OutboxPending: 2, OutboxFailed: 1, OutboxOldest: now.Add(-90 * time.Second),
				Quarantined: 1, AlertsOpen: 4,
			}, nil
		},
	})
	out := scrape(t, h)
	for _, want := range []string{
		"go_goroutines ", "process_start_time_seconds ",
		`complaintd_build_info{goversion="go1.26.8",revision="abc",version="v1.2.3"} 1` + "\n",
		"complaintd_mails_processed_total 3\n",
		`complaintd_replies_queued_total{kind="acknowledgement"} 2` + "\n",
		`complaintd_replies_queued_total{kind="missing_items"} 1` + "\n",
		`complaintd_replies_sent_total{kind="acknowledgement"} 1` + "\n",
		`complaintd_auth_failures_total{service="imap"} 1` + "\n",
		"complaintd_imap_up 1\n", "complaintd_smtp_up 1\n",
		`complaintd_cases{department="news",severity="major",state="accepted"} 2` + "\n",
		`complaintd_cases{department="",severity="ordinary",state="incomplete"} 5` + "\n",
		`complaintd_cases_overdue{state="accepted"} 1` + "\n",
		`complaintd_cases_overdue{state="pending_review"} 0` + "\n",
		"complaintd_outbox_depth 2\n", "complaintd_outbox_failed 1\n",
		"complaintd_outbox_oldest_age_seconds 90\n",
		"complaintd_quarantine_mails 1\n", "complaintd_alerts_open 4\n",
		"complaintd_ingest_lag_seconds 42\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
	// The timestamps are wall-clock seconds of the moment they were recorded.
	for _, name := range []string{"complaintd_last_imap_poll_timestamp_seconds", "complaintd_last_smtp_send_timestamp_seconds"} {
		v := value(t, out, name)
		if d := time.Since(time.Unix(int64(v), 0)); d < 0 || d > time.Minute {
			t.Errorf("%s = %v: not the time of the last success", name, v)
		}
	}
	if strings.Contains(out, "@") || strings.Contains(out, "TS-") {
		t.Error("personal data or case numbers in /metrics")
	}
}

// value is the value of an unlabelled series in an exposition.
func value(t *testing.T, out, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("%s not served", name)
	return 0
}

// Right after a start nothing has succeeded yet: the up gauges and the timestamps are
// 0, not a stale 1 from before the restart.
func TestFreshMetricsSayNothingWorkedYet(t *testing.T) {
	out := scrape(t, Handler(&Metrics{}, HandlerOptions{}))
	for _, want := range []string{"complaintd_imap_up 0\n", "complaintd_smtp_up 0\n",
		"complaintd_last_imap_poll_timestamp_seconds 0\n", "complaintd_last_smtp_send_timestamp_seconds 0\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
	if strings.Contains(out, "complaintd_cases") {
		t.Error("store gauges served without a snapshot")
	}
}

// A store that cannot be read still leaves the counters served, and the scrape says
// what went wrong instead of showing stale or zero gauges.
func TestSnapshotErrorKeepsCounters(t *testing.T) {
	var m Metrics
	m.Processed.Add(7)
	h := Handler(&m, HandlerOptions{Snapshot: func() (Snapshot, error) { return Snapshot{}, errors.New("bucket missing") }})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	out := string(b)
	if !strings.Contains(out, "complaintd_mails_processed_total 7\n") || strings.Contains(out, "complaintd_outbox_depth ") {
		t.Errorf("exposition with a broken store:\n%s", out)
	}
}

// Every name and help text passes the Prometheus linter (units, _total, snake case).
func TestMetricNamesFollowConventions(t *testing.T) {
	var m Metrics
	m.ReplyQueued("acknowledgement")
	m.ReplySent("acknowledgement")
	m.AuthFailures.Add("smtp")
	c := newCollector(&m, HandlerOptions{Snapshot: func() (Snapshot, error) {
		return Snapshot{Cases: []CaseCount{{State: "accepted", Cases: 1}}, Overdue: map[string]int{"accepted": 0}}, nil
	}})
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// The intake's stage times are served in seconds, one series per stage.
func TestIntakeBusyInSeconds(t *testing.T) {
	var m Metrics
	m.Busy("commit", time.Now().Add(-1500*time.Millisecond))
	m.IntakeBusy.AddN("fetch", int64(250*time.Millisecond))
	out := scrape(t, Handler(&m, HandlerOptions{}))
	for stage, lo := range map[string]float64{"commit": 1.5, "fetch": 0.25} {
		v := value(t, out, `complaintd_intake_busy_seconds_total{stage="`+stage+`"}`)
		if v < lo || v > lo+1 {
			t.Errorf("%s: %v s, want %v s", stage, v, lo)
		}
	}
}
