// Package intake is the flow itself, one message at a time: raw message → parse →
// classify → decide (new case, follow-up, noise, duplicate) → one store transaction
// holding the case change, its events, the registered message, the replies it causes
// and the advance of its stream's progress. A crash before the commit leaves nothing;
// after it, everything.
//
// The entry is channel-neutral: a message comes with its inbound.Source (the channel,
// IMAP today, and its position there). What has been processed is decided by the
// stream's progress record and by two idempotency keys, never by the channel's markers
// (IMAP flags): the Message-ID, and a digest of the decoded content (for mail without a
// Message-ID and for mail seen again under a new epoch, such as a new UIDVALIDITY).
// Failed attempts, retries and quarantine are recorded here too, keyed by the source
// (see Fail), so every channel gets them; the channel only says what happened. Only
// the message's own faults are counted: a failing store or disk is the environment's
// (inbound.EnvironmentError), and the channel pauses instead.
//
// Order does not matter: a follow-up processed before the mail it answers opens the
// case and claims that mail (by Message-ID, for its sender only); the mail joins the
// case when it comes, as a follow-up would have.
package intake

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/classify"
	"github.com/complaintd/complaintd/internal/desk"
	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/mailmsg"
	"github.com/complaintd/complaintd/internal/metrics"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/pii"
	"github.com/complaintd/complaintd/internal/policy"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/routing"
	"github.com/complaintd/complaintd/internal/staffauth"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
)

// Mailer renders and queues mail in the caller's transaction (package mailer).
type Mailer interface {
	Queue(q mailer.Queue, c *cases.Case, o mailer.Outgoing, now time.Time) error
	View(c *cases.Case) render.Data
	// Update runs a transaction whose mail is rendered before it, not in it.
	Update(st mailer.Updater, fn func(*store.Tx) error) error
	// NewMessageID names a mail before it is queued on q, the same in every pass.
	NewMessageID(q mailer.Queue, base string) string
	// Final reports whether the transaction on q commits as it stands (its mail is
	// rendered): what is counted is counted in that pass only.
	Final(q mailer.Queue) bool
	// QueueEntry is Queue that returns the entry written.
	QueueEntry(q mailer.Queue, c *cases.Case, o mailer.Outgoing, now time.Time) (*store.OutboxEntry, error)
}

// Options wires a Processor. Every field is required unless it says otherwise.
type Options struct {
	Store  *store.Store
	Vault  *vault.Vault
	Mailer Mailer
	// Deadlines is the desk's one deadline rule (its calendar gives the case year's
	// time zone too).
	Deadlines cases.Deadlines
	Rules     []policy.DocumentRule
	// Catalogue holds the document kinds; nil: the built-in ones.
	Catalogue *cases.Catalogue
	Limits    mailmsg.Limits
	// MessageBudget is the time one mail may take to parse and classify; past it the
	// mail is registered with what was read (issue 13, 3). Zero: DefaultMessageBudget.
	MessageBudget time.Duration
	// MaxInflateBytes caps the bytes inflated from one mail's archives and .docx
	// files together. Zero: classify.DefaultMaxInflateBytes.
	MaxInflateBytes int64

	CasePrefix  string         // e.g. TS
	Desk        outbox.Address // the service mailbox, sender of replies
	Locale      string         // default reply locale
	ReplyLimit  int            // automatic replies per sender per ReplyWindow
	ReplyWindow time.Duration  //
	// ReplyDomainLimit caps automatic replies to one recipient domain, and
	// ReplyGlobalLimit all automatic replies, per ReplyWindow: mails forging many
	// Reply-To addresses must not make the desk a backscatter source. 0: no cap.
	ReplyDomainLimit int
	ReplyGlobalLimit int
	// Staff configures the staff desk; the zero value has no staff.
	Staff StaffOptions
	// Router decides departments and severity; nil: one desk, every case ordinary.
	Router *routing.Router
	// SensitiveKinds are document kinds kept under the case's sensitive key, which
	// retention destroys (ID cards, licences, powers of attorney). Unclassified files
	// always are.
	SensitiveKinds []cases.Kind

	Now     func() time.Time // nil: time.Now
	Logger  *slog.Logger     // nil: discard
	Metrics *metrics.Metrics // nil: not counted
}

// Processor turns raw messages into registered, answered cases.
type Processor struct {
	// pending holds, per transaction of CommitGroup, what is done once it commits.
	pending  sync.Map // *store.Tx → *afterCommit
	o        Options
	classify classify.Options // prepared once: the catalogue's keywords folded
	tagRe    *regexp.Regexp
	domain   string
	// quoteless remembers recent bodies without their quoted parts: the commit reads
	// them several times per mail (forged-command check, severity), twice over (the
	// mailer's two passes); Prepare fills it on its parallel workers.
	quoteless quotelessMemo
}

// quotelessMemo maps a body to desk.StripQuoted of it, for bodies up to
// quotelessMaxBytes, at most quotelessEntries at once.
type quotelessMemo struct {
	mu sync.Mutex
	m  map[string]string
}

const (
	quotelessEntries  = 256
	quotelessMaxBytes = 64 << 10
)

func (q *quotelessMemo) of(text string) string {
	if len(text) > quotelessMaxBytes {
		return desk.StripQuoted(text)
	}
	q.mu.Lock()
	out, ok := q.m[text]
	q.mu.Unlock()
	if ok {
		return out
	}
	out = desk.StripQuoted(text)
	q.mu.Lock()
	if q.m == nil || len(q.m) >= quotelessEntries {
		q.m = map[string]string{}
	}
	q.m[text] = out
	q.mu.Unlock()
	return out
}

