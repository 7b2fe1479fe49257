// SPDX-License-Identifier: MIT

package store

import (
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/complaintd/complaintd/internal/cases"
)

// A file of schema 3 keeps facts of record version 1, which do not know when the
// deadline running now started: stats over them would miss a case overdue under
// appeal. Until the migration a reader computes the facts from the cases; the
// migration computes them anew; version 1 records still decode.
func TestSchema3FactsAreComputedAnewWithTheClockStart(t *testing.T) {
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.MarkCurrent(); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	appealedAt := at.Add(48 * time.Hour)
	c := &cases.Case{ID: "TS-2026-000001", State: cases.Appealed, CreatedAt: at}
	if err := s.Update(func(tx *Tx) error {
		for _, e := range []cases.Event{
			{At: at, Type: cases.EventCreated, To: cases.Incomplete},
			{At: at.Add(time.Hour), Type: cases.EventState, From: cases.Incomplete, To: cases.PendingReview},
			{At: at.Add(24 * time.Hour), Type: cases.EventOf(cases.Reject), From: cases.PendingReview, To: cases.Rejected},
			{At: appealedAt, Type: cases.EventOf(cases.Appeal), From: cases.Rejected, To: cases.Appealed},
		} {
			if err := tx.AppendEvent(c.ID, e); err != nil {
				return err
			}
		}
		return tx.PutCase(c)
	}); err != nil {
		t.Fatal(err)
	}
	// What a build of schema 3 left: the same facts in record version 1.
	var v1 []byte
	if err := s.db.Update(func(tx *bolt.Tx) error {
		v2 := tx.Bucket(bFacts).Get([]byte(c.ID))
		if v2[0] != 2 || v2[len(v2)-2] == 0 {
			t.Fatalf("record version %d, clock start byte %d: want version 2 with the appeal's time", v2[0], v2[len(v2)-2])
		}
		var f cases.Facts
		var d factsDecoder
		if err := d.decode(v2, &f); err != nil {
			return err
		}
		f.Timeline.ClockStarted = time.Time{}
		w := encodeFacts(&f) // the clock start encodes as one zero byte before the flags
		v1 = append(append([]byte{1}, w[1:len(w)-2]...), w[len(w)-1])
		return tx.Bucket(bFacts).Put([]byte(c.ID), v1)
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.setSchema(schemaFacts); err != nil {
		t.Fatal(err)
	}
	var old cases.Facts
	var d factsDecoder
	if err := d.decode(v1, &old); err != nil || old.State != cases.Appealed || !old.Timeline.Appealed || !old.Timeline.ClockStarted.IsZero() {
		t.Fatalf("a version 1 record reads %+v, %v", old, err)
	}
	clockStart := func(when string) {
		t.Helper()
		s.View(func(tx *Tx) error {
			n := 0
			err := tx.EachFacts(func(f *cases.Facts) error {
				n++
				if !f.Timeline.ClockStarted.Equal(appealedAt) {
					t.Errorf("%s: the facts say the running deadline started %v, want the appeal %v", when, f.Timeline.ClockStarted, appealedAt)
				}
				return nil
			})
			if err != nil || n != 1 {
				t.Errorf("%s: %d facts, %v", when, n, err)
			}
			return nil
		})
	}
	clockStart("before the migration")
	rep, err := s.Migrate()
	if err != nil || rep.From != schemaFacts || rep.To != SchemaVersion || rep.Facts != 1 {
		t.Fatalf("migrate: %+v %v", rep, err)
	}
	clockStart("after the migration")
}
