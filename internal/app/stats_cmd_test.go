package app

import (
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, loc)
	for in, want := range map[string]time.Time{"2026-03-01": time.Date(2026, 3, 1, 0, 0, 0, 0, loc), "30d": now.AddDate(0, 0, -30),
		"2w": now.AddDate(0, 0, -14), "36h": now.Add(-36 * time.Hour)} {
		got, err := parseSince(in, now, loc)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseSince("yesterday", now, loc); err == nil {
		t.Error("want an error for an unknown form")
	}
}