// NewProcessor checks the options.
func NewProcessor(o Options) (*Processor, error) {
	if o.Store == nil || o.Vault == nil || o.Mailer == nil || o.Deadlines.Calendar == nil {
		return nil, errors.New("intake: store, vault, mailer and deadlines calendar are required")
	}
	if o.Catalogue == nil {
		o.Catalogue = cases.DefaultCatalogue()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MessageBudget <= 0 {
		o.MessageBudget = DefaultMessageBudget
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = &metrics.Metrics{}
	}
	o.Desk.Address = strings.ToLower(o.Desk.Address)
	for i, a := range o.Staff.Auth.Staff {
		o.Staff.Auth.Staff[i] = strings.ToLower(strings.TrimSpace(a))
	}
	if len(o.Staff.Notify) == 0 {
		o.Staff.Notify = o.Staff.Auth.Staff
	}
	_, domain, _ := strings.Cut(o.Desk.Address, "@")
	return &Processor{
		o:        o,
		classify: classify.Options{Catalogue: o.Catalogue, MaxInflateBytes: o.MaxInflateBytes}.WithDefaults(),
		tagRe:    regexp.MustCompile(`\[\s*(` + regexp.QuoteMeta(o.CasePrefix) + `-\d{4}-\d{6})\s*\]`),
		domain:   domain,
	}, nil
}

// DefaultMessageBudget is Options.MessageBudget when zero: a real complaint takes
// milliseconds; the bombs of issue 13 took minutes.
const DefaultMessageBudget = 5 * time.Second

// PermanentError marks a message that will never process (too large, hostile). Fail
// quarantines it at once instead of counting it for a retry.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

type spoolAdapter struct{ s *vault.Spool }

func (a spoolAdapter) Create() (mailmsg.SpoolFile, error) { return a.s.Create() }

type openerAdapter struct{ v *vault.Vault }

func (o openerAdapter) Open(id string) (classify.ReaderAtCloser, int64, error) {
	return o.v.OpenSpool(id)
}

// Process registers one raw message from src, advancing src's stream in the same
// store transaction (also for duplicates and noise).
func (p *Processor) Process(ctx context.Context, src inbound.Source, raw io.Reader) (inbound.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return inbound.Outcome{}, err
	}
	// A mail begun is finished, within its budget: a shutdown waits for it.
	prep, err := p.Prepare(context.WithoutCancel(ctx), raw)
	if err != nil {
		return inbound.Outcome{MessageID: prep.MessageID()}, err
	}
	return p.Commit(src, prep)
}

// Prepared is a message parsed and classified, its attachments in the spool, not yet
// registered. Preparing writes nothing to the store (it may read it, to skip a copy
// already registered): several can be prepared at once, and committed one after the
// other in mailbox order.
type Prepared struct {
	msg    *mailmsg.Message
	digest string
	res    classify.Result
	dkim   []staffauth.DKIMResult // our verification of a staff mail's signatures
	// classifiedBy is the catalogue res was made with; nil when the mail was not
	// classified. A SIGHUP may swap the processor between Prepare and the commit.
	classifiedBy *cases.Catalogue
}

// MessageID is the prepared mail's Message-ID ("" when it could not be read).
func (pr *Prepared) MessageID() string {
	if pr == nil || pr.msg == nil {
		return ""
	}
	return pr.msg.MessageID
}

// Prepare parses and classifies one raw message; a copy of a registered mail (same
// Message-ID) is only read through, not parsed, and commits as a duplicate. On error
// nothing stays in the spool.
//
// The parse and the classification share one budget (Options.MessageBudget of work,
// the waits for the raw mail not counted, and Options.MaxInflateBytes): past it they
// stop reading, and
// the mail is still prepared with what was read in time; its Problems and its
// classification say what was not read (issue 13, 3). A mail over budget therefore
// costs the desk seconds, once. When ctx itself ends, Prepare returns its error.
func (p *Processor) Prepare(ctx context.Context, raw io.Reader) (*Prepared, error) {
	if err := ctx.Err(); err != nil {
		return &Prepared{}, err
	}
	// A copy delivered again (a client's resend, a mailbox moved back) is known by its
	// Message-ID before anything is decoded: a bomb costs its full parse once only.
	br := readBuffer(raw)
	defer recycleReadBuffer(br)
	if id := peekMessageID(br); id != "" && p.knownMessageID(id) {
		if _, err := io.Copy(io.Discard, br); err != nil {
			return &Prepared{}, environment(fmt.Errorf("read message: %w", err))
		}
		return &Prepared{msg: &mailmsg.Message{MessageID: id}}, nil
	}
	// A new case takes a key file made ahead: made here, on a worker, rather than
	// by the committer all mail waits for.
	p.o.Vault.TopUpKeys()
	spool := p.o.Vault.NewSpool()
	defer spool.Close() // a panic in the parser must not leak the open pack
	// The budget counts the work on the mail, not the wait for its bytes.
	budget := newWorkBudget(ctx, p.o.MessageBudget)
	defer budget.release()
	tapped, tap := p.tapDKIM(budget.reader(br))
	defer tap.finish(false) // a panic in the parser must not leave the verifier waiting
	msg, err := mailmsg.ParseContext(budget, tapped, spoolAdapter{spool}, p.o.Limits)
	// A message cut off by its budget is not verified: its body hash was not read.
	dkim := tap.finish(err == nil && !msg.Stopped)
	if err == nil && msg.Stopped {
		// The source expects the message read to its end (cheap: no decoding).
		if _, derr := io.Copy(io.Discard, br); derr != nil {
			err = fmt.Errorf("read message: %w", derr)
		}
	}
	if cerr := spool.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("spool: %w", cerr)
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err() // stopped by a shutdown, not by the budget: not the mail's fault
	}
	if err != nil {
		// A partial message may hold spool files already written: drop them.
		pr := &Prepared{msg: msg}
		p.Discard(pr)
		var le *mailmsg.LimitError
		if errors.As(err, &le) {
			return pr, &PermanentError{Err: fmt.Errorf("parse: %w", err)}
		}
		// The spool's disk failing is not the mail's fault.
		return pr, environment(fmt.Errorf("parse: %w", err))
	}
	pr := &Prepared{msg: msg, digest: contentDigest(msg), dkim: dkim}
	if msg.Auto == mailmsg.Human {
		pr.res = classify.ClassifyContext(budget, msg, openerAdapter{p.o.Vault}, p.classify)
		pr.classifiedBy = p.o.Catalogue
		if err := ctx.Err(); err != nil {
			p.Discard(pr)
			return &Prepared{msg: msg}, err
		}
		// What the commit will ask about the text, worked out here, in parallel:
		// the commit is the pipeline's one serial stage.
		body := p.quoteless.of(msg.Text)
		if p.o.Router != nil {
			p.o.Router.Warm(msg.Subject, body)
		}
	}
	if budget.Err() != nil || msg.Stopped {
		p.o.Logger.Warn("message over its budget", "message_id", pii.LogHash(msg.MessageID),
			"budget", p.o.MessageBudget, "parse_stopped", msg.Stopped)
	}
	return pr, nil
}

