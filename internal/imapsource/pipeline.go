package imapsource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/complaintd/complaintd/internal/metrics"
	"github.com/emersion/go-imap/v2"
)

// Keywords the desk sets on mail it has handled, for the people who read the mailbox
// too. They are a convenience only: the checkpoint decides what is processed.
const (
	FlagProcessed   = "$Complaintd"
	FlagQuarantined = "$ComplaintdQuarantine"
)

// Prepared is a mail the Intake parsed ahead of its commit.
type Prepared interface {
	// MessageID is the mail's Message-ID; "" when it could not be read, also on the
	// zero value (what Prepare returns with an error may be partial, or zero).
	MessageID() string
}

// Intake registers the mail the pipeline reads: internal/intake's Processor. It keeps
// every record, keyed by the message's inbound.Source: a commit advances the stream's
// progress in the transaction that registers the mail, and failed attempts, retries
// and quarantine are recorded by its methods. The pipeline only reads the progress,
// hands mail over, and says what went wrong. P is a mail parsed but not yet committed.
type Intake[P Prepared] interface {
	// Progress reads how far the stream has been processed.
	Progress(s inbound.Stream) (inbound.Progress, error)
	// Renumbered starts the stream over under a new epoch (UIDVALIDITY), raising an
	// operator alert with the given text.
	Renumbered(s inbound.Stream, epoch uint32, alert string) error

	// Prepare parses and classifies a mail within the budget it sets itself; it writes
	// no records (it may read them), so several run at once. On error nothing stays in
	// the spool; when ctx ends it returns ctx's error.
	Prepare(ctx context.Context, raw io.Reader) (P, error)
	// Discard drops a prepared mail nobody will commit.
	Discard(P)
	// CommitGroup registers prepared mails in order in one transaction that also
	// advances their stream: all or none. On failure they stay usable (to be committed
	// one by one, or discarded).
	CommitGroup(srcs []inbound.Source, preps []P) ([]inbound.Outcome, error)
	// Process prepares and commits one mail.
	Process(ctx context.Context, src inbound.Source, raw io.Reader) (inbound.Outcome, error)

	// Skip advances the stream past a mail that vanished before it could be read.
	Skip(src inbound.Source) error
	// Fail counts a failed attempt for a retry, or quarantines the mail (records it and
	// advances past it) when the failure is permanent or the attempts reach
	// maxAttempts. The error is about the record only.
	Fail(src inbound.Source, messageID string, cause error, maxAttempts int) (inbound.Failure, error)
	// Quarantine records a mail as given up on without an attempt to count (it took
	// the process down too often), and advances past it.
	Quarantine(src inbound.Source, messageID string, attempts int, reason string) error
	// QuarantineMoved notes in the quarantine record that the mail was moved aside, to
	// at (zero when the server did not say where).
	QuarantineMoved(src, at inbound.Source) error
	// Retries lists quarantined mail of the stream to try again now: asked for by an
	// operator, or quarantined for the environment's fault.
	Retries(s inbound.Stream) ([]inbound.Quarantined, error)
	// Released forgets the quarantine record of the mail at src: it was put back where
	// new mail is read, or (requeue) it is still at src and waits there for a fresh
	// attempt.
	Released(src inbound.Source, requeue bool) error
	// Paused records an operator alert: intake stopped because of an environment
	// fault (best effort). Resumed records that it works again.
	Paused(s inbound.Stream, cause error)
	Resumed(s inbound.Stream, since time.Time, cause error) error
	// Adopt starts a stream that was never read at epoch, with every mail up to and
	// including seq through to be recorded without replies when it is committed.
	Adopt(s inbound.Stream, epoch, through uint32) error
}

// PipelineOptions wires a Pipeline. Zero values are documented per field.
type PipelineOptions struct {
	IMAP         Options
	Mailbox      string        // the mailbox read; required
	Idle         bool          // wait for news with IDLE where the server offers it
	PollInterval time.Duration // between checks without IDLE, and the longest IDLE
	// Processed is what happens to processed mail, for the people who read the
	// mailbox: "flag" (FlagProcessed), "move" (to ProcessedFolder), or "none" (also
	// the zero value).
	Processed        string
	ProcessedFolder  string
	QuarantineFolder string // quarantined mail is moved here; "": flagged in place
	// Start is what the first read of the mailbox by this store does with the mail
	// already there: "all" processes it, "new" has it recorded without replies
	// (Intake.Adopt), "" processes it unless the mailbox carries our processing marks,
	// where Run stops with a RefusedError.
	Start string
	// MaxAttempts is how many failed attempts a mail gets before it is quarantined
	// (twice as many deaths of the process with the mail in hand alone). Below 1: 3.
	MaxAttempts int
	Backoff     Backoff // between sessions
	// AuthBackoff is the pace after a refused login or an untrusted certificate
	// (ConfigFailure): minutes, growing, because every attempt is a failed login the
	// server counts towards a lockout. Zero Min: 2m; zero Max: 1h.
	AuthBackoff Backoff
	Logger      *slog.Logger     // nil: discard
	Metrics     *metrics.Metrics // the IMAP counters; nil: not counted
	// OnQueued is called after a mail whose processing queued replies (the outbox
	// worker wakes up). Nil: nobody is told.
	OnQueued func()
	// Pace is called before each FETCH of new mail and may wait (bounded) for the
	// replies already queued to go out, so that a backlog's replies keep pace with
	// its intake. Nil: no wait.
	Pace func(ctx context.Context)
	// Backlog is told how many new mails a catch-up has still to take in, before
	// each run of FETCHes, and 0 when it ends, so that the replies may wait for a
	// backlog's intake (dispatch.IntakeFirst). Nil: nobody is told.
	Backlog func(n int)
	// InflightPath is the small file counting attempts on the mail in hand, so that
	// a mail that kills the process is quarantined. Empty: not counted.
	InflightPath string
	// Dial replaces imapsource.Dial (tests inject failures). Nil: Dial.
	Dial func(ctx context.Context, o Options) (*Client, error)
}

