package imapsource_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/complaintd/complaintd/internal/demo/samplemail"
	"github.com/complaintd/complaintd/internal/imapsource"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/render"
)

// People read the service mailbox too. A mail they opened (\Seen) is still new to the
// desk: the checkpoint decides, never IMAP flags.
func TestSeenMailIsProcessed(t *testing.T) {
	srv := newServers(t)
	h := startHarness(t, srv, "")
	c, err := imapsource.Dial(context.Background(), srv.imapOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	uid, err := c.Append(context.Background(), mailbox, plainComplaint("王五|wangwu@example.cn", "seen-1@example.cn", "王五申请删除凤凰博客稿件").Bytes(), `\Seen`)
	if err != nil {
		t.Fatal(err)
	}
	h.waitCheckpoint(uid)
	h.waitReplies(1)
	if m := h.message("seen-1@example.cn"); m == nil || m.Role != "complainant" || m.Case == "" {
		t.Errorf("seen mail registered as %+v", m)
	}
}

// failFor is a mailer.Templates that fails for one complainant, as a template bug triggered
// by one case's data would; it counts those calls.
type failFor struct {
	next  mailer.Templates
	email string
	calls *atomic.Int32
}

func (f failFor) Render(kind, locale string, d render.Data) (render.Rendered, error) {
	if d.Case.Applicant.Email == f.email {
		f.calls.Add(1)
		return render.Rendered{}, errors.New("injected template failure")
	}
	return f.next.Render(kind, locale, d)
}

// A mail that can never be processed must be kept aside and recorded (SPEC §1.1), and
// must not hold up the mail behind it: an oversized one at once, a failing one after
// MaxAttempts tries.
func TestQuarantine(t *testing.T) {
	t.Run("oversized at once", func(t *testing.T) {
		srv := newServers(t)
		h := startHarness(t, srv, "", func(c *config) { c.proc.Limits.MaxMessageBytes = 32 << 10 })
		big := completeComplaint("张三|zhangsan@example.cn", "big@example.cn")
		big.Files = append(big.Files, samplemail.File{Name: "视频.mp4", ContentType: "video/mp4", Content: make([]byte, 64<<10)})
		bigUID := srv.deliver(t, big.Bytes())
		next := srv.deliver(t, plainComplaint("王五|wangwu@example.cn", "behind-big@example.cn", "王五申请删除凤凰博客稿件").Bytes())
		h.waitCheckpoint(next)
		sent := h.waitReplies(1)
		if got := repliesTo(t, sent, "behind-big@example.cn"); got != 1 {
			t.Errorf("mail behind the oversized one: %d replies, want 1", got)
		}
		q := h.quarantined()
		if len(q) != 1 || q[0].UID != bigUID || q[0].Attempts != 1 || !strings.Contains(q[0].Reason, "MaxMessageBytes") {
			t.Fatalf("quarantine = %+v, want the oversized UID %d after 1 attempt", q, bigUID)
		}
		// The move follows the record (after the fetch batch the mail came in).
		eventually(t, "the quarantine record to say the mail was moved (MemIMAP has MOVE)", func() bool {
			q := h.quarantined()
			return len(q) == 1 && q[0].Moved
		})
		// The mail itself is kept, in the quarantine folder (SPEC §1.1: never dropped).
		cl, err := imapsource.Dial(context.Background(), srv.imapOptions(t))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		eventually(t, "the mail in the quarantine folder", func() bool {
			st, err := cl.Select(context.Background(), "Quarantine")
			return err == nil && st.Messages == 1
		})
		if got := h.metrics.Quarantined.Load(); got != 1 {
			t.Errorf("quarantined metric = %d, want 1", got)
		}
		if h.message("big@example.cn") != nil {
			t.Error("the oversized mail was registered")
		}
		if len(h.cases()) != 1 {
			t.Errorf("cases = %d, want 1", len(h.cases()))
		}
	})
	t.Run("failing after MaxAttempts", func(t *testing.T) {
		srv := newServers(t)
		var calls atomic.Int32
		h := startHarness(t, srv, "", func(c *config) {
			c.poll.MaxAttempts = 3
			c.wrapTemplates = func(next mailer.Templates) mailer.Templates {
				return failFor{next: next, email: "poison@example.cn", calls: &calls}
			}
		})
		bad := srv.deliver(t, plainComplaint("毒|poison@example.cn", "poison@example.cn", "某某申请删除凤凰博客稿件").Bytes())
		good := srv.deliver(t, plainComplaint("王五|wangwu@example.cn", "behind-poison@example.cn", "王五申请删除凤凰博客稿件").Bytes())
		sent := h.waitReplies(1)
		if got := repliesTo(t, sent, "behind-poison@example.cn"); got != 1 {
			t.Errorf("mail behind the failing one: %d replies, want 1", got)
		}
		h.waitCheckpoint(good)
		eventually(t, "quarantine record", func() bool { return len(h.quarantined()) == 1 })
		q := h.quarantined()[0]
		if q.UID != bad || q.Attempts != 3 || !strings.Contains(q.Reason, "injected template failure") {
			t.Errorf("quarantine = %+v, want UID %d after 3 attempts", q, bad)
		}
		// Each attempt renders once, or twice when the mail was committed in a group
		// with the mail behind it and then alone to find the culprit.
		if got := calls.Load(); got < 3 || got > 6 {
			t.Errorf("render attempts for the failing mail = %d, want 3 to 6", got)
		}
		if got := h.metrics.Failures.Load(); got != 3 {
			t.Errorf("failures metric = %d, want 3", got)
		}
		if h.message("poison@example.cn") != nil {
			t.Error("a failed attempt left a registered message behind (the transaction must roll back)")
		}
		if got := len(h.cases()); got != 1 {
			t.Errorf("cases = %d, want 1 (a failed attempt must leave no case)", got)
		}
		if cp := h.checkpoint(); len(cp.Retry) != 0 || len(cp.Started) != 0 {
			t.Errorf("checkpoint still tracks attempts: %+v", cp)
		}
	})
}

// The desk must survive a restart without processing a mail or sending a reply twice:
// the checkpoint and the outbox state are in the store, not in memory.
func TestRestart(t *testing.T) {
	srv := newServers(t)
	dir := t.TempDir()
	h1 := startHarness(t, srv, dir)
	var last uint32
	for i := 1; i <= 3; i++ {
		last = srv.deliver(t, plainComplaint(fmt.Sprintf("人%d|p%d@example.cn", i, i), fmt.Sprintf("rs-%d@example.cn", i), "王五申请删除凤凰博客稿件").Bytes())
	}
	h1.waitCheckpoint(last)
	h1.waitReplies(3)
	h1.waitSettled()
	h1.stop()

	h2 := startHarness(t, srv, dir)
	next := srv.deliver(t, plainComplaint("人4|p4@example.cn", "rs-4@example.cn", "王五申请删除凤凰博客稿件").Bytes())
	h2.waitCheckpoint(next)
	h2.waitReplies(4)
	h2.waitSettled()
	if got := len(srv.sink.Messages()); got != 4 {
		t.Errorf("replies = %d, want 4 (nothing resent)", got)
	}
	if got := h2.metrics.Processed.Load(); got != 1 {
		t.Errorf("second run processed %d mails, want 1", got)
	}
	if got := h2.metrics.Duplicates.Load(); got != 0 {
		t.Errorf("second run saw %d duplicates, want 0 (the checkpoint must skip them)", got)
	}
	if got := len(h2.cases()); got != 4 {
		t.Errorf("cases = %d, want 4", got)
	}
	ids := map[string]bool{}
	for _, c := range h2.cases() {
		if ids[c.ID] {
			t.Errorf("case ID %s given twice", c.ID)
		}
		ids[c.ID] = true
	}
}

// The IMAP server goes away (network trouble, restart): the pipeline must reconnect
// with backoff and carry on, and count the errors for monitoring.
func TestIMAPReconnect(t *testing.T) {
	srv := newServers(t)
	var dials atomic.Int32
	var live atomic.Pointer[imapsource.Client]
	h := startHarness(t, srv, "", func(c *config) {
		c.poll.Dial = func(ctx context.Context, o imapsource.Options) (*imapsource.Client, error) {
			if dials.Add(1) <= 3 {
				return nil, fmt.Errorf("injected dial failure: %w", imapsource.ErrConnLost)
			}
			cl, err := imapsource.Dial(ctx, o)
			if err == nil {
				live.Store(cl)
			}
			return cl, err
		}
	})
	uid := srv.deliver(t, plainComplaint("王五|wangwu@example.cn", "re-1@example.cn", "王五申请删除凤凰博客稿件").Bytes())
	h.waitCheckpoint(uid)
	h.waitReplies(1)
	if got := h.metrics.IMAPErrors.Load(); got < 3 {
		t.Errorf("IMAP errors = %d, want at least the 3 injected", got)
	}

	// Drop the established connection mid-run; the next mail still arrives.
	connects := h.metrics.IMAPConnects.Load()
	live.Load().Close()
	eventually(t, "a reconnect", func() bool { return h.metrics.IMAPConnects.Load() > connects })
	uid = srv.deliver(t, plainComplaint("赵六|zhaoliu@example.cn", "re-2@example.cn", "赵六申请删除凤凰博客稿件").Bytes())
	h.waitCheckpoint(uid)
	h.waitReplies(2)
	if got := h.metrics.IMAPErrors.Load(); got < 4 {
		t.Errorf("IMAP errors = %d, want at least 4 after the dropped connection", got)
	}
}

// A backlog longer than one FETCH is read with several FETCHes in one run of the
// pipeline, the committer going on meanwhile: every mail becomes one case, in UID
// order, and is answered once.
func TestBacklogOverSeveralFetches(t *testing.T) {
	srv := newServers(t)
	const n = 230 // three FETCHes: 100, 100, 30
	var last uint32
	for i := range n {
		id := fmt.Sprintf("backlog-%03d@example.cn", i)
		last = srv.deliver(t, plainComplaint(fmt.Sprintf("申请人%03d|p%03d@example.cn", i, i), id, "申请删除凤凰博客稿件").Bytes())
	}
	// Each FETCH of new mail is paced first (the replies catching up), and the
	// backlog is told before the catch-up and when it ends.
	var paced atomic.Int32
	var backlogMu sync.Mutex
	var backlog []int
	h := startHarness(t, srv, "", func(c *config) {
		c.poll.Pace = func(ctx context.Context) {
			if ctx.Err() == nil {
				paced.Add(1)
			}
		}
		c.poll.Backlog = func(n int) {
			backlogMu.Lock()
			backlog = append(backlog, n)
			backlogMu.Unlock()
		}
	})
	h.waitCheckpoint(last)
	eventually(t, "the catch-up to end", func() bool {
		backlogMu.Lock()
		defer backlogMu.Unlock()
		return len(backlog) > 0 && backlog[len(backlog)-1] == 0
	})
	backlogMu.Lock()
	if len(backlog) < 2 || backlog[0] != n {
		t.Errorf("backlog told %v, want %d first, 0 last", backlog, n)
	}
	backlogMu.Unlock()
	cs := h.cases()
	if len(cs) != n {
		t.Fatalf("%d cases for %d mails", len(cs), n)
	}
	if got := paced.Load(); got < 3 {
		t.Errorf("Pace called %d times for three FETCHes of new mail", got)
	}
	// Case numbers follow the UIDs: the commits kept the mailbox's order.
	for i := range n {
		m := h.message(fmt.Sprintf("backlog-%03d@example.cn", i))
		if m == nil || m.Case == "" {
			t.Fatalf("mail %d not registered: %+v", i, m)
		}
		if want := fmt.Sprintf("-%06d", i+1); !strings.HasSuffix(m.Case, want) {
			t.Fatalf("mail %d (UID %d) became case %s, want a number ending %s", i, m.UID, m.Case, want)
		}
	}
	sent := h.waitReplies(n)
	h.waitSettled()
	if got := len(srv.sink.Messages()); got != n {
		t.Errorf("%d replies for %d complaints (first wait saw %d)", got, n, len(sent))
	}
}
