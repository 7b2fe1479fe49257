// SPDX-License-Identifier: MIT

package clock

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The file's time is what Now says; a rewrite is seen after a real second (not
// before), a broken rewrite keeps the last good time and says why, and a bad first
// reading refuses to start.
func TestFileClock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "now")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("2026-12-04T10:00:00+08:00\nignored\n")
	f, err := NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	real := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f.real = func() time.Time { return real }
	f.readAt = real
	want := time.Date(2026, 12, 4, 10, 0, 0, 0, time.FixedZone("", 8*3600))
	if got := f.Now(); !got.Equal(want) {
		t.Fatalf("now %v, want %v", got, want)
	}
	write("2026-12-05T09:00:00+08:00")
	if got := f.Now(); !got.Equal(want) {
		t.Errorf("re-read before a real second passed: %v", got)
	}
	real = real.Add(time.Second)
	if got := f.Now(); !got.Equal(want.Add(23 * time.Hour)) {
		t.Errorf("after a second: %v, want the new time", got)
	}
	write("tomorrow")
	real = real.Add(time.Second)
	if got := f.Now(); !got.Equal(want.Add(23*time.Hour)) || f.Err() == nil || !strings.Contains(f.Err().Error(), "RFC 3339") {
		t.Errorf("a broken file: now %v, err %v; want the last good time and the reason", got, f.Err())
	}
	if _, err := NewFile(path); err == nil {
		t.Error("a clock file that cannot be read was accepted at start")
	}
	if c, sim, err := FromEnv(func(string) string { return "" }); err != nil || sim {
		t.Errorf("no variable: %T simulated %v err %v", c, sim, err)
	}
}

// The test knob: with COMPLAINTD_TEST_CLOCK_UNCACHED=1 a rewrite is seen at once,
// without a real second passing; any other value keeps the once-a-second reading.
func TestFileClockUncached(t *testing.T) {
	path := filepath.Join(t.TempDir(), "now")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("2026-12-04T10:00:00+08:00")
	want := time.Date(2026, 12, 4, 10, 0, 0, 0, time.FixedZone("", 8*3600))
	for _, tc := range []struct {
		knob   string
		reread bool
	}{{"1", true}, {"", false}, {"yes", false}} {
		write("2026-12-04T10:00:00+08:00")
		env := map[string]string{EnvFile: path, EnvUncached: tc.knob}
		c, sim, err := FromEnv(func(k string) string { return env[k] })
		if err != nil || !sim {
			t.Fatalf("knob %q: simulated %v err %v", tc.knob, sim, err)
		}
		f := c.(*File)
		real := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		f.real = func() time.Time { return real } // real time stands still
		f.readAt = real
		write("2026-12-05T09:00:00+08:00")
		got := f.Now()
		if tc.reread && !got.Equal(want.Add(23*time.Hour)) {
			t.Errorf("knob %q: now %v right after the rewrite, want the new time", tc.knob, got)
		}
		if !tc.reread && !got.Equal(want) {
			t.Errorf("knob %q: now %v, re-read before a real second passed", tc.knob, got)
		}
	}
}
