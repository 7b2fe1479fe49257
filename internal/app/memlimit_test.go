package app

import (
	"bytes"
	"log/slog"
	"runtime/debug"
	"strings"
	"testing"
)

// The daemon sets its soft memory limit unless GOMEMLIMIT set one, and says which.
func TestMemoryLimit(t *testing.T) {
	was := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(was) })
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	noEnv := func(string) (string, bool) { return "", false }
	if got := applyMemoryLimit(log, noEnv); got != defaultMemoryLimit || debug.SetMemoryLimit(-1) != defaultMemoryLimit {
		t.Errorf("without GOMEMLIMIT: limit %d (runtime %d), want %d", got, debug.SetMemoryLimit(-1), defaultMemoryLimit)
	}

	debug.SetMemoryLimit(200 << 20) // what the runtime took from GOMEMLIMIT=200MiB at start
	env := func(k string) (string, bool) { return "200MiB", k == "GOMEMLIMIT" }
	if got := applyMemoryLimit(log, env); got != 200<<20 || debug.SetMemoryLimit(-1) != 200<<20 {
		t.Errorf("with GOMEMLIMIT=200MiB: limit %d (runtime %d), want it kept", got, debug.SetMemoryLimit(-1))
	}
	if !strings.Contains(logs.String(), "from=GOMEMLIMIT") || !strings.Contains(logs.String(), "bytes=58720256") {
		t.Errorf("the limits in force are not logged with their source:\n%s", logs.String())
	}
}
