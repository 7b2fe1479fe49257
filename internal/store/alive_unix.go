//go:build unix

package store

import "syscall"

// processAlive reports whether pid names a running process (signal 0 probes it).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
