package dispatch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/store"
)

// journal is the file of replies the relay accepted whose result the store has not
// written yet (Options.Journal). A worker appends the reply the moment the server
// answers 250, before the result waits for the store's one writer, which intake's
// group commits hold for long stretches during a backlog. A process that dies
// (SIGKILL, the OOM killer, a panic) leaves the file behind, and the next start
// records those replies as sent instead of sending them again: without it, every
// reply accepted but not yet recorded went out twice after a crash (17 to 36 in
// each run of the crash test, 300 mails and about 20 kills).
//
// An append is a write(2) and no sync: what is written survives the death of the
// process, which is what restarts follow, at no cost per reply. After a power loss
// the last appends may be gone, and those replies go out again, as they did before
// the journal. The file is emptied whenever every reply in it is recorded.
//
// Each record names its entry by sequence number and by a hash of the reply's
// Message-ID, checked against the store at the start: a journal left beside a store
// restored from a backup, whose numbers went to other replies since, marks nothing.
type journal struct {
	path string
	log  *slog.Logger

	mu   sync.Mutex
	f    *os.File // nil: no journal (no path, or the file could not be opened)
	size int64    // the end of the last whole record
	open map[uint64]bool
}

// journalRecord is one accepted reply: version (1), three zero bytes, the entry's
// sequence number, the time of acceptance (Unix ns), the attempts counted with it,
// the FNV-64a hash of its Message-ID, and the CRC-32 (IEEE) of all that.
const (
	journalRecordSize = 36
	journalVersion    = 1
)

type accepted struct {
	seq      uint64
	at       time.Time
	attempts int
	idHash   uint64
}

func messageIDHash(id string) uint64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, id)
	return h.Sum64()
}

func (a accepted) encode() []byte {
	b := make([]byte, journalRecordSize)
	b[0] = journalVersion
	binary.BigEndian.PutUint64(b[4:], a.seq)
	binary.BigEndian.PutUint64(b[12:], uint64(a.at.UnixNano()))
	binary.BigEndian.PutUint32(b[20:], uint32(a.attempts))
	binary.BigEndian.PutUint64(b[24:], a.idHash)
	binary.BigEndian.PutUint32(b[32:], crc32.ChecksumIEEE(b[:32]))
	return b
}

func decodeAccepted(b []byte) (accepted, bool) {
	if len(b) != journalRecordSize || b[0] != journalVersion || crc32.ChecksumIEEE(b[:32]) != binary.BigEndian.Uint32(b[32:]) {
		return accepted{}, false
	}
	return accepted{
		seq:      binary.BigEndian.Uint64(b[4:]),
		at:       time.Unix(0, int64(binary.BigEndian.Uint64(b[12:]))),
		attempts: int(binary.BigEndian.Uint32(b[20:])),
		idHash:   binary.BigEndian.Uint64(b[24:]),
	}, true
}

// openJournal opens (or creates, 0600) the journal at path and returns what an
// earlier process left in it, up to the first damaged record (a write cut by a
// power loss). A journal that cannot be opened is logged and the dispatcher goes on
// without one: a crash then sends again what it sent last, as before.
func openJournal(path string, log *slog.Logger) (*journal, []accepted) {
	j := &journal{path: path, log: log, open: map[uint64]bool{}}
	if path == "" {
		return j, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		log.Error("outbox journal not opened: a crash may send the last replies again", "path", path, "err", err)
		return j, nil
	}
	raw, err := io.ReadAll(f)
	if err != nil {
		log.Error("outbox journal not read: the replies accepted before the last stop may go out again", "path", path, "err", err)
	}
	var left []accepted
	for len(raw) >= journalRecordSize {
		a, ok := decodeAccepted(raw[:journalRecordSize])
		if !ok {
			log.Warn("outbox journal damaged: the rest of it is ignored", "path", path, "records_read", len(left))
			break
		}
		left = append(left, a)
		raw = raw[journalRecordSize:]
	}
	j.f, j.size = f, int64(len(left))*journalRecordSize
	for _, a := range left {
		j.open[a.seq] = true
	}
	if j.dirty() {
		// Appends go to the end of the file: a torn record left there would hide
		// them from the next start.
		if err := f.Truncate(j.size); err != nil {
			log.Error("outbox journal: torn record not cut; going on without the journal", "path", path, "err", err)
			_ = f.Close()
			j.f = nil
		}
	}
	return j, left
}

