package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// The scheduler's records live in their own buckets, created on first write so that
// a store opened read-only (the CLI) or written before they existed needs nothing.
//
//   - schedule_markers: one key per notice sent or action taken about a deadline
//     (case, deadline kind, due time, notice kind). It is written in the same
//     transaction as the outbox entry it stands for, so a notice is queued exactly
//     once however often the job runs or the daemon restarts.
//   - schedule_runs: the last time each job ran, to catch up a run missed while the
//     daemon was down, once.
var (
	bMarkers = []byte("schedule_markers")
	bRuns    = []byte("schedule_runs")
)

// Marker is what a schedule marker records.
type Marker struct {
	At   time.Time `json:"at"`
	Note string    `json:"note,omitempty"`
}

// Marker reports whether the scheduler marker key was recorded, and when.
func (t *Tx) Marker(key string) (Marker, bool, error) {
	b := t.tx.Bucket(bMarkers)
	if b == nil {
		return Marker{}, false, nil
	}
	v := b.Get([]byte(key))
	if v == nil {
		return Marker{}, false, nil
	}
	var m Marker
	if err := json.Unmarshal(v, &m); err != nil {
		return Marker{}, false, fmt.Errorf("decode marker %s: %w", key, err)
	}
	return m, true, nil
}

// PutMarker records the scheduler marker key (read-write transactions only).
func (t *Tx) PutMarker(key string, m Marker) error {
	b, err := t.tx.CreateBucketIfNotExists(bMarkers)
	if err != nil {
		return fmt.Errorf("marker bucket: %w", err)
	}
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), v)
}

// DeleteMarker removes the scheduler marker key (read-write transactions only).
func (t *Tx) DeleteMarker(key string) error {
	b := t.tx.Bucket(bMarkers)
	if b == nil {
		return nil
	}
	return b.Delete([]byte(key))
}

// EachMarker walks the markers whose keys start with prefix ("" for all), in key order.
func (t *Tx) EachMarker(prefix string, fn func(key string, m Marker) error) error {
	b := t.tx.Bucket(bMarkers)
	if b == nil {
		return nil
	}
	c := b.Cursor()
	p := []byte(prefix)
	for k, v := c.Seek(p); k != nil && len(k) >= len(p) && string(k[:len(p)]) == prefix; k, v = c.Next() {
		var m Marker
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("decode marker %s: %w", k, err)
		}
		if err := fn(string(k), m); err != nil {
			return err
		}
	}
	return nil
}

// LastRun is when the scheduler job last ran (zero when never).
func (t *Tx) LastRun(job string) (time.Time, error) {
	b := t.tx.Bucket(bRuns)
	if b == nil {
		return time.Time{}, nil
	}
	v := b.Get([]byte(job))
	if v == nil {
		return time.Time{}, nil
	}
	var at time.Time
	if err := at.UnmarshalText(v); err != nil {
		return time.Time{}, fmt.Errorf("decode last run of %s: %w", job, err)
	}
	return at, nil
}

// PutLastRun records when the scheduler job ran.
func (t *Tx) PutLastRun(job string, at time.Time) error {
	b, err := t.tx.CreateBucketIfNotExists(bRuns)
	if err != nil {
		return fmt.Errorf("runs bucket: %w", err)
	}
	v, err := at.MarshalText()
	if err != nil {
		return err
	}
	return b.Put([]byte(job), v)
}
