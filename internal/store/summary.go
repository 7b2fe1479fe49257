package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
)

// CaseSummary is the anonymous part of a case that /metrics counts: read from the
// clear fields of the record, without unsealing anything.
type CaseSummary struct {
	State      cases.State    `json:"state"`
	Severity   cases.Severity `json:"severity,omitempty"`
	Department string         `json:"department,omitempty"`
	DueAt      *time.Time     `json:"due_at"`
}

// EachCaseSummary calls fn for every case's summary. It is one pass over the cases
// bucket that decodes four fields of each record and opens no case key, so it is cheap
// enough for every scrape (the store keeps no per-state counters).
func (t *Tx) EachCaseSummary(fn func(CaseSummary) error) error {
	return t.tx.Bucket(bCases).ForEach(func(k, v []byte) error {
		var s CaseSummary
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("decode case %s: %w", k, err)
		}
		return fn(s)
	})
}

// QuarantineCount is the number of quarantine records, read from the bucket's
// statistics without decoding them.
func (t *Tx) QuarantineCount() int { return t.tx.Bucket(bQuarantine).Stats().KeyN }
