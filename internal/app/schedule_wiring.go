package app

import (
	"context"
	"slices"

	"github.com/complaintd/complaintd/internal/calendar"
	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/schedule"
)

// deadlines is the desk's one deadline rule from the configuration.
func deadlines(cfg *config.Config, cal *calendar.Calendar) cases.Deadlines {
	p := cfg.Policy
	return cases.Deadlines{Calendar: cal, Policy: cases.DeadlinePolicy{
		ReviewDays: p.ReviewDays, ProcessDays: p.ProcessDays, ExpireDays: p.ExpireDays,
		MajorReviewDays: cfg.Routing.Severity.MajorReviewDays, MajorProcessDays: cfg.Routing.Severity.MajorProcessDays,
		ReviewAfter: p.ReviewAfter, ProcessAfter: p.ProcessAfter, ExpireAfter: p.ExpireAfter,
		ReminderBefore: p.ReminderBefore, RetentionDays: p.RetentionDays, RetentionAfter: p.RetentionAfter,
	}}
}

// schedulePolicy is what the scheduler decides beyond the deadlines.
func schedulePolicy(cfg *config.Config) schedule.Policy {
	p := cfg.Policy
	return schedule.Policy{Sensitive: func(k cases.Kind) bool { return slices.Contains(p.SensitiveKinds, k) },
		Survey: p.Survey, SurveyDelay: p.SurveyDelay}
}

func scheduleSpecs(cfg *config.Config) schedule.Specs {
	s := cfg.Schedule
	return schedule.Specs{Deadlines: s.Deadlines, Digest: s.Digest, Weekly: s.Weekly, Retention: s.Retention}
}

// checkSchedule parses the cron specs at start-up, naming a bad key.
func checkSchedule(cfg *config.Config) error { return schedule.CheckSpecs(scheduleSpecs(cfg)) }

// newScheduler builds the scheduler from the desk's parts of generation l.
func (d *desk) newScheduler(l *live) (*schedule.Scheduler, error) {
	return schedule.New(schedule.Options{
		Store: d.store, Mailer: l.mailer, Executor: l.processor, Tokens: l.processor, Vault: d.vault, Deadlines: l.deadlines,
		Policy: schedulePolicy(l.cfg), Specs: scheduleSpecs(l.cfg),
		Staff: schedule.Recipients{Notify: l.cfg.Staff.Notify, Supervisors: l.cfg.Staff.Supervisors, Admins: l.cfg.Staff.Admins,
			Department: l.departmentStaff},
		Logger: d.log.With("part", "schedule"), OnQueued: d.dispatcher.Wake, Now: d.clock.Now,
		OnErased: d.mailEraser.wake, IntakeCaughtUp: d.intakeCaughtUp,
	})
}

// intakeCaughtUp: the pipeline has read the mailbox to its end since the start (a
// desk without one, in tests, always has).
func (d *desk) intakeCaughtUp() bool { return d.pipeline == nil || d.pipeline.CaughtUp() }

// runScheduler catches up missed jobs, then runs the schedule of generation l until
// ctx ends and the job in progress has finished. It runs beside the outbox: stop it
// before the store closes.
func (d *desk) runScheduler(ctx context.Context, l *live) {
	s, err := d.newScheduler(l)
	if err != nil {
		d.log.Error("scheduler not started", "err", err)
		return
	}
	s.Run(ctx)
}
