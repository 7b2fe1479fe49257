// Package dispatch drains the durable outbox: it hands each pending reply to SMTP
// over several sessions in parallel, retries temporary failures with exponential
// backoff, and records the result in the store. The reply's Message-ID and Date
// were fixed when it was queued, so a resend after a crash inside the SMTP exchange
// is the same message, not a second one.
//
// Invariants: an entry is marked sent only after the server accepted it; an entry
// is never sent while another attempt for it is in flight (one planner hands each
// entry to one session worker at a time and no other until that attempt is recorded);
// the replies of one case (or, without a case, to one address) go out one after
// the other in queue order, whatever the number of sessions: a later one waits in
// the chain of the worker sending the earlier one. The workers do not write to the
// store themselves: one recorder writes their results in batches (recorder.go), and
// an entry stays in flight until its result is written; meanwhile a journal file
// holds each accepted reply, so that a crash does not send it again (journal.go).
//
// Recovery: while the relay itself fails (outbox.IsRelayFault), the planner stops
// handing out mail and probes the server instead (or, without a probe, tries one
// due entry per pass), so an outage costs the queued mail no attempts. The first
// reply accepted after such failures releases the entries waiting on their own
// backoff, in bursts of Burst, each burst only after the previous one was tried
// and the relay still accepted mail: recovery is prompt without hammering a
// server that falls over again. A refused login or an untrusted certificate
// (ConfigFailure) is no outage: it pauses all sending instead, for a doubling time,
// since each probe or attempt would be one more failed login.
package dispatch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/metrics"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/pii"
	"github.com/complaintd/complaintd/internal/store"
)

// Sender hands one mail to SMTP; outbox.Sender implements it. With Sessions > 1
// it is called from several goroutines at once.
type Sender interface {
	Send(ctx context.Context, m outbox.Mail) error
}

// prober is the optional part of a Sender that checks the server without a mail
// (outbox.Sender.Probe: RSET on a kept session or EHLO on a new one).
type prober interface {
	Probe(ctx context.Context) error
}

// closer is the optional part of a Sender that ends its idle sessions at shutdown.
type closer interface {
	Close() error
}

// Options wires a Dispatcher.
type Options struct {
	Store       *store.Store
	Sender      Sender
	MaxAttempts int           // zero: 20
	RetryMin    time.Duration // zero: 30s
	RetryMax    time.Duration // zero: 1h
	SendTimeout time.Duration // zero: 2m; bounds one attempt, also during shutdown
	// Sessions is how many replies are in flight at once, each worker with an SMTP
	// session of its own (the Sender keeps them open); zero: 1.
	Sessions int
	// Burst is how many backoff-waiting entries one recovery step releases; zero:
	// 4 per session, at least 8.
	Burst int
	// ProbeEvery is how often the server is probed while it fails (real time);
	// zero: RetryMin, within 1s..5s. A probe is an RSET or an EHLO: cheap for the
	// server, and it bounds how long a recovered relay waits for the first reply.
	ProbeEvery time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
	Metrics    *metrics.Metrics
	// Attach resolves attachment contents of a stored mail before sending (the
	// Open funcs cannot be stored). Nil: mails are sent without re-attaching.
	Attach func(m *outbox.Mail) error
	// HoldMin and HoldMax bound the pause of all sending after the server refused
	// the login or its certificate was not trusted (ConfigFailure): every attempt is
	// a failed login the server counts towards a lockout, and no mail of the outbox
	// would fare better. The pause doubles from HoldMin up to HoldMax while it lasts.
	// Zero: 2m and 1h.
	HoldMin, HoldMax time.Duration
	// IntakeFirst makes sending wait while intake catches up on a backlog (zero
	// Backlog: never).
	IntakeFirst IntakeFirst
	// Journal is the file (0600) where Run notes each reply the relay accepted until
	// its result is in the store, and where the next Run finds those a crash left
	// unrecorded, so as not to send them again (journal.go). "": none.
	Journal string
}

// IntakeFirst bounds how long sending waits for intake to catch up on a backlog of
// more than Backlog new mails (reported by IntakeBacklog): until intake has queued
// the replies of Mails mails, Most has passed (real time), or the backlog is down
// to Backlog, whichever comes first. Then sending goes on, side by side with the
// rest of that backlog, and does not wait again before intake has caught up.
//
// Why: intake and sending share the machine, and on the 2-core bench machine
// sending a reply (the dispatcher, the relay's Postfix, the provider) costs about
// as much CPU as taking a complaint in. Side by side, every case of a 2,000-mail
// backlog existed after 12.8 s and the last reply went out 1.2 s later; with the
// replies held until intake was done, the cases existed after 7.3 s (issue 18).
// Complainants of a backlog have waited already; the staff see every case sooner,
// and the bounds keep the first replies seconds, not minutes, away.
type IntakeFirst struct {
	Backlog int
	Mails   int
	Most    time.Duration
}

