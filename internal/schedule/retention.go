package schedule

import (
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
	var due []string
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
				return err
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
	for _, id := range due {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		reason := fmt.Sprintf("retention: closed more than %s ago", s.retentionText())
		if err := privacy.Erase(s.o.Store, s.o.Vault, id, "scheduler", reason, now); err != nil {
			return 0, fmt.Errorf("case %s: %w", id, err)
		}
		s.o.Logger.Info("case erased after the retention period", "job", JobRetention, "case", id)
	}
	return 0, nil
}

func (s *Scheduler) retentionText() string {
	if d := s.o.Deadlines.Policy.RetentionAfter; d > 0 {
		return d.String()
	}
	return fmt.Sprintf("%d days", s.o.Deadlines.Policy.RetentionDays)
}