// Pipeline reads one mailbox and hands every mail to the Intake, exactly once.
type Pipeline[P Prepared] struct {
	o        PipelineOptions
	in       Intake[P]
	stream   inbound.Stream
	inflight *inflight
	buffers  *bufferPool // raw mail read ahead for the workers

	problemMu sync.Mutex
	problem   string // the last ConfigFailure with its detail, until a login succeeds

	wake       chan struct{} // Wake: quarantined mail was released
	caughtUp   atomic.Bool   // a pass read the mailbox to its end since the start (CaughtUp)
	progressed atomic.Bool   // the session got work done: the backoff starts over
	// stuck are quarantined mails the pipeline could not take back (said once in the
	// log, not at every pass); used by the Run goroutine only.
	stuck map[inbound.Source]bool
	// cut are mails in hand when a connection broke, with how often it broke while
	// each was fetched alone: the next session fetches them alone, and a mail the
	// server cannot send without dropping the connection (a server process that
	// crashes on it) is quarantined instead of holding up the mail behind it for
	// ever. Used by the Run goroutine only.
	cut map[inbound.Source]int

	mu          sync.Mutex // guards the pause
	pausedSince time.Time  // zero: not paused
	pausedCause error
}

// CaughtUp reports whether a pass has read the mailbox to its end since the start:
// the mail that came while the desk was down is in. What ends a case for the
// complainant's silence (expiry) waits for it.
func (pl *Pipeline[P]) CaughtUp() bool { return pl.caughtUp.Load() }

// NewPipeline builds the pipeline feeding in.
func NewPipeline[P Prepared](in Intake[P], o PipelineOptions) *Pipeline[P] {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = &metrics.Metrics{}
	}
	if o.Dial == nil {
		o.Dial = Dial
	}
	if o.MaxAttempts < 1 {
		o.MaxAttempts = 3
	}
	if o.AuthBackoff.Min <= 0 {
		o.AuthBackoff.Min = 2 * time.Minute
	}
	if o.AuthBackoff.Max <= 0 {
		o.AuthBackoff.Max = time.Hour
	}
	return &Pipeline[P]{o: o, in: in, stream: inbound.Stream{Channel: inbound.IMAP, Name: o.Mailbox},
		inflight: openInflight(o.InflightPath, o.Logger), buffers: newBufferPool(budgetUnit, pipelineMaxBytes, pipelineBudget),
		wake: make(chan struct{}, 1), stuck: map[inbound.Source]bool{}, cut: map[inbound.Source]int{}}
}

// Wake ends the wait for new mail at once: quarantined mail was released for another
// attempt (Intake.Retries lists it).
func (pl *Pipeline[P]) Wake() {
	select {
	case pl.wake <- struct{}{}:
	default:
	}
}

// Paused reports whether intake is paused by an environment fault, since when and
// why ("" when it is not).
func (pl *Pipeline[P]) Paused() (since time.Time, cause string) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.pausedSince.IsZero() {
		return time.Time{}, ""
	}
	return pl.pausedSince, pl.pausedCause.Error()
}

// pause notes an environment fault that ended a session (the store or the disk: a
// lost IMAP connection is the IMAP state's business); the first of an episode raises
// the alert.
func (pl *Pipeline[P]) pause(err error) {
	pl.mu.Lock()
	first := pl.pausedSince.IsZero()
	if first {
		pl.pausedSince = time.Now()
	}
	pl.pausedCause = err
	pl.mu.Unlock()
	if first {
		pl.in.Paused(pl.stream, err)
	}
}

// working notes that the session got work done: the backoff starts over, and a pause
// ends (recorded for the operator).
func (pl *Pipeline[P]) working() {
	pl.progressed.Store(true)
	pl.mu.Lock()
	since, cause := pl.pausedSince, pl.pausedCause
	pl.pausedSince, pl.pausedCause = time.Time{}, nil
	pl.mu.Unlock()
	if !since.IsZero() {
		if err := pl.in.Resumed(pl.stream, since, cause); err != nil {
			pl.o.Logger.Warn("record resume alert", "mailbox", pl.o.Mailbox, "err", err)
		}
	}
}

// Problem is why the last sessions failed when no reconnect cures it (a refused
// login, an untrusted certificate), with the time of the next attempt; "" when the
// last login succeeded or none was refused. Safe for concurrent use.
func (pl *Pipeline[P]) Problem() string {
	pl.problemMu.Lock()
	defer pl.problemMu.Unlock()
	return pl.problem
}

func (pl *Pipeline[P]) setProblem(p string) {
	pl.problemMu.Lock()
	defer pl.problemMu.Unlock()
	pl.problem = p
}

// source is the position of a mail of the mailbox, as intake keys its records.
func (pl *Pipeline[P]) source(validity, uid uint32) inbound.Source {
	return inbound.Source{Stream: pl.stream, Epoch: validity, Seq: uid}
}

