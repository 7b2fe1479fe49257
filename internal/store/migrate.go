// SPDX-License-Identifier: MIT

package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Schema versions of the file. The version lives in the meta bucket; a file without
// one is version 1.
const (
	// schemaClear: everything in clear (versions before personal data was sealed).
	schemaClear = 1
	// schemaSealed: personal information sealed with the cases' keys, look-up keys
	// hashed (seal.go).
	schemaSealed = 2
	// schemaFacts: each case's anonymous facts kept beside it (facts.go).
	schemaFacts = 3
	// schemaClockFacts: the facts' timeline knows when the deadline running now
	// started and which completion the first decision answered (facts record version
	// 2), so that stats judge a case under review again after an appeal, a reopening
	// or a request for documents as the deadlines do: every case's facts computed anew.
	schemaClockFacts = 4
	// SchemaVersion is the version this build writes.
	SchemaVersion = schemaClockFacts
)

var keySchema = []byte("schema_version")

// Schema returns the file's schema version.
func (s *Store) Schema() (int, error) {
	v := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		v = schemaOf(tx)
		return nil
	})
	return v, err
}

func schemaOf(tx *bolt.Tx) int {
	b := tx.Bucket(bMeta)
	if b == nil {
		return schemaClear
	}
	if v := b.Get(keySchema); len(v) == 8 {
		return int(binary.BigEndian.Uint64(v))
	}
	return schemaClear
}

// MigrationReport says what Migrate did.
type MigrationReport struct {
	From, To  int
	Rewritten int  // records re-sealed or re-filed
	Facts     int  // cases whose facts were computed
	Compacted bool // the file was rewritten so that no free page keeps the old clear bytes
}

// Migrate brings a file of an earlier schema to SchemaVersion, step by step. From
// version 1 (the sealer must be set) it seals the personal information records hold
// in clear and re-files their look-up keys as hashes, in batches, then compacts the
// file into a new one so that the clear bytes do not linger in bbolt's free pages.
// From version 2 or 3 it computes every case's facts. It is idempotent and resumable: a
// crash leaves records of both forms, which read alike, and the next start finishes
// the work.
func (s *Store) Migrate() (MigrationReport, error) {
	from, err := s.Schema()
	if err != nil {
		return MigrationReport{}, err
	}
	rep := MigrationReport{From: from, To: from}
	// The compaction that wipes the clear bytes is owed from the first rewrite until
	// it is done, whatever stops the start in between (a full disk has no room for
	// the copy, a kill): before, the next start saw the current schema and returned,
	// and the clear ID numbers stayed in the free pages for good (found in review).
	pending, err := s.compactionOwed()
	if err != nil {
		return rep, err
	}
	if from >= SchemaVersion && !pending {
		return rep, nil
	}
	if from < schemaSealed {
		if s.sealer == nil {
			return rep, fmt.Errorf("migrate store to schema %d: no sealer (master key) given", schemaSealed)
		}
		if err := s.oweCompaction(true); err != nil {
			return rep, err
		}
		pending = true
		for _, step := range []func() (int, error){s.resealCases, s.resealEvents, s.resealMessages, s.resealOutbox,
			func() (int, error) { return s.rehash(bIndex, indexRehash) },
			func() (int, error) { return s.rehash(bMsgIDs, msgIDRehash) },
			func() (int, error) { return s.rehash(bAutoReply, plainRehash) },
			func() (int, error) { return s.rehash(bReplyTimes, counterRehash) }} {
			n, err := step()
			rep.Rewritten += n
			if err != nil {
				return rep, fmt.Errorf("migrate store to schema %d: %w", schemaSealed, err)
			}
		}
		if err := s.setSchema(schemaSealed); err != nil {
			return rep, err
		}
		rep.To = schemaSealed
	}
	if rep.To < schemaClockFacts {
		// One pass serves schema 3 (facts kept) and 4 (facts that know the clock).
		n, err := s.buildFacts()
		rep.Facts = n
		if err != nil {
			return rep, fmt.Errorf("migrate store to schema %d: %w", schemaClockFacts, err)
		}
		if err := s.setSchema(schemaClockFacts); err != nil {
			return rep, err
		}
		rep.To = schemaClockFacts
	}
	if rep.Rewritten > 0 || pending {
		if err := s.compact(); err != nil {
			return rep, fmt.Errorf("compact after migration: %w", err)
		}
		if err := s.oweCompaction(false); err != nil {
			return rep, err
		}
		rep.Compacted = true
	}
	return rep, nil
}

