// SPDX-License-Identifier: MIT

package store

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/complaintd/complaintd/internal/cases"
)

// The facts kept beside a case are what the case and its whole log say, whatever the
// order of writes (events before the first record, a state change after), and they
// hold nothing personal.
func TestFactsFollowTheCaseAndItsLog(t *testing.T) {
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.MarkCurrent(); err != nil {
		t.Fatal(err)
	}
	s.SetSealer(&fakeSealer{keys: map[string][]byte{}})
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	due := at.Add(72 * time.Hour)
	c := &cases.Case{ID: "TS-2026-000007", State: cases.Incomplete, CreatedAt: at, DueAt: &due, Department: "财经", Severity: cases.Major,
		Applicant: cases.Party{Name: "王五", IDNo: "310101198001010018", Type: cases.Individual},
		Request:   cases.Request{ContentKind: cases.News}, Missing: []cases.Kind{"id_card", "form"}}
	steps := []func(tx *Tx) error{
		func(tx *Tx) error {
			return tx.AppendEvent(c.ID, cases.Event{At: at, Type: cases.EventReplySent, Actor: "desk"})
		},
		func(tx *Tx) error { return tx.PutCase(c) },
		func(tx *Tx) error {
			c.State, c.Missing = cases.PendingReview, nil
			if err := tx.AppendEvent(c.ID, cases.Event{At: at.Add(time.Hour), To: cases.PendingReview}); err != nil {
				return err
			}
			return tx.PutCase(c)
		},
		func(tx *Tx) error {
			c.State, c.Satisfaction = cases.Rejected, 4
			if err := tx.AppendEvent(c.ID, cases.Event{At: at.Add(2 * time.Hour), To: cases.Rejected, Note: "电话 13700001111"}); err != nil {
				return err
			}
			return tx.PutCase(c)
		},
		func(tx *Tx) error {
			c.State = cases.Appealed
			if err := tx.AppendEvent(c.ID, cases.Event{At: at.Add(3 * time.Hour), To: cases.Appealed}); err != nil {
				return err
			}
			return tx.PutCase(c)
		},
	}
	for i, step := range steps {
		if err := s.Update(step); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			continue // no record yet: the facts are not a case's
		}
		s.View(func(tx *Tx) error {
			full, err := tx.Case(c.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := full.Facts()
			got, err := tx.Facts(c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(norm(got), norm(want)) {
				t.Errorf("step %d: facts\n %+v\nwant\n %+v", i, got, want)
			}
			var n int
			tx.EachFacts(func(f *cases.Facts) error {
				n++
				return nil
			})
			if n != 1 {
				t.Errorf("step %d: EachFacts walked %d cases, want 1", i, n)
			}
			return nil
		})
	}
	s.View(func(tx *Tx) error {
		f, _ := tx.Facts(c.ID)
		if !f.Timeline.Appealed || f.Timeline.Decided.IsZero() || f.Outcome() != "open" || f.Satisfaction != 4 {
			t.Errorf("facts at the end: %+v", f)
		}
		raw := tx.tx.Bucket(bFacts).Get([]byte(c.ID))
		for _, p := range []string{"王五", "310101198001010018", "13700001111"} {
			if bytes.Contains(raw, []byte(p)) {
				t.Errorf("facts hold %q", p)
			}
		}
		return nil
	})
}

// A file of schema 2 gets its facts at the migration; before it, a reader (the CLI
// on a stopped desk) computes them from the cases.
func TestMigrationComputesFacts(t *testing.T) {
	path := t.TempDir() + "/db"
	s, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetSealer(&fakeSealer{keys: map[string][]byte{}})
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s.setSchema(schemaSealed)
	for i, st := range []cases.State{cases.Accepted, cases.Resolved, cases.Incomplete} {
		c := &cases.Case{ID: "TS-2026-00000" + string(rune('1'+i)), State: st, CreatedAt: at, Applicant: cases.Party{Name: "王五"}}
		s.Update(func(tx *Tx) error {
			if err := tx.AppendEvent(c.ID, cases.Event{At: at, To: st}); err != nil {
				return err
			}
			return tx.PutCase(c)
		})
	}
	s.db.Update(func(tx *bolt.Tx) error { // what schema 2 left: no facts at all
		if err := tx.DeleteBucket(bFacts); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bFacts)
		return err
	})
	states := func() map[cases.State]int {
		m := map[cases.State]int{}
		s.View(func(tx *Tx) error {
			return tx.EachFacts(func(f *cases.Facts) error {
				m[f.State]++
				return nil
			})
		})
		return m
	}
	want := map[cases.State]int{cases.Accepted: 1, cases.Resolved: 1, cases.Incomplete: 1}
	if got := states(); !reflect.DeepEqual(got, want) {
		t.Errorf("facts before the migration: %v, want %v", got, want)
	}
	rep, err := s.Migrate()
	if err != nil || rep.From != schemaSealed || rep.To != SchemaVersion || rep.Facts != 3 || rep.Compacted {
		t.Fatalf("migrate: %+v %v", rep, err)
	}
	if got := states(); !reflect.DeepEqual(got, want) {
		t.Errorf("facts after the migration: %v, want %v", got, want)
	}
	s.View(func(tx *Tx) error {
		if tx.tx.Bucket(bFacts).Stats().KeyN != 3 {
			t.Errorf("the migration stored %d facts", tx.tx.Bucket(bFacts).Stats().KeyN)
		}
		return nil
	})
}

// The binary form reads back what was written, and a damaged record is an error,
// not a panic.
func TestFactsCodec(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 123, time.UTC)
	f := cases.Facts{ID: "TS-2026-000001", State: cases.Closed, Department: "财经", Severity: cases.Major, CreatedAt: at,
		DueAt: at.Add(time.Hour), ContentKind: cases.News, ApplicantType: cases.Entrusted, Missing: []cases.Kind{"a", "b"},
		Satisfaction: 5, Erased: true, Timeline: cases.Timeline{FirstReplySent: at, Resolved: at.Add(time.Minute), Appealed: true, Surveyed: true}}
	v := encodeFacts(&f)
	var d factsDecoder
	var got cases.Facts
	if err := d.decode(v, &got); err != nil || !reflect.DeepEqual(got, f) {
		t.Fatalf("round trip: %+v %v\nwant %+v", got, err, f)
	}
	for i := range v {
		var x cases.Facts
		d.decode(v[:i], &x) // must not panic
		if err := d.decode(v[:i], &x); err == nil {
			t.Errorf("a record cut at %d bytes decoded", i)
		}
	}
}

func norm(f cases.Facts) cases.Facts {
	for _, t := range []*time.Time{&f.CreatedAt, &f.DueAt, &f.Timeline.FirstReplySent, &f.Timeline.Completed, &f.Timeline.Decided,
		&f.Timeline.Accepted, &f.Timeline.Rejected, &f.Timeline.Resolved, &f.Timeline.Ended} {
		*t = t.UTC()
	}
	if len(f.Missing) == 0 {
		f.Missing = nil
	}
	return f
}
