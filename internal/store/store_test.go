package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	bolt "go.etcd.io/bbolt"
)

// Every field the desk needs later must survive the stored form: the vault reference
// of a document (else its attachment can never be opened again) and the threading
// (else decisions are not threaded on the complainant's mail). `cases show` hides them.
func TestInternalFieldsAreStoredButNotShown(t *testing.T) {
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := &cases.Case{ID: "TS-2026-000001", State: "incomplete", Threads: []string{"a@b"}, LastInbound: "a@b",
		Documents: []cases.Document{{Kind: "id_card", Filename: "身份证.jpg", File: "TS-2026-000001/abc", SealedKey: "k", KeyClass: "sensitive"}}}
	if err := s.Update(func(tx *Tx) error { return tx.PutCase(c) }); err != nil {
		t.Fatal(err)
	}
	var got *cases.Case
	s.View(func(tx *Tx) error { got, err = tx.Case(c.ID); return err })
	d := got.Documents[0]
	if d.File != "TS-2026-000001/abc" || d.SealedKey != "k" || d.KeyClass != "sensitive" || got.LastInbound != "a@b" || len(got.Threads) != 1 {
		t.Fatalf("internal fields lost in the store: %+v", got)
	}
	pub := got.Public()
	if pd := pub.Documents[0]; pd.File != "" || pd.SealedKey != "" || pub.LastInbound != "" || pub.Threads != nil {
		t.Fatalf("Public shows internal fields: %+v", pub)
	}
	if got.Documents[0].File == "" {
		t.Fatal("Public changed the stored case")
	}
}

// Case numbers count per prefix and year, and a rollback gives the number back.
func TestCaseNumbers(t *testing.T) {
	s, _ := Open(t.TempDir()+"/db", time.Second)
	defer s.Close()
	var ids []string
	for range 2 {
		s.Update(func(tx *Tx) error {
			id, err := tx.NextCaseID("TS", 2026)
			ids = append(ids, id)
			return err
		})
	}
	s.Update(func(tx *Tx) error {
		id, _ := tx.NextCaseID("TS", 2026)
		ids = append(ids, id)
		return errRollback
	})
	s.Update(func(tx *Tx) error {
		id, err := tx.NextCaseID("TS", 2027)
		ids = append(ids, id)
		return err
	})
	s.Update(func(tx *Tx) error {
		id, err := tx.NextCaseID("TS", 2026)
		ids = append(ids, id)
		return err
	})
	want := []string{"TS-2026-000001", "TS-2026-000002", "TS-2026-000003", "TS-2027-000001", "TS-2026-000003"}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("case numbers %v, want %v", ids, want)
		}
	}
}

var errRollback = errorString("rollback")

type errorString string

func (e errorString) Error() string { return string(e) }

// /healthz reads the outbox through its indexes: pending and failed counts and the
// oldest pending entry must follow every state change.
func TestOutboxStats(t *testing.T) {
	s, _ := Open(t.TempDir()+"/db", time.Second)
	defer s.Close()
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	var a, b, c OutboxEntry
	s.Update(func(tx *Tx) error {
		a = OutboxEntry{Kind: "x", CreatedAt: t0.Add(2 * time.Minute)}
		b = OutboxEntry{Kind: "x", CreatedAt: t0.Add(time.Minute)}
		c = OutboxEntry{Kind: "x", CreatedAt: t0}
		tx.Enqueue(&a)
		tx.Enqueue(&b)
		return tx.Enqueue(&c)
	})
	s.Update(func(tx *Tx) error {
		b.State = OutboxSent
		c.State = OutboxFailed
		tx.PutOutbox(&b)
		return tx.PutOutbox(&c)
	})
	s.View(func(tx *Tx) error {
		by, oldest, err := tx.OutboxStats()
		if err != nil || by[OutboxPending] != 1 || by[OutboxFailed] != 1 || !oldest.Equal(a.CreatedAt) {
			t.Errorf("stats %v oldest %v err %v; want 1 pending, 1 failed, oldest %v", by, oldest, err, a.CreatedAt)
		}
		return nil
	})
}

