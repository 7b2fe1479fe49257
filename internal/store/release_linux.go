package store

import (
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
