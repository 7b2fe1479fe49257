// Package dispatch drains the durable outbox: it hands each pending reply to SMTP,
// retries temporary failures with exponential backoff, and records the result in the
// store. The reply's Message-ID and Date were fixed when it was queued, so a resend
// after a crash inside the SMTP exchange is the same message, not a second one.
//
// Invariant: an entry is marked sent only after the server accepted it; an entry is
// never sent while another attempt for it is in flight (one worker goroutine).
package dispatch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/metrics"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/pii"
	"github.com/complaintd/complaintd/internal/store"
)

// Sender hands one mail to SMTP; outbox.Sender implements it.
type Sender interface {
	Send(ctx context.Context, m outbox.Mail) error
}

// Options wires a Dispatcher.
type Options struct {
	Store       *store.Store
	Sender      Sender
	MaxAttempts int           // zero: 20
	RetryMin    time.Duration // zero: 30s
	RetryMax    time.Duration // zero: 1h
	SendTimeout time.Duration // zero: 2m; bounds one attempt, also during shutdown
	Now         func() time.Time
	Logger      *slog.Logger
	Metrics     *metrics.Metrics
	// Attach resolves attachment contents of a stored mail before sending (the
	// Open funcs cannot be stored). Nil: mails are sent without re-attaching.
	Attach func(m *outbox.Mail) error
	// HoldMin and HoldMax bound the pause of all sending after the server refused
	// the login or its certificate was not trusted (ConfigFailure): every attempt is
	// a failed login the server counts towards a lockout, and no mail of the outbox
	// would fare better. The pause doubles from HoldMin up to HoldMax while it lasts.
	// Zero: 2m and 1h.
	HoldMin, HoldMax time.Duration
}

// Dispatcher is the outbox worker.
type Dispatcher struct {
	o    Options
	wake chan struct{}

	// Set by the worker, read by Problem.
	mu        sync.Mutex
	holdUntil time.Time     // no attempt before this (a refused login); zero: none
	hold      time.Duration // the current pause, doubling
	problem   string        // why sending is held, for /healthz
}

// New builds a dispatcher.
func New(o Options) *Dispatcher {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 20
	}
	if o.RetryMin <= 0 {
		o.RetryMin = 30 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = time.Hour
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 2 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = &metrics.Metrics{}
	}
	if o.HoldMin <= 0 {
		o.HoldMin = 2 * time.Minute
	}
	if o.HoldMax <= 0 {
		o.HoldMax = time.Hour
	}
	return &Dispatcher{o: o, wake: make(chan struct{}, 1)}
}