// Run reads mail until ctx is done, reconnecting with backoff. It returns nil on a
// clean stop. The message in hand when ctx ends is finished first: cancellation is
// only observed between messages (a cut-off fetch would just be retried, but a
// finished one saves the work).
//
// A fault of the environment (the store or the disk failing, the connection lost)
// ends the session without charging the mail in hand: it is fetched again by the
// next session, after the backoff, which starts over only once a session got work
// done. A store or disk fault pauses intake (Paused, an operator alert) until a
// session works again.
func (pl *Pipeline[P]) Run(ctx context.Context) error {
	for {
		err := pl.session(ctx)
		pl.o.Metrics.IMAPUp.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		if IsRefused(err) {
			pl.o.Logger.Error("imap intake refused to start", "mailbox", pl.o.Mailbox, "err", err)
			return err
		}
		if pl.progressed.Swap(false) {
			pl.o.Backoff.Reset()
		}
		var delay time.Duration
		if why := ConfigFailure(err); why != "" {
			// No reconnect cures this, and each attempt is a failed login that the
			// server counts: wait minutes, longer each time, and be loud.
			pl.o.Metrics.IMAPErrors.Add(1)
			delay = pl.o.AuthBackoff.Next()
			pl.o.Metrics.AuthFailures.Add("imap")
			pl.setProblem(fmt.Sprintf("%s (%v); next attempt at %s", why, err, time.Now().Add(delay).Format(time.RFC3339)))
			pl.o.Logger.Error("imap "+why, "mailbox", pl.o.Mailbox, "err", err, "retry_in", delay.Round(time.Millisecond))
		} else {
			if inbound.IsEnvironment(err) && !IsConnError(err) {
				pl.pause(err)
			} else {
				pl.o.Metrics.IMAPErrors.Add(1)
			}
			delay = pl.o.Backoff.Next()
			pl.o.Logger.Warn("imap session ended", "mailbox", pl.o.Mailbox, "err", err, "retry_in", delay.Round(time.Millisecond))
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// session is one connection's life: select, catch up, wait for news, repeat.
func (pl *Pipeline[P]) session(ctx context.Context) error {
	c, err := pl.o.Dial(ctx, pl.o.IMAP)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer c.Close()
	pl.o.Metrics.IMAPConnects.Add(1)
	pl.o.Metrics.IMAPUp.Store(true)
	pl.o.AuthBackoff.Reset()
	pl.setProblem("")
	for {
		if err := pl.release(ctx, c); err != nil {
			return err
		}
		st, err := c.Select(ctx, pl.o.Mailbox)
		if err != nil {
			return fmt.Errorf("select %q: %w", pl.o.Mailbox, err)
		}
		if err := pl.catchUp(ctx, c, st); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		pl.caughtUp.Store(true)
		pl.o.Metrics.Polled()
		pl.working()
		if err := pl.waitForChange(ctx, c); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// waitForChange waits for new mail (IDLE, or polling), for Wake, or for ctx.
func (pl *Pipeline[P]) waitForChange(ctx context.Context, c *Client) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-pl.wake:
			cancel()
		case <-stop:
		}
	}()
	var err error
	if pl.o.Idle && c.CanIdle() {
		err = c.WaitForChange(wctx, pl.o.PollInterval)
	} else {
		err = waitCtx(wctx, pl.o.PollInterval)
	}
	if err != nil && ctx.Err() == nil && wctx.Err() != nil {
		return nil // woken; the session is still usable
	}
	return err
}

// release takes quarantined mail back for another attempt (Intake.Retries): mail
// flagged in place waits at its old UID among the retries; mail moved to the
// quarantine folder is moved back into the mailbox, where it is new mail under a new
// UID. The record is forgotten only after the move, so a death in between leaves a
// record whose mail is no longer in the folder, which the next pass forgets. Either
// way the mail is processed once more, once.
func (pl *Pipeline[P]) release(ctx context.Context, c *Client) error {
	rs, err := pl.in.Retries(pl.stream)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if ctx.Err() != nil {
			return nil
		}
		if !r.Moved {
			if err := pl.in.Released(r.Source, true); err != nil {
				return err
			}
			continue
		}
		if err := pl.moveBack(ctx, c, r); err != nil {
			return err
		}
	}
	return nil
}

// moveBack moves a quarantined mail from the quarantine folder back into the mailbox
// and forgets its record. It returns an error only for connection or store trouble;
// a mail it cannot find is left to the operator (logged, record kept).
func (pl *Pipeline[P]) moveBack(ctx context.Context, c *Client, r inbound.Quarantined) error {
	folder := r.At.Name
	if folder == "" {
		folder = pl.o.QuarantineFolder
	}
	warn := func(msg string, args ...any) {
		if !pl.stuck[r.Source] {
			pl.stuck[r.Source] = true
			pl.o.Logger.Warn(msg, append([]any{"mailbox", pl.o.Mailbox, "uid", r.Source.Seq, "folder", folder}, args...)...)
		}
	}
	if folder == "" || folder == pl.o.Mailbox {
		warn("quarantined mail not released: no quarantine folder to take it from; move it back by hand")
		return nil
	}
	st, err := c.Select(ctx, folder)
	if err != nil {
		if IsConnError(err) {
			return err
		}
		warn("quarantined mail not released: cannot open the quarantine folder", "err", err)
		return nil
	}
	var uids []uint32
	switch {
	case r.At.Seq != 0 && r.At.Epoch == st.UIDValidity:
		uids = []uint32{r.At.Seq}
	case r.MessageID != "":
		if uids, err = c.SearchMessageID(ctx, r.MessageID); err != nil {
			if IsConnError(err) {
				return err
			}
			warn("quarantined mail not released: search by Message-ID failed", "err", err)
			return nil
		}
	default:
		warn("quarantined mail not released: neither its UID in the folder nor its Message-ID is known; move it back by hand")
		return nil
	}
	if len(uids) == 0 {
		pl.o.Logger.Info("quarantined mail no longer in the quarantine folder: record released", "mailbox", pl.o.Mailbox, "uid", r.Source.Seq, "folder", folder)
	} else {
		_, err := c.MoveUID(ctx, uids[0], pl.o.Mailbox)
		switch {
		case errors.Is(err, ErrNotFound):
			// Moved back already, by a pass that died before forgetting the record.
		case err != nil:
			if IsConnError(err) {
				return err
			}
			warn("quarantined mail not released: move back failed", "err", err)
			return nil
		}
	}
	return pl.in.Released(r.Source, false)
}

func waitCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return nil
}

