package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// With a sealer the oldest pending reply is still found among sealed case replies
// and clear alerts, whatever order they were queued in, and whatever the rendered
// mail says (a "created_at" inside it is not the entry's).
func TestOutboxStatsSealed(t *testing.T) {
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetSealer(&fakeSealer{keys: map[string][]byte{}})
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	decoy := json.RawMessage(`{"created_at":"1999-01-01T00:00:00Z","body":"\"created_at\":\"1998-01-01T00:00:00Z\""}`)
	entries := []*OutboxEntry{
		{Kind: "ack", Case: "TS-2026-000001", Mail: decoy, To: []string{"a@people.test"}, CreatedAt: t0.Add(3 * time.Minute)},
		{Kind: "alert", Mail: decoy, To: []string{"admin@desk.test"}, CreatedAt: t0.Add(time.Minute)},
		{Kind: "ack", Case: "TS-2026-000002", Mail: decoy, To: []string{"b@people.test"}, CreatedAt: t0.Add(2 * time.Minute)},
		{Kind: "ack", Case: "TS-2026-000003", Mail: decoy, To: []string{"c@people.test"}, CreatedAt: t0},
	}
	if err := s.Update(func(tx *Tx) error {
		for _, e := range entries {
			if err := tx.Enqueue(e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check := func(wantPending int, wantOldest time.Time) {
		t.Helper()
		s.View(func(tx *Tx) error {
			by, oldest, err := tx.OutboxStats()
			if err != nil || by[OutboxPending] != wantPending || !oldest.Equal(wantOldest) {
				t.Errorf("stats %v oldest %v err %v; want %d pending, oldest %v", by, oldest, err, wantPending, wantOldest)
			}
			return nil
		})
	}
	check(4, t0)
	entries[3].State = OutboxSent
	s.Update(func(tx *Tx) error { return tx.PutOutbox(entries[3]) })
	check(3, t0.Add(time.Minute)) // the clear alert
	entries[1].State = OutboxSent
	s.Update(func(tx *Tx) error { return tx.PutOutbox(entries[1]) })
	check(2, t0.Add(2*time.Minute))
}

// BenchmarkOutboxStats: one /metrics scrape with 500 sealed replies pending, each
// carrying a rendered mail of about 20 KB (issue 18's backlog keeps hundreds
// pending while it ingests).
func BenchmarkOutboxStats(b *testing.B) {
	s, err := Open(b.TempDir()+"/db", time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.SetSealer(&fakeSealer{keys: map[string][]byte{}})
	mail, _ := json.Marshal(map[string]string{"subject": "回执", "text": strings.Repeat("您的投诉已登记，我们将尽快处理。", 700)})
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s.Update(func(tx *Tx) error {
		for i := range 500 {
			e := &OutboxEntry{Kind: "ack", Case: fmt.Sprintf("TS-2026-%06d", i), Mail: mail, To: []string{"a@people.test"}, CreatedAt: t0.Add(time.Duration(i) * time.Second)}
			if err := tx.Enqueue(e); err != nil {
				return err
			}
		}
		return nil
	})
	b.ResetTimer()
	for b.Loop() {
		s.View(func(tx *Tx) error {
			by, oldest, err := tx.OutboxStats()
			if err != nil || by[OutboxPending] != 500 || !oldest.Equal(t0) {
				b.Fatalf("stats %v oldest %v err %v", by, oldest, err)
			}
			return nil
		})
	}
}
