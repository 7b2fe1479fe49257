package imapsource_test

// The pipeline's tests drive the whole path with the real sink: an in-process IMAP
// server and SMTP sink, the pipeline, internal/intake's Processor and the outbox
// dispatcher on one data directory, wired as internal/app/desk.go wires production.

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/calendar"
	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/demo/samplemail"
	"github.com/complaintd/complaintd/internal/dispatch"
	"github.com/complaintd/complaintd/internal/imapsource"
	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/mailmsg"
	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/internal/metrics"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/policy"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/staffauth"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
	"github.com/complaintd/complaintd/templates"
)

const (
	deskAddr = "tousu@desk.example.cn"
	imapUser = "tousu"
	imapPass = "test-password"
	mailbox  = "INBOX"
	waitFor  = 20 * time.Second // generous under -race on a loaded machine
)

// testKey is the vault master key; fixed so that a restarted harness can read what
// the first one stored.
var testKey = bytes.Repeat([]byte{0x42}, 32)

// servers are the in-process mail servers a harness talks to. They outlive a
// harness, so a restart test can stop the desk and start another on the same mail.
type servers struct {
	imap *mailtest.MemIMAP
	sink *mailtest.SMTPSink
}

func newServers(t *testing.T) *servers {
	t.Helper()
	im, err := mailtest.NewMemIMAP("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { im.Close() })
	if err := im.AddUser(imapUser, imapPass); err != nil {
		t.Fatal(err)
	}
	sink, err := mailtest.NewSMTPSink(mailtest.SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	return &servers{imap: im, sink: sink}
}

// deliver appends raw to the desk's INBOX and returns its UID.
func (s *servers) deliver(t *testing.T, raw []byte) uint32 {
	t.Helper()
	uid, err := s.imap.Append(imapUser, mailbox, raw)
	if err != nil {
		t.Fatal(err)
	}
	return uid
}

func (s *servers) imapOptions(t *testing.T) imapsource.Options {
	t.Helper()
	host, port := splitAddr(t, s.imap.Addr())
	return imapsource.Options{Host: host, Port: port, TLS: imapsource.TLSNone, Username: imapUser, Password: imapPass,
		CommandTimeout: 5 * time.Second, FetchTimeout: 10 * time.Second}
}

func splitAddr(t *testing.T, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return h, port
}

// config is what a test may change before the harness starts.
type config struct {
	proc intake.Options
	poll imapsource.PipelineOptions
	disp dispatch.Options
	// wrapTemplates, when set, replaces the templates the mailer renders with (failure
	// injection).
	wrapTemplates func(mailer.Templates) mailer.Templates
}

// harness is the pipeline feeding the processor, and the dispatcher sending what it
// queues, running in goroutines.
type harness struct {
	t        *testing.T
	srv      *servers
	store    *store.Store
	metrics  *metrics.Metrics
	pipeline *imapsource.Pipeline[*intake.Prepared]

	stopOnce sync.Once
	cancel   func()
}

// startHarness starts the desk on dir (a fresh t.TempDir() when ""), after letting
// each mutate adjust the configuration. It is stopped at cleanup, or earlier by stop.
func startHarness(t *testing.T, srv *servers, dir string, mutate ...func(*config)) *harness {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	cal, err := calendar.New("Asia/Shanghai", []string{"saturday", "sunday"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := render.NewReloader("", templates.FS(), "zh-CN", nil, render.WithLocation(cal.Location()))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(dir+"/attachments", testKey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dir+"/complaintd.db", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	m := &metrics.Metrics{}
	cfg := &config{
		proc: intake.Options{
			Store: st, Vault: v, Rules: policy.DefaultRules(),
			Deadlines:  cases.Deadlines{Calendar: cal, Policy: cases.DeadlinePolicy{ReviewDays: 3, ProcessDays: 5, ExpireDays: 15}},
			Limits:     mailmsg.Limits{},
			CasePrefix: "TS", Desk: outbox.Address{Name: "凤凰网投诉受理中心", Address: deskAddr},
			Staff: intake.StaffOptions{
				Auth:       staffauth.Config{Mode: staffauth.ModeToken, Secret: []byte("test staff secret")},
				AppealDays: 15, AuthorDays: 7, AttachMaxBytes: 20 << 20,
			},
			Locale:     "zh-CN",
			ReplyLimit: 10, ReplyWindow: time.Hour,
			Logger: logger.With("part", "intake"), Metrics: m,
		},
		poll: imapsource.PipelineOptions{
			IMAP: srv.imapOptions(t), Mailbox: mailbox, Idle: true, PollInterval: 200 * time.Millisecond,
			Processed: "flag", ProcessedFolder: "Processed", QuarantineFolder: "Quarantine", MaxAttempts: 3,
			Backoff: imapsource.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond},
			Logger:  logger.With("part", "imap"), Metrics: m,
		},
		disp: dispatch.Options{
			Store: st, MaxAttempts: 20, RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
			SendTimeout: 10 * time.Second, Logger: logger.With("part", "outbox"), Metrics: m,
		},
	}
	for _, f := range mutate {
		f(cfg)
	}
	var tmpl mailer.Templates = tpl
	if cfg.wrapTemplates != nil {
		tmpl = cfg.wrapTemplates(tmpl)
	}
	cfg.proc.Mailer = mailer.New(mailer.Options{Templates: tmpl, Desk: cfg.proc.Desk, CasePrefix: cfg.proc.CasePrefix,
		Locale: cfg.proc.Locale, Catalogue: cfg.proc.Catalogue, Metrics: cfg.proc.Metrics})
	host, port := splitAddr(t, srv.sink.Addr())
	sender, err := outbox.NewSender(outbox.Options{Host: host, Port: port, TLS: outbox.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cfg.disp.Sender = sender
	proc, err := intake.NewProcessor(cfg.proc)
	if err != nil {
		t.Fatal(err)
	}
	cfg.disp.Attach = proc.Attach
	disp := dispatch.New(cfg.disp)
	cfg.poll.OnQueued = disp.Wake
	pipeline := imapsource.NewPipeline[*intake.Prepared](proc, cfg.poll)

	h := &harness{t: t, srv: srv, store: st, metrics: m, pipeline: pipeline}
	// Shut down in production order: intake first (the message in hand is finished),
	// then the outbox, then the store.
	intakeCtx, stopIntake := context.WithCancel(context.Background())
	outCtx, stopOut := context.WithCancel(context.Background())
	var intakeWG, outWG sync.WaitGroup
	intakeWG.Go(func() { pipeline.Run(intakeCtx) })
	outWG.Go(func() { disp.Run(outCtx) })
	h.cancel = func() {
		stopIntake()
		intakeWG.Wait()
		stopOut()
		outWG.Wait()
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	}
	t.Cleanup(h.stop)
	return h
}

// stop shuts the desk down and closes the store; calling it again does nothing.
func (h *harness) stop() { h.stopOnce.Do(h.cancel) }

// eventually polls cond until it holds or the deadline passes (no fixed sleeps).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not a wait for an outcome
	}
}

// waitReplies waits until the sink holds at least n messages and returns them.
func (h *harness) waitReplies(n int) []mailtest.SinkMessage {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	got, err := h.srv.sink.WaitN(ctx, n)
	if err != nil {
		h.t.Fatalf("waiting for %d replies: have %d: %v", n, len(got), err)
	}
	return got
}

func (h *harness) view(fn func(tx *store.Tx) error) {
	h.t.Helper()
	if err := h.store.View(fn); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) cases() []*cases.Case {
	h.t.Helper()
	var out []*cases.Case
	h.view(func(tx *store.Tx) error {
		return tx.EachCase(true, func(c *cases.Case) error { out = append(out, c); return nil })
	})
	return out
}

func (h *harness) message(messageID string) *store.Message {
	h.t.Helper()
	var found *store.Message
	h.view(func(tx *store.Tx) error {
		return tx.EachMessage(func(m *store.Message) error {
			if m.MessageID == messageID {
				found = m
			}
			return nil
		})
	})
	return found
}

func (h *harness) checkpoint() store.Checkpoint {
	h.t.Helper()
	var cp store.Checkpoint
	h.view(func(tx *store.Tx) error {
		var err error
		cp, err = tx.Checkpoint(mailbox)
		return err
	})
	return cp
}

func (h *harness) quarantined() []store.Quarantined {
	h.t.Helper()
	var q []store.Quarantined
	h.view(func(tx *store.Tx) error {
		var err error
		q, err = tx.Quarantined()
		return err
	})
	return q
}

// waitCheckpoint waits until every UID up to uid is handled (processed, skipped or
// quarantined) and nothing waits for a retry.
func (h *harness) waitCheckpoint(uid uint32) {
	h.t.Helper()
	eventually(h.t, fmt.Sprintf("checkpoint to reach UID %d", uid), func() bool {
		cp := h.checkpoint()
		return cp.LastUID >= uid && len(cp.Retry) == 0
	})
}

// waitSettled waits until the outbox holds nothing pending.
func (h *harness) waitSettled() {
	h.t.Helper()
	eventually(h.t, "outbox to drain", func() bool {
		n := -1
		h.view(func(tx *store.Tx) error { n = tx.PendingCount(); return nil })
		return n == 0
	})
}

// repliesTo counts the sent mails whose In-Reply-To names messageID.
func repliesTo(t *testing.T, sent []mailtest.SinkMessage, messageID string) int {
	t.Helper()
	n := 0
	for _, m := range sent {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatalf("reply is not a mail: %v", err)
		}
		if strings.Trim(msg.Header.Get("In-Reply-To"), "<> ") == messageID {
			n++
		}
	}
	return n
}

// completeComplaint is an individual's news takedown with every document the default
// policy asks for.
func completeComplaint(from, messageID string) samplemail.Mail {
	return samplemail.Mail{
		From: from, To: deskAddr, Subject: "张三申请删除凤凰资讯稿件", MessageID: messageID,
		Body: "您好：\n\n本人申请删除以下新闻稿件，材料见附件。\n\n" + samplemail.ZhangsanForm + "\n\n张三",
		Files: []samplemail.File{
			{Name: "删帖申请表（签字）.pdf", ContentType: "application/pdf", Content: samplemail.Scan("pdf", "form "+messageID)},
			{Name: "身份证复印件.jpg", ContentType: "image/jpeg", Content: samplemail.Scan("jpg", "id "+messageID)},
			{Name: "事件说明函.pdf", ContentType: "application/pdf", Content: samplemail.Scan("pdf", "explanation "+messageID)},
			{Name: "法院判决书.pdf", ContentType: "application/pdf", Content: samplemail.Scan("pdf", "judgement "+messageID)},
			{Name: "原发媒体撤稿函.pdf", ContentType: "application/pdf", Content: samplemail.Scan("pdf", "withdrawal "+messageID)},
		},
	}
}

// plainComplaint is a short complaint without documents: it always makes a new,
// incomplete case and is answered with an acknowledgement.
func plainComplaint(from, messageID, subject string) samplemail.Mail {
	return samplemail.Mail{From: from, To: deskAddr, Subject: subject, MessageID: messageID,
		Body: "姓名：王五\n文章标题：《我的邻居》\n文章链接：http://blog.ifeng.com/article/123.html\n删除原因：博文泄露本人住址。\n"}
}
