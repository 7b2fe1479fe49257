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

// The automatic-reply counters keep their stored form (time.Time's JSON, in time
// order): a list written before is read, the window drops old entries, and a
// reply recorded out of order is put in its place.
func TestAutoReplyCounter(t *testing.T) {
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	cst := time.FixedZone("CST", 8*3600)
	legacy := []time.Time{t0, t0.Add(10 * time.Minute).In(cst), t0.Add(20 * time.Minute)}
	s.Update(func(tx *Tx) error { return tx.put(bAutoReply, tx.lookup("desk:*"), legacy) })
	err = s.Update(func(tx *Tx) error {
		if n, err := tx.AutoReplyCount("DESK:*", t0.Add(5*time.Minute)); err != nil || n != 2 {
			t.Errorf("count %d, %v; want 2", n, err)
		}
		if err := tx.RecordAutoReply("desk:*", t0.Add(15*time.Minute), t0.Add(5*time.Minute)); err != nil {
			return err
		}
		return tx.RecordAutoReply("desk:*", t0.Add(30*time.Minute), t0.Add(5*time.Minute))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		var stored []time.Time
		if err := tx.get(bAutoReply, tx.lookup("desk:*"), &stored); err != nil {
			t.Fatal(err)
		}
		want := []time.Time{t0.Add(10 * time.Minute), t0.Add(15 * time.Minute), t0.Add(20 * time.Minute), t0.Add(30 * time.Minute)}
		if len(stored) != len(want) {
			t.Fatalf("stored %v, want %v", stored, want)
		}
		for i := range want {
			if !stored[i].Equal(want[i]) {
				t.Errorf("stored %v, want %v", stored, want)
			}
		}
		got, err := tx.AutoReplies("desk:*", t0.Add(16*time.Minute))
		if err != nil || len(got) != 2 || !got[0].Equal(want[2]) {
			t.Errorf("recent %v, %v; want the last two", got, err)
		}
		if n, err := tx.AutoReplyCount("nobody@people.test", t0); err != nil || n != 0 {
			t.Errorf("unknown sender: %d, %v", n, err)
		}
		return nil
	})
}

// BenchmarkAutoReply: the check and the record of one automatic reply against a
// desk-wide counter already holding 2,000 replies of the window.
func BenchmarkAutoReply(b *testing.B) {
	s, err := Open(b.TempDir()+"/db", time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s.Update(func(tx *Tx) error {
		for i := range 2000 {
			if err := tx.RecordAutoReply("desk:*", t0.Add(time.Duration(i)*time.Millisecond), t0.Add(-time.Hour)); err != nil {
				return err
			}
		}
		return nil
	})
	b.ResetTimer()
	for b.Loop() {
		tx, err := s.db.Begin(true) // rolled back: the list stays at 2,000

		if err != nil {
			b.Fatal(err)
		}
		st := &Tx{tx: tx}
		if n, err := st.AutoReplyCount("desk:*", t0.Add(-time.Hour)); err != nil || n != 2000 {
			b.Fatalf("%d %v", n, err)
		}
		if err := st.RecordAutoReply("desk:*", t0.Add(time.Hour/2), t0.Add(-time.Hour)); err != nil {
			b.Fatal(err)
		}
		tx.Rollback()
	}
}

// A counter in another JSON layout (spaces, as a hand edit or another encoder
// leaves it) is still read; a broken one is an error, not a silent zero.
func TestAutoReplyCounterOtherLayouts(t *testing.T) {
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Update(func(tx *Tx) error {
		b := tx.tx.Bucket(bAutoReply)
		b.Put([]byte(tx.lookup("a@people.test")), []byte(`[ "2026-11-27T01:00:00Z", "2026-11-27T10:30:00+08:00" ]`))
		b.Put([]byte(tx.lookup("b@people.test")), []byte(`["2026-11-27T10:00:00Z",]`))
		b.Put([]byte(tx.lookup("c@people.test")), []byte(`["yesterday"]`))
		return nil
	})
	s.View(func(tx *Tx) error {
		since := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
		if n, err := tx.AutoReplyCount("a@people.test", since); err != nil || n != 2 {
			t.Errorf("spaced list: %d, %v; want 2", n, err)
		}
		if n, err := tx.AutoReplyCount("a@people.test", since.Add(2*time.Hour+15*time.Minute)); err != nil || n != 1 {
			t.Errorf("spaced list after 02:15 UTC: %d, %v; want 1", n, err)
		}
		for _, who := range []string{"b@people.test", "c@people.test"} {
			if _, err := tx.AutoReplyCount(who, since); err == nil {
				t.Errorf("%s: a broken counter read without error", who)
			}
		}
		return nil
	})
}