// catchUp processes retries and new mail in UID order.
func (pl *Pipeline[P]) catchUp(ctx context.Context, c *Client, st MailboxStatus) error {
	prog, err := pl.in.Progress(pl.stream)
	if err != nil {
		return err
	}
	if prog.Epoch == 0 && prog.Last == 0 && len(prog.Retry) == 0 {
		// This store has never read the mailbox.
		if err := pl.firstRead(ctx, c, st); err != nil {
			return err
		}
		if prog, err = pl.in.Progress(pl.stream); err != nil {
			return err
		}
	}
	if prog.Epoch != 0 && prog.Epoch != st.UIDValidity {
		// RFC 3501 §2.3.1.1: UIDs from the old validity mean nothing now. Rescan the
		// whole mailbox; the Message-ID and content digest keep every mail already
		// registered from becoming a second case.
		msg := fmt.Sprintf("UIDVALIDITY of %s changed from %d to %d: rescanning %d messages; registered mail is recognised by Message-ID and content digest",
			pl.o.Mailbox, prog.Epoch, st.UIDValidity, st.Messages)
		pl.o.Logger.Warn("uidvalidity changed", "mailbox", pl.o.Mailbox, "old", prog.Epoch, "new", st.UIDValidity)
		if err := pl.in.Renumbered(pl.stream, st.UIDValidity, msg); err != nil {
			return err
		}
		prog = inbound.Progress{Epoch: st.UIDValidity}
	}
	uids, err := c.UIDsAfter(ctx, prog.Last)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	for _, uid := range prog.Retry {
		if ctx.Err() != nil {
			return nil
		}
		if err := pl.one(ctx, c, st.UIDValidity, uid); err != nil {
			return err
		}
	}
	if pl.o.Backlog != nil && len(uids) > 0 {
		defer pl.o.Backlog(0)
	}
	for len(uids) > 0 && ctx.Err() == nil {
		if pl.o.Backlog != nil {
			pl.o.Backlog(len(uids))
		}
		// A mail that was in hand when an earlier process died is processed alone:
		// if it kills us again, it alone is charged.
		if pl.suspect(st.UIDValidity, uids[0]) {
			if err := pl.one(ctx, c, st.UIDValidity, uids[0]); err != nil {
				return err
			}
			uids = uids[1:]
			continue
		}
		n := 1
		for n < len(uids) && n < fetchBatch*batchesPerRun {
			if pl.suspect(st.UIDValidity, uids[n]) {
				break
			}
			n++
		}
		used, err := pl.batch(ctx, c, st.UIDValidity, uids[:n])
		if err != nil {
			return err
		}
		uids = uids[used:]
	}
	return nil
}

func (pl *Pipeline[P]) isCut(src inbound.Source) bool {
	_, ok := pl.cut[src]
	return ok
}

// suspect reports whether a mail is to be processed alone: it was in hand when an
// earlier process died, or when a connection broke.
func (pl *Pipeline[P]) suspect(validity, uid uint32) bool {
	if _, ok := pl.cut[pl.source(validity, uid)]; ok {
		return true
	}
	_, ok := pl.inflight.suspect(pl.o.Mailbox, validity, uid)
	return ok
}

// fetchBatch is how many new mails one UID FETCH asks for: enough to keep the server
// streaming while a mail is parsed, few enough that a stop does not wait long.
const fetchBatch = 100

// batchesPerRun is how many FETCHes of fetchBatch mails one run of the pipeline
// issues back to back before it drains (commits everything, marks the mails
// processed): the draining costs the committer an idle moment per run.
const batchesPerRun = 10

var errStopBatch = errors.New("stop requested")

// stopGrace is how long a FETCH in flight may go on after a stop. A stop is observed
// between mails (fetched takes no more), but the FETCH can only end once the server
// has sent what was asked; cutting the connection at once instead left the mails
// already committed unmarked, the STORE that marks them failing on a dead connection.
// A FETCH not done within the grace is cut (the systemd unit allows 60 s to stop).
const stopGrace = 10 * time.Second

// graceful returns a context for a command that a stop should let finish: it ends
// stopGrace after ctx does. Call the returned function when the command is done.
func graceful(ctx context.Context) (context.Context, func()) {
	gctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	var timer *time.Timer
	var mu sync.Mutex
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		timer = time.AfterFunc(stopGrace, func() { cancel(context.Cause(ctx)) })
	})
	return gctx, func() {
		if !stop() {
			mu.Lock()
			if timer != nil {
				timer.Stop()
			}
			mu.Unlock()
		}
		cancel(nil)
	}
}

