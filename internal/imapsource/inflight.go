package imapsource

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
)

// inflight remembers which mails are in hand, in a file that survives a killed
// process; the kernel keeps it, no sync is needed (a crash of the machine is not a
// crash caused by a mail). It exists so that a mail that kills the process is
// quarantined instead of killing it forever, and so that nothing else is ever blamed:
//
//   - A mail is in hand from its fetch until its attempt ends (committed, failed,
//     quarantined, or abandoned because the connection broke or we are stopping). Only a
//     process death leaves it in the file.
//   - A mail left in the file from a pipeline (several in hand at once) is only a
//     suspect: any of them may have been the cause, or none (a kill from outside). It
//     is not charged. The next start processes each suspect alone, isolated.
//   - A mail left in the file from an isolated attempt is charged one death: it was the
//     only mail in hand. After enough such deaths it is quarantined.
//
// The file is mapped into memory where the platform allows: recording a mail is then a
// copy into the page cache, not a system call. Rewriting the file per mail used to
// block the reader of the IMAP connection while the file system committed its journal.
//
// The file holds one line per mail: key \x01 deaths \x01 mode, mode being 'p' (in a
// pipeline), 'i' (isolated) or 's' (a suspect carried over from an earlier death).
type inflight struct {
	path string
	mem  []byte // the shared mapping; nil: the file is rewritten instead

	mu      sync.Mutex
	entries map[string]inflightEntry
	order   []string // insertion order, to forget the oldest when full
}

type inflightEntry struct {
	deaths int
	mode   byte
}

const (
	modePipeline = 'p'
	modeIsolated = 'i'
	modeSuspect  = 's'
)

const (
	// inflightKeep must exceed the mails in hand at once (queued, being committed,
	// being read) plus the suspects of the last death, with room to spare: a mail
	// forgotten while still in hand would never be recognised as the one that killed us.
	inflightKeep   = 2 * (queueDepth + maxGroup + prepareWorkers)
	inflightSize   = 64 << 10 // bytes mapped: inflightKeep keys of maxInflightKey fit
	maxInflightKey = 800
)

func inflightKey(mbox string, validity, uid uint32) string {
	return fmt.Sprintf("%s\x1f%d\x1f%d", mbox, validity, uid)
}

// openInflight reads what the previous process left (every entry is now a suspect;
// isolated ones are charged their death) and writes that back.
func openInflight(path string, log *slog.Logger) *inflight {
	f := &inflight{path: path, entries: map[string]inflightEntry{}}
	if path == "" {
		return f
	}
	var old []byte
	mem, err := mapFile(path, inflightSize)
	if err != nil {
		log.Warn("attempt counter not mapped; rewriting the file per mail", "path", path, "err", err)
		old, _ = os.ReadFile(path)
	} else {
		f.mem = mem
		old = mem
		if i := bytes.IndexByte(old, 0); i >= 0 {
			old = old[:i]
		}
	}
	for line := range bytes.SplitSeq(old, []byte("\n")) {
		fields := bytes.Split(line, []byte("\x01"))
		if len(fields) < 2 || len(fields[0]) == 0 {
			continue // damage, or an empty file
		}
		deaths, err := strconv.Atoi(string(fields[1]))
		if err != nil || deaths < 0 {
			continue
		}
		if len(fields) == 2 {
			// The earlier format counted every attempt begun, read-ahead included: the
			// count proves nothing, the mail is only a suspect.
			deaths = 0
		} else if len(fields[2]) == 1 && fields[2][0] == modeIsolated {
			deaths++
		}
		key := string(fields[0])
		if _, dup := f.entries[key]; !dup {
			f.order = append(f.order, key)
		}
		f.entries[key] = inflightEntry{deaths: deaths, mode: modeSuspect}
	}
	f.mu.Lock()
	f.writeLocked()
	f.mu.Unlock()
	return f
}

// suspect reports whether the mail was in hand when an earlier process died, and how
// often it died while being processed alone.
func (f *inflight) suspect(mbox string, validity, uid uint32) (deaths int, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entries[inflightKey(mbox, validity, uid)]
	if !ok || e.mode != modeSuspect {
		return 0, false
	}
	return e.deaths, true
}

// beginPipeline records a mail taken into the pipeline (one of several in hand).
func (f *inflight) beginPipeline(mbox string, validity, uid uint32) {
	f.begin(inflightKey(mbox, validity, uid), modePipeline)
}

// beginIsolated records a mail processed alone and returns how often it died that
// way before.
func (f *inflight) beginIsolated(mbox string, validity, uid uint32) (deaths int) {
	return f.begin(inflightKey(mbox, validity, uid), modeIsolated)
}

func (f *inflight) begin(key string, mode byte) int {
	if f.path == "" || len(key) > maxInflightKey {
		return 0 // not recorded: absurdly long mailbox names would not fit the mapping
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entries[key]
	if !ok {
		f.order = append(f.order, key)
	}
	e.mode = mode
	f.entries[key] = e
	f.writeLocked()
	return e.deaths
}

// end forgets a mail whose attempt ended while the process lives, whatever the result.
func (f *inflight) end(mbox string, validity, uid uint32) {
	if f.path == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := inflightKey(mbox, validity, uid)
	if _, ok := f.entries[key]; !ok {
		return
	}
	delete(f.entries, key)
	f.writeLocked()
}

// writeLocked writes the entries in their order, forgetting the oldest beyond
// inflightKeep (and beyond what the mapping holds).
func (f *inflight) writeLocked() {
	f.order = slices.DeleteFunc(f.order, func(k string) bool { _, ok := f.entries[k]; return !ok })
	for len(f.order) > inflightKeep {
		delete(f.entries, f.order[0])
		f.order = f.order[1:]
	}
	var out []byte
	for _, k := range f.order {
		if len(out) > 0 {
			out = append(out, '\n')
		}
		out = append(out, k...)
		out = append(out, 1)
		out = strconv.AppendInt(out, int64(f.entries[k].deaths), 10)
		out = append(out, 1, f.entries[k].mode)
	}
	if f.mem == nil {
		os.WriteFile(f.path, out, 0o600)
		return
	}
	// The terminator first, then the text: a process killed in between leaves a
	// shorter, still readable list, not stale bytes after the end.
	f.mem[len(out)] = 0
	copy(f.mem, out)
	clear(f.mem[len(out)+1:])
}
