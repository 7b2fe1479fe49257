//go:build !linux

package store

import bolt "go.etcd.io/bbolt"

// releaseMapped is Linux-only (madvise on the file's mapping); elsewhere the
// mapped pages stay counted in the RSS until the kernel reclaims them.
func releaseMapped(*bolt.DB, *bolt.Tx) error { return nil }
