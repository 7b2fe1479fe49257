package intake

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// The counts outlive the process: a second opening of the file (the restarted
// daemon) continues them, whether the first wrote through the mapping or not.
func TestInflightCountsSurviveReopen(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, mapped := range []bool{true, false} {
		path := filepath.Join(t.TempDir(), "inflight")
		first := openInflight(path, log)
		if !mapped {
			first.mem = nil
		}
		if first.mem == nil && mapped {
			t.Fatal("not mapped on a unix system")
		}
		for want := 1; want <= 3; want++ {
			if n := first.begin("INBOX", 7, 42); n != want {
				t.Fatalf("mapped=%v: count %d, want %d", mapped, n, want)
			}
		}
		first.begin("收件箱/投诉", 7, 43)
		again := openInflight(path, log) // as after a kill
		if n := again.begin("INBOX", 7, 42); n != 4 {
			t.Errorf("mapped=%v: after reopening, count %d, want 4", mapped, n)
		}
		if n := again.begin("收件箱/投诉", 7, 43); n != 2 {
			t.Errorf("mapped=%v: second mailbox count %d, want 2", mapped, n)
		}
		if n := again.begin("INBOX", 8, 42); n != 1 {
			t.Errorf("mapped=%v: a new UIDVALIDITY is a new mail, count %d", mapped, n)
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("mapped=%v: file mode %v (%v), want 0600", mapped, st.Mode().Perm(), err)
		}
	}
}

// Only the most recent mails are remembered, and damage is ignored, not fatal.
func TestInflightKeepsRecentAndToleratesDamage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inflight")
	if err := os.WriteFile(path, []byte("garbage\x01x\nno separator\n\x01\x01\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := openInflight(path, slog.New(slog.DiscardHandler))
	for uid := uint32(1); uid <= inflightKeep+5; uid++ {
		f.begin("INBOX", 1, uid)
	}
	if n := f.begin("INBOX", 1, inflightKeep+5); n != 2 {
		t.Errorf("recent mail count %d, want 2", n)
	}
	if n := f.begin("INBOX", 1, 1); n != 1 {
		t.Errorf("the oldest mail should have been forgotten, count %d", n)
	}
	long := string(make([]byte, inflightSize)) // a key that cannot fit
	if n := f.begin(long, 1, 1); n != 1 {
		t.Errorf("oversized key count %d", n)
	}
	if n := f.begin("INBOX", 1, inflightKeep+5); n != 3 {
		t.Errorf("an oversized key must not wipe the others: count %d, want 3", n)
	}
}
