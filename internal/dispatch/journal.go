package dispatch

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"hash/fnv"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/outbox"
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
// Each record names its entry by sequence number and by a hash of the reply as it
// was sent (Message-ID and rendered mail), checked against the store at the start:
// a journal left beside a store restored from a backup, whose numbers went to other
// replies since, marks nothing, and neither does the record of a digest that intake
// has since rewritten with more cases (that version is sent). A recipient who took a
// reply in a transaction of their own (Dispatcher.sendEach) has a record of their
// own (recipientHash): the next start takes them out of the reply's recipients.
type journal struct {
	path string
	log  *slog.Logger

	mu   sync.Mutex
	f    *os.File // nil: no journal (no path, or the file could not be read)
	size int64    // the end of the last whole record
	open map[journalKey]bool
}

// journalKey tells one record from another: the same number can be in the file
// twice (a reply of a store since restored, a digest rewritten after a failure).
type journalKey struct {
	seq  uint64
	hash uint64
}

// journalRecord is one accepted reply: version (1), three zero bytes, the entry's
// sequence number, the time of acceptance (Unix ns), the attempts counted with it,
// replyHash, and the CRC-32 (IEEE) of all that.
const (
	journalRecordSize = 36
	journalVersion    = 1
)

type accepted struct {
	seq      uint64
	at       time.Time
	attempts int
	hash     uint64 // replyHash
}

func (a accepted) key() journalKey { return journalKey{a.seq, a.hash} }

// replyHash is the FNV-64a hash of the entry's Message-ID and stored mail.
func replyHash(e *store.OutboxEntry) uint64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, e.MessageID)
	_, _ = h.Write([]byte{0})
	_, _ = h.Write(e.Mail)
	return h.Sum64()
}

// recipientHash names, in a journal record, one recipient who took the reply whose
// replyHash is reply in a transaction of their own (Dispatcher.sendEach).
func recipientHash(reply uint64, address string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], reply)
	_, _ = h.Write(b[:])
	_, _ = h.Write([]byte{1})
	_, _ = io.WriteString(h, strings.ToLower(address))
	return h.Sum64()
}

// journalKeys lists the records that outs, just written to the store, settle: those
// of sent replies, and of the recipients who took a reply alone (written with the
// entry rewritten without them). A failed attempt has no record, and its number may
// already be in the file again, for a retry accepted since.
func journalKeys(outs []*outcome) []journalKey {
	var keys []journalKey
	for _, o := range outs {
		if o.e.State == store.OutboxSent && o.sendErr == nil {
			keys = append(keys, o.key)
		}
		keys = append(keys, o.took...)
	}
	return keys
}

func (a accepted) encode() []byte {
	b := make([]byte, journalRecordSize)
	b[0] = journalVersion
	binary.BigEndian.PutUint64(b[4:], a.seq)
	binary.BigEndian.PutUint64(b[12:], uint64(a.at.UnixNano()))
	binary.BigEndian.PutUint32(b[20:], uint32(a.attempts))
	binary.BigEndian.PutUint64(b[24:], a.hash)
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
		hash:     binary.BigEndian.Uint64(b[24:]),
	}, true
}

// openJournal opens (or creates, 0600) the journal at path and returns what an
// earlier process left in it. A damaged record (bit rot) is passed over, a torn one
// at the end (a power loss in the middle of an append) is cut. A journal that cannot
// be opened or read is logged, left as it is, and the dispatcher goes on without
// one: a crash then sends again what it sent last, as before the journal.
func openJournal(path string, log *slog.Logger) (*journal, []accepted) {
	j := &journal{path: path, log: log, open: map[journalKey]bool{}}
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
		log.Error("outbox journal not read: the replies accepted before the last stop may go out again; going on without the journal", "path", path, "err", err)
		_ = f.Close()
		return j, nil
	}
	var left []accepted
	damaged := 0
	whole := len(raw) / journalRecordSize * journalRecordSize
	for off := 0; off < whole; off += journalRecordSize {
		a, ok := decodeAccepted(raw[off : off+journalRecordSize])
		if !ok {
			damaged++
			continue
		}
		left = append(left, a)
		j.open[a.key()] = true
	}
	if damaged > 0 {
		log.Warn("outbox journal: damaged records passed over", "path", path, "damaged", damaged, "read", len(left))
	}
	j.f, j.size = f, int64(whole)
	if whole != len(raw) {
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

// add appends an accepted reply. One that cannot be written is logged: the reply then
// goes out again if the process dies before its result is recorded, as before the
// journal.
func (j *journal) add(a accepted) {
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return
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
		return
	}
	j.size += int64(n)
	j.open[a.key()] = true
}

