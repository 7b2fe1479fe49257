package intake_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // replies are UTF-8, but decode any charset
	"golang.org/x/text/encoding/simplifiedchinese"

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

// clock is an adjustable clock that keeps running: real time plus an offset. Both the
// processor and the dispatcher read it, so entries queued "in the future" are due.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time            { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration)   { c.offset.Add(int64(d)) }
func (c *clock) Since(t time.Time) float64 { return c.Now().Sub(t).Seconds() }

// config is what a test may change before the harness starts.
type config struct {
	proc  intake.Options
	poll  imapsource.PipelineOptions
	disp  dispatch.Options
	clock *clock
	// wrapTemplates, when set, replaces the templates the mailer renders with (failure
	// injection).
	wrapTemplates func(mailer.Templates) mailer.Templates
}

// harness is the whole desk (imapsource's pipeline, the processor, the dispatcher) on
// one data directory, wired as internal/app/desk.go wires production, running in
// goroutines.
type harness struct {
	t       *testing.T
	srv     *servers
	dir     string
	store   *store.Store
	metrics *metrics.Metrics
	proc    *intake.Processor
	mailer  intake.Mailer // the processor's, for the scheduler in tests that run one
	clock   *clock

	stopOnce sync.Once
	cancel   func()
	wg       sync.WaitGroup
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
	clk := &clock{}
	cfg := &config{
		clock: clk,
		proc: intake.Options{
			Store: st, Vault: v, Rules: policy.DefaultRules(),
			Deadlines:  cases.Deadlines{Calendar: cal, Policy: cases.DeadlinePolicy{ReviewDays: 3, ProcessDays: 5, ExpireDays: 15}},
			Limits:     mailmsg.Limits{},
			CasePrefix: "TS", Desk: outbox.Address{Name: "凤凰网投诉受理中心", Address: deskAddr},
			Staff: intake.StaffOptions{
				// No staff by default: the sink then holds only complainant mail.
				// Staff tests add staff with withStaff.
				Auth:       staffauth.Config{Mode: staffauth.ModeToken, Secret: []byte("test staff secret")},
				AppealDays: 15, AuthorDays: 7, AttachMaxBytes: 20 << 20,
			},
			Locale:     "zh-CN",
			ReplyLimit: 10, ReplyWindow: time.Hour,
			Now: clk.Now, Logger: logger.With("part", "intake"), Metrics: m,
		},
		poll: imapsource.PipelineOptions{
			IMAP: srv.imapOptions(t), Mailbox: mailbox, Idle: true, PollInterval: 200 * time.Millisecond,
			Processed: "flag", ProcessedFolder: "Processed", QuarantineFolder: "Quarantine", MaxAttempts: 3,
			Backoff: imapsource.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond},
			Logger:  logger.With("part", "imap"), Metrics: m,
		},
		disp: dispatch.Options{
			Store: st, MaxAttempts: 20, RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
			SendTimeout: 10 * time.Second, Now: clk.Now, Logger: logger.With("part", "outbox"), Metrics: m,
		},
	}
	for _, f := range mutate {
		f(cfg)
	}
	// The mailer is built after the mutations, from the processor's desk, prefix,
	// locale and catalogue, as internal/app/desk.go builds it.
	var tmpl mailer.Templates = tpl
	if cfg.wrapTemplates != nil {
		tmpl = cfg.wrapTemplates(tmpl)
	}
	if cfg.proc.Mailer == nil {
		cfg.proc.Mailer = mailer.New(mailer.Options{Templates: tmpl, Desk: cfg.proc.Desk, CasePrefix: cfg.proc.CasePrefix,
			Locale: cfg.proc.Locale, Catalogue: cfg.proc.Catalogue, Metrics: cfg.proc.Metrics})
	}
	if cfg.disp.Sender == nil {
		host, port := splitAddr(t, srv.sink.Addr())
		sender, err := outbox.NewSender(outbox.Options{Host: host, Port: port, TLS: outbox.TLSNone, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		cfg.disp.Sender = sender
	}
	proc, err := intake.NewProcessor(cfg.proc)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.disp.Attach == nil {
		cfg.disp.Attach = proc.Attach
	}
	disp := dispatch.New(cfg.disp)
	cfg.poll.OnQueued = disp.Wake
	pipeline := imapsource.NewPipeline[*intake.Prepared](proc, cfg.poll)

	h := &harness{t: t, srv: srv, dir: dir, store: st, metrics: m, proc: proc, mailer: cfg.proc.Mailer, clock: clk}
	// Shut down in production order: intake first (the message in hand is finished),
	// then the outbox, then the store.
	intakeCtx, stopIntake := context.WithCancel(context.Background())
	outCtx, stopOut := context.WithCancel(context.Background())
	var intakeWG sync.WaitGroup
	intakeWG.Add(1)
	go func() { defer intakeWG.Done(); pipeline.Run(intakeCtx) }()
	h.wg.Add(1)
	go func() { defer h.wg.Done(); disp.Run(outCtx) }()
	h.cancel = func() {
		stopIntake()
		intakeWG.Wait()
		stopOut()
		h.wg.Wait()
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

func (h *harness) caseByID(id string) *cases.Case {
	h.t.Helper()
	var c *cases.Case
	h.view(func(tx *store.Tx) error {
		var err error
		c, err = tx.Case(id)
		return err
	})
	return c
}

func (h *harness) messages() []*store.Message {
	h.t.Helper()
	var out []*store.Message
	h.view(func(tx *store.Tx) error {
		return tx.EachMessage(func(m *store.Message) error { out = append(out, m); return nil })
	})
	return out
}

func (h *harness) message(messageID string) *store.Message {
	h.t.Helper()
	for _, m := range h.messages() {
		if m.MessageID == messageID {
			return m
		}
	}
	return nil
}

func (h *harness) outbox() []*store.OutboxEntry {
	h.t.Helper()
	var out []*store.OutboxEntry
	h.view(func(tx *store.Tx) error {
		return tx.EachOutbox(func(e *store.OutboxEntry) error { out = append(out, e); return nil })
	})
	return out
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

// reply is a sent mail as a recipient's client sees it.
type reply struct {
	to      []string
	header  mail.Header
	subject string // decoded
	text    string // decoded text/plain part, \n line ends
}

func parseReply(t *testing.T, m mailtest.SinkMessage) reply {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("reply is not a mail: %v", err)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	return reply{to: m.To, header: msg.Header, subject: subj, text: plainText(t, m.Data)}
}

func plainText(t *testing.T, raw []byte) string {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		t.Fatalf("read reply: %v", err)
	}
	var found string
	err = e.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil || found != "" {
			return err
		}
		if ct, _, _ := part.Header.ContentType(); ct == "text/plain" {
			b, err := io.ReadAll(part.Body)
			if err != nil {
				return err
			}
			found = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk reply: %v", err)
	}
	if found == "" {
		t.Fatal("reply has no text/plain part")
	}
	return strings.ReplaceAll(found, "\r\n", "\n")
}

// replyTo finds the reply whose In-Reply-To names messageID.
func replyTo(t *testing.T, sent []mailtest.SinkMessage, messageID string) []reply {
	t.Helper()
	var out []reply
	for _, m := range sent {
		r := parseReply(t, m)
		if strings.Trim(r.header.Get("In-Reply-To"), "<> ") == messageID {
			out = append(out, r)
		}
	}
	return out
}

func bareID(h string) string { return strings.Trim(strings.TrimSpace(h), "<>") }

// file is one attachment of a test mail.
type file struct {
	name, ctype string
	content     []byte
}

// testMail builds a complaint the way common clients send one: UTF-8 (or GBK) base64
// body, attachments with RFC 2231 names.
type testMail struct {
	from       string // "Name|addr"
	subject    string // encoded as an RFC 2047 word when not ASCII
	rawSubject string // used verbatim when set
	messageID  string // "" leaves the header out
	inReplyTo  string
	references []string
	body       string
	files      []file
	headers    []string
	date       time.Time
}

// bytes builds the mail with the demo's builder, addressed to the desk.
func (m testMail) bytes() []byte {
	files := make([]samplemail.File, len(m.files))
	for i, f := range m.files {
		files[i] = samplemail.File{Name: f.name, ContentType: f.ctype, Content: f.content}
	}
	return samplemail.Mail{From: m.from, To: deskAddr, Subject: m.subject, RawSubject: m.rawSubject, MessageID: m.messageID,
		InReplyTo: m.inReplyTo, References: m.references, Body: m.body, Files: files, Headers: m.headers, Date: m.date}.Bytes()
}

func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s + "\r\n")
	return b.String()
}

// gbkWord encodes s as an RFC 2047 GBK B-word, as Foxmail writes subjects.
func gbkWord(t testing.TB, s string) string {
	t.Helper()
	g, err := simplifiedchinese.GBK.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return "=?GBK?B?" + base64.StdEncoding.EncodeToString([]byte(g)) + "?="
}

// completeComplaint is an individual's news takedown with every document the default
// policy asks for (application form, ID, explanation, reason proof, withdrawal letter).
func completeComplaint(from, messageID string) testMail {
	return testMail{
		from: from, subject: "张三申请删除凤凰资讯稿件", messageID: messageID,
		body: "您好：\n\n本人申请删除以下新闻稿件，材料见附件。\n\n" + samplemail.ZhangsanForm + "\n\n张三",
		files: []file{
			{"删帖申请表（签字）.pdf", "application/pdf", samplemail.Scan("pdf", "form "+messageID)},
			{"身份证复印件.jpg", "image/jpeg", samplemail.Scan("jpg", "id "+messageID)},
			{"事件说明函.pdf", "application/pdf", samplemail.Scan("pdf", "explanation "+messageID)},
			{"法院判决书.pdf", "application/pdf", samplemail.Scan("pdf", "judgement "+messageID)},
			{"原发媒体撤稿函.pdf", "application/pdf", samplemail.Scan("pdf", "withdrawal "+messageID)},
		},
	}
}

// plainComplaint is a short complaint without documents: it always makes a new,
// incomplete case and is answered with an acknowledgement.
func plainComplaint(from, messageID, subject string) testMail {
	return testMail{from: from, subject: subject, messageID: messageID,
		body: "姓名：王五\n文章标题：《我的邻居》\n文章链接：http://blog.ifeng.com/article/123.html\n删除原因：博文泄露本人住址。\n"}
}
