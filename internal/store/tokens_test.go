package store

import (
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
)

// Revocations only move later, per case and globally, and stay apart; the upgrade
// record is written once and says whether old-form tokens can be out there.
func TestStaffTokenRecords(t *testing.T) {
	s, err := Open(t.TempDir()+"/c.db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	err = s.View(func(tx *Tx) error {
		// A store that never wrote the bucket reads as "nothing revoked, no upgrade".
		r, err := tx.StaffTokenRevocations("TS-2026-000001")
		if err != nil || !r.All.IsZero() || !r.Case.IsZero() {
			t.Errorf("fresh store: %+v, %v", r, err)
		}
		if _, ok, err := tx.StaffTokenUpgrade(); ok || err != nil {
			t.Errorf("fresh store has an upgrade record (%v)", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		caseID  string
		at      time.Time
		inForce time.Time
	}{
		{"revoke one case", "TS-2026-000001", t0, t0},
		{"an earlier revocation does not undo a later one", "TS-2026-000001", t0.Add(-time.Hour), t0},
		{"revoke the case again later", "TS-2026-000001", t0.Add(time.Hour), t0.Add(time.Hour)},
		{"revoke everything", "", t0.Add(2 * time.Hour), t0.Add(2 * time.Hour)},
	}
	for _, st := range steps {
		if err := s.Update(func(tx *Tx) error {
			got, err := tx.RevokeStaffTokens(st.caseID, st.at)
			if !got.Equal(st.inForce) {
				t.Errorf("%s: in force %v, want %v", st.name, got, st.inForce)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	s.View(func(tx *Tx) error {
		r, _ := tx.StaffTokenRevocations("TS-2026-000001")
		if !r.Case.Equal(t0.Add(time.Hour)) || !r.All.Equal(t0.Add(2*time.Hour)) {
			t.Errorf("case 1: %+v", r)
		}
		r, _ = tx.StaffTokenRevocations("TS-2026-000002")
		if !r.Case.IsZero() || !r.All.Equal(t0.Add(2*time.Hour)) {
			t.Errorf("case 2 got case 1's revocation: %+v", r)
		}
		return nil
	})

	// The first start on an empty store: no old tokens can exist.
	s.Update(func(tx *Tx) error {
		u, err := tx.MarkStaffTokenUpgrade(t0)
		if err != nil || u.Legacy || !u.At.Equal(t0) {
			t.Errorf("empty store upgrade: %+v, %v", u, err)
		}
		return nil
	})
	// A store with cases that was upgraded before keeps its first record.
	s.Update(func(tx *Tx) error { return tx.PutCase(&cases.Case{ID: "TS-2026-000001"}) })
	s.Update(func(tx *Tx) error {
		if u, _ := tx.MarkStaffTokenUpgrade(t0.Add(time.Hour)); !u.At.Equal(t0) || u.Legacy {
			t.Errorf("second start rewrote the upgrade: %+v", u)
		}
		return nil
	})

	// A store that held cases before the upgrade: old-form tokens may be out there.
	s2, err := Open(t.TempDir()+"/c.db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s2.Update(func(tx *Tx) error { return tx.PutCase(&cases.Case{ID: "TS-2026-000001"}) })
	s2.Update(func(tx *Tx) error {
		if u, err := tx.MarkStaffTokenUpgrade(t0); err != nil || !u.Legacy {
			t.Errorf("store with cases: %+v, %v", u, err)
		}
		return nil
	})
}
