package schedule

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
)

// A panicking job is recovered and runs again on the next trigger: a panic must not
// block later runs.
func TestPanickingJobRunsAgain(t *testing.T) {
	clk := &clock{t: at(2026, 3, 9, 10, 0)}
	s := newTestScheduler(t, openStore(t, t.TempDir()), clk, defaultPolicy(), nil)
	var runs atomic.Int32
	s.jobs[0].fn = func(context.Context) (int, error) {
		if runs.Add(1) == 1 {
			panic("boom")
		}
		return 0, nil
	}
	if err := s.RunJob(JobDeadlines); err != nil {
		t.Fatal(err)
	}
	if err := s.RunJob(JobDeadlines); err != nil {
		t.Fatal(err)
	}
	if got := runs.Load(); got != 2 {
		t.Fatalf("job ran %d times, want 2 (the panic must not block later runs)", got)
	}
}

// Jobs fire when the clock says so, and only then: a clock standing still runs
// nothing however long one waits; moving it past a trigger runs the job once, even
// across many triggers (a drill jumping days ahead); a panicking run does not stop
// the next.
func TestJobsFollowTheClockNotTheWall(t *testing.T) {
	clk := &clock{t: at(2026, 3, 9, 10, 0)}
	st := openStore(t, t.TempDir())
	s, err := New(Options{Store: st, Mailer: fakeMailer{}, Executor: fakeExecutor{}, Deadlines: defaultDeadlines(t), Policy: defaultPolicy(),
		Specs: Specs{Deadlines: "@every 5m", Digest: "0 9 * * *"}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	var deadlines, digests atomic.Int32
	s.jobs[0].fn = func(context.Context) (int, error) {
		if deadlines.Add(1) == 2 {
			panic("boom")
		}
		return 0, nil
	}
	s.jobs[1].fn = func(context.Context) (int, error) { digests.Add(1); return 0, nil }
	s.CatchUp() // the deadline job runs at every start; the digest waits for 09:00
	if deadlines.Load() != 1 || digests.Load() != 0 {
		t.Fatalf("after start: deadlines %d digests %d, want 1 0", deadlines.Load(), digests.Load())
	}
	for range 3 {
		s.Tick() // real time passes, the clock does not
	}
	if deadlines.Load() != 1 {
		t.Errorf("a standing clock ran the deadline job %d times", deadlines.Load())
	}
	clk.Set(at(2026, 3, 9, 10, 6))
	s.Tick() // due: runs (and panics)
	clk.Set(at(2026, 3, 9, 10, 12))
	s.Tick() // due again: the panic did not stop it
	if deadlines.Load() != 3 {
		t.Errorf("deadline job ran %d times, want 3", deadlines.Load())
	}
	clk.Set(at(2026, 3, 14, 12, 0)) // five days and five 09:00s later
	s.Tick()
	s.Tick()
	if digests.Load() != 1 || deadlines.Load() != 4 {
		t.Errorf("after a jump of five days: digests %d deadlines %d, want each run once (1, 4)", digests.Load(), deadlines.Load())
	}
}

// Restarting (a new scheduler over the same store) neither repeats nor skips a
// reminder or an escalation.
func TestRestartNeitherRepeatsNorSkips(t *testing.T) {
	dir := t.TempDir()
	// Completed Monday 2026-03-09 10:00: review due Thursday 03-12 23:59:59; the
	// reminder is due 24h before, Wednesday 23:59:59.
	id := "TS-2026-000001"
	st := openStore(t, dir)
	putCase(t, st, pendingCase(id, at(2026, 3, 9, 9, 0), at(2026, 3, 9, 10, 0)))
	st.Close()

	steps := []struct {
		why        string
		now        time.Time
		reminders  int
		escalation int
	}{
		{"before the reminder window: nothing", at(2026, 3, 11, 12, 0), 0, 0},
		{"down through Wednesday evening, restarted Thursday morning: the reminder is caught up", at(2026, 3, 12, 8, 0), 1, 0},
		{"restarted again the same day: not repeated", at(2026, 3, 12, 9, 0), 1, 0},
		{"restarted after the deadline: escalated once", at(2026, 3, 13, 8, 0), 1, 1},
		{"restarted again: nothing more", at(2026, 3, 16, 8, 0), 1, 1},
	}
	for _, step := range steps {
		st := openStore(t, dir)
		s := newTestScheduler(t, st, &clock{t: step.now}, defaultPolicy(), nil)
		s.CatchUp()
		s.CatchUp() // a cron run right after the catch-up changes nothing either
		got := sent(t, st, id)
		if got["reminder"] != step.reminders || got["escalation"] != step.escalation {
			t.Errorf("%s: reminders %d escalations %d, want %d %d", step.why, got["reminder"], got["escalation"], step.reminders, step.escalation)
		}
		c := readCase(t, st, id)
		if c.DueAt == nil || !c.DueAt.Equal(time.Date(2026, 3, 12, 23, 59, 59, 0, cst)) {
			t.Errorf("%s: due_at %v, want 2026-03-12 23:59:59", step.why, c.DueAt)
		}
		st.Close()
	}
	st = openStore(t, dir)
	defer st.Close()
	c := readCase(t, st, id)
	n := 0
	for _, e := range c.Events {
		if e.Type == "escalate" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("escalate events: %d, want 1", n)
	}
	// The escalation goes to the supervisor and the notify list (no assignee).
	st.View(func(tx *store.Tx) error {
		return tx.EachOutbox(func(e *store.OutboxEntry) error {
			if e.Kind == "escalation" && strings.Join(e.To, ",") != "desk-staff@example.cn,boss@example.cn" {
				t.Errorf("escalation to %v", e.To)
			}
			return nil
		})
	})
}

// A paused case (waiting for the author) gets no reminder even past its deadline.
func TestPausedCaseGetsNothing(t *testing.T) {
	st := openStore(t, t.TempDir())
	c := pendingCase("TS-2026-000002", at(2026, 3, 9, 9, 0), at(2026, 3, 9, 10, 0))
	c.Events = append(c.Events, cases.Event{At: at(2026, 3, 10, 9, 0), Type: "notify_author", Actor: "editor@example.cn"})
	c.Assignee = "editor@example.cn"
	putCase(t, st, c)
	s := newTestScheduler(t, st, &clock{t: at(2026, 3, 20, 9, 0)}, defaultPolicy(), nil)
	s.CatchUp()
	if got := sent(t, st, c.ID); len(got) != 0 {
		t.Fatalf("paused case got %v", got)
	}
}

func TestExpiry(t *testing.T) {
	st := openStore(t, t.TempDir())
	id := "TS-2026-000003"
	created := at(2026, 3, 1, 10, 0)
	putCase(t, st, &cases.Case{ID: id, State: "incomplete", CreatedAt: created, Complainant: "li@example.com",
		Missing: []cases.Kind{"id_card"}, Events: []cases.Event{{At: created, Type: "created", Actor: "desk", To: "incomplete"}}})
	clk := &clock{}
	s := newTestScheduler(t, st, clk, defaultPolicy(), nil)
	steps := []struct {
		why               string
		now               time.Time
		reminders, notice int
		state             cases.State
	}{
		{"day 7: before halfway", at(2026, 3, 8, 9, 0), 0, 0, "incomplete"},
		{"day 7.5: halfway, reminded", at(2026, 3, 8, 22, 0), 1, 0, "incomplete"},
		{"day 10: not reminded again", at(2026, 3, 11, 9, 0), 1, 0, "incomplete"},
		{"day 15: expired with a notice", at(2026, 3, 16, 10, 0), 1, 1, "expired"},
		{"later: nothing more", at(2026, 3, 30, 10, 0), 1, 1, "expired"},
	}
	for _, step := range steps {
		clk.Set(step.now)
		if err := s.RunJob(JobDeadlines); err != nil {
			t.Fatal(err)
		}
		got := sent(t, st, id)
		c := readCase(t, st, id)
		if got["expiry_reminder"] != step.reminders || got["expired"] != step.notice || c.State != step.state {
			t.Errorf("%s: %v state %s, want %d reminders %d notices state %s", step.why, got, c.State, step.reminders, step.notice, step.state)
		}
	}
	c := readCase(t, st, id)
	var expire *cases.Event
	for i, e := range c.Events {
		if e.Type == "expire" {
			expire = &c.Events[i]
		}
	}
	if expire == nil || expire.From != "incomplete" || expire.To != "expired" || expire.Actor != "scheduler" {
		t.Errorf("expire event: %+v", expire)
	}
}

// The digest is sent once a day; a missed one is caught up once at start, and a
// first start ever sends none.
func TestDigestCatchUp(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	putCase(t, st, pendingCase("TS-2026-000004", at(2026, 3, 9, 9, 0), at(2026, 3, 9, 10, 0)))
	st.Close()
	steps := []struct {
		why  string
		now  time.Time
		want int
	}{
		{"first start ever (Monday 08:00): nothing missed", at(2026, 3, 9, 8, 0), 0},
		{"restart at 08:30: the 09:00 digest is not due yet", at(2026, 3, 9, 8, 30), 0},
		{"down over 09:00, restarted at 11:00: caught up", at(2026, 3, 9, 11, 0), 1},
		{"restarted at 12:00: not again", at(2026, 3, 9, 12, 0), 1},
		{"down over Tuesday and Wednesday mornings: caught up once", at(2026, 3, 11, 15, 0), 2},
	}
	for _, step := range steps {
		st := openStore(t, dir)
		s := newTestScheduler(t, st, &clock{t: step.now}, defaultPolicy(), nil)
		s.CatchUp()
		if got := sent(t, st, "")["digest"]; got != step.want {
			t.Errorf("%s: %d digests, want %d", step.why, got, step.want)
		}
		st.Close()
	}
}

// After the retention purge the document's plaintext is nowhere under the data
// directory (bbolt file included) and cannot be decrypted any more; the general
// document of the same case is untouched.
func TestRetentionErasesPersonalDataFromClosing(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	defer st.Close()
	key := bytes.Repeat([]byte{7}, 32)
	v, err := vault.Open(filepath.Join(dir, "attachments"), key)
	if err != nil {
		t.Fatal(err)
	}
	st.SetSealer(v)
	id := "TS-2026-000005"
	secret := []byte("身份证号 11010519491231002X 张三 PLAINTEXT-MARKER-" + strings.Repeat("x", 100))
	general := []byte("情况说明 GENERAL-MARKER-" + strings.Repeat("y", 100))
	keep := func(class string, b []byte, kind, name string) cases.Document {
		f, err := v.Create()
		if err != nil {
			t.Fatal(err)
		}
		f.Write(b)
		spool, err := f.Commit()
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		ref, err := v.Keep(id, class, spool)
		if err != nil {
			t.Fatal(err)
		}
		return cases.Document{Kind: cases.Kind(kind), Filename: name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b)),
			File: ref.File, SealedKey: ref.SealedKey, KeyClass: ref.Class, Offset: ref.Offset, Length: ref.Length}
	}
	docs := []cases.Document{keep(vault.ClassSensitive, secret, "id_card", "身份证.jpg"), keep(vault.ClassGeneral, general, "explanation_letter", "说明函.pdf")}
	resolvedAt := at(2026, 1, 3, 10, 0)
	// Retention counts from the closing, not from the resolution two days before.
	resolved := at(2026, 1, 5, 10, 0)
	putCase(t, st, &cases.Case{ID: id, State: "closed", CreatedAt: at(2026, 1, 2, 9, 0), Documents: docs,
		Applicant: cases.Party{Name: "张三", IDNo: "11010519491231002X", Phone: "13700001111"}, Complainant: "zhangsan@example.cn",
		Events: []cases.Event{{At: at(2026, 1, 2, 9, 0), Type: "created", To: "incomplete"},
			{At: resolvedAt, Type: "resolve", From: "accepted", To: "resolved"},
			{At: resolved, Type: "close", From: "resolved", To: "closed"}}})
	read := func(d cases.Document) ([]byte, error) {
		r, err := v.OpenBlob(id, vault.BlobRef{File: d.File, SealedKey: d.SealedKey, Class: d.KeyClass, Offset: d.Offset, Length: d.Length})
		if err != nil {
			return nil, err
		}
		return io.ReadAll(r)
	}
	if b, err := read(docs[0]); err != nil || !bytes.Equal(b, secret) {
		t.Fatalf("before the purge the document must read back: %v", err)
	}
	sealedCopy, err := os.ReadFile(filepath.Join(dir, "attachments", docs[0].File))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: resolved.AddDate(0, 0, 179)}
	s := newTestScheduler(t, st, clk, defaultPolicy(), v)
	s.RunJob(JobRetention)
	if c := readCase(t, st, id); c.Documents[0].Erased {
		t.Fatal("erased before the retention period ended")
	}
	clk.Set(resolved.AddDate(0, 0, 180))
	s.RunJob(JobRetention)
	s.RunJob(JobRetention) // idempotent
	c := readCase(t, st, id)
	if !c.Documents[0].Erased || !c.Documents[1].Erased || c.ErasedAt == nil {
		t.Fatalf("erased flags: %v %v %v, want all erased", c.Documents[0].Erased, c.Documents[1].Erased, c.ErasedAt)
	}
	if c.Documents[0].SHA256 != docs[0].SHA256 || c.Documents[0].Kind != "id_card" || c.State != "closed" {
		t.Error("the anonymous facts (kind, SHA-256, state) must stay")
	}
	if c.Applicant.Name != "" || c.Applicant.IDNo != "" || c.Complainant != "" || c.Documents[0].Filename != "" {
		t.Errorf("personal information survives the retention: %+v", c.Applicant)
	}
	n := 0
	for _, e := range c.Events {
		if e.Type == cases.EventErased {
			n++
		}
	}
	if n != 1 {
		t.Errorf("erased events: %d, want 1", n)
	}
	if _, err := read(docs[0]); err == nil {
		t.Error("the erased document still decrypts with the master key")
	}
	if _, err := read(docs[1]); err == nil {
		t.Error("the erased general document still decrypts")
	}
	// Nothing under the data directory holds the plaintext, bbolt file included.
	for _, needle := range [][]byte{[]byte("PLAINTEXT-MARKER"), []byte("11010519491231002X"), []byte("13700001111"), []byte("zhangsan")} {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if bytes.Contains(b, needle) {
				t.Errorf("%s contains %q after the purge", p, needle)
			}
			return nil
		})
	}
	// Ciphertext that survives on disk (free blocks, backups) cannot be opened either:
	// put the sealed file back and try again.
	os.MkdirAll(filepath.Dir(filepath.Join(dir, "attachments", docs[0].File)), 0o700)
	if err := os.WriteFile(filepath.Join(dir, "attachments", docs[0].File), sealedCopy, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := read(docs[0]); err == nil {
		t.Error("a surviving copy of the ciphertext still decrypts")
	}
}

