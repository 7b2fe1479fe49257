package vault

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFS flushes the whole file system holding dir with one syncfs(2): cheaper than an
// fsync per attachment file and per directory, and it covers renames too.
func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

// startWriteback asks the kernel to start writing f's dirty pages (it does not wait,
// and makes nothing durable: Flush does).
func startWriteback(f *os.File) {
	unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}

// linkedElsewhere reports whether the file at path has another name too (a hard
// link).
func linkedElsewhere(path string) bool {
	var st unix.Stat_t
	return unix.Stat(path, &st) == nil && st.Nlink > 1
}

// settle punches the given byte ranges ([offset, length]) out of a file and drops its
// clean cached pages (dirty ones stay: call it after a sync). Best effort: a failure
// costs only disk or memory.
func settle(path string, holes [][2]int64) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer f.Close()
	for _, h := range holes {
		punch(f, h[0], h[1])
	}
	unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

// punch deallocates [off, off+length) of f, keeping its size.
func punch(f *os.File, off, length int64) error {
	return unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, length)
}