// A case stored before the typed fields existed kept them in a schemaless "extra" map:
// they are read into their fields, and a stored record round-trips.
func TestLegacyExtraFieldsAreRead(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "c.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	old := `{"id":"TS-2026-000009","state":"accepted","severity":"major","extra":{"link_key":"ifeng.com/c/abc","severity_by":"staff","department_by":"staff","satisfaction":"4","awaiting_author":"true"}}`
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bCases).Put([]byte("TS-2026-000009"), []byte(old)) }); err != nil {
		t.Fatal(err)
	}
	var got *cases.Case
	if err := s.View(func(tx *Tx) error { got, err = tx.Case("TS-2026-000009"); return err }); err != nil {
		t.Fatal(err)
	}
	if got.LinkKey != "ifeng.com/c/abc" || !got.SeverityByStaff || !got.DepartmentByStaff || got.Satisfaction != 4 || !got.AwaitingAuthor {
		t.Errorf("legacy extra not read into fields: %+v", got)
	}
	if err := s.Update(func(tx *Tx) error { return tx.PutCase(got) }); err != nil {
		t.Fatal(err)
	}
	var again *cases.Case
	s.View(func(tx *Tx) error { again, err = tx.Case("TS-2026-000009"); return err })
	if again.LinkKey != got.LinkKey || again.Satisfaction != 4 || !again.SeverityByStaff {
		t.Errorf("rewritten case lost fields: %+v", again)
	}
}

// A store file without its buckets (a daemon killed during its first start) is refused
// with a reason by the readers, not read into a nil-bucket panic.
func TestReadOnlyRefusesUninitialisedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := OpenReadOnly(path, time.Second)
	if !errors.Is(err, ErrNotInitialised) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("OpenReadOnly on an empty file: %v, want ErrNotInitialised", err)
	}
	// Open (the daemon) initialises it; the readers then work.
	w, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	r, err := OpenReadOnly(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.View(func(tx *Tx) error { return tx.EachCase(false, func(*cases.Case) error { return nil }) }); err != nil {
		t.Fatal(err)
	}
}

// One desk, one store: a second Open while a live process holds the file fails at
// once, naming the holder, instead of waiting out the lock timeout.
func TestSecondOpenFailsAtOnceNamingTheHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	first, err := Open(path, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Open(path, 10*time.Second)
	var inUse *InUseError
	if !errors.As(err, &inUse) || inUse.Holder.PID != os.Getpid() {
		t.Fatalf("second Open: %v, want *InUseError naming pid %d", err, os.Getpid())
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the refusal took %v: it must not wait out the lock timeout", d)
	}
	first.Close()
	if _, err := os.Stat(path + ".pid"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("holder file left after Close: %v", err)
	}
	again, err := Open(path, time.Second)
	if err != nil {
		t.Fatalf("open after the holder closed: %v", err)
	}
	again.Close()
}

// The last good template set survives a reopen and is replaced by a newer one.
func TestKeptTemplates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	s.View(func(tx *Tx) error { got = tx.KeptTemplates(); return nil })
	if got != nil {
		t.Fatalf("a fresh store keeps %q", got)
	}
	for _, v := range []string{"first", "second"} {
		if err := s.Update(func(tx *Tx) error { return tx.KeepTemplates([]byte(v)) }); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(path, time.Second); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.View(func(tx *Tx) error { got = tx.KeptTemplates(); return nil })
	if string(got) != "second" {
		t.Errorf("kept after reopen: %q", got)
	}
}

// Case names the other cases about the same article; CaseWithoutRelated reads the
// same case without them.
func TestCaseWithoutRelated(t *testing.T) {
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := putWave(s, 2); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		full, err := tx.Case("TS-2026-000001")
		if err != nil || len(full.Related) != 1 || full.Related[0] != "TS-2026-000002" {
			t.Errorf("Case: related %v, err %v; want [TS-2026-000002]", full.Related, err)
		}
		bare, err := tx.CaseWithoutRelated("TS-2026-000001")
		if err != nil || bare.Related != nil || bare.ID != full.ID || bare.State != full.State {
			t.Errorf("CaseWithoutRelated: %+v, err %v", bare, err)
		}
		return nil
	})
}