// Dispatcher is the outbox worker.
type Dispatcher struct {
	o    Options
	wake chan struct{}

	mu         sync.Mutex
	inflight   map[uint64]bool     // handed to a worker (or chained), result not recorded yet
	busy       map[string]bool     // order keys with an entry at a worker
	chains     map[string][]uint64 // entries waiting, in queue order, for their key's worker
	early      map[uint64]bool     // released by a recovery ahead of their NextAt
	released   map[uint64]bool     // released during the current recovery (once each)
	relayDown  bool                // the last relay verdict was a fault
	recovering bool                // releasing bursts after the relay came back
	holdUntil  time.Time           // no attempt before this (a refused login); zero: none
	hold       time.Duration       // the current pause, doubling
	loginTest  uint64              // the entry handed out alone after a pause, to test the login
	problem    string              // why sending is held, for /healthz
	// The intake-first wait (IntakeFirst): since when sending waits (zero: it does
	// not), the count of queued mail then, and whether this backlog's wait is over.
	yieldSince  time.Time
	yieldQueued int64
	yieldSpent  bool
	queued      atomic.Int64 // mails whose replies were queued (Queued)
	// wakeAt: while sending waits for intake, the count of queued at which the
	// wait ends (Mails); Queued wakes the loop only then. 0: no wait. Waking it
	// for every mail cost intake's committer, on two cores, 1.3 s of waiting to
	// be scheduled again in a 2,000-mail backlog (runtime trace).
	wakeAt atomic.Int64
	// unhanded counts the entries the current pass found due and has not handed
	// to a worker (or a chain) yet; with the entries in flight it is how far
	// sending is behind (Behind).
	unhanded int
	// unrecorded: the store refused the last write of sent replies' results (a full
	// or failing disk). No reply is handed out until they are written: each would be
	// accepted by the relay, stay pending in the store, and go out a second time
	// after a restart, as many as the outage lasted (recorder.go).
	unrecorded atomic.Bool
	// journal notes accepted replies until their results are written (Run sets it
	// before its workers start; Flush has none).
	journal *journal
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
	if o.Sessions <= 0 {
		o.Sessions = 1
	}
	if o.Burst <= 0 {
		o.Burst = max(8, 4*o.Sessions)
	}
	if o.ProbeEvery <= 0 {
		o.ProbeEvery = min(max(o.RetryMin, time.Second), 5*time.Second)
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
	return &Dispatcher{o: o, wake: make(chan struct{}, 1),
		inflight: map[uint64]bool{}, busy: map[string]bool{}, chains: map[string][]uint64{},
		early: map[uint64]bool{}, released: map[uint64]bool{}}
}

// Wake tells the worker new entries are waiting. It never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Queued tells the dispatcher that a mail's replies were queued: it counts towards
// IntakeFirst.Mails and wakes the dispatcher (Wake), unless sending waits for intake
// and that bound is not reached yet.
func (d *Dispatcher) Queued() {
	n := d.queued.Add(1)
	if at := d.wakeAt.Load(); at > 0 && n < at {
		return
	}
	d.Wake()
}

// IntakeBacklog tells the dispatcher how much new mail intake has still to take in
// (0 once it has caught up). With IntakeFirst set, a backlog of more than
// IntakeFirst.Backlog mails makes sending wait for intake, within its bounds.
func (d *Dispatcher) IntakeBacklog(n int) {
	f := d.o.IntakeFirst
	if f.Backlog <= 0 || f.Mails <= 0 || f.Most <= 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case n <= f.Backlog:
		if !d.yieldSince.IsZero() {
			d.o.Logger.Info("intake caught up: sending goes on", "waited", time.Since(d.yieldSince).Round(time.Millisecond),
				"mails", d.queued.Load()-d.yieldQueued)
			d.Wake()
		}
		d.yieldSince, d.yieldSpent = time.Time{}, false
		d.wakeAt.Store(0)
	case d.yieldSince.IsZero() && !d.yieldSpent:
		d.yieldSince, d.yieldQueued = time.Now(), d.queued.Load()
		d.wakeAt.Store(d.yieldQueued + int64(f.Mails))
		d.Wake() // into the wait, where it is counted
		d.o.Logger.Info("intake catches up on a backlog: sending waits for it", "backlog", n,
			"at_most", f.Most, "mails_at_most", f.Mails)
	}
}

