package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
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

// The automatic-reply counters: a list in the form before issue 18 is read, and
// moved into the new form when its counter records; the window drops old
// replies; a reply recorded out of order is put in its place; two replies at one
// instant both count.
func TestAutoReplyCounter(t *testing.T) {
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetSealer(&fakeSealer{keys: map[string][]byte{}})
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	cst := time.FixedZone("CST", 8*3600)
	legacy := []time.Time{t0, t0.Add(10 * time.Minute).In(cst), t0.Add(20 * time.Minute)}
	s.Update(func(tx *Tx) error { return tx.put(bAutoReply, tx.lookup("desk:*"), legacy) })
	err = s.Update(func(tx *Tx) error {
		if n, err := tx.AutoReplyCount("DESK:*", t0.Add(5*time.Minute)); err != nil || n != 2 {
			t.Errorf("count of the old list %d, %v; want 2", n, err)
		}
		if err := tx.RecordAutoReply("desk:*", t0.Add(15*time.Minute), t0.Add(5*time.Minute)); err != nil {
			return err
		}
		if err := tx.RecordAutoReply("desk:*", t0.Add(30*time.Minute), t0.Add(5*time.Minute)); err != nil {
			return err
		}
		return tx.RecordAutoReply("desk:*", t0.Add(30*time.Minute), t0.Add(5*time.Minute))
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{t0.Add(10 * time.Minute), t0.Add(15 * time.Minute), t0.Add(20 * time.Minute), t0.Add(30 * time.Minute), t0.Add(30 * time.Minute)}
	s.View(func(tx *Tx) error {
		if v := tx.tx.Bucket(bAutoReply).Get([]byte(tx.lookup("desk:*"))); v != nil {
			t.Errorf("the old list stays after its counter recorded: %s", v)
		}
		got, err := tx.AutoReplies("desk:*", t0)
		if err != nil || len(got) != len(want) {
			t.Fatalf("window %v, %v; want %v", got, err, want)
		}
		for i := range want {
			if !got[i].Equal(want[i]) {
				t.Errorf("window %v, want %v", got, want)
			}
		}
		for _, c := range []struct {
			since time.Time
			want  int
		}{{t0, 5}, {t0.Add(15 * time.Minute), 3}, {t0.Add(16 * time.Minute), 3}, {t0.Add(30 * time.Minute), 0}} {
			if n, err := tx.AutoReplyCount("desk:*", c.since); err != nil || n != c.want {
				t.Errorf("count since %v: %d, %v; want %d", c.since.Format(time.Kitchen), n, err, c.want)
			}
		}
		if n, err := tx.AutoReplyCount("nobody@people.test", t0); err != nil || n != 0 {
			t.Errorf("unknown sender: %d, %v", n, err)
		}
		return nil
	})
	// A record drops what left the window: the count and the file agree.
	s.Update(func(tx *Tx) error {
		return tx.RecordAutoReply("desk:*", t0.Add(40*time.Minute), t0.Add(20*time.Minute))
	})
	s.View(func(tx *Tx) error {
		if n, err := tx.AutoReplyCount("desk:*", time.Time{}); err != nil || n != 3 {
			t.Errorf("after the window moved: %d, %v; want 3 (30, 30, 40 min)", n, err)
		}
		instants := 0
		tx.counted(tx.counterKey("desk:*"), lastInstant, func([]byte, time.Time, uint64) { instants++ })
		if instants != 2 {
			t.Errorf("%d instants kept, want 2", instants)
		}
		return nil
	})
}

// Counters whose keys begin alike (without a sealer the keys are the addresses
// themselves, and the staff caps are "notify\x00" + address) never count each
// other's replies.
func TestAutoReplyCountersApart(t *testing.T) {
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	keys := []string{"notify", "notify\x00", "notify\x00a@desk.test", "notify\x00a@desk.test\x00", "n"}
	s.Update(func(tx *Tx) error {
		for i, k := range keys {
			for j := 0; j <= i; j++ {
				if err := tx.RecordAutoReply(k, t0.Add(time.Duration(j)*time.Second), t0.Add(-time.Hour)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	s.View(func(tx *Tx) error {
		for i, k := range keys {
			if n, err := tx.AutoReplyCount(k, t0.Add(-time.Hour)); err != nil || n != i+1 {
				t.Errorf("%q counts %d, %v; want %d", k, n, err, i+1)
			}
			if got, _ := tx.AutoReplies(k, t0.Add(-time.Hour)); len(got) != i+1 {
				t.Errorf("%q lists %d replies, want %d", k, len(got), i+1)
			}
		}
		return nil
	})
}

// BenchmarkAutoReply: the check and the record of one automatic reply against a
// desk-wide counter already holding 2,000 or 20,000 replies of the window (a cap
// raised for a backlog). The cost should not depend on the count.
func BenchmarkAutoReply(b *testing.B) {
	for _, held := range []int{2000, 20000} {
		b.Run(fmt.Sprint(held), func(b *testing.B) {
			s, err := Open(b.TempDir()+"/db", time.Second)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
			s.Update(func(tx *Tx) error {
				for i := range held {
					if err := tx.RecordAutoReply("desk:*", t0.Add(time.Duration(i)*time.Millisecond), t0.Add(-time.Hour)); err != nil {
						return err
					}
				}
				return nil
			})
			b.ResetTimer()
			for b.Loop() {
				tx, err := s.db.Begin(true) // rolled back: the counter stays as it is
				if err != nil {
					b.Fatal(err)
				}
				st := &Tx{tx: tx}
				if n, err := st.AutoReplyCount("desk:*", t0.Add(-time.Hour)); err != nil || n != held {
					b.Fatalf("%d %v", n, err)
				}
				if err := st.RecordAutoReply("desk:*", t0.Add(time.Hour/2), t0.Add(-time.Hour)); err != nil {
					b.Fatal(err)
				}
				tx.Rollback()
			}
		})
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

// The planner's view of the pending replies: every clear field as EachPending
// reads it, without the mail, and without the recipients of a case's reply.
func TestEachPendingHead(t *testing.T) {
	for _, sealed := range []bool{false, true} {
		s, err := Open(t.TempDir()+"/db", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if sealed {
			s.SetSealer(&fakeSealer{keys: map[string][]byte{}})
		}
		t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
		mail := json.RawMessage(`{"subject":"回执","sealed":"no"}`)
		s.Update(func(tx *Tx) error {
			tx.Enqueue(&OutboxEntry{Kind: "ack", Case: "TS-2026-000001", Mail: mail, MessageID: "<a@desk.test>", To: []string{"a@people.test"},
				Attempts: 2, NextAt: t0.Add(time.Minute), LastError: "421 busy", CreatedAt: t0})
			tx.Enqueue(&OutboxEntry{Kind: "alert", Mail: mail, MessageID: "<b@desk.test>", To: []string{"admin@desk.test"}, CreatedAt: t0})
			sent := &OutboxEntry{Kind: "ack", Case: "TS-2026-000002", Mail: mail, To: []string{"c@people.test"}, CreatedAt: t0}
			tx.Enqueue(sent)
			sent.State = OutboxSent
			return tx.PutOutbox(sent)
		})
		var full, heads []*OutboxEntry
		s.View(func(tx *Tx) error {
			tx.EachPending(func(e *OutboxEntry) error { full = append(full, e); return nil })
			return tx.EachPendingHead(func(e *OutboxEntry) error { heads = append(heads, e); return nil })
		})
		s.Close()
		if len(heads) != 2 || len(full) != 2 {
			t.Fatalf("sealed %v: %d heads, %d entries; want 2", sealed, len(heads), len(full))
		}
		for i, h := range heads {
			want := *full[i]
			want.Mail = nil
			if want.Case != "" {
				want.To = nil
			}
			got, _ := json.Marshal(h)
			exp, _ := json.Marshal(&want)
			if string(got) != string(exp) {
				t.Errorf("sealed %v: head\n%s\nwant\n%s", sealed, got, exp)
			}
		}
		if heads[1].To[0] != "admin@desk.test" || heads[0].Attempts != 2 || !heads[0].NextAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("sealed %v: heads %+v %+v", sealed, heads[0], heads[1])
		}
	}
}

// BenchmarkPendingScan: one planner pass over 500 sealed pending replies of about
// 20 KB each, reading them whole (EachPending) or only their heads.
func BenchmarkPendingScan(b *testing.B) {
	s, err := Open(b.TempDir()+"/db", time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.SetSealer(&fakeSealer{keys: map[string][]byte{}})
	mail, _ := json.Marshal(map[string]string{"subject": "回执", "text": strings.Repeat("您的投诉已登记，我们将尽快处理。", 700)})
	s.Update(func(tx *Tx) error {
		for i := range 500 {
			e := &OutboxEntry{Kind: "ack", Case: fmt.Sprintf("TS-2026-%06d", i), Mail: mail, To: []string{"a@people.test"}, CreatedAt: time.Now()}
			if err := tx.Enqueue(e); err != nil {
				return err
			}
		}
		return nil
	})
	for name, each := range map[string]func(*Tx, func(*OutboxEntry) error) error{"full": (*Tx).EachPending, "head": (*Tx).EachPendingHead} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				n := 0
				s.View(func(tx *Tx) error { return each(tx, func(*OutboxEntry) error { n++; return nil }) })
				if n != 500 {
					b.Fatal(n)
				}
			}
		})
	}
}

// The pending index holds each entry's head: a planner pass and OutboxStats read
// the index, not the entries (whose pages would otherwise all be mapped). An index
// written before it held heads (empty values) is read through the entries.
func TestPendingIndexHoldsHeads(t *testing.T) {
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetSealer(&fakeSealer{keys: map[string][]byte{}})
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	mail := json.RawMessage(`{"subject":"回执"}`)
	s.Update(func(tx *Tx) error {
		tx.Enqueue(&OutboxEntry{Kind: "ack", Case: "TS-2026-000001", Mail: mail, To: []string{"a@people.test"}, NextAt: t0, CreatedAt: t0})
		return tx.Enqueue(&OutboxEntry{Kind: "ack", Case: "TS-2026-000002", Mail: mail, To: []string{"b@people.test"}, NextAt: t0, CreatedAt: t0.Add(time.Hour)})
	})
	var k1, k2 [8]byte
	binary.BigEndian.PutUint64(k1[:], 1)
	binary.BigEndian.PutUint64(k2[:], 2)
	// Entry 1's own record is unreadable: only the index can answer for it.
	// Entry 2's index value is empty, as an older version wrote it.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bOutbox).Put(k1[:], []byte("not json")); err != nil {
			return err
		}
		return tx.Bucket(bPending).Put(k2[:], nil)
	}); err != nil {
		t.Fatal(err)
	}
	var cases []string
	if err := s.View(func(tx *Tx) error {
		return tx.EachPendingHead(func(e *OutboxEntry) error {
			if e.To != nil || e.Mail != nil {
				t.Errorf("head of %d carries the mail or the recipients: %+v", e.Seq, e)
			}
			cases = append(cases, e.Case)
			return nil
		})
	}); err != nil {
		t.Fatalf("heads: %v", err)
	}
	if !slices.Equal(cases, []string{"TS-2026-000001", "TS-2026-000002"}) {
		t.Fatalf("heads for %q", cases)
	}
	var byState map[string]int
	var oldest time.Time
	if err := s.View(func(tx *Tx) error { byState, oldest, err = tx.OutboxStats(); return err }); err != nil {
		t.Fatalf("stats: %v", err)
	}
	if byState[OutboxPending] != 2 || !oldest.Equal(t0) {
		t.Fatalf("stats %v, oldest %v", byState, oldest)
	}
}

// countingSealer counts the records it seals.
type countingSealer struct {
	fakeSealer
	sealed int
}

func (c *countingSealer) SealRecord(caseID string, plain []byte) ([]byte, error) {
	c.sealed++
	return c.fakeSealer.SealRecord(caseID, plain)
}

// Recording an attempt on a reply read from the store keeps its sealed mail as it
// is (the same bytes, sealed once); a reply whose mail or recipients changed is
// sealed anew, and each reads back as written.
func TestOutboxRewriteKeepsTheSealedMail(t *testing.T) {
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sealer := &countingSealer{fakeSealer: fakeSealer{keys: map[string][]byte{}}}
	s.SetSealer(sealer)
	mail := json.RawMessage(`{"subject":"回执","text":"您的投诉已登记。"}`)
	e := &OutboxEntry{Kind: "ack", Case: "TS-2026-000001", Mail: mail, To: []string{"a@people.test"}, CreatedAt: time.Now()}
	if err := s.Update(func(tx *Tx) error { return tx.Enqueue(e) }); err != nil {
		t.Fatal(err)
	}
	stored := func() []byte {
		t.Helper()
		var so storedOutbox
		s.View(func(tx *Tx) error {
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], e.Seq)
			return json.Unmarshal(tx.tx.Bucket(bOutbox).Get(k[:]), &so)
		})
		if so.Sealed == nil || (so.Mail != nil && string(so.Mail) != "null") {
			t.Fatalf("the stored entry is not sealed: %+v", so)
		}
		return so.Sealed
	}
	read := func() *OutboxEntry {
		t.Helper()
		var got *OutboxEntry
		if err := s.View(func(tx *Tx) (err error) { got, err = tx.OutboxEntry(e.Seq); return err }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	first, seals := stored(), sealer.sealed

	got := read()
	got.State, got.Attempts, got.SentAt = OutboxSent, 1, time.Now()
	if err := s.Update(func(tx *Tx) error { return tx.PutOutbox(got) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stored(), first) || sealer.sealed != seals {
		t.Errorf("recording an attempt sealed the mail again (%d seals, want %d)", sealer.sealed, seals)
	}
	if again := read(); again.State != OutboxSent || string(again.Mail) != string(mail) || !slices.Equal(again.To, e.To) {
		t.Errorf("read back %+v", again)
	}

	for name, change := range map[string]func(*OutboxEntry){
		"mail": func(e *OutboxEntry) { e.Mail = json.RawMessage(`{"subject":"更正"}`) },
		"to":   func(e *OutboxEntry) { e.To = []string{"b@people.test"} },
		// The same backing array, changed in place: still a new mail.
		"mail in place": func(e *OutboxEntry) { copy(e.Mail[2:], "SUBJECT") },
	} {
		got := read()
		change(got)
		want := *got
		before := stored()
		if err := s.Update(func(tx *Tx) error { return tx.PutOutbox(got) }); err != nil {
			t.Fatal(err)
		}
		if slices.Equal(stored(), before) {
			t.Errorf("%s changed: the old sealed bytes were kept", name)
		}
		if again := read(); string(again.Mail) != string(want.Mail) || !slices.Equal(again.To, want.To) {
			t.Errorf("%s changed: read back mail %s to %v, want %s %v", name, again.Mail, again.To, want.Mail, want.To)
		}
	}
}
