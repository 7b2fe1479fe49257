package privacy_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/privacy"
	"github.com/complaintd/complaintd/internal/store"
)

// Found in review of f0ca5b1 (pre-existing, in the re-read and PutCase of step 2) (fixed since): the re-read
// after the destruction drops the personal fields, but a case with a principal keeps
// a non-nil *Party; SplitPersonal makes Personal{Principal: &Party{}}, which marshals
// to {"principal":{"name":"","org":"","type":"","id_valid":false}}, so Empty() is
// false and encodeCase seals it: SealRecord creates new keys for the erased case, in
// the very transaction that destroyed them. Every later sealed write to the case
// (an event by a path that still reaches it) is then readable.
func TestErasedCaseWithPrincipalGetsNoNewKeys(t *testing.T) {
	st, v, id, dir := closedCaseIn(t)
	err := st.Update(func(tx *store.Tx) error {
		c, err := tx.Case(id)
		if err != nil {
			return err
		}
		c.Principal = &cases.Party{Name: "王五", IDNo: "110105194912310029", IDValid: true}
		return tx.PutCase(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := privacy.Erase(st, v, id, "cli:root", "request", now); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "attachments", "keys", id+".keys")); err == nil {
		t.Error("after Erase the case has a key file: it was sealed again under new keys")
	}
}
