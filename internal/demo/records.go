package demo

import (
	"fmt"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/store"
)

// records is what the daemon left in its store.
type records struct {
	cases    []*cases.Case
	messages []*store.Message
	pending  int // outbox entries not sent
}

// readRecords opens the store read-only, as `complaintd cases list` does
// when no daemon runs: the demo reads it after the daemon stopped.
func readRecords(open func(*config.Config) (*store.Store, error), cfg *config.Config) (records, error) {
	var rec records
	st, err := open(cfg)
	if err != nil {
		return rec, fmt.Errorf("read the store: %w", err)
	}
	defer st.Close()
	err = st.View(func(tx *store.Tx) error {
		rec.pending = tx.PendingCount()
		if err := tx.EachCase(true, func(c *cases.Case) error { rec.cases = append(rec.cases, c); return nil }); err != nil {
			return err
		}
		return tx.EachMessage(func(m *store.Message) error { rec.messages = append(rec.messages, m); return nil })
	})
	if err != nil {
		return rec, fmt.Errorf("read the store: %w", err)
	}
	return rec, nil
}
