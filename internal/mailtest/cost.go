package mailtest

import (
	"runtime"
	"testing"
	"time"
)

// Cost runs fn, one input of a fuzz target, and fails t when it took longer than
// maxTime or allocated more than maxAlloc bytes (issue 13: no input may cost more than
// its share). Allocation is the growth of runtime.MemStats.TotalAlloc, which counts the
// whole process: a fuzz worker runs one input at a time, so the growth is fn's give or
// take the runtime's own few kilobytes. The bounds must be generous enough for -race on
// a slow, loaded machine; they catch quadratic time and unbounded buffers, not
// percentages. It returns what was measured.
func Cost(t testing.TB, maxTime time.Duration, maxAlloc uint64, fn func()) (took time.Duration, alloc uint64) {
	t.Helper()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	start := time.Now()
	fn()
	took = time.Since(start)
	runtime.ReadMemStats(&ms)
	alloc = ms.TotalAlloc - before
	if took > maxTime {
		t.Errorf("input took %v (bound %v)", took, maxTime)
	}
	if alloc > maxAlloc {
		t.Errorf("input allocated %d KB (bound %d KB)", alloc>>10, maxAlloc>>10)
	}
	return took, alloc
}