// recorded says the store wrote what the records keys stood for; once no reply in
// the journal waits for the store, the file is emptied.
func (j *journal) recorded(keys []journalKey) {
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.open) == 0 {
		return
	}
	for _, k := range keys {
		delete(j.open, k)
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
// or now holds another reply (a store restored from a backup, a digest rewritten)
// is passed over. An entry that cannot be read stays in flight, unsent, for this
// process's life, and its record for the next start. The recipients who took a
// reply alone (sendEach) are taken out of it; with none left it is sent.
func (d *Dispatcher) replay(left []accepted, rec *recorder) {
	if len(left) == 0 {
		return
	}
	var outs []*outcome
	var skipped []journalKey
	var held []uint64
	var seqs []uint64
	bySeq := map[uint64][]accepted{}
	seen := map[journalKey]bool{}
	for _, a := range left {
		if seen[a.key()] {
			continue
		}
		seen[a.key()] = true
		if bySeq[a.seq] == nil {
			seqs = append(seqs, a.seq)
		}
		bySeq[a.seq] = append(bySeq[a.seq], a)
	}
	d.o.Store.View(func(tx *store.Tx) error {
		for _, seq := range seqs {
			recs := bySeq[seq]
			e, err := tx.OutboxEntry(seq)
			switch {
			case errors.Is(err, store.ErrNotFound):
				for _, a := range recs {
					skipped = append(skipped, a.key())
				}
				continue
			case err != nil:
				d.o.Logger.Error("outbox journal: entry not read; it is not sent again before a restart", "seq", seq, "err", err)
				held = append(held, seq)
				continue
			}
			if o := replayed(e, recs, &skipped); o != nil {
				outs = append(outs, o)
			}
		}
		return nil
	})
	d.journal.recorded(skipped)
	d.mu.Lock()
	for _, seq := range held {
		d.inflight[seq] = true
	}
	for _, o := range outs {
		d.inflight[o.e.Seq] = true
	}
	d.mu.Unlock()
	for _, o := range outs {
		if o.e.State == store.OutboxSent {
			d.o.Logger.Info("reply sent before the restart, recorded from the outbox journal", "case", o.e.Case, "message_id", o.e.MessageID, "sent_at", o.e.SentAt)
		} else {
			d.o.Logger.Info("reply sent to some of its recipients before the restart, recorded from the outbox journal: the others get it", "case", o.e.Case, "message_id", o.e.MessageID, "took", len(o.took))
		}
		rec.add(o)
	}
}

// replayed is the outcome the journal records recs of pending entry e stand for:
// sent, when the relay took it whole or every recipient took it alone; rewritten
// for the recipients left, when some took it alone; nil, with the records skipped,
// when they are of another reply (a store restored, a digest rewritten).
func replayed(e *store.OutboxEntry, recs []accepted, skipped *[]journalKey) *outcome {
	if e.State != store.OutboxPending {
		for _, a := range recs {
			*skipped = append(*skipped, a.key())
		}
		return nil
	}
	full := replyHash(e)
	var m outbox.Mail
	if err := json.Unmarshal(e.Mail, &m); err != nil {
		m = outbox.Mail{} // no recipient to match: only a whole record counts
	}
	byHash := map[uint64]string{}
	for _, to := range m.To {
		byHash[recipientHash(full, to.Address)] = strings.ToLower(to.Address)
	}
	var whole *accepted
	took := map[string]bool{}
	var keys []journalKey
	last := accepted{}
	for i, a := range recs {
		switch addr, ok := byHash[a.hash]; {
		case a.hash == full:
			whole = &recs[i]
		case ok:
			took[addr] = true
			keys = append(keys, a.key())
			if a.at.After(last.at) {
				last = a
			}
		default:
			*skipped = append(*skipped, a.key())
		}
	}
	if whole == nil && len(took) == 0 {
		return nil
	}
	var rest []outbox.Address
	for _, to := range m.To {
		if !took[strings.ToLower(to.Address)] {
			rest = append(rest, to)
		}
	}
	o := &outcome{e: e, took: keys}
	switch {
	case whole == nil && len(rest) > 0:
		if err := keepRecipients(e, rest); err != nil {
			*skipped = append(*skipped, keys...)
			return nil
		}
		return o
	case whole == nil:
		whole = &last
	}
	e.State, e.SentAt, e.LastError, e.Attempts = store.OutboxSent, whole.at, "", max(e.Attempts, whole.attempts)
	if e.Case == "" {
		e.Mail = headersOnly(e.Mail) // as try does for a sent mail of no case
	}
	o.key, o.event = whole.key(), &cases.Event{At: whole.at, Type: cases.EventReplySent, Actor: "desk", Note: e.Kind}
	return o
}