// Each department's staff get the digest of their own cases (issue 7: digests go to
// the owning department); the notify list gets the cases of no department.
func TestDigestPerDepartment(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	fin := pendingCase("TS-2026-000010", at(2026, 3, 9, 9, 0), at(2026, 3, 9, 10, 0))
	fin.Department = "财经"
	putCase(t, st, fin)
	putCase(t, st, pendingCase("TS-2026-000011", at(2026, 3, 9, 9, 0), at(2026, 3, 9, 10, 0)))
	s, err := New(Options{
		Store: st, Mailer: fakeMailer{}, Executor: fakeExecutor{}, Deadlines: defaultDeadlines(t), Policy: defaultPolicy(),
		Specs: Specs{Deadlines: "@every 5m", Digest: "0 9 * * 1-5", Weekly: "0 9 * * 1", Retention: "30 3 * * *"},
		Staff: Recipients{Notify: []string{"desk-staff@example.cn"}, Department: func(name string) []string {
			if name == "财经" {
				return []string{"fin@example.cn"}
			}
			return nil
		}},
		Now: (&clock{t: at(2026, 3, 10, 9, 0)}).Now, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunJob(JobDigest); err != nil {
		t.Fatal(err)
	}
	to := map[string]bool{}
	st.View(func(tx *store.Tx) error {
		return tx.EachOutbox(func(e *store.OutboxEntry) error {
			if e.Kind == "digest" {
				for _, a := range e.To {
					to[a] = true
				}
			}
			return nil
		})
	})
	if len(to) != 2 || !to["fin@example.cn"] || !to["desk-staff@example.cn"] {
		t.Errorf("digest recipients %v, want the finance desk and the notify list, each once", to)
	}
}

// A deadline setting changed between restarts moves the deadline of a running clock:
// the reminder and escalation already sent are not sent again (7 duplicate escalations
// were seen when the marker was keyed by the due date). A new run of the clock
// (reopened) gets its own notices.
func TestChangedDeadlineSettingSendsNothingTwice(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	id := "TS-2026-000007"
	putCase(t, st, pendingCase(id, at(2026, 3, 9, 9, 0), at(2026, 3, 9, 10, 0)))
	st.Close()
	run := func(now time.Time, reviewDays int) map[string]int {
		st := openStore(t, dir)
		defer st.Close()
		s, err := New(Options{Store: st, Mailer: fakeMailer{}, Executor: fakeExecutor{}, Policy: defaultPolicy(),
			Deadlines: cases.Deadlines{Calendar: testCalendar(t), Policy: cases.DeadlinePolicy{ReviewDays: reviewDays, ProcessDays: 5,
				ExpireDays: 15, RetentionDays: 180, ReminderBefore: 24 * time.Hour}},
			Specs: Specs{Deadlines: "@every 5m"}, Staff: Recipients{Notify: []string{"desk-staff@example.cn"}, Supervisors: []string{"boss@example.cn"}},
			Now: func() time.Time { return now }, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		s.CatchUp()
		return sent(t, st, id)
	}
	if got := run(at(2026, 3, 12, 8, 0), 3); got["reminder"] != 1 || got["escalation"] != 0 {
		t.Fatalf("review_days 3, the day before the deadline: %v, want one reminder", got)
	}
	if got := run(at(2026, 3, 13, 9, 0), 3); got["reminder"] != 1 || got["escalation"] != 1 {
		t.Fatalf("review_days 3, after the deadline: %v, want one reminder and one escalation", got)
	}
	// review_days 3 → 4 → 2 → 4: the deadline moves back and forth around now.
	for _, days := range []int{4, 2, 4} {
		if got := run(at(2026, 3, 13, 10, 0), days); got["reminder"] != 1 || got["escalation"] != 1 {
			t.Errorf("review_days %d after a restart: %v, want still one reminder and one escalation", days, got)
		}
	}
	// Reopened: a new run of the review clock, its own reminder when it comes due.
	st = openStore(t, dir)
	if err := st.Update(func(tx *store.Tx) error {
		c, err := tx.Case(id)
		if err != nil {
			return err
		}
		c.State = cases.PendingReview
		return tx.AppendEvent(id, cases.Event{At: at(2026, 3, 16, 9, 0), Type: cases.EventOf(cases.Reopen), From: cases.Closed, To: cases.PendingReview})
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if got := run(at(2026, 3, 19, 8, 0), 3); got["reminder"] != 2 {
		t.Errorf("after a reopen, the new review clock's reminder: %v, want a second reminder", got)
	}
}
