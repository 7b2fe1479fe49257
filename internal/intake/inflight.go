package intake

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strconv"
)

// inflight counts how often processing of the mails in hand began, in a file that
// survives a killed process; the kernel keeps it, no sync is needed (a crash of the
// machine is not a crash caused by a mail). A few mails are in hand at once (the
// pipeline); the file remembers the most recent ones.
//
// The file is mapped into memory where the platform allows: counting a mail is then a
// copy into the page cache, not a system call. Rewriting the file per mail used to
// block the reader of the IMAP connection while the file system committed its journal
// (about one sixth of its time in the ingest benchmark).
type inflight struct {
	path string
	mem  []byte // the shared mapping; nil: the file is rewritten instead
}

const (
	// inflightKeep must exceed the mails in hand at once (queued, being committed,
	// being read), with room to spare: a mail forgotten while still in hand would
	// never be counted as the one that killed us.
	inflightKeep = 2 * (queueDepth + maxGroup + prepareWorkers)
	inflightSize = 64 << 10 // bytes mapped: inflightKeep keys with long mailbox names fit
)

func openInflight(path string, log *slog.Logger) *inflight {
	f := &inflight{path: path}
	if path == "" {
		return f
	}
	mem, err := mapFile(path, inflightSize)
	if err != nil {
		log.Warn("attempt counter not mapped; rewriting the file per mail", "path", path, "err", err)
		return f
	}
	f.mem = mem
	return f
}

// begin records one more start for (mailbox, validity, uid) and returns the count.
func (f *inflight) begin(mbox string, validity, uid uint32) int {
	if f.path == "" {
		return 1
	}
	key := fmt.Sprintf("%s\x1f%d\x1f%d", mbox, validity, uid)
	var old []byte
	if f.mem != nil {
		old = f.mem
		if i := bytes.IndexByte(old, 0); i >= 0 {
			old = old[:i]
		}
	} else if b, err := os.ReadFile(f.path); err == nil {
		old = b
	}
	n := 1
	var keep [][]byte
	for line := range bytes.SplitSeq(old, []byte("\n")) {
		k, count, ok := bytes.Cut(line, []byte("\x01"))
		if !ok {
			continue
		}
		if string(k) == key {
			if c, err := strconv.Atoi(string(count)); err == nil {
				n = c + 1
			}
			continue
		}
		keep = append(keep, line)
	}
	keep = append(keep, []byte(key+"\x01"+strconv.Itoa(n)))
	if len(keep) > inflightKeep {
		keep = keep[len(keep)-inflightKeep:]
	}
	out := bytes.Join(keep, []byte("\n"))
	if f.mem == nil {
		os.WriteFile(f.path, out, 0o600)
		return n
	}
	for len(out) >= len(f.mem) && len(keep) > 1 { // absurdly long mailbox names
		keep = keep[1:]
		out = bytes.Join(keep, []byte("\n"))
	}
	if len(out) >= len(f.mem) {
		return n // one key longer than the file: not counted
	}
	// The terminator first, then the text: a process killed in between leaves a
	// shorter, still readable list, not stale bytes after the end.
	f.mem[len(out)] = 0
	copy(f.mem, out)
	clear(f.mem[len(out)+1:])
	return n
}
