// SPDX-License-Identifier: MIT

// Package clock is the one source of "now" for the whole daemon and its CLI. In
// production it is the system clock. For drills and black-box tests, the environment
// variable COMPLAINTD_CLOCK_FILE names a file whose first line (RFC 3339, e.g.
// 2026-12-04T10:00:00+08:00) is the time: moving it forward makes deadlines,
// reminders, digests and retention come due as they would in real time.
//
// Invariants:
//   - The file is re-read at most once a second (real time), so a test or an operator
//     moves time by rewriting one line; a missing or malformed file keeps the last good
//     time (and says why through Err) rather than jumping back to the system clock.
//     For black-box tests only, COMPLAINTD_TEST_CLOCK_UNCACHED=1 beside it re-reads the
//     file at every reading, so that the mail a test sends right after moving the clock
//     is processed at the new time (no real second to wait out).
//   - Simulated time never runs by itself: between rewrites it stands still. Waiting
//     for a real second changes nothing, which keeps drills repeatable.
package clock

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// EnvFile is the environment variable naming the clock file.
const EnvFile = "COMPLAINTD_CLOCK_FILE"

// EnvUncached is the test knob: "1" makes the file clock re-read its file at every
// reading instead of at most once a real second. It costs a file read per reading of
// the clock; it is for the end-to-end tests, not for drills.
const EnvUncached = "COMPLAINTD_TEST_CLOCK_UNCACHED"

// Clock gives the time.
type Clock interface {
	Now() time.Time
}

// System is the real clock.
type System struct{}

// Now is time.Now.
func (System) Now() time.Time { return time.Now() }

// File is a simulated clock read from a file.
type File struct {
	path  string
	real  func() time.Time // when to re-read; the system clock
	every time.Duration    // re-read when this much real time has passed; 0: always

	mu     sync.Mutex
	readAt time.Time
	now    time.Time
	err    error
}

// NewFile reads path once; it fails when the first reading fails, so that a drill
// never starts on the wrong time.
func NewFile(path string) (*File, error) {
	f := &File{path: path, real: time.Now, every: time.Second}
	t, err := readFile(path)
	if err != nil {
		return nil, err
	}
	f.now, f.readAt = t, f.real()
	return f, nil
}

// FromEnv is the simulated clock when getenv(EnvFile) names a file, else the system
// clock. simulated says which, for the warning the daemon logs at start. getenv(EnvUncached)
// "1" makes the simulated clock re-read its file at every reading.
func FromEnv(getenv func(string) string) (c Clock, simulated bool, err error) {
	path := getenv(EnvFile)
	if path == "" {
		return System{}, false, nil
	}
	f, err := NewFile(path)
	if err != nil {
		return nil, true, err
	}
	if getenv(EnvUncached) == "1" {
		f.every = 0
	}
	return f, true, nil
}

// Now is the file's time, re-read when a real second has passed since the last read
// (at every call with EnvUncached).
func (f *File) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.real(); r.Sub(f.readAt) >= f.every || r.Before(f.readAt) {
		f.readAt = r
		if t, err := readFile(f.path); err != nil {
			f.err = err
		} else {
			f.now, f.err = t, nil
		}
	}
	return f.now
}

// Err is the last reading's problem, nil when it was read.
func (f *File) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Path is the file's name.
func (f *File) Path() string { return f.path }

func readFile(path string) (time.Time, error) {
	fh, err := os.Open(path)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", EnvFile, err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	if !sc.Scan() {
		return time.Time{}, fmt.Errorf("%s %s: empty (want an RFC 3339 time on the first line)", EnvFile, path)
	}
	line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\uFEFF"))
	t, err := time.Parse(time.RFC3339, line)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %s: first line %q is not an RFC 3339 time (like 2026-12-04T10:00:00+08:00)", EnvFile, path, line)
	}
	return t, nil
}
