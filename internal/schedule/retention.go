package schedule

import (
	"cmp"
	"context"
	"fmt"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/privacy"
	"github.com/complaintd/complaintd/internal/store"
)

// retention erases (PIPL) the personal information and every document of cases
// closed — closed, withdrawn or expired — more than the retention time ago, counted
// from the closing: privacy.Erase destroys the case's keys, then marks the case
// erased with an "erased" event. State, dates, kinds, department and severity stay for
// the statistics. A case reopened before its time is not erased; one already erased
// is skipped. A crash between the two steps repeats the (idempotent) erasure on the
// next run.
func (s *Scheduler) retention(ctx context.Context) (int, error) {
	now := s.o.Now()
	var due, failed []string
	var firstErr error
	err := s.o.Store.View(func(tx *store.Tx) error {
		return tx.EachFacts(func(f *cases.Facts) error {
			if !f.State.Terminal() || f.Erased {
				return nil
			}
			// The facts' end is the close: a case not due by it is not read whole.
			if ended := f.Timeline.Ended; !ended.IsZero() && now.Before(s.o.Deadlines.RetentionEnd(ended)) {
				return nil
			}
			c, err := tx.CaseWithoutRelated(f.ID)
			if err != nil {
				failed = append(failed, f.ID) // the others are still erased
				firstErr = cmp.Or(firstErr, err)
				return nil
			}
			if closed := cases.ClosedAt(c); !closed.IsZero() && !now.Before(s.o.Deadlines.RetentionEnd(closed)) {
				due = append(due, c.ID)
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("scan cases: %w", err)
	}
	// One case that cannot be read or erased (a key file the vault cannot remove)
	// does not hold back the others: each is tried, and the job reports the failures.
	reason := fmt.Sprintf("retention: closed more than %s ago", s.retentionText())
	stillDue := func(c *cases.Case) bool {
		closed := cases.ClosedAt(c)
		return c.State.Terminal() && !closed.IsZero() && !now.Before(s.o.Deadlines.RetentionEnd(closed))
	}
	for _, id := range due {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		erased, err := privacy.EraseIfDue(s.o.Store, s.o.Vault, id, "scheduler", reason, now, stillDue)
		switch {
		case err != nil:
			s.o.Logger.Error("case not erased", "job", JobRetention, "case", id, "err", err)
			failed = append(failed, id)
			firstErr = cmp.Or(firstErr, err)
		case erased:
			s.o.Logger.Info("case erased after the retention period", "job", JobRetention, "case", id)
			if s.o.OnErased != nil {
				s.o.OnErased()
			}
		default:
			s.o.Logger.Info("case no longer due for erasure (reopened)", "job", JobRetention, "case", id)
		}
	}
	if len(failed) > 0 {
		return 0, fmt.Errorf("%d cases due or possibly due not erased (%s …): %w", len(failed), failed[0], firstErr)
	}
	return 0, nil
}

func (s *Scheduler) retentionText() string {
	if d := s.o.Deadlines.Policy.RetentionAfter; d > 0 {
		return d.String()
	}
	return fmt.Sprintf("%d days", s.o.Deadlines.Policy.RetentionDays)
}
