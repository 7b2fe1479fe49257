package dispatch_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/dispatch"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/store"
)

// A refused SMTP login pauses all sending, not one mail: however many mails are due,
// one login per pause, the pause doubling from HoldMin to HoldMax, each refusal at
// ERROR, the mails kept (their attempts never run out on it), and the first accepted
// mail ends the pause.
func TestRefusedLoginPausesAllSending(t *testing.T) {
	authErr := &outbox.SendError{Temporary: true, Code: 535, Stage: outbox.StageAuth, Err: errors.New("SMTP AUTH failed: 535 5.7.8 authentication failed")}
	sender := &fakeSender{failN: -1, err: authErr}
	var logs bytes.Buffer
	f := newFixture(t, sender, func(o *dispatch.Options) {
		o.HoldMin, o.HoldMax, o.MaxAttempts = 2*time.Minute, 8*time.Minute, 2
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	var seqs []uint64
	for i := range 5 {
		seqs = append(seqs, f.enqueue(t, func(m *outbox.Mail) { m.MessageID = fmt.Sprintf("m%d@desk.example.cn", i) }))
	}
	ctx := context.Background()
	// Each round: everything is due; exactly one login is tried.
	wantPause := []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 8 * time.Minute}
	now := t0
	for round, pause := range wantPause {
		calls, _ := sender.count()
		next, err := f.d.Flush(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := sender.count(); got != calls+1 {
			t.Fatalf("round %d: %d logins for 5 due mails, want 1", round, got-calls)
		}
		if !next.Equal(now.Add(pause)) {
			t.Fatalf("round %d: next attempt at %v, want a pause of %v", round, next.Sub(now), pause)
		}
		if p := f.d.Problem(); !strings.Contains(p, "login refused") || !strings.Contains(p, "sending paused until") {
			t.Errorf("round %d: Problem() = %q", round, p)
		}
		// Mail queued during the pause, and a wake-up, make no login either.
		f.clock.Set(now.Add(pause - time.Second))
		if _, err := f.d.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := sender.count(); got != calls+1 {
			t.Fatalf("round %d: a login during the pause", round)
		}
		now = now.Add(pause)
		f.clock.Set(now)
	}
	if n := strings.Count(logs.String(), "level=ERROR msg=\"smtp login refused\""); n != len(wantPause) {
		t.Errorf("%d ERROR records, want %d:\n%s", n, len(wantPause), logs.String())
	}
	if strings.Contains(logs.String(), "reply deferred") {
		t.Error("a refused login logged as an ordinary deferral")
	}
	if got := f.m.AuthFailures.Get("smtp"); got != int64(len(wantPause)) {
		t.Errorf("auth failures %d", got)
	}
	for _, seq := range seqs {
		if e := f.entry(t, seq); e.State != store.OutboxPending || e.Attempts != 0 {
			t.Fatalf("entry %d: %s with %d attempts counted after refused logins (max_attempts 2)", seq, e.State, e.Attempts)
		}
	}
	// The password is fixed: the next attempt sends everything and the pause is over.
	sender.mu.Lock()
	sender.failN = 0
	sender.mu.Unlock()
	if _, err := f.d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, sent := sender.count(); sent != 5 || f.d.Problem() != "" || !f.m.SMTPUp.Load() {
		t.Fatalf("after the fix: %d sent, problem %q", sent, f.d.Problem())
	}
}

// What pauses sending and what does not: a refused login and an untrusted certificate
// do; a busy server, a refused recipient and other errors do not.
func TestConfigFailureClassification(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&outbox.SendError{Temporary: true, Code: 535, Stage: outbox.StageAuth, Err: errors.New("535")}, "login refused"},
		{&outbox.SendError{Temporary: true, Stage: outbox.StageConnect, Err: fmt.Errorf("tls: %w", x509.UnknownAuthorityError{})}, "certificate not trusted"},
		{&outbox.SendError{Temporary: true, Stage: outbox.StageConnect, Err: errors.New("tls: failed to verify certificate: x509: certificate is valid for a, not b")}, "certificate not trusted"},
		{temporary, ""},
		{permanent, ""},
		{errors.New("connection refused"), ""},
		{nil, ""},
	} {
		if got := dispatch.ConfigFailure(tt.err); got != tt.want {
			t.Errorf("ConfigFailure(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
