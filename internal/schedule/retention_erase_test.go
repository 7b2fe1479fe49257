package schedule

// Retention's erasure against what happens around it (found in review).

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
)

// hookVault is an Eraser whose Erase runs a hook first (to act as a concurrent staff
// command, or to fail for one case).
type hookVault struct {
	onErase func(caseID string) error
	erased  []string
}

func (v *hookVault) Erase(caseID string) error {
	if v.onErase != nil {
		if err := v.onErase(caseID); err != nil {
			return err
		}
	}
	v.erased = append(v.erased, caseID)
	return nil
}

func (v *hookVault) OpenBlob(string, vault.BlobRef) (*vault.Reader, error) {
	return nil, errors.New("not in this test")
}

func (v *hookVault) SealDesk(_ string, plain []byte) ([]byte, error) { return plain, nil }

func closedCase(id string, closedAt time.Time) *cases.Case {
	created := closedAt.AddDate(0, 0, -10)
	return &cases.Case{ID: id, State: cases.Closed, CreatedAt: created, Complainant: id + "@example.cn",
		Applicant: cases.Party{Name: "张三"},
		Events: []cases.Event{
			{At: created, Type: "created", Actor: "desk", To: cases.Incomplete},
			{At: closedAt, Type: "close", Actor: "desk", From: cases.Incomplete, To: cases.Closed},
		}}
}

// One case whose erasure fails does not stop the retention of the cases after it.
// Before, every run stopped at it (the scan order is stable) and the others were
// never erased (found in review).
func TestRetentionGoesOnPastACaseItCannotErase(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	closed := at(2025, 6, 1, 10, 0)
	a, b := "TS-2025-000001", "TS-2025-000002"
	putCase(t, st, closedCase(a, closed))
	putCase(t, st, closedCase(b, closed))
	v := &hookVault{onErase: func(id string) error {
		if id == a {
			return errors.New("key file: permission denied")
		}
		return nil
	}}
	s := newTestScheduler(t, st, &clock{t: at(2026, 3, 9, 3, 30)}, defaultPolicy(), v)
	for range 3 { // three nights
		s.RunJob(JobRetention)
	}
	if c := readCase(t, st, b); c.ErasedAt == nil {
		t.Errorf("case %s, due for erasure, was never erased because case %s's erasure fails (erased: %v)", b, a, v.erased)
	}
}

// failingVault destroys the keys, then fails, as a crash or an I/O error after the
// destruction would: the transaction that marks the case rolls back.
type failingVault struct {
	*vault.Vault
	fail bool
}

func (v *failingVault) Erase(caseID string) error {
	if err := v.Vault.Erase(caseID); err != nil {
		return err
	}
	if v.fail {
		return errors.New("interrupted after the keys were destroyed")
	}
	return nil
}

// An erasure interrupted after the keys were destroyed is completed by the next run,
// look-up entries included: they were noted (as keyed hashes) before the destruction,
// since afterwards the values cannot be read. Before, the re-run removed none, and
// the erased case stayed findable by its complainant's address and ID number (found
// in review).
func TestRetentionCompletesAnInterruptedErasure(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	defer st.Close()
	v, err := vault.Open(filepath.Join(dir, "attachments"), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	st.SetSealer(v)
	id := "TS-2025-000001"
	c := closedCase(id, at(2025, 6, 1, 10, 0))
	c.Complainant, c.Applicant.IDNo, c.Applicant.IDValid = "zhangsan@example.cn", "11010519491231002x", true
	putCase(t, st, c)
	if err := st.Update(func(tx *store.Tx) error {
		if err := tx.IndexCase("from", c.Complainant, id, c.CreatedAt); err != nil {
			return err
		}
		return tx.IndexCase("idno", "11010519491231002X", id, c.CreatedAt) // as intake files it
	}); err != nil {
		t.Fatal(err)
	}
	fv := &failingVault{Vault: v, fail: true}
	s := newTestScheduler(t, st, &clock{t: at(2026, 3, 9, 3, 30)}, defaultPolicy(), fv)
	s.RunJob(JobRetention) // logs the failure
	if got := readCase(t, st, id); got.ErasedAt != nil || got.Complainant != "" {
		t.Fatalf("setup: after the interruption: erased_at %v, complainant %q; want unmarked, keys gone", got.ErasedAt, got.Complainant)
	}
	fv.fail = false
	if err := s.RunJob(JobRetention); err != nil {
		t.Fatal(err)
	}
	if got := readCase(t, st, id); got.ErasedAt == nil {
		t.Fatal("the next run did not complete the erasure")
	}
	st.View(func(tx *store.Tx) error {
		if l := tx.IndexedCases("from", "zhangsan@example.cn"); len(l) != 0 {
			t.Errorf("erased case still found by its complainant's address: %v", l)
		}
		if l := tx.IndexedCases("idno", "11010519491231002X"); len(l) != 0 {
			t.Errorf("erased case still found by its applicant's ID number: %v", l)
		}
		return tx.EachMarker("erasing/", func(k string, _ store.Marker) error {
			t.Errorf("marker %s left after the erasure", k)
			return nil
		})
	})
}

// Intake files a case under the ID numbers of its applicant and of its principal
// (cases.Case.IDNumbers); the erasure removes both. Before, only the applicant's went,
// and an erased entrusted case stayed findable by its principal's ID number (found in
// review).
func TestRetentionRemovesThePrincipalsIDLookup(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	defer st.Close()
	v, err := vault.Open(filepath.Join(dir, "attachments"), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	st.SetSealer(v)
	id := "TS-2025-000001"
	c := closedCase(id, at(2025, 6, 1, 10, 0))
	c.Applicant.IDNo, c.Applicant.IDValid = "11010519491231002X", true
	c.Applicant.Type = cases.Entrusted
	c.Principal = &cases.Party{Name: "李四", IDNo: "110101199003070011", IDValid: true, Type: cases.Individual}
	putCase(t, st, c)
	// Filed as intake files them (route.go: identities, applicant and principal).
	if err := st.Update(func(tx *store.Tx) error {
		for _, n := range []string{strings.ToUpper(c.Applicant.IDNo), c.Principal.IDNo} {
			if err := tx.IndexCase("idno", n, id, c.CreatedAt); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s := newTestScheduler(t, st, &clock{t: at(2026, 3, 9, 3, 30)}, defaultPolicy(), v)
	if err := s.RunJob(JobRetention); err != nil {
		t.Fatal(err)
	}
	if got := readCase(t, st, id); got.ErasedAt == nil {
		t.Fatal("setup: not erased")
	}
	st.View(func(tx *store.Tx) error {
		for _, n := range []string{"11010519491231002X", "110101199003070011"} {
			if l := tx.IndexedCases("idno", n); len(l) != 0 {
				t.Errorf("erased case still found by ID number %s: %v", n, l)
			}
		}
		return nil
	})
}
