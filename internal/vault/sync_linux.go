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
