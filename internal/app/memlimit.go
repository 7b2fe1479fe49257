package app

import (
	"log/slog"
	"runtime/debug"
)

// defaultMemoryLimit is the daemon's soft memory limit when GOMEMLIMIT does not set
// one. Its live heap is small (about 15 MB while it registers a backlog: the raw
// mails in hand are bounded to 16 MiB), but the collector lets the heap grow to
// twice the live size before it runs, and that headroom was most of the anonymous
// RSS: 60-68 MiB of a peak over 100 MiB at 10,000 mails (issue 18). With this
// limit the collector runs earlier once the heap nears it; the limit is soft, so a
// bigger live heap (an export of many cases) is never refused memory, and the
// runtime caps the collector at half the CPU.
const defaultMemoryLimit = 56 << 20

// applyMemoryLimit sets defaultMemoryLimit unless the environment set a limit
// (GOMEMLIMIT, which the runtime has applied already), and logs the limit in force.
func applyMemoryLimit(log *slog.Logger, lookupEnv func(string) (string, bool)) int64 {
	if v, ok := lookupEnv("GOMEMLIMIT"); ok && v != "" {
		limit := debug.SetMemoryLimit(-1)
		log.Info("memory limit", "bytes", limit, "from", "GOMEMLIMIT")
		return limit
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	log.Info("memory limit", "bytes", int64(defaultMemoryLimit), "from", "default (set GOMEMLIMIT to change it)")
	return defaultMemoryLimit
}
