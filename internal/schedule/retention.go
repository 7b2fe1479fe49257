package schedule

import (
	"context"
	"fmt"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
)

// retention erases the sensitive documents (PIPL) of cases that ended — a terminal
// state, or resolved — more than the retention time ago: the case's sensitive key is
// destroyed (vault.EraseClass), then the documents are marked erased and a
// "documents_erased" event is appended, in one transaction. Metadata and SHA-256 stay;
// documents of other kinds are untouched. A crash between the two steps repeats the
// (idempotent) erasure on the next run.
func (s *Scheduler) retention(ctx context.Context) (int, error) {
	now := s.o.Now()
	var due []string
	err := s.o.Store.View(func(tx *store.Tx) error {
		return tx.EachCase(false, func(c *cases.Case) error {
			if st := c.State; !st.Terminal() && st != cases.Resolved {
				return nil
			}
			if !s.hasSensitive(c) {
				return nil
			}
			evs, err := tx.Events(c.ID)
			if err != nil {
				return err
			}
			c.Events = evs
			if ended := cases.EndedAt(c); !ended.IsZero() && !now.Before(s.o.Deadlines.RetentionEnd(ended)) {
				due = append(due, c.ID)
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("scan cases: %w", err)
	}
	for _, id := range due {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if err := s.eraseCase(id, now); err != nil {
			return 0, fmt.Errorf("case %s: %w", id, err)
		}
	}
	return 0, nil
}

func (s *Scheduler) hasSensitive(c *cases.Case) bool {
	for _, d := range c.Documents {
		if s.sensitive(d) && !d.Erased {
			return true
		}
	}
	return false
}

// sensitive reports whether d was kept under the case's sensitive key. The key class
// is recorded on the document; the kind decides as well (the same rule as intake's:
// a sensitive kind, or unclassified), so that a record without the class is not
// missed. A document whose content was never kept (too large) has nothing to erase.
func (s *Scheduler) sensitive(d cases.Document) bool {
	if d.Skipped != "" {
		return false
	}
	return d.KeyClass == vault.ClassSensitive || d.Kind == cases.Unclassified || s.o.Policy.Sensitive(d.Kind)
}

// eraseCase destroys the case's sensitive key and records it.
func (s *Scheduler) eraseCase(id string, now time.Time) error {
	var refs []vault.BlobRef
	err := s.o.Store.View(func(tx *store.Tx) error {
		c, err := tx.Case(id)
		if err != nil {
			return err
		}
		for _, d := range c.Documents {
			if d.File != "" && d.KeyClass == vault.ClassSensitive {
				refs = append(refs, vault.BlobRef{File: d.File, Class: d.KeyClass, Offset: d.Offset, Length: d.Length})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.o.Vault.EraseClass(id, vault.ClassSensitive, refs...); err != nil {
		return fmt.Errorf("erase sensitive key: %w", err)
	}
	n := 0
	err = s.o.Store.Update(func(tx *store.Tx) error {
		n = 0
		c, err := tx.Case(id)
		if err != nil {
			return err
		}
		for i := range c.Documents {
			d := &c.Documents[i]
			if s.sensitive(*d) && !d.Erased {
				d.Erased = true
				d.SealedKey = ""
				n++
			}
		}
		if n == 0 {
			return nil
		}
		c.UpdatedAt = now
		if err := tx.AppendEvent(id, cases.Event{At: now, Type: cases.EventDocumentsErased, Actor: "scheduler",
			Note: fmt.Sprintf("%d sensitive attachments erased after the retention period; metadata and SHA-256 kept", n)}); err != nil {
			return err
		}
		return tx.PutCase(c)
	})
	if err == nil && n > 0 {
		s.o.Logger.Info("sensitive attachments erased", "job", JobRetention, "case", id, "documents", n)
	}
	return err
}
