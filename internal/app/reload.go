package app

// This file is SIGHUP: the whole configuration read again and, when every part of it
// builds, swapped in at once. A file with problems, or one whose parts do not build
// (a template that does not load), is refused whole with its problems logged and an
// alert to the admins; the generation in service stays.

import (
	"context"
	"io"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/complaintd/complaintd/internal/intake"
)

// startGeneration runs what belongs to one generation beside intake and the outbox:
// the scheduler and the template watcher. The returned stop ends both and waits for
// the job in progress.
func (d *desk) startGeneration(ctx context.Context, l *live) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); d.runScheduler(ctx, l) }()
	go func() { defer wg.Done(); l.templates.Watch(ctx, l.cfg.Templates.ReloadInterval) }()
	return func() { cancel(); wg.Wait() }
}

// reload reads the configuration file again. On success the new generation replaces
// the running one (its scheduler and watcher restarted) and the new stop is returned;
// otherwise nothing changes.
func (d *desk) reload(ctx context.Context, stop func()) func() {
	if d.cfgPath == "" {
		return stop
	}
	old := d.current()
	cfg, err := loadConfig(d.cfgPath)
	var l *live
	var restart []string
	if err == nil {
		// The sections built once at start keep their running values in the new
		// generation too: nothing runs half on the old values and half on the new
		// (smtp.from in the replies, another relay in the sender).
		restart = restartKeys(old.cfg, cfg)
		cfg.IMAP, cfg.SMTP, cfg.HTTP = old.cfg.IMAP, old.cfg.SMTP, old.cfg.HTTP
		cfg.KeepStore(old.cfg.Store)
		l, err = d.build(cfg, false)
	}
	if err != nil {
		// Every problem, one per line, as `config check` prints them.
		d.log.Error("configuration refused, the running one stays", "file", d.cfgPath, "err", err)
		d.alert(old, "config", "配置文件有误，已继续使用原配置 / configuration refused, the running one stays",
			"SIGHUP: "+err.Error())
		return stop
	}
	if len(restart) > 0 {
		d.log.Warn("these settings change only at a restart; the running values stay", "sections", strings.Join(restart, ","))
	}
	stop()
	d.gen.Store(l)
	if packed := l.templates.Packed(); packed != nil {
		d.keepTemplates(packed)
	}
	d.log.Info("configuration reloaded", "file", d.cfgPath, "staff", len(cfg.Staff.Addresses),
		"departments", len(cfg.Routing.Departments))
	return d.startGeneration(ctx, l)
}

// restartKeys names the sections that differ between the running configuration and
// the new one but are built once at start: the mailbox, the relay, the store, the
// listeners.
func restartKeys(was, now *config.Config) []string {
	var out []string
	for _, s := range []struct {
		key  string
		a, b any
	}{
		{"imap", was.IMAP, now.IMAP}, {"smtp", was.SMTP, now.SMTP}, {"store", was.Store, now.Store}, {"http", was.HTTP, now.HTTP},
	} {
		if !reflect.DeepEqual(s.a, s.b) {
			out = append(out, s.key)
		}
	}
	return out
}

// liveIntake is the pipeline's intake: each call goes to the processor of the
// generation in service when it starts, so a commit is one generation's whole.
type liveIntake struct{ d *desk }

func (li liveIntake) p() *intake.Processor { return li.d.current().processor }

func (li liveIntake) Progress(s inbound.Stream) (inbound.Progress, error) { return li.p().Progress(s) }
func (li liveIntake) Renumbered(s inbound.Stream, epoch uint32, alert string) error {
	return li.p().Renumbered(s, epoch, alert)
}
func (li liveIntake) Prepare(ctx context.Context, raw io.Reader) (*intake.Prepared, error) {
	return li.p().Prepare(ctx, raw)
}
func (li liveIntake) Discard(pr *intake.Prepared) { li.p().Discard(pr) }
func (li liveIntake) CommitGroup(srcs []inbound.Source, preps []*intake.Prepared) ([]inbound.Outcome, error) {
	return li.p().CommitGroup(srcs, preps)
}
func (li liveIntake) Process(ctx context.Context, src inbound.Source, raw io.Reader) (inbound.Outcome, error) {
	return li.p().Process(ctx, src, raw)
}
func (li liveIntake) Skip(src inbound.Source) error { return li.p().Skip(src) }
func (li liveIntake) Fail(src inbound.Source, messageID string, cause error, maxAttempts int) (inbound.Failure, error) {
	return li.p().Fail(src, messageID, cause, maxAttempts)
}
func (li liveIntake) Quarantine(src inbound.Source, messageID string, attempts int, reason string) error {
	return li.p().Quarantine(src, messageID, attempts, reason)
}
func (li liveIntake) QuarantineMoved(src, at inbound.Source) error {
	return li.p().QuarantineMoved(src, at)
}
func (li liveIntake) Retries(s inbound.Stream) ([]inbound.Quarantined, error) {
	return li.p().Retries(s)
}
func (li liveIntake) Released(src inbound.Source, requeue bool) error {
	return li.p().Released(src, requeue)
}
func (li liveIntake) Paused(s inbound.Stream, cause error) { li.p().Paused(s, cause) }
func (li liveIntake) Resumed(s inbound.Stream, since time.Time, cause error) error {
	return li.p().Resumed(s, since, cause)
}
func (li liveIntake) Adopt(s inbound.Stream, epoch, through uint32) error {
	return li.p().Adopt(s, epoch, through)
}