// keyCompactionOwed, in the meta bucket, says a migration rewrote clear records and
// the file is not compacted yet.
var keyCompactionOwed = []byte("compaction_owed")

func (s *Store) compactionOwed() (bool, error) {
	var owed bool
	err := s.db.View(func(tx *bolt.Tx) error {
		owed = tx.Bucket(bMeta).Get(keyCompactionOwed) != nil
		return nil
	})
	return owed, err
}

func (s *Store) oweCompaction(owed bool) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if owed {
			return tx.Bucket(bMeta).Put(keyCompactionOwed, []byte{1})
		}
		return tx.Bucket(bMeta).Delete(keyCompactionOwed)
	})
}

func (s *Store) setSchema(version int) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], uint64(version))
		return tx.Bucket(bMeta).Put(keySchema, v[:])
	})
}

// MarkCurrent records that a new file is of the current schema.
func (s *Store) MarkCurrent() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bMeta).Get(keySchema) != nil {
			return nil
		}
		for _, b := range [][]byte{bCases, bMessages, bOutbox, bMsgIDs} {
			if tx.Bucket(b).Stats().KeyN > 0 {
				return nil // records and no version: version 1, Migrate decides
			}
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], SchemaVersion)
		return tx.Bucket(bMeta).Put(keySchema, v[:])
	})
}

const migrateBatch = 500

// eachBatch walks bucket b in batches of keys, each rewritten in its own transaction
// by fix (which returns whether it rewrote the record).
func (s *Store) eachBatch(b []byte, fix func(t *Tx, k, v []byte) (bool, error)) (int, error) {
	var from []byte
	n := 0
	for {
		var last []byte
		done := false
		err := s.Update(func(t *Tx) error {
			bucket := t.tx.Bucket(b)
			if bucket == nil {
				// Made on first use (the index: by the first case filed), so a file
				// written before it, or by a desk that has registered only noise, has
				// none: nothing to rewrite. Before, this was a nil dereference at
				// every start (found in review).
				done = true
				return nil
			}
			c := bucket.Cursor()
			k, v := c.First()
			if from != nil {
				k, v = c.Seek(from)
				if k != nil && bytes.Equal(k, from) {
					k, v = c.Next()
				}
			}
			type kv struct{ k, v []byte }
			var batch []kv
			for ; k != nil && len(batch) < migrateBatch; k, v = c.Next() {
				batch = append(batch, kv{bytes.Clone(k), bytes.Clone(v)})
			}
			done = len(batch) < migrateBatch
			for _, r := range batch {
				changed, err := fix(t, r.k, r.v)
				if err != nil {
					return fmt.Errorf("%s/%s: %w", b, r.k, err)
				}
				if changed {
					n++
				}
				last = r.k
			}
			return nil
		})
		if err != nil || done {
			return n, err
		}
		from = last
	}
}

func (s *Store) resealCases() (int, error) {
	return s.eachBatch(bCases, func(t *Tx, k, v []byte) (bool, error) {
		var probe struct {
			Sealed []byte `json:"sealed"`
		}
		if err := json.Unmarshal(v, &probe); err != nil || probe.Sealed != nil {
			return false, err
		}
		c, err := t.decodeCase(v)
		if err != nil {
			return false, err
		}
		return true, t.PutCase(c)
	})
}