// yielding reports how long sending may still wait for intake (IntakeFirst); zero:
// it does not wait. It ends the wait when a bound is reached.
func (d *Dispatcher) yielding() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.yieldSince.IsZero() {
		return 0
	}
	f := d.o.IntakeFirst
	waited, mails := time.Since(d.yieldSince), d.queued.Load()-d.yieldQueued
	if waited >= f.Most || mails >= int64(f.Mails) {
		d.o.Logger.Info("sending goes on beside intake's backlog", "waited", waited.Round(time.Millisecond), "mails", mails)
		d.yieldSince, d.yieldSpent = time.Time{}, true
		d.wakeAt.Store(0)
		return 0
	}
	return f.Most - waited
}

// Run sends until ctx is done, Sessions replies at a time. Attempts in flight when
// ctx ends are finished (bounded by SendTimeout) so that their results are recorded;
// then the Sender's idle sessions are closed.
func (d *Dispatcher) Run(ctx context.Context) error {
	jobs := make(chan job) // unbuffered: an entry is handed out only to a free worker
	rec := newRecorder(d)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		rec.run()
	}()
	// A recorder of an earlier Run that gave up at its stop left this set; the
	// replay below, or the first refused write, sets it again.
	d.unrecorded.Store(false)
	jr, left := openJournal(d.o.Journal, d.o.Logger)
	d.journal = jr
	defer jr.close() // deferred first, so run last: after the recorder's last write
	d.replay(left, rec)
	var wg sync.WaitGroup
	for range d.o.Sessions {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-jobs:
					d.work(ctx, j, rec)
				}
			}
		})
	}
	defer func() {
		wg.Wait()
		// Every result handed over is written before Run returns: a reply the
		// server accepted is not sent again after a clean shutdown.
		rec.stop()
		<-recorded
		if c, ok := d.o.Sender.(closer); ok {
			_ = c.Close()
		}
	}()
	for {
		if d.unrecorded.Load() {
			// The recorder wakes the loop once the results are written.
			if !d.sleep(ctx, rewriteMax, false) {
				return nil
			}
			continue
		}
		if wait := d.yielding(); wait > 0 {
			// Woken when intake has queued the replies of IntakeFirst.Mails mails or
			// caught up; no pass is made meanwhile (a pass reads every pending entry).
			// At most a second at a time, so that the metric stays current.
			waited := time.Now()
			ok := d.sleep(ctx, min(wait, time.Second), false)
			d.o.Metrics.OutboxYield.Add(int64(time.Since(waited)))
			if !ok {
				return nil
			}
			continue
		}
		due, next, err := d.plan(ctx)
		if err != nil {
			d.o.Logger.Error("outbox pass", "err", err)
			next = d.o.Now().Add(d.o.RetryMin)
		}
		d.setUnhanded(len(due))
		for i, j := range due {
			if i > 0 && d.stopped() {
				break // the relay fails or refused the login: the rest waits
			}
			if d.unrecorded.Load() {
				break // sent replies' results wait for the store: the rest waits too
			}
			if !d.claim(j) {
				d.setUnhanded(len(due) - i - 1)
				continue
			}
			select {
			case jobs <- j:
				d.setUnhanded(len(due) - i - 1)
			case <-ctx.Done():
				d.finish(j, false, false)
				return nil
			}
		}
		d.setUnhanded(0)
		// Deadlines are in the injected clock's terms; a driven clock moves in
		// steps, so the wait is capped and the plan made again.
		wait := 30 * time.Second
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(d.o.Now()), 0))
		}
		down := d.down()
		if down {
			wait = d.o.ProbeEvery
		}
		if !d.sleep(ctx, wait, down) {
			return nil
		}
	}
}

func (d *Dispatcher) setUnhanded(n int) {
	d.mu.Lock()
	d.unhanded = n
	d.mu.Unlock()
}

// Behind is how many replies were due and are not sent (or given up) yet: those the
// planner's current pass has still to hand out, and those in flight. Entries that
// became due since the pass began are counted from the next pass on.
func (d *Dispatcher) Behind() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.unhanded + len(d.inflight)
}

// paceCheck is how often WaitBehind looks again: a real-time sampling period of
// the dispatcher's progress, not a business time, so it takes no clock.
const paceCheck = 20 * time.Millisecond

