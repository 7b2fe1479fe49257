package intake_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/store"
)

// A store that fails (issue 17: a full disk quarantined good mail for good) is the
// environment's fault: the errors say so, Fail refuses to charge the mail with it, and
// once the store works again the same mail registers as if nothing happened.
func TestStoreFaultIsNeverTheMailsFault(t *testing.T) {
	p, st, m := newBareProcessor(t)
	var full atomic.Bool
	st.SetFault(func() error {
		if full.Load() {
			return fmt.Errorf("write complaintd.db: %w", syscall.ENOSPC)
		}
		return nil
	})
	box := inbound.Stream{Channel: inbound.IMAP, Name: "INBOX"}
	src := inbound.Source{Stream: box, Epoch: 1, Seq: 1}
	raw := plainComplaint("王五|wangwu@example.cn", "full-disk@example.cn", "王五申请删除凤凰博客稿件").bytes()

	full.Store(true)
	_, err := p.Process(context.Background(), src, bytes.NewReader(raw))
	if err == nil || !inbound.IsEnvironment(err) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("process on a full disk: %v, want an environment fault wrapping ENOSPC", err)
	}
	for range 5 {
		f, ferr := p.Fail(src, "full-disk@example.cn", err, 3)
		if ferr == nil || f.Attempts != 0 || f.Quarantined {
			t.Fatalf("Fail with an environment fault: %+v, %v; want it refused, nothing counted", f, ferr)
		}
	}
	if _, err := p.Progress(box); !inbound.IsEnvironment(err) && err != nil {
		t.Errorf("progress: %v", err)
	}
	// A stop is not the mail's fault either.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Process(ctx, src, bytes.NewReader(raw)); !inbound.IsEnvironment(err) {
		t.Errorf("process after a stop: %v, want an environment fault", err)
	}

	full.Store(false)
	pr, err := p.Progress(box)
	if err != nil || len(pr.Retry) != 0 || pr.Last != 0 {
		t.Fatalf("progress after the fault: %+v %v, want untouched", pr, err)
	}
	out, err := p.Process(context.Background(), src, bytes.NewReader(raw))
	if err != nil || out.Case == "" {
		t.Fatalf("process once space is back: %+v %v", out, err)
	}
	if got := m.Failures.Load(); got != 0 {
		t.Errorf("failures counted = %d, want 0", got)
	}
	st.View(func(tx *store.Tx) error {
		if qs, _ := tx.Quarantined(); len(qs) != 0 {
			t.Errorf("quarantine = %+v, want empty", qs)
		}
		return nil
	})
	// The mail's own fault still counts, and is told apart in the record.
	bad := inbound.Source{Stream: box, Epoch: 1, Seq: 2}
	f, err := p.Fail(bad, "bad@example.cn", &intake.PermanentError{Err: errors.New("parse: too many parts")}, 3)
	if err != nil || !f.Quarantined {
		t.Fatalf("permanent failure: %+v %v", f, err)
	}
	st.View(func(tx *store.Tx) error {
		q, err := tx.QuarantineRecord("INBOX", 1, 2)
		if err != nil || q.Fault != store.FaultMail {
			t.Errorf("record %+v %v, want the mail's fault", q, err)
		}
		return nil
	})
}

// Quarantine is a waiting room: a record asked for again (or quarantined for the
// environment's fault, by an earlier version) is listed by Retries and, once
// released, waits among the stream's retries with no attempt counted; nothing of it
// stays in quarantine.
func TestQuarantineReleasedForAnotherAttempt(t *testing.T) {
	p, st, _ := newBareProcessor(t)
	box := inbound.Stream{Channel: inbound.IMAP, Name: "INBOX"}
	at := func(seq uint32) inbound.Source { return inbound.Source{Stream: box, Epoch: 4, Seq: seq} }
	for seq := uint32(1); seq <= 3; seq++ {
		if _, err := p.Fail(at(seq), fmt.Sprintf("m%d@example.cn", seq), &intake.PermanentError{Err: errors.New("over the limits")}, 3); err != nil {
			t.Fatal(err)
		}
	}
	// What an earlier version wrote for a full disk: no fault field, the error in
	// the reason.
	err := st.Update(func(tx *store.Tx) error {
		return tx.PutQuarantined(store.Quarantined{Mailbox: "INBOX", UIDValidity: 4, UID: 4, MessageID: "m4@example.cn",
			Reason: "commit: write complaintd.db: no space left on device", Attempts: 3, At: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	retries := func() []uint32 {
		t.Helper()
		rs, err := p.Retries(box)
		if err != nil {
			t.Fatal(err)
		}
		var out []uint32
		for _, r := range rs {
			out = append(out, r.Source.Seq)
		}
		return out
	}
	if got := retries(); len(got) != 1 || got[0] != 4 {
		t.Fatalf("retries = %v, want the environment's record (4) only", got)
	}
	if _, err := intake.RequestRetry(st, "INBOX/4/2", false, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := intake.RequestRetry(st, "INBOX/4/99", false, time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("retry of an unknown record: %v, want not found", err)
	}
	if got := retries(); len(got) != 2 || got[0] != 2 || got[1] != 4 {
		t.Fatalf("retries = %v, want 2 and 4", got)
	}
	for _, seq := range []uint32{2, 4} {
		if err := p.Released(at(seq), true); err != nil {
			t.Fatal(err)
		}
		if err := p.Released(at(seq), true); err != nil { // twice: the second does nothing
			t.Fatal(err)
		}
	}
	pr, err := p.Progress(box)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Retry) != 2 || pr.Retry[0] != 2 || pr.Retry[1] != 4 {
		t.Errorf("progress %+v, want 2 and 4 waiting for a retry", pr)
	}
	if got := retries(); len(got) != 0 {
		t.Errorf("retries after release = %v", got)
	}
	// The released mail's next failure is its first.
	f, err := p.Fail(at(2), "m2@example.cn", errors.New("boom"), 3)
	if err != nil || f.Attempts != 1 || f.Quarantined {
		t.Errorf("first failure after release: %+v %v", f, err)
	}
	st.View(func(tx *store.Tx) error {
		qs, _ := tx.Quarantined()
		if len(qs) != 2 {
			t.Errorf("quarantine = %+v, want 1 and 3 left", qs)
		}
		return nil
	})
	if _, err := intake.RequestRetry(st, "", true, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := retries(); len(got) != 2 {
		t.Errorf("retries after retry -all = %v, want 1 and 3", got)
	}
}
