package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
)

// clearStore writes a schema-1 file (everything in clear): 500 cases, each holding
// the ID number idNo (with its index suffix) in its record and its event log.
func clearStore(t *testing.T, path, idNo string, indexed bool) *Store {
	t.Helper()
	s, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(func(tx *Tx) error {
		for i := 0; i < 500; i++ {
			id := fmt.Sprintf("TS-2026-%06d", i+1)
			no := fmt.Sprintf("%s-%03d", idNo, i)
			if err := tx.PutCase(&cases.Case{ID: id, Applicant: cases.Party{Name: "王五", IDNo: no}, Request: cases.Request{Reason: strings.Repeat("理由", 200)}}); err != nil {
				return err
			}
			if indexed {
				if err := tx.IndexCase("from", "a@b.cn", id, time.Now()); err != nil {
					return err
				}
			}
			if err := tx.AppendEvent(id, cases.Event{Type: cases.EventOf(cases.Note), Actor: "a@b.cn", Note: no}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The compaction that wipes the clear bytes of a schema-1 file from bbolt's free
// pages was done only by the run of Migrate that re-sealed the records. When that run
// stopped after the schema mark (compaction failed: no room for the copy; or a
// crash/kill during it), the next start saw schema 3, returned at once, and the clear
// ID numbers stayed in the file for good (found in review).
func TestMigrationCompactionIsResumed(t *testing.T) {
	const idNo = "310101198001010018"
	path := filepath.Join(t.TempDir(), "db")
	s := clearStore(t, path, idNo, true)
	s.SetSealer(&fakeSealer{keys: map[string][]byte{}})
	// The first start's compaction fails (stands in for ENOSPC or a crash).
	blocker := path + ".compact"
	os.MkdirAll(filepath.Join(blocker, "x"), 0o700)
	if _, err := s.Migrate(); err == nil {
		t.Fatal("expected the compaction to fail")
	}
	os.RemoveAll(blocker)
	// The next start.
	rep, err := s.Migrate()
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, _ := os.ReadFile(path)
	if !rep.Compacted || bytes.Contains(raw, []byte(idNo)) {
		t.Errorf("resumed migration: %+v; the clear ID number is still in the file: %v", rep, bytes.Contains(raw, []byte(idNo)))
	}
}

// The same when a start is stopped after the records were re-sealed and
// before the facts were built (schema 2 marked): the next start's Migrate has
// Rewritten == 0 and skips the compaction.
func TestMigrationResumedAfterSealingCompacts(t *testing.T) {
	const idNo = "310101198001010018"
	path := filepath.Join(t.TempDir(), "db")
	s := clearStore(t, path, idNo, true)
	s.SetSealer(&fakeSealer{keys: map[string][]byte{}})
	// First start: the sealing steps ran and schema 2 was marked; then the process died
	// (in buildFacts, before the compaction). Migrate owes the compaction first.
	if err := s.oweCompaction(true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.resealCases(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.resealEvents(); err != nil {
		t.Fatal(err)
	}
	if err := s.setSchema(schemaSealed); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Migrate()
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte(idNo)) {
		t.Errorf("migration finished (%+v) but the clear ID number is still in the file", rep)
	}
}

// A schema-1 file without the "index" bucket (written by a version before
// routing, 2026-11-27, or one whose desk has registered only noise so far: the bucket
// is made by the first IndexCase, not by Open) made Migrate panic on a nil bucket
// (eachBatch: t.tx.Bucket(b).Cursor()), so the daemon died at every start (found in
// review).
func TestMigrationOfAFileWithoutIndexBucket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	s := clearStore(t, path, "310101198001010018", false)
	defer s.Close()
	s.SetSealer(&fakeSealer{keys: map[string][]byte{}})
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Migrate panicked: %v", r)
		}
	}()
	if _, err := s.Migrate(); err != nil {
		t.Fatal(err)
	}
}

// The same file migrated in one go has no clear ID number left.
func TestUninterruptedMigrationWipes(t *testing.T) {
	const idNo = "310101198001010018"
	path := filepath.Join(t.TempDir(), "db")
	s := clearStore(t, path, idNo, true)
	s.SetSealer(&fakeSealer{keys: map[string][]byte{}})
	if rep, err := s.Migrate(); err != nil || !rep.Compacted {
		t.Fatal(rep, err)
	}
	s.Close()
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte(idNo)) {
		t.Error("clear ID number left")
	}
}
