// SPDX-License-Identifier: MIT

package store

import (
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
)

// Until the dispatcher wrote reply_sent events in clear, their note — the kind of mail
// sent — was sealed with the rest of the event. The migration to schema 4 computes
// every case's facts anew, and it read the log without opening anything sealed: every
// reply_sent was of no kind, and so an acknowledgement, the staff notification sent
// before it included. A case whose acknowledgement was held by the rate limit counted
// as acknowledged when the staff were notified, as the facts of a new case no longer
// do.
func TestMigrationTellsAStaffNotificationFromAnAcknowledgement(t *testing.T) {
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetSealer(&fakeSealer{keys: map[string][]byte{}})
	if err := s.MarkCurrent(); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c := &cases.Case{ID: "TS-2026-000001", State: cases.PendingReview, CreatedAt: at}
	if err := s.Update(func(tx *Tx) error {
		for _, e := range []cases.Event{
			{At: at, Type: cases.EventCreated, To: cases.Incomplete},
			{At: at, Type: cases.EventState, From: cases.Incomplete, To: cases.PendingReview},
			// As the dispatcher wrote it before: sealed.
			{At: at.Add(time.Minute), Type: cases.EventReplySent, Actor: "desk", Note: "staff_notification"},
		} {
			if err := tx.AppendEvent(c.ID, e); err != nil {
				return err
			}
		}
		return tx.PutCase(c)
	}); err != nil {
		t.Fatal(err)
	}
	ack := func(when string) {
		t.Helper()
		s.View(func(tx *Tx) error {
			f, err := tx.Facts(c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !f.Timeline.FirstReplySent.IsZero() {
				t.Errorf("%s: the case counts as acknowledged at %v by its staff notification; its complainant got nothing", when, f.Timeline.FirstReplySent)
			}
			return nil
		})
	}
	ack("as written")
	if err := s.setSchema(schemaFacts); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(); err != nil {
		t.Fatal(err)
	}
	ack("after the migration")
}
