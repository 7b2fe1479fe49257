package privacy_test

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/privacy"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
)

var now = time.Date(2026, 3, 9, 3, 30, 0, 0, time.UTC)

func closedCase(t *testing.T) (*store.Store, *vault.Vault, string) {
	st, v, id, _ := closedCaseIn(t)
	return st, v, id
}

// closedCaseIn is closedCase and the directory of its store and vault.
func closedCaseIn(t *testing.T) (*store.Store, *vault.Vault, string, string) {
	t.Helper()
	dir := t.TempDir()
	v, err := vault.Open(filepath.Join(dir, "attachments"), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "d.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.SetSealer(v)
	const id = "TS-2025-000001"
	created := now.AddDate(-1, 0, 0)
	c := &cases.Case{ID: id, State: cases.Closed, CreatedAt: created, Complainant: "zhangsan@example.cn",
		Applicant: cases.Party{Name: "张三", IDNo: "11010519491231002X", IDValid: true}}
	err = st.Update(func(tx *store.Tx) error {
		if err := tx.PutCase(c); err != nil {
			return err
		}
		if err := tx.AppendEvent(id, cases.Event{At: created, Type: "close", From: cases.Incomplete, To: cases.Closed}); err != nil {
			return err
		}
		return tx.IndexCase("from", c.Complainant, id, created)
	})
	if err != nil {
		t.Fatal(err)
	}
	return st, v, id, dir
}

func stillWhole(t *testing.T, st *store.Store, id string) {
	t.Helper()
	st.View(func(tx *store.Tx) error {
		c, err := tx.Case(id)
		if err != nil {
			t.Fatal(err)
		}
		if c.ErasedAt != nil || c.Applicant.Name != "张三" || c.Complainant != "zhangsan@example.cn" {
			t.Errorf("case after a refused erasure: erased_at %v, applicant %q, complainant %q; want it whole", c.ErasedAt, c.Applicant.Name, c.Complainant)
		}
		if len(tx.IndexedCases("from", "zhangsan@example.cn")) != 1 {
			t.Error("the case's look-up entry is gone")
		}
		return tx.EachMarker("erasing/", func(k string, _ store.Marker) error {
			t.Errorf("marker %s left behind", k)
			return nil
		})
	})
}

// Retention finds the due cases in one read and erases them one by one, later: a
// case reopened by staff (重开) in between is back in review and must stay whole.
// Before, it was erased all the same (found in review).
func TestEraseIfDueSparesACaseReopenedSinceItWasFound(t *testing.T) {
	st, v, id := closedCase(t)
	err := st.Update(func(tx *store.Tx) error { // the staff command
		c, err := tx.Case(id)
		if err != nil {
			return err
		}
		c.State = cases.PendingReview
		return tx.PutCase(c)
	})
	if err != nil {
		t.Fatal(err)
	}
	erased, err := privacy.EraseIfDue(st, v, id, "scheduler", "retention", now, func(c *cases.Case) bool { return c.State.Terminal() })
	if err != nil || erased {
		t.Fatalf("EraseIfDue = %v, %v; want not erased", erased, err)
	}
	stillWhole(t, st, id)
}

// The last look is in the transaction that destroys the keys: a case still due when
// the look-up entries were noted, and reopened before the destruction, stays whole.
func TestEraseIfDueLooksAgainBeforeTheKeysGo(t *testing.T) {
	st, v, id := closedCase(t)
	looks := 0
	due := func(c *cases.Case) bool {
		looks++
		return looks == 1 // reopened between the two steps
	}
	erased, err := privacy.EraseIfDue(st, v, id, "scheduler", "retention", now, due)
	if err != nil || erased || looks != 2 {
		t.Fatalf("EraseIfDue = %v, %v after %d looks; want not erased after 2", erased, err, looks)
	}
	stillWhole(t, st, id)
}

// Erase (the CLI's `cases erase`) erases whatever the state, and a second call
// changes nothing.
func TestEraseErasesAndIsIdempotent(t *testing.T) {
	st, v, id := closedCase(t)
	for range 2 {
		if err := privacy.Erase(st, v, id, "cli:root", "request", now); err != nil {
			t.Fatal(err)
		}
	}
	st.View(func(tx *store.Tx) error {
		c, err := tx.Case(id)
		if err != nil {
			t.Fatal(err)
		}
		if c.ErasedAt == nil || c.Applicant.Name != "" || c.Complainant != "" {
			t.Errorf("after Erase: erased_at %v, applicant %q, complainant %q", c.ErasedAt, c.Applicant.Name, c.Complainant)
		}
		n := 0
		for _, e := range c.Events {
			if e.Type == cases.EventErased {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d erased events, want 1", n)
		}
		if l := tx.IndexedCases("from", "zhangsan@example.cn"); len(l) != 0 {
			t.Errorf("still found by address: %v", l)
		}
		return nil
	})
}