// Pipelining: while one group of mails is committed (a sync-bound store
// transaction), the next ones are read off the connection and parsed. Commits stay in
// UID order, so the checkpoint means what it always meant. Parsing waits on the disk
// too (creating spool files blocks while the file system commits its journal), so
// there are more workers than cores; what they may hold is bounded in bytes.
const (
	prepareWorkers   = 4        // mails parsed at once
	maxGroup         = 64       // mails committed in one transaction
	queueDepth       = 64       // parsed mails waiting for their commit (no raw bytes held)
	pipelineMaxBytes = 8 << 20  // bigger mails are streamed, never buffered whole
	pipelineBudget   = 16 << 20 // raw bytes buffered for the workers at once
	budgetUnit       = 64 << 10
)

// job is one mail of a batch between its fetch and its commit.
type job[P Prepared] struct {
	uid  uint32
	prep P
	err  error
	done chan struct{} // closed when prep/err are set
}

// batch fetches new mail with one command per fetchBatch mails, parses it ahead on
// other cores, commits each in UID order, then marks the processed ones with one
// STORE. Mail that brought no body goes through one(), and the run ends there: it
// returns how many of uids it took (all, unless a FETCH came back short).
func (pl *Pipeline[P]) batch(ctx context.Context, c *Client, validity uint32, uids []uint32) (used int, _ error) {
	var (
		done        []uint32   // committed, to be flagged
		quarantined []uint32   // recorded, to be moved
		mu          sync.Mutex // guards commitErr
		commitErr   error
		begun       []uint32 // taken into the pipeline
	)
	// The process lives: whatever was not finished was not the mail's fault.
	defer func() {
		for _, uid := range begun {
			pl.inflight.end(pl.o.Mailbox, validity, uid)
		}
	}()
	failed := func() error {
		mu.Lock()
		defer mu.Unlock()
		return commitErr
	}
	queue := make(chan *job[P], queueDepth)
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		pl.committer(validity, queue, &done, &quarantined, func(err error) {
			mu.Lock()
			if commitErr == nil {
				commitErr = err
			}
			mu.Unlock()
		})
	}()
	workers := make(chan struct{}, prepareWorkers)
	budget := newByteBudget()
	// The FETCHes must bring the mails in the order asked: intake's checkpoint is the
	// highest UID committed, so a mail the server left out of its answer (a NO after
	// the others, a body it could not attribute) would fall behind it, never read
	// again. A mail that comes after a gap is not taken: the batch ends there, and
	// the mail left out is fetched alone.
	expect := 0 // index in uids of the mail the next body must be
	gap := false
	reading := false // the body of uids[expect-1] is being read off the connection
	// A mail taken in hand is finished even when the batch stops (each has its own
	// time budget in Prepare): only the fetching of more stops.
	prepCtx := context.WithoutCancel(ctx)
	fetched := func(uid uint32, r io.Reader, size int64) error {
		if err := failed(); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return errStopBatch // the mails in hand are finished; the rest waits
		}
		if expect >= len(uids) || uids[expect] != uid {
			gap = true
			return errStopBatch
		}
		expect++
		reading = true
		j := &job[P]{uid: uid, done: make(chan struct{})}
		pl.inflight.beginPipeline(pl.o.Mailbox, validity, uid)
		begun = append(begun, uid)
		switch {
		case size > pipelineMaxBytes || size < 0:
			// Too big to buffer: parse it from the connection right here.
			cr := &connReader{r: r, size: size}
			j.prep, j.err = pl.prepareSafely(prepCtx, uid, cr)
			j.err = cr.blame(j.err)
			reading = cr.err != nil
			close(j.done)
		default:
			units := budgetUnits(size)
			waited := time.Now()
			budget.acquire(units)
			buf := pl.buffers.get(int(size))
			read := time.Now()
			pl.o.Metrics.Busy("backpressure", waited)
			if _, err := io.ReadFull(r, buf); err != nil {
				pl.buffers.put(buf)
				budget.release(units)
				return fmt.Errorf("read message: %w", err) // the connection broke
			}
			reading = false
			pl.o.Metrics.Busy("fetch", read)
			waited = time.Now()
			workers <- struct{}{}
			pl.o.Metrics.Busy("backpressure", waited)
			go func() {
				defer func() { <-workers; pl.buffers.put(buf); budget.release(units); close(j.done) }()
				j.prep, j.err = pl.prepareSafely(prepCtx, uid, bytes.NewReader(buf))
			}()
		}
		waited := time.Now()
		queue <- j
		pl.o.Metrics.Busy("backpressure", waited)
		return nil
	}
	// One FETCH per fetchBatch mails, one after the other, while the committer
	// keeps going: the pipeline does not drain between two FETCHes. A FETCH that
	// brings back less than asked ends the run, so that the missing mails are
	// fetched one by one right after.
	var missing []uint32
	var err error
	for used < len(uids) && err == nil && len(missing) == 0 {
		if pl.o.Pace != nil {
			waited := time.Now()
			pl.o.Pace(ctx)
			pl.o.Metrics.Busy("pace", waited)
		}
		chunk := uids[used:min(used+fetchBatch, len(uids))]
		fctx, stopped := graceful(ctx)
		missing, err = c.FetchBatch(fctx, chunk, fetched)
		stopped()
		used += len(chunk)
		var refused *imap.Error
		if !gap && expect < len(uids) && errors.As(err, &refused) && !IsConnError(err) {
			// A NO for the FETCH with the mails from expect on not sent: it may be
			// about the first of them only, which is fetched alone (Fetch tells, and
			// charges it). As the session's error it was never charged, and a
			// session asking for it again got the same NO, and so on.
			gap = true
		}
		if gap {
			used = expect // the mails from the gap on were not taken
		}
		if err == nil && ctx.Err() != nil {
			err = errStopBatch
		}
	}
	// Mails read before a stop or a broken connection are complete: they are
	// committed before the batch ends.
	close(queue)
	<-committed
	if cerr := failed(); cerr != nil && !IsConnError(err) {
		// The mails behind the failed commit were abandoned uncommitted: the batch ends
		// with that fault, and nothing after them is taken now (the mail a gap left
		// out, committed alone, would carry the checkpoint past them for good).
		err, gap = cerr, false
	}
	// What was committed is marked even when the batch stopped early.
	pl.markProcessed(ctx, c, done)
	for _, uid := range quarantined {
		pl.moveQuarantined(ctx, c, validity, uid)
	}
	switch {
	case gap && !IsConnError(err):
		// The mail the server left out, alone, before any after it (also after a NO
		// for the FETCH, which may be about that mail only: Fetch tells).
		if ctx.Err() != nil {
			return used, nil
		}
		if err := pl.one(ctx, c, validity, uids[used]); err != nil {
			return used, err
		}
		return used + 1, nil
	case errors.Is(err, errStopBatch):
		return used, nil
	case err != nil:
		if IsConnError(err) {
			// The mail whose body was being read, or else the next one asked for, is
			// fetched alone by the next session: if the server cannot send it without
			// dropping the connection, it alone is charged (see one).
			cut := expect
			if reading {
				cut--
			}
			if cut < len(uids) {
				if src := pl.source(validity, uids[cut]); !pl.isCut(src) {
					pl.cut[src] = 0
				}
			}
			return used, err
		}
		return used, fmt.Errorf("batch: %w", err)
	}
	for _, uid := range missing {
		if ctx.Err() != nil {
			return used, nil
		}
		if err := pl.one(ctx, c, validity, uid); err != nil {
			return used, err
		}
	}
	return used, nil
}

