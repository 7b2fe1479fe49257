package config

// This file defines what a caller gets back from a bad file: every problem at once,
// each a line that starts with its key path, in the order the file reads. Keeping the
// type and its ordering here lets load, decode and the checks share it without knowing
// about each other.

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Problem is one thing wrong with a configuration, named by its key path.
type Problem struct {
	// Path is the key path: imap.port, staff.addresses[2],
	// routing.departments[0].aliases.fin; empty when the file as a whole is unreadable.
	Path string
	// Msg says what is wrong and, where it helps, what would be right.
	Msg string
	// Line is where the file writes the key, or its nearest enclosing key; 0 when the
	// file writes neither (a required key left out of an absent section).
	Line int
}

// Error is "path: msg", so the line can be printed as it is.
func (p Problem) Error() string {
	if p.Path == "" {
		return p.Msg
	}
	return p.Path + ": " + p.Msg
}

// Problems is every problem found in one configuration, in file order. Load, Parse and
// Validate return it as their error; errors.As recovers it for callers that print or
// count the problems one by one.
type Problems []Problem

// Error has one problem per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// err returns ps as an error, nil when there are none: a nil Problems stored in an
// error interface would not compare equal to nil.
func (ps Problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// source is what the file itself wrote, for what the decoded values cannot tell: where
// each key is (to put problems in file order) and which numbers it set to 0 (the
// defaults replace a 0, so the checks would never see it).
type source struct {
	lines map[string]int  // key path → line of the key
	ends  map[string]int  // key path of a mapping → its last line
	zero  map[string]bool // key paths of numbers and durations written as 0
	// failed are the key paths whose value did not decode and kept its default.
	failed map[string]bool
}

func newSource() *source {
	return &source{lines: map[string]int{}, ends: map[string]int{}, zero: map[string]bool{}, failed: map[string]bool{}}
}

// written returns the nearest key at or above path that the file writes.
func (s *source) written(path string) (string, bool) {
	for p := path; p != ""; p = parent(p) {
		if _, ok := s.lines[p]; ok {
			return p, true
		}
	}
	return "", false
}

// lineOf returns the line of path, or of its nearest enclosing key the file writes.
func (s *source) lineOf(path string) int {
	if p, ok := s.written(path); ok {
		return s.lines[p]
	}
	return 0
}

// parent strips the last step of a key path: a.b[2].c → a.b[2] → a.b → a → "".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// sortKey is where a problem reads best: on the line the decoder found it, or on its
// key's line, or, for a key the file leaves out, after the last line of the section
// that should have it; then, on one line, after the keys written there.
func (s *source) sortKey(p Problem) (line, after int) {
	if p.Line > 0 {
		return p.Line, 0
	}
	w, ok := s.written(p.Path)
	switch {
	case !ok:
		return math.MaxInt, 1
	case w == p.Path:
		return s.lines[w], 0
	case s.ends[w] > 0:
		return s.ends[w], 1
	}
	return s.lines[w], 1
}

// ordered sorts problems in file order (see sortKey) and fills in their lines.
// Problems about sections the file does not write at all go last; the sort is stable,
// so problems in one place keep the order they were found in (decoding before checks,
// checks in section order).
func (s *source) ordered(ps Problems) Problems {
	type placed struct {
		p           Problem
		line, after int
	}
	all := make([]placed, len(ps))
	for i, p := range ps {
		line, after := s.sortKey(p)
		if p.Line == 0 {
			p.Line = s.lineOf(p.Path)
		}
		all[i] = placed{p, line, after}
	}
	slices.SortStableFunc(all, func(a, b placed) int {
		return cmp.Or(cmp.Compare(a.line, b.line), cmp.Compare(a.after, b.after))
	})
	for i := range all {
		ps[i] = all[i].p
	}
	return ps
}

// without drops the problems at or under a key whose value did not decode: the key
// kept its default, and a check of that default ("required", a range) would only
// repeat the decode problem in other words.
func (s *source) without(ps Problems) Problems {
	return slices.DeleteFunc(ps, func(p Problem) bool {
		for q := p.Path; q != ""; q = parent(q) {
			if s.failed[q] {
				return true
			}
		}
		return false
	})
}

// plural is "1 problem" or "n problems", for summaries.
func plural(n int) string {
	if n == 1 {
		return "1 problem"
	}
	return fmt.Sprintf("%d problems", n)
}
