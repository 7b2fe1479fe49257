package imapsource

import "sync"

// bufferPool hands out byte slices from power-of-two size classes. A pipeline reads
// mails into the buffers of its own pool: a backlog would otherwise allocate (and the
// kernel zero and map) its whole size again. The parsed message keeps no reference to
// the raw bytes.
//
// The free buffers are kept in lists the collector does not empty, up to maxKept
// bytes: a sync.Pool lost them at every collection, and under the daemon's memory
// limit the collector runs several times a second, so the pool reallocated a tenth
// of everything the daemon allocated during a backlog (issue 18).
type bufferPool struct {
	min     int
	maxKept int

	mu   sync.Mutex
	free [][][]byte // per class
	kept int        // bytes of capacity in free
}

func newBufferPool(minSize, maxSize, maxKept int) *bufferPool {
	n := 1
	for s := minSize; s < maxSize; s *= 2 {
		n++
	}
	return &bufferPool{min: minSize, maxKept: maxKept, free: make([][][]byte, n)}
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
	if c >= len(p.free) {
		return make([]byte, size)
	}
	p.mu.Lock()
	if n := len(p.free[c]); n > 0 {
		b := p.free[c][n-1]
		p.free[c][n-1] = nil
		p.free[c] = p.free[c][:n-1]
		p.kept -= cap(b)
		p.mu.Unlock()
		return b[:size]
	}
	p.mu.Unlock()
	return make([]byte, size, p.min<<c)
}

// put takes a buffer back; past maxKept it is left to the collector.
func (p *bufferPool) put(b []byte) {
	c := p.class(cap(b))
	if c >= len(p.free) || p.min<<c != cap(b) {
		return // not one of ours
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.kept+cap(b) > p.maxKept {
		return
	}
	p.free[c] = append(p.free[c], b[:0])
	p.kept += cap(b)
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