// add appends an accepted reply; false when it could not be written (the reply then
// goes out again if the process dies before its result is recorded).
func (j *journal) add(a accepted) bool {
	if j == nil {
		return false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return false
	}
	n, err := j.f.Write(a.encode())
	if err != nil {
		j.log.Error("outbox journal append", "path", j.path, "err", err)
		if n > 0 {
			// A torn record would hide every later one from the next start.
			if terr := j.f.Truncate(j.size); terr != nil {
				j.log.Error("outbox journal: torn record not cut", "path", j.path, "err", terr)
			}
		}
		return false
	}
	j.size += int64(n)
	j.open[a.seq] = true
	return true
}

// recorded says the store wrote the results of seqs; once no reply in the journal
// waits for the store, the file is emptied.
func (j *journal) recorded(seqs []uint64) {
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.open) == 0 {
		return
	}
	for _, s := range seqs {
		delete(j.open, s)
	}
	if len(j.open) == 0 {
		j.truncateLocked()
	}
}

func (j *journal) truncateLocked() {
	if j.f == nil || j.size == 0 {
		return
	}
	if err := j.f.Truncate(0); err != nil {
		// Harmless: the records are all in the store, and marking them again is a
		// no-op; the file only grows.
		j.log.Warn("outbox journal not emptied", "path", j.path, "err", err)
		return
	}
	j.size = 0
}

// dirty reports whether the file holds bytes beyond its whole records (a torn
// record left by an earlier process).
func (j *journal) dirty() bool {
	fi, err := j.f.Stat()
	return err == nil && fi.Size() != j.size
}

func (j *journal) close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f != nil {
		if err := j.f.Close(); err != nil && !errors.Is(err, fs.ErrClosed) {
			j.log.Warn("outbox journal close", "path", j.path, "err", err)
		}
		j.f = nil
	}
}

// replay hands the recorder, as sent, the replies an earlier process noted in the
// journal and died before recording; they stay in flight, so no pass sends them,
// until the recorder wrote them. A record whose entry is gone, no longer pending,
// or now holds another reply (a store restored from a backup) is passed over.
func (d *Dispatcher) replay(left []accepted, rec *recorder) {
	if len(left) == 0 {
		return
	}
	var outs []*outcome
	var skipped []uint64
	err := d.o.Store.View(func(tx *store.Tx) error {
		for _, a := range left {
			e, err := tx.OutboxEntry(a.seq)
			switch {
			case errors.Is(err, store.ErrNotFound):
				skipped = append(skipped, a.seq)
				continue
			case err != nil:
				return fmt.Errorf("outbox entry %d: %w", a.seq, err)
			}
			if e.State != store.OutboxPending || messageIDHash(e.MessageID) != a.idHash {
				skipped = append(skipped, a.seq)
				continue
			}
			e.State, e.SentAt, e.LastError, e.Attempts = store.OutboxSent, a.at, "", max(e.Attempts, a.attempts)
			outs = append(outs, &outcome{e: e, event: &cases.Event{At: a.at, Type: cases.EventReplySent, Actor: "desk", Note: e.Kind}})
		}
		return nil
	})
	if err != nil {
		// Not marked: these replies go out again, as they would without the journal.
		d.o.Logger.Error("outbox journal not replayed: the replies accepted before the restart may go out again", "replies", len(left), "err", err)
		d.journal.recorded(seqsOf(left))
		return
	}
	d.journal.recorded(skipped)
	d.mu.Lock()
	for _, o := range outs {
		d.inflight[o.e.Seq] = true
	}
	d.mu.Unlock()
	for _, o := range outs {
		d.o.Logger.Info("reply sent before the restart, recorded from the outbox journal", "case", o.e.Case, "message_id", o.e.MessageID, "sent_at", o.e.SentAt)
		rec.add(o)
	}
}

func seqsOf(as []accepted) []uint64 {
	seqs := make([]uint64, len(as))
	for i, a := range as {
		seqs[i] = a.seq
	}
	return seqs
}
