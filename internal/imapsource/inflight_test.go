package imapsource

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What a killed process leaves is read by the next one, mapped or not: mails taken
// into a pipeline become suspects without a charge; a mail processed alone is charged
// its death; a mail whose attempt ended is forgotten.
func TestInflightChargesOnlyTheMailProcessedAlone(t *testing.T) {
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
		first.beginPipeline("INBOX", 7, 41)
		first.beginPipeline("INBOX", 7, 42)
		first.beginPipeline("收件箱/投诉", 7, 43)
		first.beginPipeline("INBOX", 7, 44)
		first.end("INBOX", 7, 44) // committed before the kill
		if d := first.beginIsolated("INBOX", 7, 45); d != 0 {
			t.Fatalf("mapped=%v: a fresh isolated mail has %d deaths", mapped, d)
		}

		again := openInflight(path, log) // as after a kill
		for _, c := range []struct {
			mbox    string
			uid     uint32
			suspect bool
			deaths  int
		}{
			{"INBOX", 41, true, 0},
			{"INBOX", 42, true, 0},
			{"收件箱/投诉", 43, true, 0},
			{"INBOX", 44, false, 0}, // its attempt ended
			{"INBOX", 45, true, 1},  // alone when the process died
		} {
			d, ok := again.suspect(c.mbox, 7, c.uid)
			if ok != c.suspect || d != c.deaths {
				t.Errorf("mapped=%v: uid %d: suspect %v with %d deaths, want %v with %d", mapped, c.uid, ok, d, c.suspect, c.deaths)
			}
		}
		if _, ok := again.suspect("INBOX", 8, 41); ok {
			t.Errorf("mapped=%v: a new UIDVALIDITY is a new mail", mapped)
		}
		// Dying alone again adds to the count; ending clears it.
		if d := again.beginIsolated("INBOX", 7, 45); d != 1 {
			t.Errorf("mapped=%v: isolated again: %d deaths, want 1", mapped, d)
		}
		third := openInflight(path, log)
		if d, _ := third.suspect("INBOX", 7, 45); d != 2 {
			t.Errorf("mapped=%v: after a second death alone: %d, want 2", mapped, d)
		}
		third.end("INBOX", 7, 45)
		if _, ok := openInflight(path, log).suspect("INBOX", 7, 45); ok {
			t.Errorf("mapped=%v: an ended attempt is still remembered", mapped)
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("mapped=%v: file mode %v (%v), want 0600", mapped, st.Mode().Perm(), err)
		}
	}
}

// Damage is ignored, not fatal; the earlier format's counts (every attempt begun,
// read-ahead included) prove nothing and give suspects without a charge; only the most
// recent mails are remembered; a key too long for the mapping wipes nothing.
func TestInflightToleratesDamageAndOldFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inflight")
	old := "garbage\x01x\nno separator\n\x01\x01\nINBOX\x1f1\x1f9\x016"
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	f := openInflight(path, slog.New(slog.DiscardHandler))
	if d, ok := f.suspect("INBOX", 1, 9); !ok || d != 0 {
		t.Errorf("old-format entry: suspect %v with %d deaths, want a suspect with 0", ok, d)
	}
	for uid := uint32(100); uid < 100+inflightKeep+5; uid++ {
		f.beginPipeline("INBOX", 1, uid)
	}
	long := strings.Repeat("x", inflightSize)
	f.beginIsolated(long, 1, 1)
	again := openInflight(path, slog.New(slog.DiscardHandler))
	if _, ok := again.suspect("INBOX", 1, 100+inflightKeep+4); !ok {
		t.Error("the most recent mail was forgotten")
	}
	if _, ok := again.suspect("INBOX", 1, 100); ok {
		t.Error("the oldest mail should have been forgotten")
	}
	if len(again.entries) != inflightKeep {
		t.Errorf("%d entries remembered, want %d", len(again.entries), inflightKeep)
	}
}
