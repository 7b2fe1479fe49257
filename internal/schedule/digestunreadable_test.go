package schedule

import (
	"testing"
)

// Found in review of c3c4546 + b547a2f (fixed since): one case whose record cannot be read no longer stops
// the deadline job or retention, but it still stops the digest and the weekly report
// (buildDigest / buildReport: EachCase returns the first decode error). Since
// b547a2f such a failed run is tried again every 10 minutes, for good: each try a
// scan of every case, with its events, inside a write transaction (Mailer.Update),
// and no digest ever goes out.
func TestOneUnreadableCaseDoesNotStopTheDigest(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	bad, good := "TS-2026-000001", "TS-2026-000002"
	st.SetSealer(damagingSealer{bad: bad})
	putCase(t, st, pendingCase(bad, at(2026, 3, 9, 8, 0), at(2026, 3, 9, 8, 10)))
	putCase(t, st, pendingCase(good, at(2026, 3, 9, 8, 0), at(2026, 3, 9, 8, 10)))
	clk := &clock{t: at(2026, 3, 9, 9, 0)}
	s := newTestScheduler(t, st, clk, defaultPolicy(), nil)
	s.RunJob(JobDigest)
	if got := sent(t, st, "")["digest"]; got != 1 {
		t.Errorf("%d digests, want 1: case %s's unreadable record stopped the digest (retried every %v, never sent)", got, bad, retryFailed)
	}
}
