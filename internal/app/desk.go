package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/complaintd/complaintd/internal/calendar"
	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/clock"
	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/dispatch"
	"github.com/complaintd/complaintd/internal/imapsource"
	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/mailmsg"
	"github.com/complaintd/complaintd/internal/metrics"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/routing"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
	"github.com/complaintd/complaintd/templates"
)

// desk is the running daemon: every part built from one configuration. What a
// SIGHUP may change (staff, routing, policy, calendar, schedule, templates) lives in
// the live generation, replaced whole; the rest (mailbox, relay, store, listeners)
// needs a restart.
type desk struct {
	cfg      *config.Config // as started: imap, smtp, store and http come from here
	cfgPath  string         // re-read on SIGHUP; "" (the demo): no reload
	log      *slog.Logger
	store    *store.Store
	vault    *vault.Vault
	key      []byte      // the master key
	clock    clock.Clock // the one "now" of every part
	pipeline *imapsource.Pipeline[*intake.Prepared]
	// imapOptions reach the service mailbox (intake's, and the mail eraser's own
	// connection).
	imapOptions imapsource.Options
	mailEraser  *mailEraser
	healthProbe smtpHealthProbe // /healthz's cached SMTP check
	dispatcher  *dispatch.Dispatcher
	sender      *outbox.Sender // its sessions and its view of the relay's health
	metrics     *metrics.Metrics
	replyLead   int // due replies unsent before intake waits (replyLead; a test may set it)
	gen         atomic.Pointer[live]
	// smtpTLS is the TLS configuration of the SMTP dial (smtp.ca_file, server_name,
	// tls_min_version); the probe uses it too. Nil: system roots, TLS 1.2.
	smtpTLS *tls.Config
}

// live is one generation of the reloadable parts, all built from the same
// configuration. A reload builds a whole new one and swaps the pointer: a mail is
// registered, a job run, a reply rendered by one generation, never by a mix.
type live struct {
	cfg       *config.Config
	templates *render.Reloader
	calendar  *calendar.Calendar
	catalogue *cases.Catalogue
	deadlines cases.Deadlines
	router    *routing.Router
	mailer    *mailer.Mailer
	processor *intake.Processor
}

// current is the generation in service.
func (d *desk) current() *live { return d.gen.Load() }

// departmentStaff is who works a department (routing.departments[].staff).
func (l *live) departmentStaff(name string) []string {
	if l.router == nil || name == "" {
		return nil
	}
	dep, ok := l.router.Department(name)
	if !ok {
		return nil
	}
	return dep.Staff
}