// WaitBehind waits while more than limit replies are behind (Behind) and the relay
// takes mail, for at most most, or until ctx ends. Intake calls it before it takes
// more mail, so that the replies keep pace with a backlog: without it, the
// acknowledgements of a 10,000-mail backlog, which share the machine with its
// intake, fell 3,900 behind, and the last went out 9 s after the last case
// (issue 18). A relay that fails or refuses the login is not waited for: replies
// then wait in the outbox, and intake goes on. The bound most keeps a slow relay
// from stopping intake: it is slowed, never stopped.
func (d *Dispatcher) WaitBehind(ctx context.Context, limit int, most time.Duration) {
	if d.Behind() <= limit {
		return
	}
	deadline := time.Now().Add(most)
	tick := time.NewTicker(paceCheck)
	defer tick.Stop()
	for d.Behind() > limit && !d.stopped() && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sleep waits for wait, a Wake or the end of ctx (then it returns false). During an
// outage (down) only the end of the outage cuts the wait short: new mail queued
// meanwhile waits for the probe rather than hitting the failing server.
func (d *Dispatcher) sleep(ctx context.Context, wait time.Duration, down bool) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-d.wake:
			if down && d.down() {
				continue
			}
			return true
		case <-t.C:
			return true
		}
	}
}

// work runs the attempt handed out by Run, then the entries chained behind it. The
// planner is woken when it ends: its last scan skipped the entries in flight, so a
// retry they now wait for (or the next of their case) is not in its plan.
//
// The result of each attempt goes to rec, which writes it to the store with the
// others of the moment in one transaction, while the worker goes on to the next
// reply: the store has one writer, and intake's commits (which sync the vault) hold
// it for long stretches during a burst. Until its result is written an entry stays
// in flight, so no pass plans it again (issue 18).
func (d *Dispatcher) work(ctx context.Context, j job, rec *recorder) {
	defer d.Wake()
	for {
		o, _, err := d.try(ctx, j.seq)
		if err != nil {
			d.o.Logger.Error("outbox attempt", "seq", j.seq, "err", err)
		}
		if o != nil {
			rec.add(o)
		}
		next, ok := d.finish(j, ctx.Err() == nil, o != nil)
		if !ok {
			return
		}
		j = next
	}
}

// Flush sends every due entry once, one at a time, and returns when the next one is
// due (zero when the outbox is empty). Entries a recovery releases during the pass
// are sent in it too.
func (d *Dispatcher) Flush(ctx context.Context) (time.Time, error) {
	seen := map[uint64]bool{}
	for {
		due, next, err := d.plan(ctx)
		if err != nil {
			return time.Time{}, err
		}
		due = slices.DeleteFunc(due, func(j job) bool { return seen[j.seq] })
		if len(due) == 0 {
			return next, nil
		}
		for i, j := range due {
			seq := j.seq
			if ctx.Err() != nil {
				return next, nil
			}
			if i > 0 && d.stopped() {
				break
			}
			seen[seq] = true
			retryAt, err := d.attempt(ctx, seq)
			if err != nil {
				return time.Time{}, err
			}
			if !retryAt.IsZero() && (next.IsZero() || retryAt.Before(next)) {
				next = retryAt
			}
		}
		if d.stopped() {
			if until := d.heldUntil(); until.After(next) {
				next = until
			}
			return next, nil
		}
	}
}

