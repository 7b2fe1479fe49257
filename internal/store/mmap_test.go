package store

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// A long read (an online backup streamed to a slow client) held bbolt's mmap lock
// for reading, and any commit that grew the file past the mapping waited for it:
// intake and the outbox stalled for the length of the backup. The mapping is now
// made large at the open, so growing the file does not remap.
func TestLongReadDoesNotStallGrowingWrites(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "d.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !growingWritesPassALongRead(t, st, 30*time.Second) {
		t.Fatal("writes that grow the file waited for a long read")
	}
}

// growingWritesPassALongRead holds a read transaction open while it writes 64 MB in
// 1 MB values (far past the first mappings), and reports whether the writes finished
// within wait.
func growingWritesPassALongRead(t *testing.T, st *Store, wait time.Duration) bool {
	t.Helper()
	reading, release := make(chan struct{}), make(chan struct{})
	go st.View(func(*Tx) error {
		close(reading)
		<-release
		return nil
	})
	<-reading
	defer close(release)
	wrote := make(chan error, 1)
	go func() {
		for i := range 64 {
			err := st.Update(func(tx *Tx) error {
				return tx.tx.Bucket(bMeta).Put([]byte(fmt.Sprintf("grow/%03d", i)), bytes.Repeat([]byte{'x'}, 1<<20))
			})
			if err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
		return true
	case <-time.After(wait):
		return false
	}
}