// committer commits the jobs of a batch in UID order. It takes the oldest job with
// the ones after it that are already parsed: one transaction and one sync for the
// group. If a group fails, its mails are committed one by one, so only the culprit is
// counted. After a store failure (fatal) the rest is discarded.
func (pl *Pipeline[P]) committer(validity uint32, queue <-chan *job[P], done, quarantined *[]uint32, fatal func(error)) {
	var stopped bool
	finish := func(uid uint32, out inbound.Outcome, procErr error) {
		if inbound.IsEnvironment(procErr) {
			// Not this mail's fault: the batch ends uncharged, the mail is fetched
			// again by a later session.
			fatal(procErr)
			stopped = true
			return
		}
		bad, err := pl.settle(validity, uid, out, procErr)
		if err == nil {
			pl.inflight.end(pl.o.Mailbox, validity, uid)
		}
		switch {
		case err != nil:
			fatal(err)
			stopped = true
		case bad:
			*quarantined = append(*quarantined, uid)
		case procErr == nil && out.Role != inbound.RoleAdopted: // adopted mail stays as people left it
			*done = append(*done, uid)
		}
	}
	commit := func(group []*job[P]) error {
		outs, err := pl.commitGroupSafely(validity, group)
		if err != nil {
			return err
		}
		pl.working()
		for i, g := range group {
			finish(g.uid, outs[i], nil)
		}
		return nil
	}
	var held *job[P]
	for {
		j := held
		held = nil
		if j == nil {
			var ok bool
			if j, ok = <-queue; !ok {
				return
			}
		}
		<-j.done
		switch {
		case stopped:
			pl.in.Discard(j.prep)
			continue
		case j.err != nil:
			finish(j.uid, inbound.Outcome{MessageID: j.prep.MessageID()}, j.err)
			continue
		}
		group := []*job[P]{j}
	gather:
		for len(group) < maxGroup {
			select {
			case n, ok := <-queue:
				if !ok {
					break gather
				}
				select {
				case <-n.done:
					if n.err == nil {
						group = append(group, n)
						continue
					}
				default:
				}
				held = n
			default:
			}
			break
		}
		if err := commit(group); err != nil {
			// Committed one by one, so only the culprit is charged; after a fault of
			// the environment nothing more is tried.
			for _, g := range group {
				if stopped || inbound.IsEnvironment(err) {
					pl.in.Discard(g.prep)
					if !stopped {
						finish(g.uid, inbound.Outcome{}, err)
					}
					continue
				}
				if gerr := commit([]*job[P]{g}); gerr != nil {
					pl.in.Discard(g.prep)
					finish(g.uid, inbound.Outcome{MessageID: g.prep.MessageID()}, gerr)
				}
			}
		}
	}
}

