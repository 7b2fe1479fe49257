// Package schedule runs the desk's timed work: review and processing deadlines
// (reminders before, escalations after), the expiry of incomplete cases, the daily
// staff digest, the weekly admin report, the satisfaction survey and the retention
// purge of sensitive attachments. It is a thin trigger: what is due comes from the
// domain core's deadlines, what an action does from the executor.
//
// Invariants:
//   - Every notice about a deadline is queued once: a marker keyed by case, deadline
//     kind, due time and notice kind is written in the same store transaction as the
//     outbox entry (and the case event). Running a job twice, or two daemons one after
//     the other over one store, sends nothing twice.
//   - Jobs never overlap (one goroutine runs them in turn) and a panicking job is
//     recovered, logged and runs again at its next trigger; its run is not recorded,
//     so a restart catches it up.
//   - Missed runs are caught up once at start: the deadline, survey and retention jobs
//     run at every start (they are idempotent); the digest and weekly report run at
//     start only when a scheduled run fell while the daemon was down.
//   - Review and processing deadlines pause while the case waits for the author
//     (cases.RunningClock); the time paused is added to the deadline.
//   - Time is Options.Now, and only that: cron specs (robfig/cron's parser) are
//     evaluated against it once a real second, never on wall-clock timers. A simulated
//     clock (package clock) moved forward runs what came due in between, once.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/privacy"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/robfig/cron/v3"
)

// Mailer renders and queues a mail inside a store transaction (package mailer).
type Mailer interface {
	Queue(q mailer.Queue, c *cases.Case, o mailer.Outgoing, now time.Time) error
	View(c *cases.Case) render.Data
	// Update runs a transaction whose mail is rendered before it, not in it.
	Update(st mailer.Updater, fn func(*store.Tx) error) error
	// NewMessageID names a mail before it is queued on q, the same in every pass.
	NewMessageID(q mailer.Queue, base string) string
}

// Executor applies an action of the desk to a case inside a store transaction, with
// the mails it causes; the caller stores the case. *intake.Processor implements it:
// the scheduler decides when, the executor what an action does.
type Executor interface {
	Execute(tx *store.Tx, c *cases.Case, act cases.Action, actor string, now time.Time) (int, error)
}

// StaffTokens gives a staff mail the token a reply to it must carry: the token bound
// to the mail's Message-ID and the Reply-To address carrying it; "" and nil when staff
// tokens are not in use, or when a recipient in to is not staff. *intake.Processor
// implements it.
type StaffTokens interface {
	StaffReplyTo(caseID, messageID string, to []string, issued time.Time) (token string, replyTo *outbox.Address)
}

// Eraser destroys a case's keys and its attachments (retention); *vault.Vault
// implements it.
type Eraser = privacy.Vault

// Specs are the cron specs (5 fields, seconds optional as a 6th leading field, or
// descriptors such as "@every 5m"). An empty spec disables the job.
type Specs struct {
	Deadlines string // reminders, escalations, expiry, survey
	Digest    string
	Weekly    string
	Retention string
}

// Policy holds what the jobs decide beyond the deadlines themselves.
type Policy struct {
	// Sensitive reports the document kinds retention erases (with unclassified files
	// and anything sealed under the sensitive key). Nil: none beyond those.
	Sensitive func(cases.Kind) bool
	// Survey enables the satisfaction survey, SurveyDelay after resolution.
	Survey      bool
	SurveyDelay time.Duration
}

// Recipients are the staff addresses the jobs write to.
type Recipients struct {
	// Department gives the staff of a department (routing); nil or empty answer:
	// Notify. Reminders of a case without assignee go to its department first.
	Department  func(name string) []string
	Notify      []string // reminders when a case has no assignee; the digest
	Supervisors []string // escalations
	Admins      []string // the weekly report (Notify when empty)
}

// Options wire a Scheduler. Store, Mailer, Executor and Deadlines (with its calendar)
// are required.
type Options struct {
	Store    *store.Store
	Mailer   Mailer
	Executor Executor
	Vault    Eraser // nil: the retention job is not scheduled
	// Deadlines is the one deadline rule of the desk (package cases).
	Deadlines cases.Deadlines
	Policy    Policy
	Specs     Specs
	Staff     Recipients
	// Tokens signs the reminders and escalations to staff, so that a reply to one
	// is a command like a reply to a notification (staff.auth.mode token). nil:
	// staff mail carries no token.
	Tokens StaffTokens
	// Now is the clock every job reads. nil: time.Now.
	Now func() time.Time
	// Logger gets job results and recovered panics. nil: discard.
	Logger *slog.Logger
	// OnQueued is called after a job queued mail (wakes the outbox). nil: nothing.
	OnQueued func()
	// IntakeCaughtUp reports whether intake has read the mailbox to its end since the
	// start. Until it has, no case expires: the mail that completes it may have come
	// in time while the desk was down. nil: always.
	IntakeCaughtUp func() bool
	// OnErased is called after retention erased a case (wakes the deletion of its
	// mails from the mailbox). nil: nothing.
	OnErased func()
}

