//go:build unix

package imapsource

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps the first size bytes of path (created 0600, extended with zeros)
// shared, so that what is written survives the process. The mapping lives as long as
// the process.
func mapFile(path string, size int) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Every page is written once, so the file system holds its blocks: a store of a
	// page of the mapping with no block behind it on a full disk is a SIGBUS that kills
	// the process (a sparse file, made by a truncate, has none). What an earlier
	// process left is kept.
	buf := make([]byte, size)
	if _, err := f.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read: %w", err)
	}
	if _, err := f.WriteAt(buf, 0); err != nil {
		return nil, fmt.Errorf("allocate: %w", err)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	return mem, nil
}