// masterKey returns the configured key, or the generated key file next to the store
// (created 0600 on first start). A generated key protects against a copied attachments
// directory, not against a copied data directory: production sets store.master_key or
// COMPLAINTD_MASTER_KEY from a secret store.
func masterKey(cfg *config.Config, log *slog.Logger) ([]byte, error) {
	if key, err := readMasterKey(cfg); !errors.Is(err, os.ErrNotExist) {
		return key, err
	}
	path := masterKeyPath(cfg)
	key := make([]byte, 32)
	rand.Read(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	log.Warn("generated a master key next to the store; set store.master_key in production", "path", path)
	return key, nil
}

// staffSecret is the HMAC key of the complainant tokens and of the old-form staff
// tokens: configured, or derived from the master key so that a restart keeps the
// tokens already mailed valid. (Staff tokens now have a key of their own: staffAuth.)
func staffSecret(cfg *config.Config, master []byte) []byte {
	if cfg.Staff.Auth.Secret != "" {
		return []byte(cfg.Staff.Auth.Secret)
	}
	m := hmac.New(sha256.New, master)
	m.Write([]byte("complaintd staff token v1"))
	return m.Sum(nil)
}

// openDesk builds every part. Nothing runs until start.
func openDesk(cfg *config.Config, log *slog.Logger) (*desk, error) {
	d := &desk{cfg: cfg, log: log, metrics: &metrics.Metrics{}, replyLead: replyLead}
	clk, simulated, err := clock.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	if simulated {
		log.Warn("the clock is simulated: time comes from a file, not the system", "file", os.Getenv(clock.EnvFile), "now", clk.Now())
	}
	d.clock = clk
	// The store's lock first: one desk, one store — a second instance stops here,
	// before it touches the vault or the key files.
	if d.store, err = store.Open(cfg.Store.Path, cfg.Store.LockTimeout); err != nil {
		var inUse *store.InUseError
		if errors.As(err, &inUse) && cfg.HTTP.ControlSocket != "" {
			return nil, fmt.Errorf("%w; its control socket is %s", err, cfg.HTTP.ControlSocket)
		}
		return nil, err
	}
	injectStoreFault(d.store, os.Getenv, log)
	d.replyLead = replyLeadFrom(os.Getenv, log)
	if err := d.open(); err != nil {
		d.store.Close()
		return nil, err
	}
	return d, nil
}

// open builds the parts around the open store.
func (d *desk) open() error {
	cfg, log := d.cfg, d.log
	key, err := masterKey(cfg, log)
	if err != nil {
		return fmt.Errorf("store.master_key: %w", err)
	}
	d.key = key
	if d.vault, err = vault.Open(cfg.Store.AttachmentsDir, key); err != nil {
		return fmt.Errorf("attachments: %w", err)
	}
	// Personal information in the store is sealed with the cases' keys (PIPL); a
	// file of an earlier version is sealed now, once.
	d.store.SetSealer(d.vault)
	if err := d.store.MarkCurrent(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if rep, err := d.store.Migrate(); err != nil {
		return err
	} else if rep.From != rep.To {
		log.Warn("store migrated", "from_schema", rep.From, "to_schema", rep.To,
			"records_resealed", rep.Rewritten, "case_facts", rep.Facts, "compacted", rep.Compacted)
	}
	if err := markTokenUpgrade(d.store, d.clock.Now(), cfg.Staff.Auth.TokenTTL, log); err != nil {
		return fmt.Errorf("staff tokens: %w", err)
	}
	l, err := d.build(cfg, true)
	if err != nil {
		return err
	}
	d.gen.Store(l)
	imapTLS, err := cfg.IMAPTLS()
	if err != nil {
		return fmt.Errorf("imap: %w", err)
	}
	sender, smtpTLS, err := smtpSender(cfg, log)
	if err != nil {
		return err
	}
	d.smtpTLS, d.sender = smtpTLS, sender
	d.dispatcher = dispatch.New(dispatch.Options{
		Store: d.store, Sender: sender, MaxAttempts: cfg.SMTP.MaxAttempts, RetryMin: cfg.SMTP.RetryMin, RetryMax: cfg.SMTP.RetryMax,
		SendTimeout: 2 * cfg.SMTP.Timeout, Sessions: cfg.SMTP.Sessions,
		Logger: log.With("part", "outbox"), Metrics: d.metrics, Now: d.clock.Now,
		Attach:      func(m *outbox.Mail) error { return d.current().processor.Attach(m) },
		IntakeFirst: dispatch.IntakeFirst{Backlog: intakeFirstBacklog, Mails: d.replyLead, Most: intakeFirstMost},
		Journal:     filepath.Join(filepath.Dir(cfg.Store.Path), "outbox.journal"),
	})
	d.imapOptions = imapsource.Options{Host: cfg.IMAP.Host, Port: cfg.IMAP.Port, TLS: imapsource.TLSMode(cfg.IMAP.TLS), TLSConfig: imapTLS,
		Username: cfg.IMAP.Username, Password: cfg.IMAP.Password, CommandTimeout: cfg.IMAP.CommandTimeout,
		FetchTimeout: cfg.IMAP.FetchTimeout, Logger: log.With("part", "imap")}
	d.mailEraser = &mailEraser{kick: make(chan struct{}, 1)}
	d.pipeline = imapsource.NewPipeline[*intake.Prepared](liveIntake{d}, imapsource.PipelineOptions{
		IMAP:    d.imapOptions,
		Mailbox: cfg.IMAP.Mailbox, Idle: *cfg.IMAP.Idle, PollInterval: cfg.IMAP.PollInterval,
		Processed: cfg.IMAP.Processed, ProcessedFolder: cfg.IMAP.ProcessedFolder, QuarantineFolder: cfg.IMAP.QuarantineFolder,
		Start:       cfg.IMAP.Start,
		MaxAttempts: cfg.IMAP.MaxAttempts, Backoff: imapsource.Backoff{Min: time.Second, Max: 2 * time.Minute},
		Logger: log.With("part", "imap"), Metrics: d.metrics, OnQueued: d.dispatcher.Queued,
		Backlog:      d.dispatcher.IntakeBacklog,
		Pace:         func(ctx context.Context) { d.dispatcher.WaitBehind(ctx, d.replyLead, paceMost) },
		InflightPath: filepath.Join(filepath.Dir(cfg.Store.Path), "inflight"),
	})
	return nil
}

// replyLead is how many due replies may wait to be sent before intake waits for
// them (at most paceMost per FETCH of new mail, so a slow relay slows intake to no
// less than 50 mails a second and never stops it). Intake and replies share the
// machine: unpaced, a backlog's replies fall behind in proportion to its size (3,900
// at the end of a 10,000-mail backlog, sent 9 s after the last case). Two thousand
// is about 5 s of sending once intake is done on the 2-core bench machine, and is
// reached only in backlogs of several thousand mails (issue 18).
const (
	replyLead = 2000
	paceMost  = 2 * time.Second
)

// A catch-up on more than intakeFirstBacklog new mails (a backlog, not the mail of
// the moment) has the replies wait for it: until the replies of replyLead mails are
// queued or intakeFirstMost has passed (dispatch.IntakeFirst). Each mail's own
// processing is the same; what changes is that the backlog's cases exist sooner and
// the replies follow in one stretch.
const (
	intakeFirstBacklog = 200
	intakeFirstMost    = 10 * time.Second
)

// envReplyLead sets the reply lead instead of replyLead: a hook for the end-to-end
// test of the pacing, which cannot queue thousands of replies; off unless set.
const envReplyLead = "COMPLAINTD_TEST_REPLY_LEAD"

func replyLeadFrom(getenv func(string) string, log interface{ Warn(string, ...any) }) int {
	v := getenv(envReplyLead)
	if v == "" {
		return replyLead
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		log.Warn("reply lead not a count: ignored", "variable", envReplyLead, "value", v)
		return replyLead
	}
	log.Warn("reply lead set (tests only)", "variable", envReplyLead, "lead", n)
	return n
}

// build makes a generation of the reloadable parts from cfg. It changes nothing: a
// failure leaves the generation in service as it is. At the start a broken template
// directory does not fail it (the desk must come up after any restart): the last good
// set kept in the store serves, or the embedded one, and the admins are alerted. A
// reload is stricter: its broken templates refuse the new configuration, and the
// running generation, which answers, stays.
func (d *desk) build(cfg *config.Config, start bool) (*live, error) {
	log := d.log
	l := &live{cfg: cfg}
	cal, err := calendar.New(cfg.Policy.Calendar.TimeZone, cfg.Policy.Calendar.Weekend, cfg.Policy.Calendar.Holidays, cfg.Policy.Calendar.Workdays)
	if err != nil {
		return nil, err
	}
	l.calendar = cal
	l.deadlines = deadlines(cfg, cal)
	if l.catalogue, err = cfg.Catalogue(); err != nil {
		return nil, fmt.Errorf("policy.document_kinds: %w", err)
	}
	if err := checkSchedule(cfg); err != nil {
		return nil, err
	}
	tplOpts := []render.Option{render.WithLocation(cal.Location()), render.WithCatalogue(l.catalogue)}
	var tpl *render.Reloader
	if start {
		var kept []byte
		d.store.View(func(tx *store.Tx) error { kept = tx.KeptTemplates(); return nil })
		tpl, err = render.StartReloader(cfg.Templates.Dir, templates.FS(), cfg.Templates.Locale, log.With("part", "templates"), kept, tplOpts...)
	} else {
		tpl, err = render.NewReloader(cfg.Templates.Dir, templates.FS(), cfg.Templates.Locale, log.With("part", "templates"), tplOpts...)
	}
	if err != nil {
		return nil, err
	}
	l.templates = tpl
	tpl.OnLoad = d.keepTemplates
	// A broken template edit is refused (the last good set keeps serving); the
	// operator sees it in /healthz and in the alerts of the store.
	// The admins get one mail per distinct broken set (the reloader calls this once),
	// rendered with the last good set.
	tpl.OnError = func(err error) {
		d.alert(l, "templates", "回复模板有误，已继续使用上一版 / broken reply templates refused", err.Error())
	}
	if l.router, err = routing.New(cfg.Routing); err != nil {
		return nil, fmt.Errorf("routing: %w", err)
	}
	l.mailer = mailer.New(mailer.Options{Templates: tpl, Desk: outbox.Address{Name: cfg.SMTP.FromName, Address: cfg.SMTP.From},
		CasePrefix: cfg.Policy.CasePrefix, Locale: cfg.Templates.Locale, Catalogue: l.catalogue, Metrics: d.metrics})
	auth, err := staffAuth(cfg, d.key, log)
	if err != nil {
		return nil, err
	}
	lim := cfg.IMAP.Limits
	l.processor, err = intake.NewProcessor(intake.Options{
		Router: l.router, Deadlines: l.deadlines, Catalogue: l.catalogue, Mailer: l.mailer,
		Store: d.store, Vault: d.vault, Rules: cfg.Policy.Documents,
		Limits: mailmsg.Limits{MaxMessageBytes: lim.MaxMessageBytes, MaxHeaderBytes: lim.MaxHeaderBytes, MaxParts: lim.MaxParts,
			MaxDepth: lim.MaxDepth, MaxAttachmentBytes: lim.MaxAttachmentBytes},
		MessageBudget: lim.MessageBudget, MaxInflateBytes: lim.MaxInflateBytes,
		CasePrefix: cfg.Policy.CasePrefix, Desk: outbox.Address{Name: cfg.SMTP.FromName, Address: cfg.SMTP.From},
		Staff: intake.StaffOptions{
			Auth: auth, Resolver: net.DefaultResolver,
			Notify: cfg.Staff.Notify, AppealReviewers: cfg.Staff.AppealReviewers, Aliases: cfg.Staff.Aliases,
			AppealDays: cfg.Policy.AppealDays, AppealWindow: cfg.Policy.AppealAfter, AuthorDays: cfg.Policy.AuthorDays,
			AttachMaxBytes: cfg.Staff.AttachMaxBytes, NotifyLimit: cfg.Staff.NotifyLimit, NotifyWindow: cfg.Staff.NotifyWindow,
		},
		Locale:     cfg.Templates.Locale,
		ReplyLimit: cfg.SMTP.AutoReplyLimit, ReplyWindow: cfg.SMTP.AutoReplyWindow,
		ReplyDomainLimit: cfg.SMTP.AutoReplyDomainLimit, ReplyGlobalLimit: cfg.SMTP.AutoReplyGlobalLimit, SensitiveKinds: cfg.Policy.SensitiveKinds,
		Logger: log.With("part", "intake"), Metrics: d.metrics, Now: d.clock.Now,
	})
	if err != nil {
		return nil, err
	}
	if ok, why, _ := tpl.Status(); !ok {
		d.alert(l, "templates", "回复模板有误，启动时改用备用模板 / broken reply templates at start, serving a fallback", why)
	} else if packed := tpl.Packed(); packed != nil && start {
		d.keepTemplates(packed)
	}
	return l, nil
}

// keepTemplates stores a template set that loaded from the directory, for a later
// start whose directory is broken.
func (d *desk) keepTemplates(packed []byte) {
	if err := d.store.Update(func(tx *store.Tx) error { return tx.KeepTemplates(packed) }); err != nil {
		d.log.Error("keep the last good templates", "err", err)
	}
}

// alert records an operator alert in the store and mails it to the admins of l,
// rendered by l's mailer.
func (d *desk) alert(l *live, kind, subject, text string) {
	now := d.clock.Now()
	uerr := d.store.Update(func(tx *store.Tx) error {
		if err := tx.AddAlert(store.Alert{At: now, Kind: kind, Message: text}); err != nil {
			return err
		}
		return l.mailer.QueueAlert(tx, l.cfg.Staff.Admins, subject, text, now)
	})
	if uerr != nil {
		d.log.Error("record alert", "kind", kind, "err", uerr)
	}
	if d.dispatcher != nil {
		d.dispatcher.Wake()
	}
}

// smtpSender is the SMTP sender of cfg, with the TLS verification of smtp.ca_file,
// smtp.server_name and smtp.tls_min_version (which the probe uses too).
func smtpSender(cfg *config.Config, log *slog.Logger) (*outbox.Sender, *tls.Config, error) {
	tlsCfg, err := cfg.SMTPTLS()
	if err != nil {
		return nil, nil, fmt.Errorf("smtp: %w", err)
	}
	sender, err := outbox.NewSender(outbox.Options{
		Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, TLS: cfg.SMTP.TLS, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
		HELO: cfg.SMTP.HELO, Timeout: cfg.SMTP.Timeout, Logger: log.With("part", "smtp"), TLSConfig: tlsCfg,
		IdleTimeout: cfg.SMTP.IdleTimeout,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("smtp: %w", err)
	}
	return sender, tlsCfg, nil
}

// run starts every part and blocks until ctx ends, then shuts down in order: stop
// intake (the message in hand is finished), stop the outbox (the attempt in flight is
// finished), stop the servers, close the store.
func (d *desk) run(ctx context.Context, reload <-chan struct{}) error {
	intakeCtx, stopIntake := context.WithCancel(ctx)
	defer stopIntake()
	outCtx, stopOut := context.WithCancel(context.WithoutCancel(ctx))
	defer stopOut()
	auxCtx, stopAux := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAux()

	var servers []*http.Server
	var listeners []net.Listener
	if d.cfg.HTTP.Listen != "" {
		ln, err := net.Listen("tcp", d.cfg.HTTP.Listen)
		if err != nil {
			return fmt.Errorf("http.listen: %w", err)
		}
		servers = append(servers, &http.Server{Handler: d.healthHandler(), ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, ln)
	}
	if d.cfg.HTTP.ControlSocket != "" {
		ln, err := listenUnix(d.cfg.HTTP.ControlSocket, d.log)
		if err != nil {
			return fmt.Errorf("http.control_socket: %w", err)
		}
		servers = append(servers, &http.Server{Handler: d.controlHandler(), ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, ln)
	}

	var wg sync.WaitGroup
	var intakeWG sync.WaitGroup
	intakeWG.Add(1)
	// Intake stops on its own only when it refuses to start (the adoption guard):
	// then the daemon stops, saying why.
	refused := make(chan error, 1)
	go func() {
		defer intakeWG.Done()
		if err := d.pipeline.Run(intakeCtx); err != nil {
			refused <- err
		}
	}()
	wg.Add(1)
	go func() { defer wg.Done(); d.dispatcher.Run(outCtx) }()
	wg.Add(1)
	go func() { defer wg.Done(); d.watchSMTP(auxCtx) }()
	wg.Add(1)
	go func() { defer wg.Done(); d.runMailEraser(auxCtx) }()
	stopGen := d.startGeneration(auxCtx, d.current())
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Serve(listeners[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				d.log.Error("http server", "err", err)
			}
		}()
	}
	var runErr error
	d.log.Info("complaintd started", "mailbox", d.cfg.IMAP.Mailbox, "imap", fmt.Sprintf("%s:%d", d.cfg.IMAP.Host, d.cfg.IMAP.Port),
		"smtp", fmt.Sprintf("%s:%d", d.cfg.SMTP.Host, d.cfg.SMTP.Port))
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case runErr = <-refused:
			break loop
		case <-reload:
			stopGen = d.reload(auxCtx, stopGen)
		}
	}
	d.log.Info("shutting down")
	// The listeners first. A request still running after the grace has its
	// connection cut: a backup streamed to a client that stopped reading holds the
	// store's read transaction, and both the store's Close and any last write that
	// grows the file (intake's, the outbox's, below) waited for it until systemd
	// killed the daemon (found in review). The client's verification then fails, as
	// for any broken backup.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		if s.Shutdown(shutdownCtx) != nil {
			s.Close()
		}
	}
	stopIntake()
	intakeWG.Wait()
	stopOut()
	stopAux()
	stopGen()
	wg.Wait()
	d.vault.Idle() // the spool tidied, so a clean stop leaves none behind
	if d.cfg.HTTP.ControlSocket != "" {
		os.Remove(d.cfg.HTTP.ControlSocket)
	}
	return errors.Join(runErr, d.store.Close())
}

// listenUnix opens the control socket with 0600 permissions: case data is personal
// information, and only the daemon's own user may read it.
func listenUnix(path string, log *slog.Logger) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("%s: another complaintd is running", path)
	}
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ownerOnly{ln, log}, nil
}

// ownerOnly accepts the connections of the daemon's own user and root only. The
// socket's mode (0600) keeps others out, except in the moment between its creation
// and the chmod (a connection made then stays open), or when someone loosens it; the
// control socket reveals and erases personal data.
type ownerOnly struct {
	net.Listener
	log *slog.Logger
}

func (l ownerOnly) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, ok := peerUID(c)
		if ok && (uid == os.Geteuid() || uid == 0) {
			return c, nil
		}
		c.Close()
		if l.log != nil {
			l.log.Warn("control socket: connection of another user refused", "uid", uid, "known", ok)
		}
	}
}
