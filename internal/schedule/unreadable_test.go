package schedule

import (
	"bytes"
	"errors"
	"testing"
)

// damagingSealer seals in clear behind a marker and fails to open one case's
// records, as the vault does for a damaged record ("open record of …: damaged") or an
// unreadable key file.
type damagingSealer struct{ bad string }

func (damagingSealer) SealRecord(caseID string, plain []byte) ([]byte, error) {
	return append([]byte("S:"), plain...), nil
}

func (s damagingSealer) OpenRecord(caseID string, sealed []byte) ([]byte, bool, error) {
	if caseID == s.bad {
		return nil, false, errors.New("open record of " + caseID + ": damaged")
	}
	return bytes.TrimPrefix(sealed, []byte("S:")), false, nil
}

func (damagingSealer) LookupHash(v string) string { return "h" + v }

// One case whose record cannot be read does not stop the deadline job. Its scan
// returned the first error of any case, so one damaged case stopped every reminder,
// escalation and expiry of the desk, on every run (found in review).
func TestOneUnreadableCaseDoesNotStopTheDeadlines(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	bad, good := "TS-2026-000001", "TS-2026-000002"
	st.SetSealer(damagingSealer{bad: bad})
	putCase(t, st, pendingCase(bad, at(2026, 3, 9, 9, 0), at(2026, 3, 9, 10, 0)))
	putCase(t, st, pendingCase(good, at(2026, 3, 9, 9, 0), at(2026, 3, 9, 10, 0)))
	// Thursday 08:00: both are past their reminder time (Wednesday 23:59:59).
	s := newTestScheduler(t, st, &clock{t: at(2026, 3, 12, 8, 0)}, defaultPolicy(), nil)
	s.RunJob(JobDeadlines)
	if got := sent(t, st, good)["reminder"]; got != 1 {
		t.Errorf("case %s got %d reminders, want 1: case %s's unreadable record stopped the whole deadline job", good, got, bad)
	}
}
