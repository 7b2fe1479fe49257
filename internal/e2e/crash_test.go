package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/internal/store"
)

// storeFacts reads what the (stopped) daemon registered.
type storeFacts struct {
	cases     []*cases.Case
	messages  []*store.Message
	outbox    []*store.OutboxEntry
	alerts    []store.Alert
	pending   int
	quarantin int
}

func readFacts(t *testing.T, d *daemon) storeFacts {
	t.Helper()
	var f storeFacts
	if _, err := os.Stat(d.dataDir + "/complaintd.db"); errors.Is(err, fs.ErrNotExist) {
		return f // killed before it created its store
	}
	s, err := openDaemonStore(t, d)
	if errors.Is(err, store.ErrNotInitialised) {
		return f // killed during its very first start
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(func(tx *store.Tx) error {
		if err := tx.EachCase(true, func(c *cases.Case) error { f.cases = append(f.cases, c); return nil }); err != nil {
			return err
		}
		if err := tx.EachMessage(func(m *store.Message) error { f.messages = append(f.messages, m); return nil }); err != nil {
			return err
		}
		if err := tx.EachOutbox(func(e *store.OutboxEntry) error { f.outbox = append(f.outbox, e); return nil }); err != nil {
			return err
		}
		f.pending = tx.PendingCount()
		q, _ := tx.Quarantined()
		f.quarantin = len(q)
		f.alerts, _ = tx.Alerts()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// SIGKILL at random moments while the daemon works through a backlog on a real
// Dovecot, restart, repeat: at the end every mail has exactly one registration and
// every case exactly one distinct acknowledgement Message-ID in the complainant's
// mailbox. A resend is allowed only for a kill inside the SMTP exchange, and then it
// carries the same Message-ID. It runs beside other tests: the kill window adapts to
// a busy machine.
func TestCrashLosesNothingSendsNothingTwice(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("long test")
	}
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
	// CI (.ci/run sets CI=true) runs the full backlog; the README's `go test ./...`
	// on a small machine a third of it, which still takes dozens of kills.
	n := 100
	if os.Getenv("CI") == "true" {
		n = 300
	}
	if v, _ := strconv.Atoi(os.Getenv("COMPLAINTD_CRASH_MAILS")); v > 0 {
		n = v
	}
	for i := range n {
		st.AppendRaw(t, "desk", "INBOX", complaint(fmt.Sprintf("申请人%d <alice@people.test>", i), numbered("crash", i)+"@people.test",
			fmt.Sprintf("申请人%d申请删除凤凰资讯稿件", i), "申请人姓名：某某\n文章标题：某文\n删除原因：不实。",
			map[string]string{"删帖申请表.pdf": fmt.Sprintf("%%PDF form %d %s", i, strings.Repeat("x", 200<<10)), fmt.Sprintf("身份证%d.jpg", i): "JPEG"}))
	}
	d := newDaemon(t, st, deskOptions{})
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	t.Logf("seed %d", seed)
	// The kill comes at a random moment after the daemon is up. The window adapts to
	// the machine: it doubles after a round without progress (a slow or busy machine,
	// -race) and shrinks back after progress, so the test kills often on any machine
	// and still ends.
	kills, stalled, window := 0, 0, 270*time.Millisecond
	registered, pending := 0, 0
	for {
		d.start()
		d.waitUp()
		time.Sleep(30*time.Millisecond + time.Duration(rng.Int64N(int64(window)))) // a random moment, by design
		d.kill()
		kills++
		f := readFacts(t, d)
		if f.quarantin > 0 {
			t.Fatalf("after %d kills, %d good mails quarantined: a death from outside was charged to a mail", kills, f.quarantin)
		}
		if len(f.messages) >= n && f.pending == 0 {
			break
		}
		if len(f.messages) > registered || f.pending < pending {
			registered, pending, stalled = len(f.messages), f.pending, 0
			window = max(window*3/4, 270*time.Millisecond)
			continue
		}
		pending = f.pending
		stalled++
		window = min(window*2, 10*time.Second)
		if stalled > 20 {
			t.Fatalf("no progress in %d rounds (%d kills, window %v): %d messages registered", stalled, kills, window, len(f.messages))
		}
	}
	if kills < 5 {
		t.Errorf("only %d kills before the backlog was done: the test did not exercise crashes (make the backlog heavier)", kills)
	}
	// A last clean run lets anything left in the outbox go out.
	d.start()
	waitFor(t, 60*time.Second, "the outbox to drain", func() (bool, string) {
		v := d.metric("complaintd_outbox_depth")
		return v == 0, fmt.Sprint(v)
	})
	d.stop()
	f := readFacts(t, d)
	t.Logf("%d kills; %d cases, %d messages, %d outbox entries, %d quarantined", kills, len(f.cases), len(f.messages), len(f.outbox), f.quarantin)

	// Exactly one registration per mail.
	byMsgID := map[string]int{}
	for _, m := range f.messages {
		byMsgID[m.MessageID]++
	}
	for i := range n {
		id := numbered("crash", i) + "@people.test"
		if byMsgID[id] != 1 {
			t.Errorf("mail %s registered %d times", id, byMsgID[id])
		}
	}
	if len(f.cases) != n {
		t.Errorf("%d cases for %d mails", len(f.cases), n)
	}
	for _, c := range f.cases {
		received := 0
		for _, e := range c.Events {
			if e.Type == "message_received" {
				received++
			}
		}
		if received != 1 {
			t.Errorf("case %s has %d message_received events", c.ID, received)
		}
	}
	// Exactly one distinct acknowledgement Message-ID per case, as received.
	replies := st.WaitMessages(t, "alice", "INBOX", n, 90*time.Second)
	ids := map[string]map[string]bool{}
	for _, raw := range replies {
		m := parseMail(t, raw)
		tag := tagRe.FindStringSubmatch(decodedSubject(m.Header.Get("Subject")))
		if tag == nil {
			t.Errorf("reply without case tag: %q", m.Header.Get("Subject"))
			continue
		}
		if ids[tag[1]] == nil {
			ids[tag[1]] = map[string]bool{}
		}
		ids[tag[1]][m.Header.Get("Message-ID")] = true
	}
	if len(ids) != n {
		t.Errorf("replies name %d cases, want %d", len(ids), n)
	}
	for c, set := range ids {
		if len(set) != 1 {
			t.Errorf("case %s: %d distinct acknowledgement Message-IDs, want 1", c, len(set))
		}
	}
	t.Logf("%d replies received for %d cases (%d resends with the same Message-ID)", len(replies), len(ids), len(replies)-len(ids))
	// A resend is allowed only for a kill inside the SMTP exchange: a reply whose
	// acceptance the daemon logged ("reply sent", written after the outbox journal)
	// is never sent by a later life. Before the journal, every reply accepted while
	// its result waited for the store went out again.
	if again := sentInTwoLives(t, d.logPath); len(again) > 0 {
		t.Errorf("%d replies logged as sent, then sent again after a restart: %v", len(again), again)
	}
}

// sentInTwoLives reads the daemon's log and returns the Message-IDs of the replies
// that more than one life of the process (from one "complaintd started" to the
// next) logged as sent.
func sentInTwoLives(t *testing.T, logPath string) []string {
	t.Helper()
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	life, firstLife := 0, map[string]int{}
	var again []string
	for line := range strings.SplitSeq(string(raw), "\n") {
		switch {
		case strings.Contains(line, `msg="complaintd started"`):
			life++
		case strings.Contains(line, `msg="reply sent"`):
			_, rest, ok := strings.Cut(line, " message_id=")
			if !ok {
				continue
			}
			id, _, _ := strings.Cut(rest, " ")
			if l, seen := firstLife[id]; !seen {
				firstLife[id] = life
			} else if l != life {
				again = append(again, id)
			}
		}
	}
	if len(firstLife) == 0 {
		t.Fatal(`no "reply sent" in the daemon log: the check reads nothing`)
	}
	return again
}

// A UIDVALIDITY change with 150 messages in place must create no case and send no
// reply, and must raise an alert. 150 spans two of the pipeline's FETCH batches (100
// each), the second one partial: the rescan crosses a batch boundary.
func TestUIDValidityChangeCreatesNoDuplicates(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("long test")
	}
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
	const n = 150
	for i := range n {
		st.AppendRaw(t, "desk", "INBOX", complaint("某某 <alice@people.test>", numbered("uv", i)+"@people.test",
			fmt.Sprintf("申请人%d申请删除凤凰资讯稿件", i), "删除原因：不实。", nil))
	}
	d := newDaemon(t, st, deskOptions{})
	d.start()
	waitFor(t, 180*time.Second, "every mail processed", func() (bool, string) {
		v := d.metric("complaintd_mails_processed_total")
		return v == n, fmt.Sprint(v)
	})
	d.stop()
	before := readFacts(t, d)
	old, now := st.ChangeUIDValidity(t, "desk", "INBOX")
	t.Logf("UIDVALIDITY %d → %d", old, now)
	d.start()
	waitFor(t, 180*time.Second, "the rescan", func() (bool, string) {
		v := d.metric("complaintd_mails_duplicate_total")
		return v == n, fmt.Sprint(v)
	})
	d.stop()
	after := readFacts(t, d)
	if len(after.cases) != len(before.cases) || len(after.cases) != n {
		t.Errorf("cases: %d before, %d after the change (want %d both)", len(before.cases), len(after.cases), n)
	}
	if len(after.outbox) != len(before.outbox) {
		t.Errorf("outbox: %d entries before, %d after: the rescan queued replies", len(before.outbox), len(after.outbox))
	}
	found := false
	for _, a := range after.alerts {
		found = found || a.Kind == "uidvalidity"
	}
	if !found {
		t.Error("no uidvalidity alert recorded")
	}
}

// The IMAP server stops in the middle of a backlog and comes back; the SMTP server
// refuses for a while. Nothing is lost, nothing doubled, every reply arrives once.
func TestServersGoAwayAndComeBack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
	const n = 40
	for i := range n {
		st.AppendRaw(t, "desk", "INBOX", complaint("某某 <alice@people.test>", numbered("fault", i)+"@people.test",
			fmt.Sprintf("申请人%d申请删除凤凰资讯稿件", i), "删除原因：不实。",
			map[string]string{"申请表.pdf": fmt.Sprintf("%%PDF %d %s", i, string(make([]byte, 200000)))}))
	}
	st.StopPostfix(t) // replies cannot go out yet
	d := newDaemon(t, st, deskOptions{})
	d.start()
	waitFor(t, 60*time.Second, "some mail processed", func() (bool, string) {
		v := d.metric("complaintd_mails_processed_total")
		return v >= 5, fmt.Sprint(v)
	})
	st.StopDovecot(t) // mid-run
	waitFor(t, 30*time.Second, "the daemon to notice", func() (bool, string) {
		v := d.metric("complaintd_imap_up")
		return v == 0, fmt.Sprint(v)
	})
	st.StartDovecot(t)
	waitFor(t, 120*time.Second, "the backlog processed after the IMAP outage", func() (bool, string) {
		v := d.metric("complaintd_mails_processed_total")
		return v == n, fmt.Sprint(v)
	})
	if v := d.metric("complaintd_replies_failed_total"); v < 1 {
		t.Errorf("replies_failed = %v while Postfix was down", v)
	}
	st.StartPostfix(t)
	replies := st.WaitMessages(t, "alice", "INBOX", n, 120*time.Second)
	d.stop()
	f := readFacts(t, d)
	if len(f.cases) != n || len(replies) != n {
		t.Errorf("%d cases and %d replies for %d mails", len(f.cases), len(replies), n)
	}
}

// Replies the relay accepted and the store could not record (a full disk here; in a
// backlog, the wait for the writer that intake's commits hold), then SIGKILL: the
// restarted daemon finds them in its outbox journal and sends none of them again.
// Before the journal each of them reached the complainant twice. The kill lands after
// sending stopped (at the first refused record), so no reply is inside an SMTP
// exchange and the count must be exact.
func TestKillBeforeResultsAreRecordedSendsNothingTwice(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
	d := newDaemon(t, st, deskOptions{})
	full := filepath.Join(t.TempDir(), "full")
	d.env = append(d.env, "COMPLAINTD_TEST_STORE_FULL="+full)
	st.StopPostfix(t) // the replies wait in the outbox
	const n = 12
	backlog(t, st, "unrecorded", n)
	d.start()
	waitFor(t, 60*time.Second, "every complaint registered", func() (bool, string) {
		v := d.metric("complaintd_mails_processed_total")
		return v == n, fmt.Sprint(v)
	})
	if err := os.WriteFile(full, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	st.StartPostfix(t)
	// The refusal stops the handing out of replies; those in hand meanwhile finish
	// within milliseconds. Three refusals take 0.7 s (the recorder's retries wait
	// 100, 200, 400 ms): by then no reply is inside an SMTP exchange.
	waitFor(t, 60*time.Second, "replies accepted whose results the store refused", func() (bool, string) {
		log, _ := os.ReadFile(d.logPath)
		k := bytes.Count(log, []byte(`msg="record outbox results"`))
		return k >= 3, fmt.Sprint(k, " refusals logged")
	})
	d.kill()
	if fi, err := os.Stat(filepath.Join(d.dataDir, "outbox.journal")); err != nil || fi.Size() == 0 {
		t.Fatalf("outbox journal after the kill: %v %v, want the accepted replies in it", fi, err)
	}
	f := readFacts(t, d)
	if f.pending != n {
		t.Fatalf("%d replies pending in the store after the kill, want all %d (the results were refused)", f.pending, n)
	}
	if err := os.Remove(full); err != nil {
		t.Fatal(err)
	}
	d.start()
	waitFor(t, 60*time.Second, "the outbox to drain", func() (bool, string) {
		v := d.metric("complaintd_outbox_depth")
		return v == 0, fmt.Sprint(v)
	})
	d.stop()
	log, _ := os.ReadFile(d.logPath)
	journaled := bytes.Count(log, []byte("recorded from the outbox journal"))
	if journaled == 0 {
		t.Error("the restart recorded no reply from the journal: the test did not exercise it")
	}
	t.Logf("%d replies accepted before the kill were recorded from the journal", journaled)
	// Handed to Postfix is not yet delivered: wait for n. A reply sent twice makes
	// the n received name fewer than n cases, or arrives as one more.
	st.WaitMessages(t, "alice", "INBOX", n, 60*time.Second)
	acksOnce(t, st, "alice", n)
}