// prepareSafely parses and classifies on a worker goroutine; a panic becomes a
// counted failure of that mail.
func (pl *Pipeline[P]) prepareSafely(ctx context.Context, uid uint32, raw io.Reader) (prep P, err error) {
	defer pl.o.Metrics.Busy("prepare", time.Now())
	defer func() {
		if v := recover(); v != nil {
			pl.o.Logger.Error("panic while parsing", "mailbox", pl.o.Mailbox, "uid", uid, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			pl.in.Discard(prep)
			var zero P
			prep, err = zero, fmt.Errorf("panic: %v", v)
		}
	}()
	return pl.in.Prepare(ctx, raw)
}

// commitGroupSafely registers prepared mails; intake advances the checkpoint in their
// transaction.
func (pl *Pipeline[P]) commitGroupSafely(validity uint32, group []*job[P]) (outs []inbound.Outcome, err error) {
	defer pl.o.Metrics.Busy("commit", time.Now())
	defer func() {
		if v := recover(); v != nil {
			pl.o.Logger.Error("panic while registering", "mailbox", pl.o.Mailbox, "uid", group[0].uid, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			outs, err = nil, fmt.Errorf("panic: %v", v)
		}
	}()
	srcs := make([]inbound.Source, len(group))
	preps := make([]P, len(group))
	for i, g := range group {
		srcs[i] = pl.source(validity, g.uid)
		preps[i] = g.prep
	}
	return pl.in.CommitGroup(srcs, preps)
}

// crashAttemptsFactor widens the allowance for deaths: a kill from outside (a deploy,
// the OOM killer taking another process's memory, a kill loop on a busy machine) can
// land while a mail is alone in hand, and is not the mail's fault; a mail that kills the
// process does so every time.
const crashAttemptsFactor = 2

// beginIsolated records that uid is processed alone, so that if the process dies now
// the mail is charged with the death. A mail that died alone too often is quarantined
// (recorded) instead, and quarantined is true.
func (pl *Pipeline[P]) beginIsolated(validity, uid uint32) (quarantined bool, err error) {
	deaths := pl.inflight.beginIsolated(pl.o.Mailbox, validity, uid)
	if deaths < pl.o.MaxAttempts*crashAttemptsFactor {
		return false, nil
	}
	reason := crashReason(deaths)
	if err := pl.in.Quarantine(pl.source(validity, uid), "", deaths, reason); err != nil {
		return false, err
	}
	pl.logQuarantined(uid, reason)
	return true, nil
}

func crashReason(n int) string {
	return fmt.Sprintf("the process died %d times while processing this message alone", n)
}

func (pl *Pipeline[P]) logQuarantined(uid uint32, reason string) {
	pl.o.Logger.Error("message quarantined", "mailbox", pl.o.Mailbox, "uid", uid, "reason", reason)
}

// settle reports the result of one attempt: success needs nothing more (intake's
// transaction advanced the checkpoint); a failure is recorded by intake, counted for a
// later retry or quarantined when it is permanent or out of attempts.
func (pl *Pipeline[P]) settle(validity, uid uint32, out inbound.Outcome, procErr error) (quarantined bool, err error) {
	if procErr == nil {
		if out.Replies > 0 && pl.o.OnQueued != nil {
			pl.o.OnQueued()
		}
		return false, nil
	}
	f, err := pl.in.Fail(pl.source(validity, uid), out.MessageID, procErr, pl.o.MaxAttempts)
	if err != nil {
		return false, err
	}
	pl.o.Logger.Warn("message failed", "mailbox", pl.o.Mailbox, "uid", uid, "attempt", f.Attempts, "err", procErr)
	if f.Quarantined {
		pl.logQuarantined(uid, procErr.Error())
	}
	return f.Quarantined, nil
}

// one handles one UID on its own (retries, and mail a batch could not attribute). It
// returns an error only for connection or store trouble; a message that fails is
// counted, retried on later passes and finally quarantined, so it never blocks the
// mail behind it.
func (pl *Pipeline[P]) one(ctx context.Context, c *Client, validity, uid uint32) error {
	crashed, err := pl.beginIsolated(validity, uid)
	defer pl.inflight.end(pl.o.Mailbox, validity, uid)
	if err != nil {
		return err
	}
	if crashed {
		pl.moveQuarantined(ctx, c, validity, uid)
		return nil
	}
	var out inbound.Outcome
	var procErr error
	var handed bool         // the mail went to intake
	alive := c.Err() == nil // a connection already dead breaks on no mail
	fctx, stopped := graceful(ctx)
	defer stopped()
	fetchErr := c.Fetch(fctx, uid, func(r io.Reader, size int64) error {
		handed = true
		cr := &connReader{r: r, size: size}
		out, procErr = pl.processSafely(ctx, validity, uid, cr)
		procErr = cr.blame(procErr)
		return nil
	})
	src := pl.source(validity, uid)
	if alive && IsConnError(fetchErr) && ctx.Err() == nil && (!handed || IsConnError(procErr)) {
		// The connection broke while this mail alone was fetched (not after intake
		// registered it, nor by a stop). A lost connection is not the mail's fault,
		// but a server that drops it at this mail every time (its process crashing
		// on a damaged message) would hold up the mail behind it for ever: that mail
		// is quarantined after as many breaks in a row as deaths of the process
		// with a mail alone in hand are allowed (crashAttemptsFactor).
		pl.cut[src]++
		if n := pl.cut[src]; n >= pl.o.MaxAttempts*crashAttemptsFactor {
			reason := fmt.Sprintf("the connection to the server broke %d times in a row while this message alone was fetched", n)
			if err := pl.in.Quarantine(src, out.MessageID, n, reason); err != nil {
				return err
			}
			delete(pl.cut, src)
			pl.logQuarantined(uid, reason)
		}
		return fetchErr
	}
	delete(pl.cut, src)
	if fetchErr != nil {
		if errors.Is(fetchErr, ErrNotFound) {
			// Expunged by someone between SEARCH and FETCH: nothing to process.
			return pl.in.Skip(pl.source(validity, uid))
		}
		if IsConnError(fetchErr) {
			return fetchErr
		}
		if serverTrouble(fetchErr) {
			// The server's own trouble: tried again by a later session, uncharged.
			return inbound.Environment(fmt.Errorf("fetch: %w", fetchErr))
		}
		procErr = fmt.Errorf("fetch: %w", fetchErr)
	}
	if inbound.IsEnvironment(procErr) {
		return procErr // not the mail's fault: tried again by a later session, uncharged
	}
	bad, err := pl.settle(validity, uid, out, procErr)
	if err != nil {
		return err
	}
	if bad {
		pl.moveQuarantined(ctx, c, validity, uid)
	} else if procErr == nil {
		pl.working()
	}
	if !bad && procErr == nil && out.Role != inbound.RoleAdopted {
		pl.markProcessed(ctx, c, []uint32{uid})
	}
	return nil
}

// serverTrouble reports a server's NO that says the trouble is its own, not the
// message's (RFC 5530: UNAVAILABLE, SERVERBUG, INUSE, LIMIT).
func serverTrouble(err error) bool {
	var ie *imap.Error
	if !errors.As(err, &ie) {
		return false
	}
	switch ie.Code {
	case imap.ResponseCodeUnavailable, imap.ResponseCodeServerBug, imap.ResponseCodeInUse, imap.ResponseCodeLimit:
		return true
	}
	return false
}

// connReader reads a mail of size bytes from the connection and remembers a failed
// read: a mail cut off because the connection broke failed for the environment's
// fault. An end before size bytes is such a failure: go-imap's literal reader ends
// with a plain io.EOF when the server closes the connection in the middle of it, and
// the mail would be taken for whole.
type connReader struct {
	r    io.Reader
	size int64
	read int64
	err  error
}

func (c *connReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	if err == io.EOF && c.read < c.size {
		err = fmt.Errorf("message ends after %d of its %d bytes: %w", c.read, c.size, io.ErrUnexpectedEOF)
	}
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// blame marks err as the environment's fault when a read from the connection failed.
func (c *connReader) blame(err error) error {
	if err == nil || c.err == nil {
		return err
	}
	return inbound.Environment(fmt.Errorf("read from the server: %w (%v)", ErrConnLost, err))
}

// processSafely hands one mail to intake, which advances the checkpoint in its
// transaction, and turns a panic into a counted failure (a hostile mail must not take
// the desk down).
func (pl *Pipeline[P]) processSafely(ctx context.Context, validity, uid uint32, r io.Reader) (out inbound.Outcome, err error) {
	defer func() {
		if v := recover(); v != nil {
			pl.o.Logger.Error("panic while processing", "mailbox", pl.o.Mailbox, "uid", uid, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return pl.in.Process(ctx, pl.source(validity, uid), r)
}

// moveQuarantined moves a recorded mail to the quarantine folder (or flags it where a
// safe move is impossible) and corrects the record to say where the mail really is.
func (pl *Pipeline[P]) moveQuarantined(ctx context.Context, c *Client, validity, uid uint32) {
	to, moved := pl.afterCommit(ctx, c, uid, FlagQuarantined, "move", pl.o.QuarantineFolder)
	if !moved {
		return
	}
	at := inbound.Source{Stream: inbound.Stream{Channel: inbound.IMAP, Name: pl.o.QuarantineFolder}, Epoch: to.UIDValidity, Seq: to.UID}
	if err := pl.in.QuarantineMoved(pl.source(validity, uid), at); err != nil {
		pl.o.Logger.Error("record quarantine move", "mailbox", pl.o.Mailbox, "uid", uid, "err", err)
	}
}

// markProcessed applies the configured convenience action to processed mail: one
// STORE for the lot when flagging, one MOVE for the lot when moving.
func (pl *Pipeline[P]) markProcessed(ctx context.Context, c *Client, uids []uint32) {
	if len(uids) == 0 {
		return
	}
	switch pl.o.Processed {
	case "flag":
		err := c.AddFlagsMany(context.WithoutCancel(ctx), uids, FlagProcessed)
		if err != nil && !errors.Is(err, ErrFlagsUnsupported) {
			pl.o.Logger.Warn("mark messages", "mailbox", pl.o.Mailbox, "count", len(uids), "err", err)
		}
	case "move":
		// One UID MOVE for the lot: one MOVE per mail was a round trip each, up to a
		// thousand at a stop (found in review). On failure, one by one: a mail that
		// cannot move is flagged instead.
		if pl.o.ProcessedFolder != "" {
			err := c.MoveMany(context.WithoutCancel(ctx), uids, pl.o.ProcessedFolder)
			if err == nil {
				return
			}
			if !errors.Is(err, ErrMoveUnsupported) {
				pl.o.Logger.Warn("move messages", "mailbox", pl.o.Mailbox, "count", len(uids), "folder", pl.o.ProcessedFolder, "err", err)
			}
		}
		for _, uid := range uids {
			pl.afterCommit(ctx, c, uid, FlagProcessed, "move", pl.o.ProcessedFolder)
		}
	}
}

// afterCommit applies the convenience flag or move and reports whether the mail was
// moved. Failures are logged only: the store already says the mail is handled. It
// runs even when shutdown has begun (the mail in hand is finished, flag included);
// every IMAP command has its own watchdog.
func (pl *Pipeline[P]) afterCommit(ctx context.Context, c *Client, uid uint32, flag, action, folder string) (to Moved, moved bool) {
	ctx = context.WithoutCancel(ctx)
	var err error
	switch action {
	case "move":
		if folder != "" {
			to, err = c.MoveUID(ctx, uid, folder)
			if err == nil {
				return to, true
			}
			if !errors.Is(err, ErrMoveUnsupported) {
				pl.o.Logger.Warn("move message", "mailbox", pl.o.Mailbox, "uid", uid, "folder", folder, "err", err)
			}
		}
		err = c.AddFlags(ctx, uid, flag, `\Flagged`)
	case "flag":
		err = c.AddFlags(ctx, uid, flag)
	}
	if err != nil && !errors.Is(err, ErrFlagsUnsupported) {
		pl.o.Logger.Warn("mark message", "mailbox", pl.o.Mailbox, "uid", uid, "action", action, "err", err)
	}
	return Moved{}, false
}
