package imapsource

import "sync"

// bufferPool hands out byte slices from power-of-two size classes. A pipeline reads
// mails into the buffers of its own pool: a backlog would otherwise allocate (and the
// kernel zero and map) its whole size again. The parsed message keeps no reference to
// the raw bytes.
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
