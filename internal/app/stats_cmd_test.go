package app

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"strings"
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

// `complaintd version` says what was built: the module version, the VCS revision
// when Go stamped one, and the Go release — never the placeholder "dev".
func TestVersionFromBuildInfo(t *testing.T) {
	var out bytes.Buffer
	if code := Main(context.Background(), []string{"version"}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got := out.String(); !strings.Contains(got, runtime.Version()) || strings.Contains(got, " dev\n") {
		t.Errorf("version %q", got)
	}
}

// A filter that can match nothing is refused with the values it may take, instead of
// an empty list.
func TestCaseFilterRefusesUnknownValues(t *testing.T) {
	for _, f := range []caseFilter{{state: "acepted"}, {severity: "urgent"}} {
		if err := f.check(); err == nil {
			t.Errorf("%+v accepted", f)
		}
	}
	if err := (caseFilter{state: "accepted", severity: "major", dept: "财经"}).check(); err != nil {
		t.Errorf("valid filter refused: %v", err)
	}
}
