package intake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/complaintd/complaintd/internal/imapsource"
	"github.com/complaintd/complaintd/internal/metrics"
	"github.com/complaintd/complaintd/internal/store"
)

// Keywords the desk sets on mail it has handled, for the people who read the mailbox
// too. They are a convenience only: the checkpoint decides what is processed.
const (
	FlagProcessed   = "$Complaintd"
	FlagQuarantined = "$ComplaintdQuarantine"
)

// PollerOptions wires a Poller.
type PollerOptions struct {
	IMAP             imapsource.Options
	Mailbox          string
	Idle             bool
	PollInterval     time.Duration
	Processed        string // flag | move | none
	ProcessedFolder  string
	QuarantineFolder string
	MaxAttempts      int
	Backoff          imapsource.Backoff
	Logger           *slog.Logger
	Metrics          *metrics.Metrics
	// OnQueued is called after a message whose processing queued replies (the
	// outbox worker wakes up). Nil: nobody is told.
	OnQueued func()
	// InflightPath is the small file counting attempts on the mail in hand, so that
	// a mail that kills the process is quarantined. Empty: not counted.
	InflightPath string
	// Dial replaces imapsource.Dial (tests inject failures). Nil: imapsource.Dial.
	Dial func(ctx context.Context, o imapsource.Options) (*imapsource.Client, error)
}

// Poller reads the service mailbox and feeds the Processor, exactly once per mail.
type Poller struct {
	o        PollerOptions
	inflight *inflight
	p        *Processor
	store    *store.Store
}

// NewPoller builds a poller around a processor.
func NewPoller(p *Processor, o PollerOptions) *Poller {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = p.o.Metrics
	}
	if o.Dial == nil {
		o.Dial = imapsource.Dial
	}
	if o.MaxAttempts < 1 {
		o.MaxAttempts = 3
	}
	return &Poller{o: o, p: p, store: p.o.Store, inflight: openInflight(o.InflightPath, o.Logger)}
}