// readBuffers recycles Prepare's 64 KiB read buffer: allocated per mail they were a
// tenth of all the bytes the daemon allocated during a backlog (issue 18).
// They are safe to reuse once Prepare returns: the parser and the DKIM tap read
// through them by copying, and peekMessageID keeps strings, not slices of them.
var readBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

func readBuffer(r io.Reader) *bufio.Reader {
	br := readBuffers.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

// recycleReadBuffer is deferred right after its readBuffer, so it runs after the
// steps deferred later that still read through the buffer (the DKIM tap's end).
func recycleReadBuffer(br *bufio.Reader) {
	br.Reset(nil)
	readBuffers.Put(br)
}

// peekMessageID reads the Message-ID from the header block at the start of r without
// consuming it; "" when the block does not fit in r's buffer or has none.
func peekMessageID(r *bufio.Reader) string {
	head, _ := r.Peek(r.Size())
	end := bytes.Index(head, []byte("\r\n\r\n"))
	if end < 0 {
		if end = bytes.Index(head, []byte("\n\n")); end < 0 {
			return ""
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(head[:end+2]))
	if err != nil {
		return ""
	}
	return strings.Trim(strings.TrimSpace(m.Header.Get("Message-Id")), "<>")
}

// knownMessageID reports whether a mail with this Message-ID was registered (a read
// transaction: it never waits for the committer).
func (p *Processor) knownMessageID(id string) bool {
	known := false
	p.o.Store.View(func(tx *store.Tx) error {
		known = tx.KnownMessageID(id)
		return nil
	})
	return known
}

// Discard drops the spool of a prepared message nobody will commit.
func (p *Processor) Discard(pr *Prepared) { p.eachSpooled(pr, p.o.Vault.Discard) }

// release lets go of the spool of a committed message (what it kept lives on in
// its case).
func (p *Processor) release(pr *Prepared) { p.eachSpooled(pr, p.o.Vault.Release) }

func (p *Processor) eachSpooled(pr *Prepared, fn func(spoolID string)) {
	if pr == nil || pr.msg == nil {
		return
	}
	for _, a := range pr.msg.Attachments {
		if a.SpoolID != "" {
			fn(a.SpoolID)
		}
	}
}

// reclassify classifies pr again when another processor prepared it with another
// document catalogue: a SIGHUP that swapped the generation between the two steps.
// Classified with the old kinds and checked against the new rules, a mail that
// carried a document of a kind the reload added was told that document was missing.
// The attachments are still in the spool; the mail gets a budget of its own again.
func (p *Processor) reclassify(pr *Prepared) {
	if pr == nil || pr.classifiedBy == nil || pr.classifiedBy == p.o.Catalogue {
		return
	}
	budget := newWorkBudget(context.Background(), p.o.MessageBudget)
	defer budget.release()
	pr.res = classify.ClassifyContext(budget, pr.msg, openerAdapter{p.o.Vault}, p.classify)
	pr.classifiedBy = p.o.Catalogue
}

// Commit registers a prepared message in one store transaction, which also advances
// src's stream (for duplicates and noise too). On failure the spool is discarded.
func (p *Processor) Commit(src inbound.Source, pr *Prepared) (inbound.Outcome, error) {
	outs, err := p.CommitGroup([]inbound.Source{src}, []*Prepared{pr})
	if err != nil {
		p.Discard(pr)
		return inbound.Outcome{MessageID: pr.MessageID()}, err
	}
	return outs[0], nil
}

// CommitGroup registers several prepared messages, in order, in one store
// transaction with one sync of the attachment files: all of them or none. The
// transaction advances each message's stream past it. On success the spool is
// released; on failure the prepared messages stay usable, so the caller can commit
// them one by one to find the culprit (and must Discard what it gives up on).
func (p *Processor) CommitGroup(srcs []inbound.Source, prs []*Prepared) ([]inbound.Outcome, error) {
	for _, pr := range prs {
		p.reclassify(pr)
	}
	kept := map[string]bool{}
	now := p.o.Now()
	outs := make([]inbound.Outcome, len(prs))
	// The mailer renders the replies before the transaction (two passes), so a
	// large rendering holds no other commit.
	err := p.o.Mailer.Update(p.o.Store, func(tx *store.Tx) error {
		after := &afterCommit{}
		p.pending.Store(tx, after)
		defer p.pending.Delete(tx)
		clear(kept)
		for i, pr := range prs {
			out, err := p.commitIn(tx, srcs[i], pr, now, kept)
			if err != nil {
				return err
			}
			outs[i] = out
		}
		// The records about to be committed point at the files kept and are
		// sealed with case keys that may be new: make those durable first (a
		// no-op when there are none).
		if err := p.o.Vault.Flush(); err != nil {
			return err
		}
		for _, src := range srcs {
			if err := advanceIn(tx, src, now); err != nil {
				return err
			}
		}
		// Counted before the commit, as the records they count become visible with it
		// (tests and /metrics read both), and in the pass that commits only.
		if p.o.Mailer.Final(tx) {
			after.run()
		}
		return nil
	})
	if err != nil {
		// A store or disk that fails is the environment's fault, not these mails'.
		return nil, environment(err)
	}
	for _, pr := range prs {
		p.release(pr)
	}
	done := p.o.Now()
	for i, out := range outs {
		out.MessageID, out.Date = prs[i].msg.MessageID, prs[i].msg.Date
		outs[i] = out
		p.o.Metrics.Processed.Add(1)
		if out.Duplicate {
			p.o.Metrics.Duplicates.Add(1)
		}
		p.o.Metrics.LastProcessedAt.Store(done.Unix())
		// The Date header is the sender's clock: only plausible values feed the lag.
		if d := out.Date; !d.IsZero() && !d.After(done) && done.Sub(d) < 30*24*time.Hour {
			p.o.Metrics.LastMessageDate.Store(d.Unix())
		}
		p.o.Logger.Info("message registered", "mailbox", srcs[i].Name, "uid", srcs[i].Seq, "message_id", pii.LogHash(out.MessageID),
			"case", out.Case, "role", out.Role, "outcome", out.Result)
	}
	return outs, nil
}

// commitIn registers one message inside tx.
func (p *Processor) commitIn(tx *store.Tx, src inbound.Source, pr *Prepared, now time.Time, kept map[string]bool) (inbound.Outcome, error) {
	msg, digest := pr.msg, pr.digest
	if tx.KnownMessageID(msg.MessageID) || tx.KnownDigest(digest) {
		return inbound.Outcome{Role: "duplicate", Result: "already registered", Duplicate: true}, nil
	}
	rec := &store.Message{
		Key: digest, MessageID: msg.MessageID, Mailbox: streamKey(src.Stream), UIDValidity: src.Epoch, UID: src.Seq,
		From: msg.From.Address, Subject: msg.Subject, Date: msg.Date, ReceivedAt: now,
		Text: msg.Text, Problems: msg.Problems,
	}
	adopt, err := adopted(tx, src)
	if err != nil {
		return inbound.Outcome{}, err
	}
	var out inbound.Outcome
	switch {
	case adopt:
		// In the mailbox before the desk (imap.start: new): people handled it; known
		// from now on by its Message-ID and content, never answered.
		out = inbound.Outcome{Role: inbound.RoleAdopted, Result: "in the mailbox before the first start (imap.start: new): recorded, no case, no reply"}
		err = tx.LinkMessageID(msg.MessageID, "")
	case msg.Auto != mailmsg.Human:
		out = inbound.Outcome{Role: "noise", Result: fmt.Sprintf("%s (%s): no case, no reply", msg.Auto, msg.AutoReason)}
		err = tx.LinkMessageID(msg.MessageID, "")
	case p.isDesk(msg.From.Address):
		// Our own mail come back (a sub-address too: desk+anything@): answering it
		// would be a loop.
		out = inbound.Outcome{Role: "noise", Result: "from the desk's own address: no case, no reply"}
	case msg.From.Address == "":
		out = inbound.Outcome{Role: "noise", Result: "no sender address: no case, no reply"}
	case p.isStaff(msg.From.Address):
		out, err = p.staff(tx, msg, pr.dkim, now)
	default:
		why, viaToken := p.forgedCommand(msg)
		var own *cases.Case
		if why != "" && !viaToken {
			// A command acts on a case: a mail that names none is a new complaint
			// that happens to begin with a command word (受理…), and it is answered.
			c, _, ferr := p.findCase(tx, msg)
			if ferr != nil {
				return inbound.Outcome{}, ferr
			}
			switch {
			case c == nil:
				why = ""
			case p.actsForComplainant(c, msg):
				// The complainant's own mail about their case (重开：材料已补齐) is
				// their follow-up: staff commands never run from it, and refused, the
				// mail and its documents were lost. The command word stays on record.
				own = c
			}
		}
		switch {
		case own != nil:
			if err = p.recordOwnCommandWord(tx, own, msg, why, now); err == nil {
				out, err = p.complainant(tx, msg, pr.res, now, kept)
			}
		case why != "":
			out, err = p.refuseForged(tx, msg, why, now)
		default:
			out, err = p.complainant(tx, msg, pr.res, now, kept)
		}
	}
	if err != nil {
		return inbound.Outcome{}, err
	}
	rec.Role, rec.Outcome, rec.Case = out.Role, out.Result, out.Case
	if err := tx.PutMessage(rec); err != nil {
		return inbound.Outcome{}, fmt.Errorf("register message: %w", err)
	}
	return out, nil
}

// recordOwnCommandWord records, as refuseForged does (why names the action only),
// that the complainant's mail about c opened with a staff command word; nothing is
// run (its From may be forged), and the caller takes the mail as their follow-up.
func (p *Processor) recordOwnCommandWord(tx *store.Tx, c *cases.Case, msg *mailmsg.Message, why string, now time.Time) error {
	why += "; nothing run, taken as the complainant's follow-up"
	if err := tx.AppendEvent(c.ID, cases.Event{At: now, Type: cases.EventSecurity, Actor: cases.AddressKey(msg.From.Address), Note: why}); err != nil {
		return err
	}
	if err := tx.AddAlert(store.Alert{At: now, Kind: "security", Message: why + " (case " + c.ID + ")"}); err != nil {
		return err
	}
	p.afterCommit(tx, func() { p.o.Metrics.SecurityEvents.Add(1) })
	return nil
}

// contentDigest identifies a message by what it says, not by how it travelled: trace
// headers differ between two deliveries of one mail, the decoded content does not.
func contentDigest(m *mailmsg.Message) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00%s\x00%s\x00", m.MessageID, strings.ToLower(m.From.Address),
		m.Subject, m.Date.Unix(), strings.Join(m.References, " "), m.Text)
	for _, a := range m.Attachments {
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00", a.Filename, a.SHA256, a.Size)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// maxClaims bounds the unseen mails one follow-up is linked to: the newest
// references are the most specific, and a References header can be long.
const maxClaims = 5

// claimUnseen links a new case, opened by msg, to what msg answers that is not
// registered yet: a case tag naming no case, and the newest In-Reply-To/References
// Message-IDs no registered mail has (a follow-up processed before its original, after
// a rescan in another order or a quarantine released later). Each link is an event
// on the case, for staff.
func (p *Processor) claimUnseen(tx *store.Tx, c *cases.Case, msg *mailmsg.Message, now time.Time, events *[]cases.Event) error {
	from := cases.AddressKey(msg.From.Address)
	if m := p.tagRe.FindStringSubmatch(msg.Subject); m != nil && m[1] != c.ID {
		if _, err := tx.Case(m[1]); errors.Is(err, store.ErrNotFound) {
			if err := tx.PutPendingLink("tag:"+m[1], c.ID, from, now); err != nil {
				return err
			}
			*events = append(*events, cases.Event{At: now, Type: cases.EventLinked, Actor: "desk",
				Note: "the mail names case " + m[1] + ", which is not registered"})
		} else if err != nil {
			return err
		}
	}
	ids := append(slices.Clone(msg.InReplyTo), msg.References...)
	n := 0
	for i := len(ids) - 1; i >= 0 && n < maxClaims; i-- {
		id := ids[i]
		if id == "" || id == msg.MessageID || tx.KnownMessageID(id) {
			continue
		}
		if _, ok := tx.CaseByMessageID(id); ok {
			continue // one of our own mails, or noise: seen
		}
		if err := tx.PutPendingLink(id, c.ID, from, now); err != nil {
			return err
		}
		n++
	}
	if n > 0 {
		*events = append(*events, cases.Event{At: now, Type: cases.EventLinked, Actor: "desk",
			Note: fmt.Sprintf("a follow-up of %d mail(s) not registered yet: they join this case when they come", n)})
	}
	return nil
}

// claimedBy returns the case a follow-up of msg opened before msg came (claimUnseen),
// when msg is from the same sender and the case is still open; the claim is used up.
// A case that claimed msg's case number (the tag) is linked for staff instead: two
// cases cannot be one.
func (p *Processor) claimedBy(tx *store.Tx, msg *mailmsg.Message, now time.Time, early *[]cases.Event) (*cases.Case, error) {
	from := cases.AddressKey(msg.From.Address)
	id, ok, err := tx.TakePendingLink(msg.MessageID, from)
	if err != nil || !ok {
		return nil, err
	}
	c, err := tx.Case(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // erased meanwhile
	}
	if err != nil {
		return nil, err
	}
	if c.State.Terminal() || c.ErasedAt != nil { // `cases erase` erases open cases too
		return nil, nil
	}
	*early = append(*early, cases.Event{At: now, Type: cases.EventLinked, Actor: "desk",
		Note: "the mail this case's follow-up answered arrived after it, and joined the case"})
	return c, nil
}

// linkClaimedNumber records, on a new case and on the case of a follow-up that named
// the new case's number before it existed, that the two are linked (shown to staff).
func (p *Processor) linkClaimedNumber(tx *store.Tx, c *cases.Case, msg *mailmsg.Message, now time.Time, events *[]cases.Event) error {
	other, ok, err := tx.TakePendingLink("tag:"+c.ID, cases.AddressKey(msg.From.Address))
	if err != nil || !ok || other == c.ID {
		return err
	}
	if o, err := tx.Case(other); err != nil || o.ErasedAt != nil {
		return nil // erased since: nothing may be added to it (findCase)
	}
	*events = append(*events, cases.Event{At: now, Type: cases.EventLinked, Actor: "desk",
		Note: "case " + other + " named this case's number before it was registered"})
	return tx.AppendEvent(other, cases.Event{At: now, Type: cases.EventLinked, Actor: "desk",
		Note: "case " + c.ID + " is now registered: it is the case this case's mail named"})
}

// findCase applies SPEC §1.2: the case tag in the subject, else a Message-ID of the
// case in In-Reply-To or References.
//
// An erased case is never found: nothing may be added to it, since sealing an event
// would give it new keys and make its complainant readable again (the sender is an
// event's actor; found in review). Mail that names one is new mail.
func (p *Processor) findCase(tx *store.Tx, msg *mailmsg.Message) (*cases.Case, string, error) {
	if m := p.tagRe.FindStringSubmatch(msg.Subject); m != nil {
		c, err := tx.Case(m[1])
		if err == nil && c.ErasedAt == nil {
			return c, "case tag in subject", nil
		}
		if err == nil {
			err = store.ErrNotFound
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, "", err
		}
	}
	ids := append(slices.Clone(msg.InReplyTo), msg.References...)
	for i := len(ids) - 1; i >= 0; i-- { // the newest reference is the most specific
		if id, ok := tx.CaseByMessageID(ids[i]); ok && id != "" {
			c, err := tx.Case(id)
			if err == nil && c.ErasedAt == nil {
				return c, "reply to a message of the case", nil
			}
			if err == nil {
				continue
			}
			if !errors.Is(err, store.ErrNotFound) {
				return nil, "", err
			}
		}
	}
	return nil, "", nil
}

func (p *Processor) complainant(tx *store.Tx, msg *mailmsg.Message, res classify.Result, now time.Time, kept map[string]bool) (inbound.Outcome, error) {
	c, how, err := p.findCase(tx, msg)
	if err != nil {
		return inbound.Outcome{}, err
	}
	var early []cases.Event // what the order of arrival changed, on the case
	if c == nil {
		// A follow-up of this mail came first and opened the case (order does not
		// matter): the mail joins it, as a follow-up would have.
		if c, err = p.claimedBy(tx, msg, now, &early); err != nil {
			return inbound.Outcome{}, err
		}
		if c != nil {
			how = "the mail a follow-up received before it answered"
		}
	}
	sender := p.replyAddress(msg)
	if c != nil && c.Author != "" && cases.AddressKey(msg.From.Address) == cases.AddressKey(c.Author) {
		return p.authorStatement(tx, c, msg, res.Documents, now, kept)
	}
	if c != nil && !p.actsForComplainant(c, msg) {
		// A case number is no proof: anyone can write [TS-2026-000012] 撤回. Only the
		// complainant acts on the case; this mail is a complaint of its own, and the
		// attempt is on the named case's record.
		if err := tx.AppendEvent(c.ID, cases.Event{At: now, Type: cases.EventSecurity, Actor: cases.AddressKey(msg.From.Address),
			Note: "a mail naming this case was not from its complainant: registered as a new case"}); err != nil {
			return inbound.Outcome{}, err
		}
		caseID := c.ID
		p.afterCommit(tx, func() {
			p.o.Metrics.SecurityEvents.Add(1)
			p.o.Logger.Warn("mail naming a case not from its complainant", "case", caseID, "message_id", pii.LogHash(msg.MessageID))
		})
		c = nil
	}
	// The notices of an expired or withdrawn case ask for a new application with all
	// the documents; the complainant's client keeps the case number in the subject.
	// Joined to the finished case, the documents would be reviewed by nobody.
	var finished *cases.Case
	if c != nil && reapplies(c, msg, res) {
		// The rest of the same application (documents too large for one mail, sent in
		// a second reply to the notice) joins the case the first mail opened.
		next, err := p.reapplication(tx, c, msg)
		if err != nil {
			return inbound.Outcome{}, err
		}
		if next != nil {
			c, how = next, "a further mail of the new application sent about case "+c.ID
		} else {
			finished, c = c, nil
		}
	}
	isNew := c == nil
	if isNew {
		id, err := tx.NextCaseID(p.o.CasePrefix, now.In(p.o.Deadlines.Calendar.Location()).Year())
		if err != nil {
			return inbound.Outcome{}, err
		}
		c = &cases.Case{
			ID: id, State: cases.Incomplete, CreatedAt: now, Complainant: sender, ComplainantFrom: cases.AddressKey(msg.From.Address),
			Locale:  render.ChooseLocale(msg.Text, msg.Subject, p.o.Locale),
			Subject: res.Subject, Applicant: res.Applicant, Principal: res.Principal, Request: res.Request,
			Documents: []cases.Document{}, Missing: []cases.Kind{},
		}
		if c.Applicant.Email == "" {
			c.Applicant.Email = sender
		}
		how = "new case"
	} else {
		mergeResult(c, res)
	}
	c.Why = mergeWhy(c.Why, res.Why)
	added, err := p.keepDocuments(c, msg, res.Documents, now, kept)
	if err != nil {
		return inbound.Outcome{}, err
	}

	c.Threads = appendUnique(c.Threads, msg.MessageID)
	c.LastInbound = msg.MessageID
	c.UpdatedAt = now
	events := []cases.Event{{At: now, Type: cases.EventMessageReceived, Actor: sender, Note: how}}
	if isNew {
		events = append(events, cases.Event{At: now, Type: cases.EventCreated, Actor: "desk", To: cases.Incomplete})
		// A follow-up of mail not registered yet: linked, so the mail joins this case
		// when it comes.
		if err := p.claimUnseen(tx, c, msg, now, &events); err != nil {
			return inbound.Outcome{}, err
		}
		if err := p.linkClaimedNumber(tx, c, msg, now, &events); err != nil {
			return inbound.Outcome{}, err
		}
		if finished != nil {
			events = append(events, cases.Event{At: now, Type: cases.EventLinked, Actor: "desk",
				Note: "a new application with documents, sent about the " + string(finished.State) + " case " + finished.ID})
			if err := tx.AppendEvent(finished.ID, cases.Event{At: now, Type: cases.EventLinked, Actor: "desk",
				Note: "a mail about this case brought documents after it ended: registered as the new case " + c.ID}); err != nil {
				return inbound.Outcome{}, err
			}
			finished.ReappliedAs = c.ID
			if err := tx.PutCase(finished); err != nil {
				return inbound.Outcome{}, fmt.Errorf("store case: %w", err)
			}
		}
	}
	events = append(events, early...)
	if len(added) > 0 {
		events = append(events, cases.Event{At: now, Type: cases.EventDocumentsAdded, Actor: sender, Note: strings.Join(added, ", ")})
	}
	c.Missing = p.missing(c)
	out := inbound.Outcome{Case: c.ID, Role: "complainant", Result: how}
	leadership, err := p.route(tx, c, msg, isNew, now, &events)
	if err != nil {
		return inbound.Outcome{}, err
	}
	// The leadership's alert goes out once the case's state for this mail is decided
	// (a complete major case is 待审核 in it, not 材料不全), whichever way this returns.
	// notified are the staff this mail's own notification reached (the case became
	// complete): it shows the case as major already, and a second mail about the same
	// event, every document attached again, is one too many.
	var notified []string
	tellLeadership := func() error {
		if leadership == "" {
			return nil
		}
		to := slices.DeleteFunc(p.o.Router.Leadership(), func(a string) bool {
			return slices.ContainsFunc(notified, func(n string) bool { return strings.EqualFold(n, a) })
		})
		if len(to) == 0 {
			return nil // an empty list would mean the default recipients
		}
		n, err := p.notifyStaff(tx, c, to, leadership, now, &events)
		out.Replies += n
		return err
	}
	if !isNew && (c.State == cases.Resolved || c.State == cases.Closed) {
		// An answer to the satisfaction survey (回访).
		if score, comment, ok := desk.ParseSurveyAnswer(msg.Text); ok {
			c.SetSatisfaction(score)
			c.SatisfactionComment = clipText(comment, 2000)
			note := strconv.Itoa(score)
			if comment != "" {
				note += ": " + clipText(comment, 200)
			}
			events = append(events, cases.Event{At: now, Type: cases.EventSatisfaction, Actor: sender, Note: note})
			out.Result += "; satisfaction " + strconv.Itoa(score)
			if err := tellLeadership(); err != nil {
				return inbound.Outcome{}, err
			}
			return out, p.finishCase(tx, c, msg, events)
		}
	}
	if !isNew {
		handled, n, err := p.complainantAction(tx, c, msg, bringsEvidence(c.Documents[len(c.Documents)-len(added):]), now, &events)
		if err != nil {
			return inbound.Outcome{}, err
		}
		if handled {
			out.Replies += n
			out.Result += "; complainant action"
			// A refused action on an incomplete case whose mail brought the last
			// documents: the case is complete all the same (below). Returning here
			// left it incomplete until it expired (found in review).
			if !completable(c) {
				if err := tellLeadership(); err != nil {
					return inbound.Outcome{}, err
				}
				return out, p.finishCase(tx, c, msg, events)
			}
		}
		if surveyAwaitsScore(c) {
			// An answer to the survey without a score: asked once, shortly, to give one
			// (it was silently dropped).
			sent, why, err := p.autoReply(tx, c, render.KindSurveyClarify, msg, now)
			if err != nil {
				return inbound.Outcome{}, err
			}
			events = append(events, cases.Event{At: now, Type: cases.EventSurveyUnclear, Actor: sender, Note: clipText(desk.StripQuoted(msg.Text), 200)})
			if sent {
				out.Replies++
				events = append(events, cases.Event{At: now, Type: cases.EventReplyQueued, Actor: "desk", Note: render.KindSurveyClarify})
			} else {
				events = append(events, cases.Event{At: now, Type: cases.EventReplySuppressed, Actor: "desk", Note: why})
			}
			out.Result += "; survey answer without a score"
		}
	}
	kind := ""
	switch {
	case completable(c):
		pend := &pending{}
		if err := p.execute(tx, c, cases.Complete, "", "desk", now, pend); err != nil {
			return inbound.Outcome{}, err
		}
		if err := pend.record(); err != nil {
			return inbound.Outcome{}, err
		}
		events = append(events, pend.events...)
		for _, m := range pend.mails {
			if err := p.o.Mailer.Queue(tx, c, m, now); err != nil {
				return inbound.Outcome{}, err
			}
			out.Replies++
			if m.Kind == "staff_notification" {
				for _, a := range m.To {
					notified = append(notified, a.Address)
				}
			}
		}
		kind = "complete"
		if isNew {
			kind = "acknowledgement"
		}
	case c.State == cases.Incomplete:
		if c.DueAt == nil {
			due := p.o.Deadlines.Due(cases.ClockExpiry, c.CreatedAt, c.Severity)
			c.DueAt = &due
		}
		kind = "missing_items"
		if isNew {
			kind = "acknowledgement"
		}
	}
	if kind != "" {
		sent, why, err := p.autoReply(tx, c, kind, msg, now)
		if err != nil {
			return inbound.Outcome{}, err
		}
		if sent {
			out.Replies++
			events = append(events, cases.Event{At: now, Type: cases.EventReplyQueued, Actor: "desk", Note: kind})
		} else {
			events = append(events, cases.Event{At: now, Type: cases.EventReplySuppressed, Actor: "desk", Note: why})
		}
		out.Result += "; " + kind
	}
	if err := tellLeadership(); err != nil {
		return inbound.Outcome{}, err
	}
	return out, p.finishCase(tx, c, msg, events)
}

// reapplies reports whether msg, from the complainant of c, is a new application
// rather than a follow-up of c: c expired or was withdrawn (its notices ask for a new
// mail with every document), msg brings at least one document of a known kind, and it
// is not a 撤回 / 申诉 (refused with a reply on the finished case). A closed case is
// not re-applied to: its complainant still answers the survey and staff may reopen it.
func reapplies(c *cases.Case, msg *mailmsg.Message, res classify.Result) bool {
	if c.State != cases.Expired && c.State != cases.Withdrawn {
		return false
	}
	if !slices.ContainsFunc(res.Documents, func(d classify.Document) bool { return d.Kind != cases.Unclassified && d.Kind != "" }) {
		return false
	}
	_, _, action := desk.ParseComplainantAction(msg.Text)
	return !action
}

// bringsEvidence reports whether added, the documents just kept from a mail, hold one
// the complainant sent as such. A picture of the body that says nothing of what it is
// — the logo of a signature, image001.png in every mail of many organisations'
// clients — is none: with it, "收到，谢谢" in reply to a rejection was taken as an
// appeal (found in review).
func bringsEvidence(added []cases.Document) bool {
	return slices.ContainsFunc(added, func(d cases.Document) bool { return d.Flagged == "" && !d.Decoration() })
}

// reapplication is the open case that a new application sent about the finished case
// opened, when msg may act on it; nil when there is none.
func (p *Processor) reapplication(tx *store.Tx, finished *cases.Case, msg *mailmsg.Message) (*cases.Case, error) {
	if finished.ReappliedAs == "" {
		return nil, nil
	}
	c, err := tx.Case(finished.ReappliedAs)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c.State.Terminal() || c.ErasedAt != nil || !p.actsForComplainant(c, msg) {
		return nil, nil
	}
	return c, nil
}

// completable reports whether the incomplete case c now has everything asked of it:
// no document kind missing, and, when staff asked in free text (补充 加盖公章的原件),
// a document received since. Free text names no kind the policy can check; without
// that rule any mail of the complainant, a question without a file, made the case
// complete.
func completable(c *cases.Case) bool {
	return c.State == cases.Incomplete && len(c.Missing) == 0 && !awaitingItems(c)
}

// awaitingItems reports whether staff's free-text items (补充) wait for a document:
// none arrived since the request.
func awaitingItems(c *cases.Case) bool {
	if len(c.RequestedItems) == 0 {
		return false
	}
	return !slices.ContainsFunc(c.Documents, func(d cases.Document) bool {
		return !d.Erased && d.Flagged == "" && !d.Decoration() && (c.RequestedAt == nil || !d.AddedAt.Before(*c.RequestedAt))
	})
}

func assigneeOr(c *cases.Case) []string {
	if c.Assignee != "" {
		return []string{c.Assignee}
	}
	return nil
}

// finishCase links the mail to the case and writes the events and the case.
func (p *Processor) finishCase(tx *store.Tx, c *cases.Case, msg *mailmsg.Message, events []cases.Event) error {
	if err := tx.LinkMessageID(msg.MessageID, c.ID); err != nil {
		return err
	}
	for _, e := range events {
		if err := tx.AppendEvent(c.ID, e); err != nil {
			return fmt.Errorf("append event: %w", err)
		}
	}
	if err := tx.PutCase(c); err != nil {
		return fmt.Errorf("store case: %w", err)
	}
	return nil
}

// replyAddress is where answers go: Reply-To when the sender set one, else From.
// A Reply-To naming the desk itself (or a sub-address of it) is ignored: the desk never
// answers its own addresses.
func (p *Processor) replyAddress(m *mailmsg.Message) string {
	for _, a := range m.ReplyTo {
		if a.Address != "" && !p.isDesk(a.Address) {
			return strings.ToLower(a.Address)
		}
	}
	return strings.ToLower(m.From.Address)
}

// isDesk reports whether addr is the service mailbox, sub-addresses included.
func (p *Processor) isDesk(addr string) bool {
	return addr != "" && cases.AddressKey(addr) == cases.AddressKey(p.o.Desk.Address)
}

// keepDocuments moves new attachments into the case's vault and records them. A file
// the case already has (same SHA-256) is not stored twice.
func (p *Processor) keepDocuments(c *cases.Case, msg *mailmsg.Message, docs []classify.Document, now time.Time, kept map[string]bool) ([]string, error) {
	have := map[string]bool{}
	for _, d := range c.Documents {
		have[d.Container+"\x00"+d.SHA256+"\x00"+d.Filename] = true
	}
	skipped := map[string]string{}
	for _, a := range msg.Attachments {
		if a.Skipped != "" {
			skipped[a.Filename] = a.Skipped
		}
	}
	var added []string
	for _, d := range docs {
		key := d.Container + "\x00" + d.SHA256 + "\x00" + d.Filename
		if have[key] {
			continue
		}
		have[key] = true
		sd := cases.Document{Kind: d.Kind, Filename: d.Filename, Container: d.Container, Size: d.Size, SHA256: d.SHA256, Why: d.Why,
			Flagged: d.Flagged, OriginalFilename: d.OriginalFilename,
			Message: msg.MessageID, AddedAt: now, Skipped: skipped[d.Filename], InlineImage: inlineImage(msg, d)}
		if d.SpoolID != "" && d.Container == "" {
			ref, err := p.o.Vault.Keep(c.ID, p.keyClass(d.Kind), d.SpoolID)
			if err != nil {
				return nil, fmt.Errorf("keep attachment: %w", err)
			}
			kept[d.SpoolID] = true
			sd.File, sd.SealedKey, sd.KeyClass, sd.Offset, sd.Length = ref.File, ref.SealedKey, ref.Class, ref.Offset, ref.Length
		}
		c.Documents = append(c.Documents, sd)
		added = append(added, d.Filename)
	}
	return added, nil
}

// inlineImage reports whether d is a picture inside the body of msg: an image part
// without "Content-Disposition: attachment", named inline or not named at all.
func inlineImage(msg *mailmsg.Message, d classify.Document) bool {
	if d.Container != "" || d.SHA256 == "" {
		return false
	}
	i := slices.IndexFunc(msg.Attachments, func(a mailmsg.Attachment) bool { return a.SHA256 == d.SHA256 })
	if i < 0 {
		return false
	}
	a := msg.Attachments[i]
	return strings.HasPrefix(a.ContentType, "image/") && (a.Inline || a.Filename == "")
}

// keyClass puts documents of the kinds retention erases under the case's sensitive key.
// Unclassified files go there too: an unnamed scan is as likely an ID card as anything.
func (p *Processor) keyClass(kind cases.Kind) string {
	if kind == cases.Unclassified || slices.Contains(p.o.SensitiveKinds, kind) {
		return vault.ClassSensitive
	}
	return vault.ClassGeneral
}

// mergeResult folds a follow-up's classification into the case: what the case lacks is
// filled in, nothing known is overwritten, and the applicant type only ever becomes
// more specific (individual < organisation < entrusted).
func mergeResult(c *cases.Case, r classify.Result) {
	if !c.Subject.Conforms && r.Subject.Conforms {
		c.Subject = r.Subject
	}
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	a := &c.Applicant
	fill(&a.Name, r.Applicant.Name)
	fill(&a.Org, r.Applicant.Org)
	fill(&a.Phone, r.Applicant.Phone)
	if a.IDNo == "" && r.Applicant.IDNo != "" {
		a.IDNo, a.IDValid = r.Applicant.IDNo, r.Applicant.IDValid
	}
	if r.Applicant.Type.Rank() > a.Type.Rank() {
		a.Type = r.Applicant.Type
	}
	if c.Principal == nil && r.Principal != nil {
		c.Principal = r.Principal
	}
	q := &c.Request
	fill(&q.Title, r.Request.Title)
	if q.URL == "" && r.Request.URL != "" {
		q.URL, q.URLValid = r.Request.URL, r.Request.URLValid
	}
	fill(&q.Author, r.Request.Author)
	fill(&q.Published, r.Request.Published)
	fill(&q.Reason, r.Request.Reason)
	fill(&q.Channel, r.Request.Channel)
	if (q.ContentKind == "" || q.ContentKind == cases.Unknown) && r.Request.ContentKind != "" {
		q.ContentKind = r.Request.ContentKind
	}
	q.Reposted = q.Reposted || r.Request.Reposted
}

// mergeWhy keeps the first reason given for each field ("applicant.type: …"): a
// follow-up that says nothing about the applicant must not add a contradicting line.
func mergeWhy(old, add []string) []string {
	seen := map[string]bool{}
	for _, w := range old {
		field, _, _ := strings.Cut(w, ":")
		seen[field] = true
	}
	for _, w := range add {
		field, _, _ := strings.Cut(w, ":")
		if !seen[field] {
			old = append(old, w)
			seen[field] = true
		}
	}
	return old
}

func appendUnique(s []string, v string) []string {
	if v == "" || slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// caseResult rebuilds a classification from the stored case for the policy.
func caseResult(c *cases.Case) classify.Result {
	r := classify.Result{Subject: c.Subject, Applicant: c.Applicant, Principal: c.Principal, Request: c.Request}
	for _, d := range c.Documents {
		r.Documents = append(r.Documents, classify.Document{Kind: d.Kind, Filename: d.Filename, Container: d.Container, Size: d.Size, SHA256: d.SHA256, Why: d.Why, Flagged: d.Flagged})
	}
	return r
}

// surveyAwaitsScore reports whether the case's survey went out, has no score yet, and
// its complainant was not yet asked to give one.
func surveyAwaitsScore(c *cases.Case) bool {
	if c.Satisfaction != 0 || (c.State != cases.Resolved && c.State != cases.Closed) {
		return false
	}
	surveyed := false
	for _, e := range c.Events {
		switch e.Type {
		case cases.EventSurveySent:
			surveyed = true
		case cases.EventSurveyUnclear:
			return false
		}
	}
	return surveyed
}

// afterCommit is what a transaction of CommitGroup does in the pass that commits:
// counters and log lines. The transaction may run more than once (the mailer renders
// between passes) and must count once.
type afterCommit struct{ fns []func() }

func (a *afterCommit) run() {
	for _, fn := range a.fns {
		fn()
	}
}

// afterCommit runs fn at the end of tx's committing pass (at once outside
// CommitGroup: the caller's transaction, the scheduler's, is run once).
func (p *Processor) afterCommit(tx *store.Tx, fn func()) {
	if a, ok := p.pending.Load(tx); ok {
		a.(*afterCommit).fns = append(a.(*afterCommit).fns, fn)
		return
	}
	fn()
}
