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

// newScheduler builds the scheduler from the desk's parts.
func (d *desk) newScheduler() (*schedule.Scheduler, error) {
	return schedule.New(schedule.Options{
		Store: d.store, Mailer: d.mailer, Executor: d.processor, Tokens: d.processor, Vault: d.vault, Deadlines: d.deadlines,
		Policy: schedulePolicy(d.cfg), Specs: scheduleSpecs(d.cfg),
		Staff: schedule.Recipients{Notify: d.cfg.Staff.Notify, Supervisors: d.cfg.Staff.Supervisors, Admins: d.cfg.Staff.Admins,
			Department: d.departmentStaff},
		Logger: d.log.With("part", "schedule"), OnQueued: d.dispatcher.Wake, Now: d.clock.Now,
	})
}

// runScheduler catches up missed jobs, then runs the schedule until ctx ends and the
// job in progress has finished. It runs beside the outbox: stop it before the store
// closes.
func (d *desk) runScheduler(ctx context.Context) {
	s, err := d.newScheduler()
	if err != nil {
		d.log.Error("scheduler not started", "err", err)
		return
	}
	s.Run(ctx)
}