// plan lists the entries to send now, in queue order, and when the next waiting
// one is due (zero: none waits). While the relay fails it probes the server first:
// nothing is due while the probe fails, and one entry is when it passes (the
// reply whose acceptance ends the outage).
func (d *Dispatcher) plan(ctx context.Context) (due []job, next time.Time, err error) {
	now := d.o.Now()
	if until := d.heldUntil(); now.Before(until) {
		// Sending is paused after a refused login: the due mail waits for the
		// end of the pause (one login then), not for its own retry time.
		return nil, until, nil
	}
	down := d.down()
	if p, ok := d.o.Sender.(prober); ok && down {
		pctx, cancel := context.WithTimeout(ctx, d.o.SendTimeout)
		perr := p.Probe(pctx)
		cancel()
		if why := ConfigFailure(perr); why != "" {
			// Back, but refusing the login: the pause takes over from the probes,
			// each of which would be one more failed login.
			until := d.holdSending(now, why, pii.RedactAddresses(perr.Error()))
			d.mu.Lock()
			d.relayDown = false
			d.mu.Unlock()
			d.o.Logger.Error("smtp "+why, "sending_paused_until", until, "err", pii.RedactAddresses(perr.Error()))
			return nil, until, nil
		}
		if perr != nil {
			d.o.Logger.Warn("smtp probe failed", "err", pii.RedactAddresses(perr.Error()))
			return nil, now.Add(d.o.ProbeEvery), nil
		}
	}
	// The scan runs on copies: workers record results meanwhile. An entry that
	// finishes during the scan may be listed again; attempt re-reads it and skips it.
	d.mu.Lock()
	inflight, early := maps.Clone(d.inflight), maps.Clone(d.early)
	d.mu.Unlock()
	err = d.o.Store.View(func(tx *store.Tx) error {
		return tx.EachPendingHead(func(e *store.OutboxEntry) error {
			switch {
			case inflight[e.Seq]:
			case !e.NextAt.After(now) || early[e.Seq]:
				due = append(due, job{e.Seq, orderKey(e)})
			case next.IsZero() || e.NextAt.Before(next):
				next = e.NextAt
			}
			return nil
		})
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read outbox: %w", err)
	}
	if down && len(due) > 1 {
		due = due[:1]
		next = now
	}
	d.mu.Lock()
	if d.hold > 0 {
		// A pause after a refused login is over, and no mail was accepted since:
		// one attempt tests the login, alone, however many sessions are free.
		// Handing out a mail per session made as many failed logins per pause,
		// each counted by the provider towards locking the account (found in
		// review). The worker's end wakes the planner.
		switch {
		case d.inflight[d.loginTest]:
			due = nil
		case len(due) > 0:
			due = due[:1]
			d.loginTest = due[0].seq
		}
	}
	d.mu.Unlock()
	return due, next, nil
}

func (d *Dispatcher) down() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.relayDown
}

// stopped reports whether no more mail is to be handed out in this pass: the relay
// fails, or sending is paused after a refused login.
func (d *Dispatcher) stopped() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.relayDown || d.o.Now().Before(d.holdUntil)
}

// job is an entry to send and its order key.
type job struct {
	seq uint64
	key string
}

// orderKey groups the entries that must go out in queue order: a case's replies
// (an acknowledgement before the notice that the case is complete), or those to
// one address when there is no case.
func orderKey(e *store.OutboxEntry) string {
	switch {
	case e.Case != "":
		return "case:" + e.Case
	case len(e.To) > 0:
		return "to:" + strings.ToLower(e.To[0])
	}
	return ""
}

// claim marks j in flight and reports whether to hand it to a worker now: false
// when it is in flight already, or when its key is at a worker, which then sends
// it after the earlier ones (j joins the key's chain).
func (d *Dispatcher) claim(j job) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.inflight[j.seq] {
		return false
	}
	d.inflight[j.seq] = true
	if j.key == "" {
		return true
	}
	if d.busy[j.key] {
		d.chains[j.key] = append(d.chains[j.key], j.seq)
		return false
	}
	d.busy[j.key] = true
	return true
}

// finish records that j's attempt is over and returns the next entry of its chain
// when there is one and more may be sent (go: the worker is not stopping, and the
// relay is not failing). Otherwise the chain is dropped: its entries are planned
// again, in order, by a later pass. An entry whose result is still to be written
// (recording) stays in flight until the recorder wrote it.
func (d *Dispatcher) finish(j job, goOn, recording bool) (job, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !recording {
		delete(d.inflight, j.seq)
	}
	if j.key == "" {
		return job{}, false
	}
	chain := d.chains[j.key]
	if len(chain) > 0 && goOn && !d.relayDown && !d.unrecorded.Load() {
		if len(chain) == 1 {
			delete(d.chains, j.key)
		} else {
			d.chains[j.key] = chain[1:]
		}
		return job{chain[0], j.key}, true
	}
	for _, seq := range chain {
		delete(d.inflight, seq)
	}
	delete(d.chains, j.key)
	delete(d.busy, j.key)
	return job{}, false
}

// verdict updates the relay state after an attempt of seq and reports whether a
// recovery step should release the next burst.
func (d *Dispatcher) verdict(seq uint64, sendErr error) (release bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.early, seq)
	switch {
	case sendErr == nil:
		if d.relayDown {
			d.relayDown, d.recovering = false, true
			clear(d.released)
			d.o.Logger.Info("smtp relay accepts mail again: retrying waiting replies")
		}
		return d.recovering && len(d.early) == 0
	case outbox.IsRelayFault(sendErr) && ConfigFailure(sendErr) == "":
		if !d.relayDown {
			d.Wake() // the planner, perhaps asleep until a far retry, starts probing
		}
		// Entries released but not tried yet go back to their own backoff.
		d.relayDown, d.recovering = true, false
		clear(d.early)
	}
	return false
}

