package store

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// A mail of a case written before 2026-12 kept a keyed hash of its sender in clear
// beside the case number; after the case's erasure it still tied the complainant's
// address to the case. ForgetSenders (called by the erasure) blanks it, and leaves
// the mails of other cases alone.
func TestForgetSendersBlanksTheOldSenderHash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	st, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	const old = `{"key":"%s","message_id":"h:1","mailbox":"INBOX","uid":1,"case":"%s","from":"h:%s","sealed":"AAAA"}`
	err = st.Update(func(tx *Tx) error {
		for _, r := range [][3]string{{"d1", "TS-2025-000001", "senderhashofzhangsan"}, {"d2", "TS-2025-000002", "senderhashoflisi"}} {
			rec := []byte(fmt.Sprintf(old, r[0], r[1], r[2]))
			if err := tx.tx.Bucket(bMessages).Put([]byte(r[0]), rec); err != nil {
				return err
			}
			if err := tx.tx.Bucket(bDigests).Put([]byte(r[0]), []byte(r[1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Update(func(tx *Tx) error { return tx.ForgetSenders("TS-2025-000001") }); err != nil {
		t.Fatal(err)
	}
	var erased, other []byte
	st.View(func(tx *Tx) error {
		erased = bytes.Clone(tx.tx.Bucket(bMessages).Get([]byte("d1")))
		other = bytes.Clone(tx.tx.Bucket(bMessages).Get([]byte("d2")))
		return nil
	})
	if bytes.Contains(erased, []byte("senderhashofzhangsan")) || !bytes.Contains(erased, []byte(`"sealed":"AAAA"`)) {
		t.Errorf("the erased case's mail record: %s", erased)
	}
	if !bytes.Contains(other, []byte("senderhashoflisi")) {
		t.Errorf("another case's mail lost its sender: %s", other)
	}
}
