package privacy_test

import (
	"errors"
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/privacy"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
)

// flakyVault fails Erase: before destroying anything (fail), or after destroying the
// keys (failAfter: the write transaction then rolls back, the keys stay gone).
type flakyVault struct {
	*vault.Vault
	fail, failAfter bool
}

func (f *flakyVault) Erase(id string) error {
	switch {
	case f.fail:
		return errors.New("remove case attachments: input/output error")
	case f.failAfter:
		if err := f.Vault.Erase(id); err != nil {
			return err
		}
		return errors.New("remove case attachments: input/output error")
	}
	return f.Vault.Erase(id)
}

// Found in review of f0ca5b1 (fixed since): step 1 writes the note "erasing/<case>" only when there is none.
// A note left by an attempt that failed before the keys went (or by a crash between
// the steps) stays while the case is reopened (retention no longer visits it), and a
// later erasure reuses it as it was: a look-up value filed since (here the
// principal's ID number, brought by a follow-up after the reopening) is not in it. If
// that erasure is then interrupted after the destruction, the completion can only use
// the stale note, and the erased case stays findable by that ID number for good.
func TestErasingNoteIsWrittenAnewBeforeEachAttempt(t *testing.T) {
	st, v, id := closedCase(t)
	due := func(c *cases.Case) bool { return c.State.Terminal() }
	if _, err := privacy.EraseIfDue(st, &flakyVault{Vault: v, fail: true}, id, "scheduler", "retention", now, due); err == nil {
		t.Fatal("setup: the first attempt should fail")
	}
	const principalID = "110105194912310029"
	err := st.Update(func(tx *store.Tx) error { // reopened; a follow-up names the principal; closed again
		c, err := tx.Case(id)
		if err != nil {
			return err
		}
		c.State = cases.PendingReview
		c.Principal = &cases.Party{Name: "王五", IDNo: principalID, IDValid: true}
		if err := tx.PutCase(c); err != nil {
			return err
		}
		return tx.IndexCase("idno", principalID, id, c.CreatedAt)
	})
	if err != nil {
		t.Fatal(err)
	}
	st.View(func(tx *store.Tx) error {
		if _, ok, _ := tx.Marker("erasing/" + id); !ok {
			t.Log("no note left by the failed attempt")
		}
		return nil
	})
	err = st.Update(func(tx *store.Tx) error {
		c, err := tx.Case(id)
		if err != nil {
			return err
		}
		c.State = cases.Closed
		return tx.PutCase(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := privacy.EraseIfDue(st, &flakyVault{Vault: v, failAfter: true}, id, "scheduler", "retention", now, due); err == nil {
		t.Fatal("setup: the second attempt should fail after the destruction")
	}
	if erased, err := privacy.EraseIfDue(st, v, id, "scheduler", "retention", now, due); err != nil || !erased {
		t.Fatalf("completion: %v %v", erased, err)
	}
	st.View(func(tx *store.Tx) error {
		if l := tx.IndexedCases("idno", principalID); len(l) != 0 {
			t.Errorf("erased case still found by the principal's ID number: %v", l)
		}
		return nil
	})
}
