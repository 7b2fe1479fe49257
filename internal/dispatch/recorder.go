package dispatch

import "sync"

// maxRecordBatch bounds the outcomes written in one transaction, so that the
// recorder's own turn as the store's writer stays short for intake.
const maxRecordBatch = 256

// recorder writes the outcomes of Run's workers to the store off their path: all
// that arrived while it waited for the store's one writer go in one transaction.
//
// Exactly-once holds as with a write per attempt: an entry is marked sent only
// after the server accepted it, and it stays in flight (planned by no pass) until
// its outcome is written. A crash between the server's 250 and the write sends the
// reply again on restart with the same Message-ID, as a crash inside the write
// always did; the window is longer by the wait for the writer.
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

// stop makes run return once every outcome handed over is written.
func (r *recorder) stop() {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	r.signal()
}

// run writes outcomes until stop; it has no context, as an accepted reply must be
// recorded during shutdown too.
func (r *recorder) run() {
	for range r.more {
		for {
			r.mu.Lock()
			n := min(len(r.queue), maxRecordBatch)
			batch := r.queue[:n:n]
			r.queue = r.queue[n:]
			stopped := r.stopped
			r.mu.Unlock()
			if n == 0 {
				if stopped {
					return
				}
				break
			}
			r.write(batch)
		}
	}
}

// write records a batch and takes its entries out of flight. A batch the store
// refuses is written one outcome at a time, so that one entry that cannot be
// written (its case's key gone) costs no other its record. An outcome that cannot
// be written at all leaves its entry pending: it is planned and sent again, with
// the same Message-ID, as after a crash.
func (r *recorder) write(batch []*outcome) {
	d := r.d
	if err := d.record(batch); err != nil {
		if len(batch) == 1 {
			d.o.Logger.Error("outbox attempt", "seq", batch[0].e.Seq, "err", err)
		} else {
			for _, o := range batch {
				if err := d.record([]*outcome{o}); err != nil {
					d.o.Logger.Error("outbox attempt", "seq", o.e.Seq, "err", err)
				}
			}
		}
	}
	d.mu.Lock()
	for _, o := range batch {
		delete(d.inflight, o.e.Seq)
	}
	d.mu.Unlock()
	// The planner skipped these entries while in flight: a failed one may now be
	// due before the time it sleeps until.
	d.Wake()
}