// Run reads mail until ctx is done, reconnecting with backoff. It returns nil on a
// clean stop. The message in hand when ctx ends is finished first: cancellation is
// only observed between messages (a cut-off fetch would just be retried, but a
// finished one saves the work).
func (pl *Poller) Run(ctx context.Context) error {
	for {
		err := pl.session(ctx)
		pl.o.Metrics.IMAPUp.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		pl.o.Metrics.IMAPErrors.Add(1)
		delay := pl.o.Backoff.Next()
		pl.o.Logger.Warn("imap session ended", "mailbox", pl.o.Mailbox, "err", err, "retry_in", delay.Round(time.Millisecond))
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
func (pl *Poller) session(ctx context.Context) error {
	c, err := pl.o.Dial(ctx, pl.o.IMAP)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer c.Close()
	pl.o.Metrics.IMAPConnects.Add(1)
	pl.o.Metrics.IMAPUp.Store(true)
	first := true
	for {
		st, err := c.Select(ctx, pl.o.Mailbox)
		if err != nil {
			return fmt.Errorf("select %q: %w", pl.o.Mailbox, err)
		}
		if first {
			pl.o.Backoff.Reset()
			first = false
		}
		if err := pl.catchUp(ctx, c, st); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		if pl.o.Idle && c.CanIdle() {
			err = c.WaitForChange(ctx, pl.o.PollInterval)
		} else {
			err = waitCtx(ctx, pl.o.PollInterval)
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
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
func (pl *Poller) catchUp(ctx context.Context, c *imapsource.Client, st imapsource.MailboxStatus) error {
	var cp store.Checkpoint
	if err := pl.store.View(func(tx *store.Tx) error {
		var err error
		cp, err = tx.Checkpoint(pl.o.Mailbox)
		return err
	}); err != nil {
		return err
	}
	if cp.UIDValidity != 0 && cp.UIDValidity != st.UIDValidity {
		// RFC 3501 §2.3.1.1: UIDs from the old validity mean nothing now. Rescan the
		// whole mailbox; the Message-ID and content digest keep every mail already
		// registered from becoming a second case.
		msg := fmt.Sprintf("UIDVALIDITY of %s changed from %d to %d: rescanning %d messages; registered mail is recognised by Message-ID and content digest",
			pl.o.Mailbox, cp.UIDValidity, st.UIDValidity, st.Messages)
		pl.o.Logger.Warn("uidvalidity changed", "mailbox", pl.o.Mailbox, "old", cp.UIDValidity, "new", st.UIDValidity)
		err := pl.store.Update(func(tx *store.Tx) error {
			if err := tx.AddAlert(store.Alert{At: time.Now(), Kind: "uidvalidity", Message: msg}); err != nil {
				return err
			}
			return tx.PutCheckpoint(pl.o.Mailbox, store.Checkpoint{UIDValidity: st.UIDValidity, Updated: time.Now()})
		})
		if err != nil {
			return err
		}
		cp = store.Checkpoint{UIDValidity: st.UIDValidity}
	}
	if cp.UIDValidity == 0 {
		cp.UIDValidity = st.UIDValidity
	}
	uids, err := c.UIDsAfter(ctx, cp.LastUID)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	retry := make([]uint32, 0, len(cp.Retry))
	for u := range cp.Retry {
		retry = append(retry, u)
	}
	slices.Sort(retry)
	for _, uid := range retry {
		if ctx.Err() != nil {
			return nil
		}
		if err := pl.one(ctx, c, st.UIDValidity, uid); err != nil {
			return err
		}
	}
	for len(uids) > 0 && ctx.Err() == nil {
		// A mail that was in hand when an earlier process died is processed alone:
		// if it kills us again, it alone is charged.
		if _, suspect := pl.inflight.suspect(pl.o.Mailbox, st.UIDValidity, uids[0]); suspect {
			if err := pl.one(ctx, c, st.UIDValidity, uids[0]); err != nil {
				return err
			}
			uids = uids[1:]
			continue
		}
		n := 1
		for n < len(uids) && n < fetchBatch {
			if _, suspect := pl.inflight.suspect(pl.o.Mailbox, st.UIDValidity, uids[n]); suspect {
				break
			}
			n++
		}
		if err := pl.batch(ctx, c, st.UIDValidity, uids[:n]); err != nil {
			return err
		}
		uids = uids[n:]
	}
	return nil
}

// fetchBatch is how many new mails one UID FETCH asks for: enough to keep the server
// streaming while a mail is parsed, few enough that a stop does not wait long.
const fetchBatch = 100

var errStopBatch = errors.New("stop requested")

// Pipelining: while one group of mails is committed (a sync-bound store
// transaction), the next ones are read off the connection and parsed. Commits stay in
// UID order, so the checkpoint means what it always meant. Parsing waits on the disk
// too (creating spool files blocks while the file system commits its journal), so
// there are more workers than cores; what they may hold is bounded in bytes.
const (
	prepareWorkers   = 4        // mails parsed at once
	maxGroup         = 16       // mails committed in one transaction
	queueDepth       = 16       // parsed mails waiting for their commit (no raw bytes held)
	pipelineMaxBytes = 8 << 20  // bigger mails are streamed, never buffered whole
	pipelineBudget   = 16 << 20 // raw bytes buffered for the workers at once
	budgetUnit       = 64 << 10
)

// rawBuffers recycles the buffers mails are read into: a backlog would otherwise
// allocate (and the kernel zero and map) its whole size again. The parsed message
// keeps no reference to the raw bytes.
var rawBuffers = newBufferPool(budgetUnit, pipelineMaxBytes)

// bufferPool hands out byte slices from power-of-two size classes.
type bufferPool struct {
	min     int
	classes []sync.Pool
}

func newBufferPool(minSize, maxSize int) *bufferPool {
	n := 1
	for s := minSize; s < maxSize; s *= 2 {
		n++
	}
	return &bufferPool{min: minSize, classes: make([]sync.Pool, n)}
}

func (p *bufferPool) class(size int) int {
	c := 0
	for s := p.min; s < size; s *= 2 {
		c++
	}
	return c
}

// get returns a slice of len size; its content is undefined.
func (p *bufferPool) get(size int) []byte {
	c := p.class(size)
	if c >= len(p.classes) {
		return make([]byte, size)
	}
	if b, ok := p.classes[c].Get().(*[]byte); ok {
		return (*b)[:size]
	}
	return make([]byte, size, p.min<<c)
}

func (p *bufferPool) put(b []byte) {
	c := p.class(cap(b))
	if c >= len(p.classes) || p.min<<c != cap(b) {
		return // not one of ours
	}
	b = b[:0]
	p.classes[c].Put(&b)
}

// byteBudget bounds the raw mail held by the pipeline. One goroutine acquires (the
// reader of the connection), so taking units one by one cannot deadlock.
type byteBudget chan struct{}

func newByteBudget() byteBudget { return make(byteBudget, pipelineBudget/budgetUnit) }

func budgetUnits(size int64) int { return int((size + budgetUnit - 1) / budgetUnit) }

func (b byteBudget) acquire(units int) {
	for range units {
		b <- struct{}{}
	}
}

func (b byteBudget) release(units int) {
	for range units {
		<-b
	}
}

// job is one mail of a batch between its fetch and its commit.
type job struct {
	uid  uint32
	prep *Prepared
	err  error
	done chan struct{} // closed when prep/err are set
}

// batch fetches new mail with one command, parses it ahead on other cores, commits
// each in UID order, then marks the processed ones with one STORE. Mail that brought
// no body goes through one().
func (pl *Poller) batch(ctx context.Context, c *imapsource.Client, validity uint32, uids []uint32) error {
	var (
		done        []uint32 // committed, to be flagged
		quarantined []store.Quarantined
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
	queue := make(chan *job, queueDepth)
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
	missing, err := c.FetchBatch(ctx, uids, func(uid uint32, r io.Reader, size int64) error {
		if err := failed(); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return errStopBatch // the mails in hand are finished; the rest waits
		}
		j := &job{uid: uid, done: make(chan struct{})}
		pl.inflight.beginPipeline(pl.o.Mailbox, validity, uid)
		begun = append(begun, uid)
		switch {
		case size > pipelineMaxBytes || size < 0:
			// Too big to buffer: parse it from the connection right here.
			j.prep, j.err = pl.prepareSafely(uid, r)
			close(j.done)
		default:
			units := budgetUnits(size)
			budget.acquire(units)
			buf := rawBuffers.get(int(size))
			if _, err := io.ReadFull(r, buf); err != nil {
				rawBuffers.put(buf)
				budget.release(units)
				return fmt.Errorf("read message: %w", err) // the connection broke
			}
			workers <- struct{}{}
			go func() {
				defer func() { <-workers; rawBuffers.put(buf); budget.release(units); close(j.done) }()
				j.prep, j.err = pl.prepareSafely(uid, bytes.NewReader(buf))
			}()
		}
		queue <- j
		return nil
	})
	// Mails read before a stop or a broken connection are complete: they are
	// committed before the batch ends.
	close(queue)
	<-committed
	if cerr := failed(); cerr != nil && (err == nil || errors.Is(err, cerr)) {
		err = cerr
	}
	// What was committed is marked even when the batch stopped early.
	pl.markProcessed(ctx, c, done)
	for _, q := range quarantined {
		pl.moveQuarantined(ctx, c, q)
	}
	switch {
	case errors.Is(err, errStopBatch):
		return nil
	case err != nil:
		if imapsource.IsConnError(err) {
			return err
		}
		return fmt.Errorf("batch: %w", err)
	}
	for _, uid := range missing {
		if ctx.Err() != nil {
			return nil
		}
		if err := pl.one(ctx, c, validity, uid); err != nil {
			return err
		}
	}
	return nil
}

// committer commits the jobs of a batch in UID order. It takes the oldest job with
// the ones after it that are already parsed: one transaction and one sync for the
// group. If a group fails, its mails are committed one by one, so only the culprit is
// counted. After a store failure (fatal) the rest is discarded.
func (pl *Poller) committer(validity uint32, queue <-chan *job, done *[]uint32, quarantined *[]store.Quarantined, fatal func(error)) {
	var stopped bool
	finish := func(uid uint32, out Outcome, procErr error) {
		q, bad, err := pl.settle(validity, uid, out, procErr)
		if err == nil {
			pl.inflight.end(pl.o.Mailbox, validity, uid)
		}
		switch {
		case err != nil:
			fatal(err)
			stopped = true
		case bad:
			*quarantined = append(*quarantined, q)
		case procErr == nil:
			*done = append(*done, uid)
		}
	}
	commit := func(group []*job) error {
		outs, err := pl.commitGroupSafely(validity, group)
		if err != nil {
			return err
		}
		for i, g := range group {
			finish(g.uid, outs[i], nil)
		}
		return nil
	}
	var held *job
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
			pl.p.Discard(j.prep)
			continue
		case j.err != nil:
			finish(j.uid, Outcome{MessageID: j.prep.MessageID()}, j.err)
			continue
		}
		group := []*job{j}
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
			for _, g := range group {
				if gerr := commit([]*job{g}); gerr != nil {
					pl.p.Discard(g.prep)
					finish(g.uid, Outcome{MessageID: g.prep.MessageID()}, gerr)
				}
			}
		}
	}
}

// prepareSafely parses and classifies on a worker goroutine; a panic becomes a
// counted failure of that mail.
func (pl *Poller) prepareSafely(uid uint32, raw io.Reader) (prep *Prepared, err error) {
	defer func() {
		if v := recover(); v != nil {
			pl.o.Logger.Error("panic while parsing", "mailbox", pl.o.Mailbox, "uid", uid, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			pl.p.Discard(prep)
			prep, err = nil, fmt.Errorf("panic: %v", v)
		}
	}()
	return pl.p.Prepare(raw)
}

// commitGroupSafely registers prepared mails with the checkpoint advance in their
// transaction.
func (pl *Poller) commitGroupSafely(validity uint32, group []*job) (outs []Outcome, err error) {
	defer func() {
		if v := recover(); v != nil {
			pl.o.Logger.Error("panic while registering", "mailbox", pl.o.Mailbox, "uid", group[0].uid, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			outs, err = nil, fmt.Errorf("panic: %v", v)
		}
	}()
	srcs := make([]Source, len(group))
	preps := make([]*Prepared, len(group))
	for i, g := range group {
		srcs[i] = Source{Mailbox: pl.o.Mailbox, UIDValidity: validity, UID: g.uid}
		preps[i] = g.prep
	}
	return pl.p.CommitGroup(srcs, preps, func(tx *store.Tx) error {
		for _, g := range group {
			if err := advanceIn(tx, pl.o.Mailbox, validity, g.uid); err != nil {
				return err
			}
		}
		return nil
	})
}

// beginIsolated records that uid is processed alone, so that if the process dies now
// the mail is charged with the death. A mail that died alone too often is quarantined
// (recorded) instead, and quarantined is true.
func (pl *Poller) beginIsolated(validity, uid uint32) (store.Quarantined, bool, error) {
	deaths := pl.inflight.beginIsolated(pl.o.Mailbox, validity, uid)
	if deaths < pl.o.MaxAttempts {
		return store.Quarantined{}, false, nil
	}
	q, err := pl.recordQuarantine(validity, uid, "", deaths, crashReason(deaths))
	return q, true, err
}

func crashReason(n int) string {
	return fmt.Sprintf("the process died %d times while processing this message alone", n)
}

// settle records the result of one attempt: success needs nothing more (the
// processor's transaction advanced the checkpoint); a failure is counted for a later
// retry, or quarantined (recorded) when it is permanent or out of attempts.
func (pl *Poller) settle(validity, uid uint32, out Outcome, procErr error) (q store.Quarantined, quarantined bool, err error) {
	mbox := pl.o.Mailbox
	if procErr == nil {
		if out.Duplicate {
			pl.o.Metrics.Duplicates.Add(1)
		}
		if out.Replies > 0 && pl.o.OnQueued != nil {
			pl.o.OnQueued()
		}
		now := time.Now()
		pl.o.Metrics.LastProcessedAt.Store(now.Unix())
		// The Date header is the sender's clock: only plausible values feed the lag.
		if d := out.Date; !d.IsZero() && !d.After(now) && now.Sub(d) < 30*24*time.Hour {
			pl.o.Metrics.LastMessageDate.Store(d.Unix())
		}
		return q, false, nil
	}
	pl.o.Metrics.Failures.Add(1)
	var attempts int
	err = pl.store.Update(func(tx *store.Tx) error {
		cp, err := tx.Checkpoint(mbox)
		if err != nil {
			return err
		}
		attempts = cp.Retry[uid] + 1
		var perm *PermanentError
		if errors.As(procErr, &perm) || attempts >= pl.o.MaxAttempts {
			return nil // quarantined below, in its own transaction
		}
		if cp.Retry == nil {
			cp.Retry = map[uint32]int{}
		}
		cp.Retry[uid] = attempts
		cp.LastUID = max(cp.LastUID, uid)
		return tx.PutCheckpoint(mbox, cp)
	})
	if err != nil {
		return q, false, fmt.Errorf("record failure: %w", err)
	}
	pl.o.Logger.Warn("message failed", "mailbox", mbox, "uid", uid, "attempt", attempts, "err", procErr)
	var perm *PermanentError
	if errors.As(procErr, &perm) || attempts >= pl.o.MaxAttempts {
		q, err = pl.recordQuarantine(validity, uid, out.MessageID, attempts, procErr.Error())
		return q, err == nil, err
	}
	return q, false, nil
}

// one handles one UID on its own (retries, and mail a batch could not attribute). It
// returns an error only for connection or store trouble; a message that fails is
// counted, retried on later passes and finally quarantined, so it never blocks the
// mail behind it.
func (pl *Poller) one(ctx context.Context, c *imapsource.Client, validity, uid uint32) error {
	q, crashed, err := pl.beginIsolated(validity, uid)
	defer pl.inflight.end(pl.o.Mailbox, validity, uid)
	if err != nil {
		return err
	}
	if crashed {
		pl.moveQuarantined(ctx, c, q)
		return nil
	}
	var out Outcome
	var procErr error
	fetchErr := c.Fetch(ctx, uid, func(r io.Reader, size int64) error {
		out, procErr = pl.processSafely(ctx, validity, uid, r)
		return nil
	})
	if fetchErr != nil {
		if errors.Is(fetchErr, imapsource.ErrNotFound) {
			// Expunged by someone between SEARCH and FETCH: nothing to process.
			return pl.advance(validity, uid)
		}
		if imapsource.IsConnError(fetchErr) {
			return fetchErr
		}
		procErr = fmt.Errorf("fetch: %w", fetchErr)
	}
	q, bad, err := pl.settle(validity, uid, out, procErr)
	if err != nil {
		return err
	}
	if bad {
		pl.moveQuarantined(ctx, c, q)
	} else if procErr == nil {
		pl.markProcessed(ctx, c, []uint32{uid})
	}
	return nil
}

// processSafely runs the processor with the checkpoint advance in its transaction and
// turns a panic into a counted failure (a hostile mail must not take the desk down).
func (pl *Poller) processSafely(ctx context.Context, validity, uid uint32, r io.Reader) (out Outcome, err error) {
	defer func() {
		if v := recover(); v != nil {
			pl.o.Logger.Error("panic while processing", "mailbox", pl.o.Mailbox, "uid", uid, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	src := Source{Mailbox: pl.o.Mailbox, UIDValidity: validity, UID: uid}
	return pl.p.Process(ctx, src, r, func(tx *store.Tx) error {
		return advanceIn(tx, pl.o.Mailbox, validity, uid)
	})
}

func advanceIn(tx *store.Tx, mbox string, validity, uid uint32) error {
	cp, err := tx.Checkpoint(mbox)
	if err != nil {
		return err
	}
	cp.UIDValidity = validity
	cp.LastUID = max(cp.LastUID, uid)
	delete(cp.Retry, uid)
	cp.Updated = time.Now()
	return tx.PutCheckpoint(mbox, cp)
}

func (pl *Poller) advance(validity, uid uint32) error {
	return pl.store.Update(func(tx *store.Tx) error { return advanceIn(tx, pl.o.Mailbox, validity, uid) })
}

// recordQuarantine records the mail as given up on and advances past it. The record
// comes before any IMAP move: a failed move must not make us process the mail again.
func (pl *Poller) recordQuarantine(validity, uid uint32, msgID string, attempts int, reason string) (store.Quarantined, error) {
	q := store.Quarantined{Mailbox: pl.o.Mailbox, UIDValidity: validity, UID: uid, MessageID: msgID, Reason: reason, At: time.Now(), Attempts: attempts}
	err := pl.store.Update(func(tx *store.Tx) error {
		if err := tx.PutQuarantined(q); err != nil {
			return err
		}
		return advanceIn(tx, pl.o.Mailbox, validity, uid)
	})
	if err != nil {
		return q, fmt.Errorf("record quarantine: %w", err)
	}
	pl.o.Metrics.Quarantined.Add(1)
	pl.o.Logger.Error("message quarantined", "mailbox", pl.o.Mailbox, "uid", uid, "reason", reason)
	return q, nil
}

// moveQuarantined moves a recorded mail to the quarantine folder (or flags it where a
// safe move is impossible) and corrects the record to say where the mail really is.
func (pl *Poller) moveQuarantined(ctx context.Context, c *imapsource.Client, q store.Quarantined) {
	if !pl.afterCommit(ctx, c, q.UID, FlagQuarantined, "move", pl.o.QuarantineFolder) {
		return
	}
	q.Moved = true
	if err := pl.store.Update(func(tx *store.Tx) error { return tx.PutQuarantined(q) }); err != nil {
		pl.o.Logger.Error("record quarantine move", "mailbox", pl.o.Mailbox, "uid", q.UID, "err", err)
	}
}

// markProcessed applies the configured convenience action to processed mail: one
// STORE for the lot when flagging, one MOVE each when moving.
func (pl *Poller) markProcessed(ctx context.Context, c *imapsource.Client, uids []uint32) {
	if len(uids) == 0 {
		return
	}
	switch pl.o.Processed {
	case "flag":
		err := c.AddFlagsMany(context.WithoutCancel(ctx), uids, FlagProcessed)
		if err != nil && !errors.Is(err, imapsource.ErrFlagsUnsupported) {
			pl.o.Logger.Warn("mark messages", "mailbox", pl.o.Mailbox, "count", len(uids), "err", err)
		}
	case "move":
		for _, uid := range uids {
			pl.afterCommit(ctx, c, uid, FlagProcessed, "move", pl.o.ProcessedFolder)
		}
	}
}

// afterCommit applies the convenience flag or move and reports whether the mail was
// moved. Failures are logged only: the store already says the mail is handled. It
// runs even when shutdown has begun (the mail in hand is finished, flag included);
// every IMAP command has its own watchdog.
func (pl *Poller) afterCommit(ctx context.Context, c *imapsource.Client, uid uint32, flag, action, folder string) (moved bool) {
	ctx = context.WithoutCancel(ctx)
	var err error
	switch action {
	case "move":
		if folder != "" {
			err = c.Move(ctx, uid, folder)
			if err == nil {
				return true
			}
			if !errors.Is(err, imapsource.ErrMoveUnsupported) {
				pl.o.Logger.Warn("move message", "mailbox", pl.o.Mailbox, "uid", uid, "folder", folder, "err", err)
			}
		}
		err = c.AddFlags(ctx, uid, flag, `\Flagged`)
	case "flag":
		err = c.AddFlags(ctx, uid, flag)
	}
	if err != nil && !errors.Is(err, imapsource.ErrFlagsUnsupported) {
		pl.o.Logger.Warn("mark message", "mailbox", pl.o.Mailbox, "uid", uid, "action", action, "err", err)
	}
	return false
}
