package imapsource_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/imapsource"
	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/store"
)

// A full disk under the store (issue 17, 1: 102 of 300 good mails quarantined in
// 10 s) pauses intake: no mail is charged however long it lasts, the operator is
// told, and once space is back every mail becomes a case, each answered once.
func TestStoreFaultPausesIntakeAndChargesNoMail(t *testing.T) {
	srv := newServers(t)
	var full atomic.Bool
	full.Store(true)
	var refused atomic.Int32
	h := startHarness(t, srv, "", func(c *config) {
		c.proc.Store.SetFault(func() error {
			if full.Load() {
				refused.Add(1)
				return fmt.Errorf("write complaintd.db: %w", syscall.ENOSPC)
			}
			return nil
		})
	})
	const n = 5
	var last uint32
	for i := range n {
		last = srv.deliver(t, plainComplaint(fmt.Sprintf("王五|wangwu%d@example.cn", i), fmt.Sprintf("full-%d@example.cn", i), "王五申请删除凤凰博客稿件").Bytes())
	}
	// Far more failed commits than MaxAttempts (3): every one used to count.
	eventually(t, "intake to pause on the full disk, refused many times", func() bool {
		since, _ := h.pipeline.Paused()
		return refused.Load() >= 10 && !since.IsZero()
	})
	if _, cause := h.pipeline.Paused(); !strings.Contains(cause, "no space left on device") {
		t.Errorf("pause cause = %q", cause)
	}
	if got := h.metrics.Failures.Load(); got != 0 {
		t.Errorf("failures counted on a full disk = %d, want 0", got)
	}
	if q := h.quarantined(); len(q) != 0 {
		t.Fatalf("quarantined on a full disk: %+v", q)
	}
	full.Store(false)
	h.waitCheckpoint(last)
	sent := h.waitReplies(n)
	for i := range n {
		if got := repliesTo(t, sent, fmt.Sprintf("full-%d@example.cn", i)); got != 1 {
			t.Errorf("mail %d: %d acknowledgements, want 1", i, got)
		}
	}
	if got := len(h.cases()); got != n {
		t.Errorf("cases = %d, want %d", got, n)
	}
	if since, _ := h.pipeline.Paused(); !since.IsZero() {
		t.Error("still paused after space came back")
	}
	if q := h.quarantined(); len(q) != 0 {
		t.Errorf("quarantine = %+v, want empty", q)
	}
	var resumed bool
	h.view(func(tx *store.Tx) error {
		alerts, _ := tx.Alerts()
		for _, a := range alerts {
			resumed = resumed || (a.Kind == "intake_paused" && strings.Contains(a.Message, "resumed"))
		}
		return nil
	})
	if !resumed {
		t.Error("no alert says intake resumed after the pause")
	}
	h.view(func(tx *store.Tx) error {
		open, _ := tx.OpenAlerts()
		for _, a := range open {
			if a.Kind == "intake_paused" {
				t.Errorf("the pause cleared itself, yet its alert is open (health stays not ok): %s", a.Message)
			}
		}
		return nil
	})
}

