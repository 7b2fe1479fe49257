package store

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
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

// The pages a transaction read stop counting in the RSS after an Update (at most
// once a second), and every value reads back intact afterwards.
func TestUpdateReleasesMappedPages(t *testing.T) {
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n, size = 64, 512 << 10 // 32 MiB of values
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
	readAll := func() {
		t.Helper()
		s.View(func(tx *Tx) error {
			for i := range n {
				if v := tx.tx.Bucket(bMeta).Get([]byte(fmt.Sprint("blob", i))); !bytes.Equal(v, value(i)) {
					t.Fatalf("blob %d reads back wrong", i)
				}
			}
			return nil
		})
	}
	readAll()
	before := rssFileKiB(t)
	s.released.Store(0) // the last release is long ago
	if err := s.Update(func(*Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	after := rssFileKiB(t)
	// Within a second of the last release, an Update releases nothing.
	last := s.released.Load()
	s.Update(func(*Tx) error { return nil })
	if got := s.released.Load(); got != last && time.Duration(got-last) < releaseEvery {
		t.Error("a second release within releaseEvery")
	}
	if before-after < 24<<10 {
		t.Errorf("file-backed RSS %d KiB -> %d KiB after the release; want at least 24 MiB less", before, after)
	}
	readAll()
}