func (s *Store) resealEvents() (int, error) {
	var ids [][]byte
	s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bEvents).ForEach(func(k, v []byte) error {
			if v == nil {
				ids = append(ids, bytes.Clone(k))
			}
			return nil
		})
	})
	n := 0
	for _, id := range ids {
		err := s.Update(func(t *Tx) error {
			b := t.tx.Bucket(bEvents).Bucket(id)
			type kv struct{ k, v []byte }
			var redo []kv
			err := b.ForEach(func(k, v []byte) error {
				var se storedEvent
				if err := json.Unmarshal(v, &se); err != nil {
					return err
				}
				if se.Sealed != nil || (se.Actor == "" && se.Note == "") {
					return nil
				}
				sealed, err := t.seal(string(id), eventPersonal{Actor: se.Actor, Note: se.Note})
				if err != nil {
					return err
				}
				se.Sealed, se.Actor, se.Note = sealed, "", ""
				nv, err := json.Marshal(se)
				redo = append(redo, kv{bytes.Clone(k), nv})
				return err
			})
			if err != nil {
				return err
			}
			for _, r := range redo {
				if err := b.Put(r.k, r.v); err != nil {
					return err
				}
			}
			n += len(redo)
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("events of %s: %w", id, err)
		}
	}
	return n, nil
}

func (s *Store) resealMessages() (int, error) {
	return s.eachBatch(bMessages, func(t *Tx, k, v []byte) (bool, error) {
		var sm storedMessage
		if err := json.Unmarshal(v, &sm); err != nil {
			return false, err
		}
		if sm.Sealed != nil || strings.HasPrefix(sm.From, "h:") {
			return false, nil
		}
		nv, err := t.encodeMessage(&sm.Message)
		if err != nil {
			return false, err
		}
		return true, t.tx.Bucket(bMessages).Put(k, nv)
	})
}

func (s *Store) resealOutbox() (int, error) {
	return s.eachBatch(bOutbox, func(t *Tx, k, v []byte) (bool, error) {
		var so storedOutbox
		if err := json.Unmarshal(v, &so); err != nil {
			return false, err
		}
		if so.Sealed != nil || so.Case == "" {
			return false, nil
		}
		nv, err := t.encodeOutbox(&so.OutboxEntry)
		if err != nil {
			return false, err
		}
		return true, t.tx.Bucket(bOutbox).Put(k, nv)
	})
}

// A rehash function gives the hashed key for a key filed in clear, or nil when the
// key is already hashed (or is not a look-up value).
type rehashFunc func(t *Tx, k []byte) []byte

func indexRehash(t *Tx, k []byte) []byte {
	parts := bytes.SplitN(k, []byte{0}, 3)
	if len(parts) != 3 || bytes.HasPrefix(parts[1], []byte("h:")) {
		return nil
	}
	return indexKey(string(parts[0]), t.lookup(string(parts[1])), string(parts[2]))
}

func msgIDRehash(t *Tx, k []byte) []byte {
	in, id := bytes.CutPrefix(k, []byte("in/"))
	if bytes.HasPrefix(in, []byte("h:")) {
		return nil
	}
	if id {
		return []byte("in/" + t.lookup(string(in)))
	}
	return []byte(t.lookup(string(in)))
}

func plainRehash(t *Tx, k []byte) []byte {
	if bytes.HasPrefix(k, []byte("h:")) {
		return nil
	}
	return []byte(t.lookup(string(k)))
}

// rehash re-files the clear keys of bucket b under their keyed hashes.
func (s *Store) rehash(b []byte, fn rehashFunc) (int, error) {
	return s.eachBatch(b, func(t *Tx, k, v []byte) (bool, error) {
		nk := fn(t, k)
		if nk == nil {
			return false, nil
		}
		bk := t.tx.Bucket(b)
		if err := bk.Put(nk, v); err != nil {
			return false, err
		}
		return true, bk.Delete(k)
	})
}

// compact rewrites the file into a new one holding only live records (bbolt keeps
// freed pages, and with them the bytes of the records just re-sealed), then puts it
// in place. The new file is locked before the old one is let go.
func (s *Store) compact() error {
	path := s.db.Path()
	tmp := path + ".compact"
	os.Remove(tmp)
	// Mapped as Open maps the store: the desk runs on with this file, and with
	// bbolt's default mapping an online backup stalled every write that grew it until
	// the next restart (found in review).
	dst, err := openMapped(tmp, 0)
	if err != nil {
		return err
	}
	if err := bolt.Compact(dst, s.db, 64<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		dst.Close()
		os.Remove(tmp)
		return err
	}
	// The mapping's watcher reads s.db: it stops while the file is swapped.
	s.stopWatching()
	s.db.Close()
	s.db = dst
	s.startWatching()
	return syncParent(path)
}

func syncParent(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