// A quarantined mail asked for again (complaintd quarantine retry) is moved back from
// the quarantine folder and processed once: one case, one acknowledgement, nothing
// left in quarantine or in the folder.
func TestQuarantineRetryMovesBackAndProcessesOnce(t *testing.T) {
	for _, folder := range []string{"Quarantine", ""} {
		name := "moved to " + folder
		if folder == "" {
			name = "flagged in place"
		}
		t.Run(name, func(t *testing.T) {
			srv := newServers(t)
			var calls atomic.Int32
			var broken atomic.Bool
			broken.Store(true)
			h := startHarness(t, srv, "", func(c *config) {
				c.poll.QuarantineFolder = folder
				c.wrapTemplates = func(next mailer.Templates) mailer.Templates {
					return toggled{failFor: failFor{next: next, email: "poison@example.cn", calls: &calls}, on: &broken}
				}
			})
			srv.deliver(t, plainComplaint("毒|poison@example.cn", "retry-me@example.cn", "某某申请删除凤凰博客稿件").Bytes())
			eventually(t, "the failing mail quarantined", func() bool {
				q := h.quarantined()
				return len(q) == 1 && (folder == "" || q[0].Moved)
			})
			q := h.quarantined()[0]
			if q.Fault != store.FaultMail {
				t.Errorf("fault = %q, want the mail's", q.Fault)
			}
			if folder != "" && q.FolderUID == 0 {
				t.Errorf("record does not say where the mail went: %+v", q)
			}
			broken.Store(false) // the template is mended
			if _, err := intake.RequestRetry(h.store, intake.QuarantineID(q), false, time.Now()); err != nil {
				t.Fatal(err)
			}
			h.pipeline.Wake()
			eventually(t, "the released mail registered", func() bool { return h.message("retry-me@example.cn") != nil })
			eventually(t, "quarantine empty", func() bool { return len(h.quarantined()) == 0 })
			sent := h.waitReplies(1)
			h.waitSettled()
			if got := repliesTo(t, sent, "retry-me@example.cn"); got != 1 {
				t.Errorf("acknowledgements = %d, want 1", got)
			}
			if got := len(h.cases()); got != 1 {
				t.Errorf("cases = %d, want 1", got)
			}
			if folder != "" {
				cl, err := imapsource.Dial(context.Background(), srv.imapOptions(t))
				if err != nil {
					t.Fatal(err)
				}
				defer cl.Close()
				st, err := cl.Select(context.Background(), folder)
				if err != nil || st.Messages != 0 {
					t.Errorf("quarantine folder: %+v %v, want empty", st, err)
				}
			}
			// Asked again: nothing is left to retry.
			if again, err := intake.RequestRetry(h.store, "", true, time.Now()); err != nil || len(again) != 0 {
				t.Errorf("retry -all after the release: %+v %v, want nothing", again, err)
			}
		})
	}
}

// toggled fails like failFor while on is set.
type toggled struct {
	failFor
	on *atomic.Bool
}

func (f toggled) Render(kind, locale string, d render.Data) (render.Rendered, error) {
	if !f.on.Load() {
		return f.next.Render(kind, locale, d)
	}
	return f.failFor.Render(kind, locale, d)
}

// What an earlier version quarantined for a full disk (no fault recorded, the error in
// the reason) is the environment's fault: the next start takes it back from the
// quarantine folder by itself, and it becomes a case, answered once.
func TestEnvironmentQuarantineIsRetriedByItself(t *testing.T) {
	srv := newServers(t)
	dir := t.TempDir()
	var calls atomic.Int32
	h1 := startHarness(t, srv, dir, func(c *config) {
		c.wrapTemplates = func(next mailer.Templates) mailer.Templates {
			return failFor{next: next, email: "victim@example.cn", calls: &calls}
		}
	})
	srv.deliver(t, plainComplaint("受害者|victim@example.cn", "victim@example.cn", "某某申请删除凤凰博客稿件").Bytes())
	eventually(t, "the mail quarantined and moved", func() bool {
		q := h1.quarantined()
		return len(q) == 1 && q[0].Moved
	})
	h1.stop()
	// Rewrite the record as the earlier version wrote it for a full disk.
	st, err := store.Open(dir+"/complaintd.db", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx *store.Tx) error {
		qs, err := tx.Quarantined()
		if err != nil || len(qs) != 1 {
			return fmt.Errorf("quarantine %+v: %v", qs, err)
		}
		q := qs[0]
		q.Fault, q.Reason = "", "commit: write /var/lib/complaintd/complaintd.db: no space left on device"
		return tx.PutQuarantined(q)
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	h2 := startHarness(t, srv, dir)
	eventually(t, "the mail registered after the restart", func() bool { return h2.message("victim@example.cn") != nil })
	eventually(t, "quarantine empty", func() bool { return len(h2.quarantined()) == 0 })
	sent := h2.waitReplies(1)
	h2.waitSettled()
	if got := repliesTo(t, sent, "victim@example.cn"); got != 1 {
		t.Errorf("acknowledgements = %d, want 1", got)
	}
	if got := len(h2.cases()); got != 1 {
		t.Errorf("cases = %d, want 1", got)
	}
}
