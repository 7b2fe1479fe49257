package store

import (
	"bytes"
	"os"
	"strconv"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// releaseMapped drops this process's mapping of the database's pages with
// madvise(MADV_DONTNEED). bbolt maps the file read-only and shared and writes with
// pwrite, so the pages hold nothing but the file's contents: they stay in the page
// cache and a later read faults them back in. It must run inside a read
// transaction, which keeps bbolt from remapping the file meanwhile.
func releaseMapped(db *bolt.DB, tx *bolt.Tx) error {
	if size := tx.Size(); size > 0 {
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, db.Info().Data, uintptr(size), unix.MADV_DONTNEED); errno != 0 {
			return errno
		}
	}
	return nil
}

// mappedGauge reads how many file-backed pages the process has mapped: the third
// field of /proc/self/statm (RssFile + RssShmem, in pages), one pread of a file kept
// open. The store's mapping is the part of it that grows: the binary and its
// libraries stay put once warm.
type mappedGauge struct {
	statm *os.File
	mark  atomic.Int64 // the pages mapped right after the last release
	// releases counts the releases it allowed (tests).
	releases atomic.Int64
}

func newMappedGauge() *mappedGauge {
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		return nil // no procfs: the pages stay mapped until the kernel reclaims them
	}
	g := &mappedGauge{statm: f}
	if n, ok := g.pages(); ok {
		g.mark.Store(n)
	}
	return g
}

func (g *mappedGauge) pages() (int64, bool) {
	var buf [160]byte
	n, _ := g.statm.ReadAt(buf[:], 0) // io.EOF with the whole (short) file read
	f := bytes.Fields(buf[:n])
	if len(f) < 3 {
		return 0, false
	}
	v, err := strconv.ParseInt(string(f[2]), 10, 64)
	return v, err == nil
}

// grown reports whether the pages mapped since the last release reached
// releaseGrowth.
func (g *mappedGauge) grown() bool {
	if g == nil {
		return false
	}
	n, ok := g.pages()
	return ok && (n-g.mark.Load())*int64(os.Getpagesize()) >= releaseGrowth
}

// release gives the mapped pages back and takes the new mark; tx is a read
// transaction (see releaseMapped).
func (g *mappedGauge) release(db *bolt.DB, tx *bolt.Tx) {
	if releaseMapped(db, tx) != nil { // best effort: the pages stay mapped, as before
		return
	}
	g.releases.Add(1)
	if n, ok := g.pages(); ok {
		g.mark.Store(n)
	}
}

func (g *mappedGauge) close() {
	if g != nil {
		g.statm.Close()
	}
}