// release moves the next Burst entries waiting on their backoff (the earliest
// first) ahead, once each per recovery; with none left the recovery ends. Entries
// never tried (Attempts 0) keep their time: they are not waiting on a failure.
func (d *Dispatcher) release() error {
	now := d.o.Now()
	type cand struct {
		seq uint64
		at  time.Time
	}
	var cands []cand
	err := d.o.Store.View(func(tx *store.Tx) error {
		return tx.EachPendingHead(func(e *store.OutboxEntry) error {
			if e.Attempts > 0 && e.NextAt.After(now) {
				cands = append(cands, cand{e.Seq, e.NextAt})
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("read outbox: %w", err)
	}
	slices.SortFunc(cands, func(a, b cand) int { return a.at.Compare(b.at) })
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.recovering || len(d.early) > 0 {
		return nil // the relay failed again, or another worker released this step
	}
	n := 0
	for _, c := range cands {
		if n == d.o.Burst {
			break
		}
		if !d.released[c.seq] && !d.inflight[c.seq] {
			d.early[c.seq], d.released[c.seq] = true, true
			n++
		}
	}
	if n == 0 {
		d.recovering = false
	}
	return nil
}

// attempt sends one entry and records the result; it returns when to retry (zero when
// done).
func (d *Dispatcher) attempt(ctx context.Context, seq uint64) (time.Time, error) {
	o, retryAt, err := d.try(ctx, seq)
	if o == nil {
		return retryAt, err
	}
	if rerr := d.record([]*outcome{o}); rerr != nil {
		return time.Time{}, rerr
	}
	d.journal.recorded(journalKeys([]*outcome{o}))
	d.recorded([]*outcome{o})
	return retryAt, err // an error here is the recovery's, after the attempt
}

// outcome is the result of one attempt, to be written to the store: the entry as it
// stands after it (state, attempts, next try) and the event for its case.
type outcome struct {
	e       *store.OutboxEntry
	event   *cases.Event
	sendErr error
	key     journalKey // of its journal record, when the reply was accepted
	// took are the journal records of recipients who took the mail in a
	// transaction of their own (sendEach), settled when the outcome is written.
	took []journalKey
}

// try sends one entry and returns its outcome, to be recorded, and when to retry
// (zero when done). A nil outcome means nothing was attempted: the entry is no longer
// pending, or not due yet (planned from a read before its last attempt was recorded).
// The relay verdict is taken at once, so that the next attempt already knows it.
func (d *Dispatcher) try(ctx context.Context, seq uint64) (*outcome, time.Time, error) {
	var e *store.OutboxEntry
	if err := d.o.Store.View(func(tx *store.Tx) error {
		var err error
		e, err = tx.OutboxEntry(seq)
		return err
	}); err != nil {
		return nil, time.Time{}, fmt.Errorf("read outbox entry %d: %w", seq, err)
	}
	if e.State != store.OutboxPending {
		return nil, time.Time{}, nil
	}
	d.mu.Lock()
	early := d.early[seq]
	d.mu.Unlock()
	if e.NextAt.After(d.o.Now()) && !early {
		return nil, e.NextAt, nil // planned from a read before its last attempt was recorded
	}
	if until := d.heldUntil(); d.o.Now().Before(until) {
		// Handed out before another session's login was refused (the planner
		// checks the pause before it waits for a free worker), or next in a
		// chain: no attempt during the pause.
		return nil, until, nil
	}
	var took []journalKey // recipients who took the mail alone (sendEach), journalled
	sendErr := d.send(ctx, e, &took)
	now := d.o.Now()
	// A refused login or certificate is the desk's configuration, not the mail's
	// fault: it is not counted among the mail's attempts.
	why := ConfigFailure(sendErr)
	if why == "" {
		e.Attempts++
	}
	var event *cases.Event
	var acc accepted
	switch {
	case sendErr == nil:
		// Noted before anything else: from here on a crash must not send it again.
		// The hash is of the reply as read, before its state changes.
		acc = accepted{seq: e.Seq, at: now, attempts: e.Attempts, hash: replyHash(e)}
		d.journal.add(acc)
		e.State, e.SentAt, e.LastError = store.OutboxSent, now, ""
		if e.Case == "" {
			e.Mail = headersOnly(e.Mail)
		}
		d.o.Metrics.ReplySent(e.Kind)
		event = &cases.Event{At: now, Type: cases.EventReplySent, Actor: "desk", Note: e.Kind}
		d.o.Logger.Info("reply sent", "case", e.Case, "message_id", e.MessageID, "attempt", e.Attempts)
	case why == "" && !outbox.IsTemporary(sendErr) || e.Attempts >= d.o.MaxAttempts:
		// A configuration failure is never the mail's: it waits for the fix.
		e.State, e.LastError = store.OutboxFailed, pii.RedactAddresses(sendErr.Error())
		if e.Case == "" {
			e.Mail = headersOnly(e.Mail) // as when sent: nothing sends it again
		}
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
		d.endHold()
	}
	o := &outcome{e: e, event: event, sendErr: sendErr, key: acc.key(), took: took}
	var retryAt time.Time
	if e.State == store.OutboxPending {
		retryAt = e.NextAt
	}
	if d.verdict(seq, sendErr) {
		if err := d.release(); err != nil {
			return o, retryAt, err
		}
		d.Wake()
	}
	return o, retryAt, nil
}

// headersOnly is a sent (or given up) mail of no case (a digest, a notification batch, a weekly
// report) without its body and attachments. Those list applicants' names, articles and
// complainants' addresses (the weekly CSV), are kept in clear, since no case key seals
// them, and a case's erasure could not reach them; once the relay has the mail, the
// desk needs only its headers (found in review).
func headersOnly(raw []byte) []byte {
	var m outbox.Mail
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	m.Text, m.HTML, m.Attachments = "", "", nil
	b, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return b
}

// record writes the outcomes in one store transaction (one sync for all of them).
func (d *Dispatcher) record(outs []*outcome) error {
	err := d.o.Store.Update(func(tx *store.Tx) error {
		for _, o := range outs {
			if err := tx.PutOutbox(o.e); err != nil {
				return err
			}
			// An erased case's key is gone: its event could not be sealed, and the
			// batch would fail for it (recorder.rewrite, too, writes the state alone).
			if o.event != nil && o.e.Case != "" && !o.e.Erased {
				add := tx.AppendEvent
				if o.event.Type == cases.EventReplySent {
					// In clear: actor "desk" and the mail's kind, nothing personal. The
					// stats tell an acknowledgement from a staff notification by the
					// kind, also where nothing sealed is read (facts computed at a
					// migration) and after the case's erasure.
					add = tx.AppendEventClear
				}
				if err := add(o.e.Case, *o.event); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record outbox attempt: %w", err)
	}
	return nil
}

// recorded ends what follows the written outcomes: a failed entry may now be due
// before the time the planner sleeps until.
func (d *Dispatcher) recorded(outs []*outcome) {
	for _, o := range outs {
		if o.sendErr != nil && !outbox.IsRelayFault(o.sendErr) {
			d.Wake()
			return
		}
	}
}

func (d *Dispatcher) send(ctx context.Context, e *store.OutboxEntry, took *[]journalKey) (err error) {
	defer func() {
		if v := recover(); v != nil {
			d.o.Logger.Error("panic while sending", "case", e.Case, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = &outbox.SendError{Temporary: true, Err: fmt.Errorf("panic: %v", v)}
		}
	}()
	// Both are permanent, and said so: a plain error counts as temporary
	// (outbox.IsTemporary), and the entry would be tried MaxAttempts times over
	// half a day, each attempt logged as deferred and marking the relay down.
	if e.Erased {
		// The text is gone with the case's key.
		return &outbox.SendError{Stage: outbox.StageCompose, Err: store.ErrErasedReply}
	}
	var m outbox.Mail
	if err := json.Unmarshal(e.Mail, &m); err != nil {
		return &outbox.SendError{Stage: outbox.StageCompose, Err: fmt.Errorf("decode stored mail: %w", err)}
	}
	// Only vault documents need finding again; what the desk generated (a report's
	// chart and CSV) is stored with the mail and belongs to no case.
	if d.o.Attach != nil && m.NeedsOpen() {
		if err := d.o.Attach(&m); err != nil {
			return &outbox.SendError{Temporary: true, Err: fmt.Errorf("attachments: %w", err)}
		}
	}
	err = d.sendOnce(ctx, m)
	if len(m.To) > 1 && recipientRefusedForGood(err) {
		return d.sendEach(ctx, e, m, err, took)
	}
	return err
}

// sendOnce is one SMTP transaction. Shutdown must not cut an SMTP exchange in half:
// that is the one place a reply can go out twice. The attempt keeps its own
// deadline instead.
func (d *Dispatcher) sendOnce(ctx context.Context, m outbox.Mail) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.o.SendTimeout)
	defer cancel()
	return d.o.Sender.Send(sctx, m)
}

func recipientRefusedForGood(err error) bool {
	var se *outbox.SendError
	return errors.As(err, &se) && se.Stage == outbox.StageRcpt && !se.Temporary
}

// sendEach sends m to each of its recipients alone, after the relay refused one of
// them for good: a mail is sent to all its recipients or to none, so one address
// gone dead in staff.notify or the admins (a colleague who left) failed every new-case
// notification, digest and alert for all the others, for good. The refused are
// logged (hashed) and dropped; the mail is sent when at least one recipient took it.
// Recipients refused for now stay in the entry, rewritten for them alone, and the
// attempt fails temporarily: those who took it do not get it twice. Each who took
// it is noted in the journal at once (took), as a mail the relay accepted whole is:
// a process that dies before the rewrite is written sent it to them again after the
// restart (found in review).
func (d *Dispatcher) sendEach(ctx context.Context, e *store.OutboxEntry, m outbox.Mail, whole error, took *[]journalKey) error {
	var (
		delivered int
		left      []outbox.Address
		lastTemp  error
	)
	base := replyHash(e)
	for _, to := range m.To {
		if err := ctx.Err(); err != nil {
			// A stop: the one exchange in flight finishes (sendOnce), the recipients
			// not tried yet wait in the entry, so the stop takes one SendTimeout at
			// most, not one per recipient.
			left, lastTemp = append(left, to), &outbox.SendError{Temporary: true, Stage: outbox.StageConnect, Err: err}
			continue
		}
		one := m
		one.To = []outbox.Address{to}
		err := d.sendOnce(ctx, one)
		switch {
		case err == nil:
			delivered++
			a := accepted{seq: e.Seq, at: d.o.Now(), attempts: e.Attempts, hash: recipientHash(base, to.Address)}
			d.journal.add(a)
			*took = append(*took, a.key())
		case outbox.IsTemporary(err):
			left, lastTemp = append(left, to), err
		default:
			d.o.Logger.Error("recipient refused for good: the mail goes to the others", "case", e.Case, "message_id", e.MessageID,
				"recipient", pii.LogHash(strings.ToLower(to.Address)), "err", pii.RedactAddresses(err.Error()))
		}
	}
	switch {
	case delivered == 0 && len(left) == 0:
		return whole
	case len(left) == 0:
		return nil
	}
	if err := keepRecipients(e, left); err != nil {
		return &outbox.SendError{Stage: outbox.StageCompose, Err: err}
	}
	return lastTemp
}

// keepRecipients rewrites e's stored mail for the recipients left alone.
func keepRecipients(e *store.OutboxEntry, left []outbox.Address) error {
	var stored outbox.Mail
	if err := json.Unmarshal(e.Mail, &stored); err != nil {
		return fmt.Errorf("decode stored mail: %w", err)
	}
	stored.To = left
	raw, err := json.Marshal(stored)
	if err != nil {
		return fmt.Errorf("encode mail: %w", err)
	}
	e.Mail, e.To = raw, nil
	for _, a := range left {
		e.To = append(e.To, a.Address)
	}
	return nil
}

// ConfigFailure says why an attempt failed when no retry of any mail cures it: the
// server refused the login (outbox.StageAuth) or the desk's sender address
// (outbox.SendError.SenderRefused), or its certificate is not trusted. ""
// for every other error.
func ConfigFailure(err error) string {
	if err == nil {
		return ""
	}
	var se *outbox.SendError
	if errors.As(err, &se) && se.Stage == outbox.StageAuth {
		return "login refused"
	}
	if se != nil && se.SenderRefused() {
		return "sender refused"
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
	d.o.Metrics.AuthFailures.Add("smtp")
	if now.Before(d.holdUntil) {
		// Another session's login was refused while this one was under way: the
		// same refusal, whose pause is running. Doubling it once per session made
		// the first pause of four sessions 16 times HoldMin.
		return d.holdUntil
	}
	if d.hold == 0 {
		d.hold = d.o.HoldMin
	} else {
		d.hold = min(2*d.hold, d.o.HoldMax)
	}
	d.holdUntil = now.Add(d.hold)
	d.problem = fmt.Sprintf("%s (%s); sending paused until %s", why, detail, d.holdUntil.Format(time.RFC3339))
	return d.holdUntil
}

// endHold ends a pause: the server accepted a mail.
func (d *Dispatcher) endHold() {
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