// Job names, also the keys of their last-run records and the "job" log attribute.
const (
	JobDeadlines = "deadlines"
	JobDigest    = "digest"
	JobWeekly    = "weekly"
	JobRetention = "retention"
)

type job struct {
	name   string
	sched  cron.Schedule
	always bool // run at every start, not only when a run was missed
	fn     func(ctx context.Context) (queued int, err error)
	next   time.Time // when it is due next, by the clock; zero: not yet planned
	fails  int       // runs failed in a row
}

// Scheduler owns the jobs and runs them in turn.
type Scheduler struct {
	o     Options
	jobs  []*job
	run   sync.Mutex      // one job at a time, whoever triggers it
	ctx   context.Context // the Run context
	ticks time.Duration   // how often (real time) the clock is read; 1s
	last  time.Time       // the clock at the last Tick or CatchUp
	// heldExpiry: the last deadline run held expiries until intake has read the
	// mailbox to its end; Tick runs it again as soon as it has, whatever the clock.
	heldExpiry atomic.Bool
}

// New checks the options and parses the specs; nothing runs until Run.
func New(o Options) (*Scheduler, error) {
	if o.Store == nil || o.Mailer == nil || o.Executor == nil || o.Deadlines.Calendar == nil {
		return nil, errors.New("schedule: store, mailer, executor and deadlines calendar are required")
	}
	if o.Policy.Sensitive == nil {
		o.Policy.Sensitive = func(cases.Kind) bool { return false }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.OnQueued == nil {
		o.OnQueued = func() {}
	}
	if len(o.Staff.Admins) == 0 {
		o.Staff.Admins = o.Staff.Notify
	}
	s := &Scheduler{o: o, ctx: context.Background(), ticks: time.Second}
	var errs []error
	add := func(name, key, spec string, always bool, fn func(context.Context) (int, error)) {
		if spec == "" {
			return
		}
		sched, err := parser().Parse(spec)
		if err != nil {
			errs = append(errs, fmt.Errorf("schedule.%s: %q: %w", key, spec, err))
			return
		}
		s.jobs = append(s.jobs, &job{name: name, sched: sched, always: always, fn: fn})
	}
	add(JobDeadlines, "deadlines", o.Specs.Deadlines, true, s.deadlines)
	add(JobDigest, "digest", o.Specs.Digest, false, s.digest)
	add(JobWeekly, "weekly", o.Specs.Weekly, false, s.weekly)
	if o.Vault != nil {
		add(JobRetention, "retention", o.Specs.Retention, true, s.retention)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// CheckSpecs parses cron specs the way New does, naming the bad key; app calls it at
// start-up so a typo stops the daemon before it runs.
func CheckSpecs(sp Specs) error {
	var errs []error
	for key, spec := range map[string]string{"deadlines": sp.Deadlines, "digest": sp.Digest, "weekly": sp.Weekly, "retention": sp.Retention} {
		if spec == "" {
			continue
		}
		if _, err := parser().Parse(spec); err != nil {
			errs = append(errs, fmt.Errorf("schedule.%s: %q: %w", key, spec, err))
		}
	}
	return errors.Join(errs...)
}

func parser() cron.Parser {
	return cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
}

// Run catches up missed jobs once, then reads the clock every second and runs each
// job that came due, until ctx ends; a job in progress finishes first.
func (s *Scheduler) Run(ctx context.Context) {
	s.ctx = ctx
	s.CatchUp()
	t := time.NewTicker(s.ticks)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Tick()
		}
	}
}

// Tick runs, once each and in order, the jobs due at the clock's now. A clock that
// jumped over several trigger times runs a job once, not once per trigger.
func (s *Scheduler) Tick() {
	now := s.o.Now()
	// A clock moved back (a drill rewinding the clock file, the wall clock stepped
	// back) plans every job again from now: the plans made from the later time
	// would hold every job, deadlines included, until the clock got there again
	// (found in review). What already ran is not repeated: each job's markers say so.
	// Wall times: with the system clock both readings carry a monotonic one, which
	// a wall clock stepped back does not move, and Before would compare only those.
	now = now.Round(0)
	back := now.Before(s.last)
	s.last = now
	for _, j := range s.jobs {
		if j.next.IsZero() || back {
			j.next = s.nextAfter(j, now)
			continue
		}
		if now.Before(j.next) {
			continue
		}
		s.planAfterRun(j, now, s.runSafely(j))
	}
	if s.heldExpiry.Load() && s.o.IntakeCaughtUp() {
		for _, j := range s.jobs {
			if j.name == JobDeadlines {
				s.planAfterRun(j, now, s.runSafely(j))
			}
		}
	}
}

// planAfterRun plans j's next run after one at now: its next trigger, or sooner, to
// try a failed run again: after retryFailed, doubling with each failure in a row up to
// 16 times that, so that a job that keeps failing (one case that cannot be erased)
// neither spams the log nor holds the store's writer every few minutes.
func (s *Scheduler) planAfterRun(j *job, now time.Time, ok bool) {
	j.next = s.nextAfter(j, now)
	if ok {
		j.fails = 0
		return
	}
	j.fails++
	if retry := now.Add(retryFailed << min(j.fails-1, 4)); retry.Before(j.next) {
		j.next = retry
	}
}

func (s *Scheduler) nextAfter(j *job, t time.Time) time.Time {
	return j.sched.Next(t.In(s.o.Deadlines.Calendar.Location()))
}

// CatchUp runs, once and in order, every job that is due at start (see the package
// comment), and plans each job's next run.
func (s *Scheduler) CatchUp() {
	now := s.o.Now()
	s.last = now.Round(0)
	for _, j := range s.jobs {
		j.next = s.nextAfter(j, now)
		var last time.Time
		if err := s.o.Store.View(func(tx *store.Tx) error {
			var err error
			last, err = tx.LastRun(j.name)
			return err
		}); err != nil {
			s.o.Logger.Error("read last run", "job", j.name, "err", err)
			continue
		}
		switch {
		case j.always:
		case last.IsZero():
			// First start ever: nothing was missed; start counting from now.
			if err := s.o.Store.Update(func(tx *store.Tx) error { return tx.PutLastRun(j.name, now) }); err != nil {
				s.o.Logger.Error("record last run", "job", j.name, "err", err)
			}
			continue
		case s.nextAfter(j, last).After(now):
			continue
		default:
			s.o.Logger.Info("catching up a missed run", "job", j.name, "last_run", last)
		}
		s.planAfterRun(j, now, s.runSafely(j))
	}
}

// RunJob runs one job now (tests, and an operator's "run now").
func (s *Scheduler) RunJob(name string) error {
	for _, j := range s.jobs {
		if j.name == name {
			s.runSafely(j)
			return nil
		}
	}
	return fmt.Errorf("no job %q", name)
}

// runSafely runs the job, logs its result and records its run; ok is false when it
// failed. A failed run (an error, or a panic, recovered and logged with its stack) is
// not recorded, so a start-up catches it up, and Tick tries it again after
// retryFailed (planAfterRun). Before, a failed run was recorded: a digest that failed at 09:00 (a
// full disk) was neither caught up by a restart nor tried again before the next
// day's (found in review). Every job may run again: its markers keep what it did
// from being done twice.
func (s *Scheduler) runSafely(j *job) (ok bool) {
	s.run.Lock()
	defer s.run.Unlock()
	defer func() {
		if v := recover(); v != nil {
			s.o.Logger.Error("job panicked", "job", j.name, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			ok = false
		}
	}()
	start := s.o.Now()
	n, err := j.fn(s.ctx)
	if n > 0 {
		s.o.OnQueued()
	}
	if err != nil {
		s.o.Logger.Error("job failed", "job", j.name, "queued", n, "err", err, "retry_in", retryFailed)
		return false
	}
	s.o.Logger.Debug("job done", "job", j.name, "queued", n)
	if err := s.o.Store.Update(func(tx *store.Tx) error { return tx.PutLastRun(j.name, start) }); err != nil {
		s.o.Logger.Error("record last run", "job", j.name, "err", err)
	}
	return true
}

// retryFailed is how long (by the scheduler's clock) a failed job waits before it is
// tried again, unless its next trigger comes sooner.
const retryFailed = 10 * time.Minute
