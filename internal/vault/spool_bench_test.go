//go:build linux

package vault

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkSpoolMail is the attachments' share of a backlog's intake: each op spools
// one mail's attachment of 1 MiB (about what a mail of the issue 18 backlog carries),
// keeps it in a case of its own and releases it, with a Flush per group of 64 mails
// as the committer does. Besides time per op it reports the CPU the process spent and
// the CPU the whole machine spent (the kernel's writeback threads included), in ms per
// mail. A change in how packs are written is judged by both: written with O_DIRECT
// they cost the machine 1.05-1.25 ms against 1.50-1.62 through the page cache, and
// yet a backlog's rate did not rise (issue 18, session 14).
//
//	go test -run '^$' -bench SpoolMail -benchtime 2000x -count 3 ./internal/vault/
//
// The file system keeps the inodes freed in the last minute from reuse, which makes
// creating files dearer: wait a minute between runs, as .ci/bench does.
func BenchmarkSpoolMail(b *testing.B) {
	content := make([]byte, 1<<20)
	for i := range content {
		content[i] = byte(i*7 + i>>11)
	}
	v, err := Open(b.TempDir(), testKey())
	if err != nil {
		b.Fatal(err)
	}
	var group []string
	commit := func() {
		if err := v.Flush(); err != nil {
			b.Fatal(err)
		}
		for _, id := range group {
			v.Release(id)
		}
		group = group[:0]
	}
	procBefore, machineBefore := cpuTimes(b)
	b.SetBytes(int64(len(content)))
	b.ResetTimer()
	for i := range b.N {
		s := v.NewSpool()
		f, err := s.Create()
		if err != nil {
			b.Fatal(err)
		}
		for p := content; len(p) > 0; p = p[min(len(p), 32<<10):] {
			if _, err := f.Write(p[:min(len(p), 32<<10)]); err != nil {
				b.Fatal(err)
			}
		}
		id, err := f.Commit()
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if _, err := v.Keep(fmt.Sprintf("TS-2026-%06d", i+1), ClassGeneral, id); err != nil {
			b.Fatal(err)
		}
		if group = append(group, id); len(group) == 64 {
			commit()
		}
	}
	commit()
	v.Idle()
	b.StopTimer()
	procAfter, machineAfter := cpuTimes(b)
	b.ReportMetric(float64((procAfter-procBefore).Microseconds())/1000/float64(b.N), "proc-cpu-ms/op")
	b.ReportMetric(float64((machineAfter-machineBefore).Microseconds())/1000/float64(b.N), "machine-cpu-ms/op")
}

// cpuTimes gives the CPU time of this process and of the whole machine (every
// non-idle state of /proc/stat's first line; the kernel's clock ticks are 100 Hz).
func cpuTimes(b *testing.B) (proc, machine time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	proc = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		b.Skip("no /proc/stat")
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	fields := strings.Fields(line)
	var ticks int64
	for i, f := range fields[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(f, 10, 64)
		ticks += n
	}
	return proc, time.Duration(ticks) * 10 * time.Millisecond
}
