package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/demo/memserver"
	"github.com/complaintd/complaintd/internal/store"
)

// Options are what the demo needs from the command line and the wiring.
type Options struct {
	// Daemon runs the real daemon on cfg until ctx ends and returns once it
	// has shut down and closed its store (internal/app: openDesk, then run).
	Daemon func(ctx context.Context, cfg *config.Config, log *slog.Logger) error
	// OpenStore opens the store the daemon left, read-only, able to read its sealed
	// personal data (internal/app: openStoreReadOnly).
	OpenStore func(cfg *config.Config) (*store.Store, error)
	// Log receives the daemon's log; nil discards it.
	Log *slog.Logger
	// Stdout receives the demo's account of what happened.
	Stdout io.Writer
	// Keep is a directory to keep the data in, with a config.yaml to inspect
	// it afterwards; it must be empty or absent. Empty means a temporary
	// directory, removed at the end.
	Keep string
	// Timeout bounds the whole demo. Zero means 60s.
	Timeout time.Duration
}

// The desk's mailbox and its login on the in-process IMAP server.
const (
	deskAddr = "tousu@desk.example.cn"
	deskUser = "tousu"
	deskPass = "demo-password"
	editor   = "editor@desk.example.cn"
)

// Run seeds the mailbox, runs the daemon, plays the complainants and the
// editor, and prints the registered mail, the cases and every mail sent.
func Run(ctx context.Context, o Options) error {
	if o.Daemon == nil {
		return errors.New("demo: no daemon to run")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	dir, cleanup, err := dataDir(o.Keep)
	if err != nil {
		return err
	}
	defer cleanup()
	imapSrv, err := memserver.NewIMAP("")
	if err != nil {
		return err
	}
	defer imapSrv.Close()
	if err := imapSrv.AddUser(deskUser, deskPass); err != nil {
		return err
	}
	sink, err := memserver.NewSMTPSink(memserver.SinkOptions{})
	if err != nil {
		return err
	}
	defer sink.Close()

	cfg, err := demoConfig(dir, imapSrv.Addr(), sink.Addr())
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if o.Keep != "" {
		// Written before the run, so that a demo that fails half-way still
		// leaves its data inspectable.
		if err := writeConfig(cfgPath, cfg); err != nil {
			return err
		}
	}

	out := o.Stdout
	fmt.Fprintln(out, "complaintd demo: an in-process IMAP mailbox and SMTP sink, the real pipeline in between.")
	fmt.Fprintf(out, "data directory: %s\n\n", dir)
	w := &walk{out: out, imap: imapSrv, sink: sink, now: time.Now()}
	for _, m := range firstMails(w.now) {
		if err := w.deliver(m); err != nil {
			return err
		}
	}
	d := startDaemon(ctx, func(ctx context.Context) error { return o.Daemon(ctx, cfg, o.Log) })
	defer d.stop()
	if err := w.play(ctx, d); err != nil {
		return err
	}
	// Stopping first lets the daemon record its last sends (shutdown
	// finishes the attempt in flight) and frees the store for reading.
	if err := d.stop(); err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	rec, err := readRecords(o.OpenStore, cfg)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(cfg.Policy.Calendar.TimeZone)
	if err != nil {
		return fmt.Errorf("policy.calendar.time_zone: %w", err)
	}
	printReport(out, rec, sink.Messages(), loc)
	fmt.Fprintln(out, "\ndemo finished: every complaint was registered and answered once, the bounce got no reply, and the editor's 受理 reached the complainant.")
	if o.Keep != "" {
		printInspect(out, cfgPath, rec)
	}
	return nil
}

// dataDir makes the directory to keep (refusing one with data: the demo's
// mails would be taken for duplicates of the last run's), or a temporary one
// that cleanup removes.
func dataDir(keep string) (dir string, cleanup func(), err error) {
	if keep == "" {
		tmp, err := os.MkdirTemp("", "complaintd-demo-")
		if err != nil {
			return "", nil, fmt.Errorf("data directory: %w", err)
		}
		return tmp, func() { os.RemoveAll(tmp) }, nil
	}
	dir, err = filepath.Abs(keep)
	if err != nil {
		return "", nil, fmt.Errorf("-keep %s: %w", keep, err)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return "", nil, fmt.Errorf("-keep %s: the directory is not empty; give a new one", keep)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("-keep %s: %w", keep, err)
	}
	return dir, func() {}, nil
}

// walk is the scripted part: what the complainants and the editor do, and
// what the demo waits for before each step.
type walk struct {
	out  io.Writer
	imap *memserver.IMAP
	sink *memserver.SMTPSink
	now  time.Time
}

func (w *walk) deliver(m sample) error {
	if _, err := w.imap.Append(deskUser, "INBOX", m.raw); err != nil {
		return fmt.Errorf("seed mailbox: %w", err)
	}
	fmt.Fprintf(w.out, "→ delivered: %s\n", m.what)
	return nil
}

// play waits for the first replies, answers the incomplete complaint's
// acknowledgement with the missing documents, then has the editor accept the
// complete case, waiting each time for the mail the daemon must send.
func (w *walk) play(ctx context.Context, d *daemon) error {
	// Three complaints are answered; the bounce is not; the complete one also
	// reaches the staff.
	if err := d.waitFor(ctx, "the first replies", func() bool {
		return w.sentTo("zhangsan@example.cn") == 1 && w.sentTo("li.si@example.cn") == 1 && w.sentTo("wangwu@foxmail.com") == 1
	}); err != nil {
		return err
	}
	ack := w.firstTo("li.si@example.cn")
	if ack == nil {
		return errors.New("no acknowledgement for the incomplete complaint")
	}
	if err := w.deliver(followUp(w.now, ack)); err != nil {
		return err
	}
	if err := d.waitFor(ctx, "the follow-up reply", func() bool {
		return w.sentTo("li.si@example.cn") == 2 && w.sentTo(editor) == 2
	}); err != nil {
		return err
	}
	// The editor answers the first notification with 受理: the command is
	// authenticated by the token in the notification's Reply-To.
	note := w.firstTo(editor)
	if note == nil {
		return errors.New("no staff notification")
	}
	if err := w.deliver(staffReply(w.now, note)); err != nil {
		return err
	}
	return d.waitFor(ctx, "the decision", func() bool {
		return w.sentTo("zhangsan@example.cn") == 2 && w.sentTo(editor) == 3
	})
}

// sentTo counts the mails sent to addr as first recipient.
func (w *walk) sentTo(addr string) int {
	n := 0
	for _, m := range w.sink.Messages() {
		if len(m.To) > 0 && m.To[0] == addr {
			n++
		}
	}
	return n
}

// firstTo is the first mail sent to addr, parsed; nil when none.
func (w *walk) firstTo(addr string) *mail.Message {
	for _, r := range w.sink.Messages() {
		if len(r.To) > 0 && r.To[0] == addr {
			m, err := mail.ReadMessage(strings.NewReader(string(r.Data)))
			if err != nil {
				return nil
			}
			return m
		}
	}
	return nil
}
