package store

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
)

// rssFileKiB is this process's file-backed RSS (RssFile in /proc/self/status).
func rssFileKiB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "RssFile:" {
			v, _ := strconv.Atoi(f[1])
			return v
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// blobStore is a store holding 32 MiB of values, and readAll, which reads every one
// (through bbolt, not Tx.read, which releases as it goes) and returns the
// file-backed RSS at its end, inside the transaction.
func blobStore(t *testing.T) (s *Store, readAll func(*Tx) int) {
	t.Helper()
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	const n, size = 64, 512 << 10
	value := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, size) }
	err = s.Update(func(tx *Tx) error {
		for i := range n {
			if err := tx.tx.Bucket(bMeta).Put([]byte(fmt.Sprint("blob", i)), value(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, func(tx *Tx) int {
		t.Helper()
		for i := range n {
			if v := tx.tx.Bucket(bMeta).Get([]byte(fmt.Sprint("blob", i))); !bytes.Equal(v, value(i)) {
				t.Fatalf("blob %d reads back wrong", i)
			}
		}
		return rssFileKiB(t)
	}
}

// The pages a transaction read stop counting in the RSS when it ends, read or
// write, once they passed releaseGrowth, not before; and every value reads back
// intact afterwards.
func TestTransactionsReleaseMappedPages(t *testing.T) {
	s, readAll := blobStore(t)
	s.stopWatching() // each transaction's own release, not the watcher's
	for _, kind := range []string{"read", "write"} {
		var inside int
		do := s.View
		if kind == "write" {
			do = s.Update
		}
		if err := do(func(tx *Tx) error { inside = readAll(tx); return nil }); err != nil {
			t.Fatal(err)
		}
		if after := rssFileKiB(t); inside-after < 24<<10 {
			t.Errorf("%s transaction: file-backed RSS %d KiB at its end -> %d KiB after it; want at least 24 MiB less", kind, inside, after)
		}
	}
	// With nothing read since, the next transactions have nothing to give back.
	released := s.mapped.releases.Load()
	s.Update(func(*Tx) error { return nil })
	s.View(func(*Tx) error { return nil })
	if got := s.mapped.releases.Load(); got != released {
		t.Errorf("%d releases after transactions that mapped nothing", got-released)
	}
	s.View(func(tx *Tx) error { readAll(tx); return nil })
}

// While a long write transaction runs, the watcher gives back what it mapped: a
// group commit does not hold its pages until it ends.
func TestWatcherReleasesDuringAWrite(t *testing.T) {
	s, readAll := blobStore(t)
	s.stopWatching()
	err := s.Update(func(tx *Tx) error {
		inside := readAll(tx)
		s.startWatching()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(watchEvery) {
			if now := rssFileKiB(t); inside-now >= 24<<10 {
				return nil
			}
		}
		return fmt.Errorf("the file-backed RSS stayed at %d KiB while the write transaction ran", inside)
	})
	if err != nil {
		t.Error(err)
	}
	s.View(func(tx *Tx) error { readAll(tx); return nil }) // intact
}

// A read transaction that walks many records, like the deadlines job reading every
// open case of a 10,000-mail backlog, keeps only a few MiB of the file mapped at a
// time: the pages it has read are given back as it goes (issue 18: 58 MiB of
// file-backed RSS at 10,000 mails, growing with the store).
func TestLongReadKeepsTheMappingSmall(t *testing.T) {
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetSealer(&fakeSealer{keys: map[string][]byte{}})
	const n = 3000 // about 16 KiB each sealed: 48 MiB of cases
	reason := strings.Repeat("该文章捏造事实，严重侵害本人名誉权，请予删除。", 300)
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for from := 0; from < n; from += 500 {
		err := s.Update(func(tx *Tx) error {
			for i := from; i < from+500; i++ {
				c := &cases.Case{ID: fmt.Sprintf("TS-2026-%06d", i+1), State: cases.PendingReview, CreatedAt: at}
				c.Request.Reason = reason
				if err := tx.PutCase(c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	s.Update(func(*Tx) error { return nil }) // nothing mapped from the writes
	base, peak, read := rssFileKiB(t), 0, 0
	err = s.View(func(tx *Tx) error {
		return tx.EachFacts(func(f *cases.Facts) error {
			c, err := tx.Case(f.ID)
			if err != nil {
				return err
			}
			if c.Request.Reason != reason {
				return fmt.Errorf("case %s reads back wrong", f.ID)
			}
			read++
			peak = max(peak, rssFileKiB(t)-base)
			return nil
		})
	})
	if err != nil || read != n {
		t.Fatalf("read %d of %d cases: %v", read, n, err)
	}
	t.Logf("reading %d cases mapped %d KiB at the peak", n, peak)
	if peak > 16<<10 {
		t.Errorf("reading %d cases mapped %d KiB at the peak; want under 16 MiB", n, peak)
	}
}
