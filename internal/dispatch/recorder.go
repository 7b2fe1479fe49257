package dispatch

import (
	"errors"
	"sync"
	"time"

	"github.com/complaintd/complaintd/internal/store"
)

// maxRecordBatch bounds the outcomes written in one transaction, so that the
// recorder's own turn as the store's writer stays short for intake.
const maxRecordBatch = 256

// recorder writes the outcomes of Run's workers to the store off their path: all
// that arrived while it waited for the store's one writer go in one transaction.
//
// Exactly-once holds as with a write per attempt: an entry is marked sent only
// after the server accepted it, and it stays in flight (planned by no pass) until
// its outcome is written. The wait for the writer would widen the window in which a
// crash sends an accepted reply again (every reply sent while intake's commits held
// the writer); the journal closes it: the worker notes the reply there at the
// server's 250, and the next start records it (journal.go). A write the store
// refuses keeps the entries in flight and is tried again: an accepted reply is not
// sent a second time while the process runs. Meanwhile the dispatcher hands out no
// reply (Dispatcher.unrecorded): what a restart would send again is bounded by what
// was sent before the first refusal, not by how long the store refused.
type recorder struct {
	d    *Dispatcher
	more chan struct{} // one pending signal: outcomes are waiting

	mu      sync.Mutex
	queue   []*outcome
	stopped bool
}

func newRecorder(d *Dispatcher) *recorder {
	return &recorder{d: d, more: make(chan struct{}, 1)}
}

// add hands an outcome over; it never blocks.
func (r *recorder) add(o *outcome) {
	r.mu.Lock()
	r.queue = append(r.queue, o)
	r.mu.Unlock()
	r.signal()
}

func (r *recorder) signal() {
	select {
	case r.more <- struct{}{}:
	default:
	}
}

// stop makes run return once every outcome handed over is written (or, when the
// store still refuses them, given up).
func (r *recorder) stop() {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	r.signal()
}

// Waits between writes the store refused (a full or failing disk), doubling.
const (
	rewriteMin = 100 * time.Millisecond
	rewriteMax = 5 * time.Second
)

// run writes outcomes until stop; it has no context, as an accepted reply must be
// recorded during shutdown too. Outcomes the store refuses are written again after
// a pause, their entries still in flight: a reply the server accepted is never sent
// again by this process. At stop the last refusal gives up: those entries are still
// pending in the store and go out again after the restart, with the same
// Message-ID, as after a crash.
func (r *recorder) run() {
	wait := rewriteMin
	var again <-chan time.Time // set while refused outcomes wait for their next try
	for {
		select {
		case <-r.more:
			r.mu.Lock()
			if r.stopped {
				again = nil // the last try, now
			}
			r.mu.Unlock()
		case <-again:
			again = nil
		}
		for again == nil {
			r.mu.Lock()
			n := min(len(r.queue), maxRecordBatch)
			batch := r.queue[:n:n]
			if r.queue = r.queue[n:]; len(r.queue) == 0 {
				r.queue = nil // the next burst starts a new array: the written outcomes go
			}
			stopped := r.stopped
			r.mu.Unlock()
			if n == 0 {
				if stopped {
					return
				}
				break
			}
			left := r.write(batch)
			if len(left) == 0 {
				wait = rewriteMin
				if r.d.unrecorded.Swap(false) {
					r.d.Wake() // sending may go on
				}
				continue
			}
			r.d.unrecorded.Store(true)
			if stopped {
				r.d.o.Logger.Error("outbox results not recorded", "replies", len(left))
				r.mu.Lock()
				left = append(left, r.queue...)
				r.queue = nil
				r.mu.Unlock()
				r.release(left)
				continue
			}
			r.mu.Lock()
			r.queue = append(left, r.queue...)
			r.mu.Unlock()
			again = time.After(wait)
			wait = min(2*wait, rewriteMax)
		}
	}
}

// write records a batch and takes its entries out of flight; it returns the
// outcomes the store refused, still in flight. A batch the store refuses is written
// one outcome at a time, so that one entry that cannot be written costs no other its
// record. An entry whose case was erased after its reply was handed over (its key
// is gone, so the mail cannot be sealed again) gets its new state without the mail.
func (r *recorder) write(batch []*outcome) (left []*outcome) {
	d := r.d
	if err := d.record(batch); err != nil {
		// Hold the sending now, not after the retries below: each reply sent
		// meanwhile would wait for the store too.
		d.unrecorded.Store(true)
		if len(batch) == 1 {
			left = r.rewrite(batch[0])
		} else {
			for _, o := range batch {
				if d.record([]*outcome{o}) != nil {
					left = append(left, r.rewrite(o)...)
				}
			}
		}
		if len(left) > 0 {
			d.o.Logger.Error("record outbox results", "replies", len(left), "err", err)
		}
	}
	if len(left) == len(batch) {
		return left
	}
	refused := make(map[*outcome]bool, len(left))
	for _, o := range left {
		refused[o] = true
	}
	written := make([]*outcome, 0, len(batch)-len(left))
	for _, o := range batch {
		if !refused[o] {
			written = append(written, o)
		}
	}
	// The journal first: once out of flight, an entry whose failure was written
	// may be sent again and noted anew.
	d.journal.recorded(journalKeys(written))
	d.mu.Lock()
	for _, o := range written {
		delete(d.inflight, o.e.Seq)
	}
	d.mu.Unlock()
	// The planner skipped these entries while in flight: a failed one may now be
	// due before the time it sleeps until.
	d.Wake()
	return left
}

// rewrite records o on its erased entry, or returns it for another try.
func (r *recorder) rewrite(o *outcome) []*outcome {
	err := r.d.o.Store.Update(func(tx *store.Tx) error {
		e, err := tx.OutboxEntry(o.e.Seq)
		if err != nil {
			return err
		}
		if !e.Erased {
			return errNotErased
		}
		e.State, e.Attempts, e.NextAt, e.SentAt, e.LastError = o.e.State, o.e.Attempts, o.e.NextAt, o.e.SentAt, o.e.LastError
		return tx.PutOutbox(e)
	})
	if err == nil {
		return nil
	}
	return []*outcome{o}
}

// release gives up on recording outcomes: their entries leave the flight.
func (r *recorder) release(outs []*outcome) {
	r.d.mu.Lock()
	defer r.d.mu.Unlock()
	for _, o := range outs {
		delete(r.d.inflight, o.e.Seq)
	}
}

var errNotErased = errors.New("entry not erased")
