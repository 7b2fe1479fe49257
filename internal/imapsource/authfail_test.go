package imapsource

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/complaintd/complaintd/internal/metrics"
)

// syncBuffer is a log sink safe for the pipeline's goroutine and the test's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// records are the JSON log records with the given message.
func (s *syncBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(s.b.String(), "\n") {
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// noIntake is an Intake that is never reached: these sessions fail at login.
type noIntake struct{ Intake[noPrepared] }

type noPrepared struct{}

func (noPrepared) MessageID() string { return "" }

func (noIntake) Progress(inbound.Stream) (inbound.Progress, error) { return inbound.Progress{}, nil }

func (noIntake) Retries(inbound.Stream) ([]inbound.Quarantined, error) { return nil, nil }

// A wrong password is not retried at the reconnect pace (a lockout risk): each refusal
// is logged at ERROR with the server's reason, the pause grows from AuthBackoff.Min
// (not Backoff.Min), /healthz's Problem says so with the next attempt, and the count
// is exported. Once the password is right, the problem is gone and the pace is reset.
func TestRefusedLoginBacksOffHard(t *testing.T) {
	ms := startMemServer(t, memServerConfig{})
	o := ms.options()
	o.Password = "wrong"
	var dials atomic.Int64
	var fixed atomic.Bool
	logs := &syncBuffer{}
	m := &metrics.Metrics{}
	pl := NewPipeline[noPrepared](noIntake{}, PipelineOptions{
		IMAP: o, Mailbox: "INBOX", PollInterval: time.Hour, Metrics: m,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
		// The reconnect pace would be 1 ms: a wrong password retried at that pace
		// would show as hundreds of dials.
		Backoff:     Backoff{Min: time.Millisecond, Max: time.Millisecond},
		AuthBackoff: Backoff{Min: 50 * time.Millisecond, Max: time.Second, Rand: func() float64 { return 0.999 }},
		Dial: func(ctx context.Context, o Options) (*Client, error) {
			dials.Add(1)
			if fixed.Load() {
				o.Password = testPass
			}
			return Dial(ctx, o)
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); pl.Run(ctx) }()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(30 * time.Second)
	for len(logs.records(t, "imap login refused")) < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("4 refusals not logged within 30s; %d dials", dials.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	recs := logs.records(t, "imap login refused")
	var prev float64
	for i, r := range recs[:4] {
		if r["level"] != "ERROR" || !strings.Contains(r["err"].(string), "authentication failed") {
			t.Errorf("refusal %d: %v", i, r)
		}
		delay := r["retry_in"].(float64)
		if i == 0 && delay < float64(40*time.Millisecond) {
			t.Errorf("first pause %v: the reconnect pace, not the hard backoff", time.Duration(delay))
		}
		if delay <= prev {
			t.Errorf("pause %d is %v after %v: not growing", i, time.Duration(delay), time.Duration(prev))
		}
		prev = delay
	}
	// 50+100+200 ms before the 4th refusal: a reconnect loop would have made hundreds.
	if n := dials.Load(); n > int64(len(logs.records(t, "imap login refused")))+1 {
		t.Errorf("%d dials for %d refusals", n, len(recs))
	}
	if p := pl.Problem(); !strings.Contains(p, "login refused") || !strings.Contains(p, "next attempt at") {
		t.Errorf("Problem() = %q", p)
	}
	if got := m.AuthFailures.Get("imap"); got < 4 {
		t.Errorf("complaintd_auth_failures_total{service=imap} = %d", got)
	}
	if len(logs.records(t, "imap session ended")) != 0 {
		t.Error("a refused login logged as an ordinary disconnect")
	}

	fixed.Store(true)
	for pl.Problem() != "" || !m.IMAPUp.Load() {
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("no recovery after the password was fixed: %q", pl.Problem())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