// Wake tells the worker new entries are waiting. It never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run sends until ctx is done. An attempt in flight when ctx ends is finished (bounded
// by SendTimeout) so that its result is recorded.
func (d *Dispatcher) Run(ctx context.Context) error {
	for {
		next, err := d.Flush(ctx)
		if err != nil {
			d.o.Logger.Error("outbox pass", "err", err)
			next = d.o.Now().Add(d.o.RetryMin)
		}
		wait := time.Until(next)
		if next.IsZero() || wait > 30*time.Second {
			wait = 30 * time.Second
		}
		if wait < 0 {
			wait = 0
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-d.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// Flush sends every due entry once and returns when the next one is due (zero when
// the outbox is empty).
func (d *Dispatcher) Flush(ctx context.Context) (time.Time, error) {
	var due []uint64
	var next time.Time
	now := d.o.Now()
	err := d.o.Store.View(func(tx *store.Tx) error {
		return tx.EachPending(func(e *store.OutboxEntry) error {
			if !e.NextAt.After(now) {
				due = append(due, e.Seq)
			} else if next.IsZero() || e.NextAt.Before(next) {
				next = e.NextAt
			}
			return nil
		})
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("read outbox: %w", err)
	}
	for _, seq := range due {
		if ctx.Err() != nil {
			return next, nil
		}
		if until := d.heldUntil(); now.Before(until) {
			// Sending is paused after a refused login: the due mail waits for the
			// end of the pause (one login then), not for its own retry time.
			return until, nil
		}
		retryAt, err := d.attempt(ctx, seq)
		if err != nil {
			return time.Time{}, err
		}
		if !retryAt.IsZero() && (next.IsZero() || retryAt.Before(next)) {
			next = retryAt
		}
	}
	return next, nil
}

// attempt sends one entry and records the result; it returns when to retry (zero when
// done).
func (d *Dispatcher) attempt(ctx context.Context, seq uint64) (time.Time, error) {
	var e *store.OutboxEntry
	if err := d.o.Store.View(func(tx *store.Tx) error {
		var err error
		e, err = tx.OutboxEntry(seq)
		return err
	}); err != nil {
		return time.Time{}, fmt.Errorf("read outbox entry %d: %w", seq, err)
	}
	if e.State != store.OutboxPending {
		return time.Time{}, nil
	}
	sendErr := d.send(ctx, e)
	now := d.o.Now()
	// A refused login or certificate is the desk's configuration, not the mail's
	// fault: it is not counted among the mail's attempts.
	why := ConfigFailure(sendErr)
	if why == "" {
		e.Attempts++
	}
	var event *cases.Event
	switch {
	case sendErr == nil:
		e.State, e.SentAt, e.LastError = store.OutboxSent, now, ""
		d.o.Metrics.ReplySent(e.Kind)
		event = &cases.Event{At: now, Type: cases.EventReplySent, Actor: "desk", Note: e.Kind}
		d.o.Logger.Info("reply sent", "case", e.Case, "message_id", e.MessageID, "attempt", e.Attempts)
	case !outbox.IsTemporary(sendErr) || e.Attempts >= d.o.MaxAttempts:
		e.State, e.LastError = store.OutboxFailed, pii.RedactAddresses(sendErr.Error())
		d.o.Metrics.RepliesFailed.Add(1)
		d.o.Metrics.RepliesDropped.Add(1)
		event = &cases.Event{At: now, Type: cases.EventReplyFailed, Actor: "desk", Note: fmt.Sprintf("%s: %s", e.Kind, pii.RedactAddresses(sendErr.Error()))}
		d.o.Logger.Error("reply failed for good", "case", e.Case, "message_id", e.MessageID, "attempt", e.Attempts, "err", pii.RedactAddresses(sendErr.Error()))
	default:
		e.LastError = pii.RedactAddresses(sendErr.Error())
		e.NextAt = now.Add(d.backoff(e.Attempts))
		d.o.Metrics.RepliesFailed.Add(1)
		d.o.Metrics.SMTPUp.Store(false)
		if why != "" {
			until := d.holdSending(now, why, e.LastError)
			e.NextAt = until
			d.o.Logger.Error("smtp "+why, "case", e.Case, "message_id", e.MessageID, "attempt", e.Attempts, "sending_paused_until", until, "err", e.LastError)
		} else {
			d.o.Logger.Warn("reply deferred", "case", e.Case, "message_id", e.MessageID, "attempt", e.Attempts, "retry_at", e.NextAt, "err", e.LastError)
		}
	}
	if sendErr == nil {
		d.release()
	}
	err := d.o.Store.Update(func(tx *store.Tx) error {
		if err := tx.PutOutbox(e); err != nil {
			return err
		}
		if event != nil && e.Case != "" {
			return tx.AppendEvent(e.Case, *event)
		}
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("record outbox attempt: %w", err)
	}
	if e.State == store.OutboxPending {
		return e.NextAt, nil
	}
	return time.Time{}, nil
}

func (d *Dispatcher) send(ctx context.Context, e *store.OutboxEntry) (err error) {
	defer func() {
		if v := recover(); v != nil {
			d.o.Logger.Error("panic while sending", "case", e.Case, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = &outbox.SendError{Temporary: true, Err: fmt.Errorf("panic: %v", v)}
		}
	}()
	if e.Erased {
		return store.ErrErasedReply // permanent: the text is gone with the case's key
	}
	var m outbox.Mail
	if err := json.Unmarshal(e.Mail, &m); err != nil {
		return fmt.Errorf("decode stored mail: %w", err)
	}
	// Only vault documents need finding again; what the desk generated (a report's
	// chart and CSV) is stored with the mail and belongs to no case.
	if d.o.Attach != nil && m.NeedsOpen() {
		if err := d.o.Attach(&m); err != nil {
			return &outbox.SendError{Temporary: true, Err: fmt.Errorf("attachments: %w", err)}
		}
	}
	// Shutdown must not cut an SMTP exchange in half: that is the one place a reply
	// can go out twice. The attempt keeps its own deadline instead.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.o.SendTimeout)
	defer cancel()
	return d.o.Sender.Send(sctx, m)
}

// ConfigFailure says why an attempt failed when no retry of any mail cures it: the
// server refused the login (outbox.StageAuth) or its certificate is not trusted. ""
// for every other error.
func ConfigFailure(err error) string {
	if err == nil {
		return ""
	}
	var se *outbox.SendError
	if errors.As(err, &se) && se.Stage == outbox.StageAuth {
		return "login refused"
	}
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
	)
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) {
		return "certificate not trusted"
	}
	// go-mail flattens some TLS errors into text; the wording is Go's own.
	if msg := err.Error(); strings.Contains(msg, "tls: failed to verify certificate") || strings.Contains(msg, "x509: ") {
		return "certificate not trusted"
	}
	return ""
}

// holdSending pauses all sending after a configuration failure, doubling the pause
// while failures go on, and returns its end.
func (d *Dispatcher) holdSending(now time.Time, why, detail string) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.hold == 0 {
		d.hold = d.o.HoldMin
	} else {
		d.hold = min(2*d.hold, d.o.HoldMax)
	}
	d.holdUntil = now.Add(d.hold)
	d.problem = fmt.Sprintf("%s (%s); sending paused until %s", why, detail, d.holdUntil.Format(time.RFC3339))
	d.o.Metrics.AuthFailures.Add("smtp")
	return d.holdUntil
}

// release ends a pause: the server accepted a mail.
func (d *Dispatcher) release() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hold, d.holdUntil, d.problem = 0, time.Time{}, ""
}

func (d *Dispatcher) heldUntil() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.holdUntil
}

// Problem is why sending is paused (a refused login, an untrusted certificate) and
// until when; "" when it is not. Safe for concurrent use.
func (d *Dispatcher) Problem() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.problem
}

// backoff doubles from RetryMin up to RetryMax, with ±20% jitter so a recovering relay
// is not hit by every entry at once.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	b := d.o.RetryMin
	for i := 1; i < attempts && b < d.o.RetryMax; i++ {
		b *= 2
	}
	b = min(b, d.o.RetryMax)
	return time.Duration(float64(b) * (0.8 + 0.4*rand.Float64()))
}
