// SPDX-License-Identifier: MIT

package store

// This file keeps what operations need beside the cases: the last reply template set
// that loaded (a start whose template directory is broken serves it rather than the
// embedded one), a consistent snapshot of the file for backups, and the Message-IDs of
// mail adopted unread.

import (
	"bytes"
	"io"

	bolt "go.etcd.io/bbolt"
)

var keyTemplates = []byte("templates_last_good")

// KeepTemplates stores the packed files of a template set that loaded (render.Pack),
// replacing the one kept before. Unchanged bytes are not written again.
func (t *Tx) KeepTemplates(packed []byte) error {
	meta := t.tx.Bucket(bMeta)
	if bytes.Equal(meta.Get(keyTemplates), packed) {
		return nil
	}
	return meta.Put(keyTemplates, packed)
}

// KeptTemplates returns the set KeepTemplates stored last (a copy), or nil.
func (t *Tx) KeptTemplates() []byte {
	return bytes.Clone(t.tx.Bucket(bMeta).Get(keyTemplates))
}

// Snapshot gives fn a consistent copy of the whole file while the daemon goes on
// writing: size is the copy's length and write streams it (bbolt's Tx.WriteTo) from one
// read transaction, which stays open until fn returns, so whatever fn copies after it
// (the vault's files) is at least as new as the copy.
func (s *Store) Snapshot(fn func(size int64, write func(io.Writer) error) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return fn(tx.Size(), func(w io.Writer) error {
			_, err := tx.WriteTo(w)
			return err
		})
	})
}

// KnowMessageID records a Message-ID as registered without a message record: a mail
// the desk adopted (imap.start: new) but could not read. A copy of it is then a
// duplicate, like any registered mail's.
func (t *Tx) KnowMessageID(msgID string) error {
	if msgID == "" {
		return nil
	}
	return t.tx.Bucket(bMsgIDs).Put([]byte("in/"+t.lookup(normID(msgID))), []byte("adopted"))
}
