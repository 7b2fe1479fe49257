package intake

import (
	"context"
	"io"
	"sync"
	"time"
)

// workBudget is the context a mail is parsed and classified under: it ends once the
// work has run for its budget, not counting the time spent waiting for the raw mail
// (readers made by reader). A 60 MB mail streamed from a slow IMAP link is not over
// budget for arriving slowly: cutting it would lose its attachments. It also ends with
// its parent.
type workBudget struct {
	parent context.Context
	done   chan struct{}
	stop   func() bool // stops the parent's AfterFunc

	mu    sync.Mutex
	err   error
	left  time.Duration // of the budget, while paused
	since time.Time     // when the clock last started; zero while paused
	timer *time.Timer
}

func newWorkBudget(parent context.Context, d time.Duration) *workBudget {
	b := &workBudget{parent: parent, done: make(chan struct{}), left: d, since: time.Now()}
	b.timer = time.AfterFunc(d, func() { b.end(context.DeadlineExceeded) })
	b.stop = context.AfterFunc(parent, func() { b.end(parent.Err()) })
	return b
}

func (b *workBudget) Deadline() (time.Time, bool) { return b.parent.Deadline() }
func (b *workBudget) Done() <-chan struct{}       { return b.done }
func (b *workBudget) Value(key any) any           { return b.parent.Value(key) }

func (b *workBudget) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// end ends the budget with err, once.
func (b *workBudget) end(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = err
		b.timer.Stop()
		close(b.done)
	}
}

// release frees the timers; the budget then counts as spent.
func (b *workBudget) release() {
	b.stop()
	b.end(context.Canceled)
}

func (b *workBudget) pause() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil || b.since.IsZero() {
		return
	}
	b.left -= time.Since(b.since)
	b.since = time.Time{}
	b.timer.Stop()
}

func (b *workBudget) resume() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil || !b.since.IsZero() {
		return
	}
	b.since = time.Now()
	b.timer.Reset(max(b.left, 0))
}

// reader reads r with the budget's clock stopped.
func (b *workBudget) reader(r io.Reader) io.Reader {
	w := &waitReader{r: r, b: b}
	w.buffered, _ = r.(interface{ Buffered() int })
	return w
}

type waitReader struct {
	r io.Reader
	b *workBudget
	// buffered is r's count of bytes it holds (a *bufio.Reader): a read those
	// bytes answer waits for nothing, and is not worth stopping the clock for (two
	// timer operations per read of the parser's buffer).
	buffered interface{ Buffered() int }
}

func (w *waitReader) Read(p []byte) (int, error) {
	if w.buffered != nil && w.buffered.Buffered() > 0 {
		return w.r.Read(p)
	}
	w.b.pause()
	defer w.b.resume()
	return w.r.Read(p)
}
