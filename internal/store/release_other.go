//go:build !linux

package store

import bolt "go.etcd.io/bbolt"

// The release of the file's mapped pages is Linux-only (madvise on the mapping, the
// count in /proc/self/statm); elsewhere the mapped pages stay counted in the RSS
// until the kernel reclaims them.
type mappedGauge struct{}

func newMappedGauge() *mappedGauge              { return nil }
func (*mappedGauge) grown() bool                { return false }
func (*mappedGauge) release(*bolt.DB, *bolt.Tx) {}
func (*mappedGauge) close()                     {}
