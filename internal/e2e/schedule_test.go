package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailtest"
)

// Scheduled notices as they reach the mailboxes, told apart by their (zh-CN) subjects.
const (
	noticeReminder       = "reminder"
	noticeEscalation     = "escalation"
	noticeExpiryReminder = "expiry_reminder"
	noticeExpired        = "expired"
)

// noticeOf names the scheduled notice a subject belongs to ("" for any other mail).
func noticeOf(subject string) string {
	for _, n := range []struct{ marker, notice string }{
		{"时限提醒", noticeReminder},
		{"超时升级", noticeEscalation},
		{"材料尚未补齐", noticeExpiryReminder},
		{"因材料未补齐已关闭", noticeExpired},
	} {
		if strings.Contains(subject, n.marker) {
			return n.notice
		}
	}
	return ""
}

// inbox counts the scheduled notices in the users' mailboxes, keyed
// "user case notice", e.g. "editor TS-2026-000001 reminder".
type inbox struct {
	t     *testing.T
	st    *mailtest.Stack
	users []string
}

func (in inbox) tally() map[string]int {
	in.t.Helper()
	out := map[string]int{}
	for _, u := range in.users {
		for _, raw := range in.st.WaitMessages(in.t, u, "INBOX", 0, 10*time.Second) {
			subj := decodedSubject(parseMail(in.t, raw).Header.Get("Subject"))
			n := noticeOf(subj)
			if n == "" {
				continue
			}
			id := ""
			if m := tagRe.FindStringSubmatch(subj); m != nil {
				id = m[1]
			}
			out[u+" "+id+" "+n]++
		}
	}
	return out
}

// duplicates lists the notices that arrived more than once.
func duplicates(got map[string]int) []string {
	var out []string
	for k, n := range got {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s ×%d", k, n))
		}
	}
	sort.Strings(out)
	return out
}

// waitOnce waits until every key in want has arrived, failing at once if any notice
// arrives twice.
func (in inbox) waitOnce(timeout time.Duration, want ...string) {
	in.t.Helper()
	waitFor(in.t, timeout, strings.Join(want, ", "), func() (bool, string) {
		got := in.tally()
		if d := duplicates(got); len(d) > 0 {
			in.t.Fatalf("notices arrived twice: %v", d)
		}
		for _, k := range want {
			if got[k] == 0 {
				return false, fmt.Sprint(got)
			}
		}
		return true, ""
	})
}

// assertNoRepeat watches the mailboxes for d (a few scheduler periods): no notice may
// arrive a second time. It is a bounded wait that asserts an absence.
func (in inbox) assertNoRepeat(d time.Duration) {
	in.t.Helper()
	deadline := time.Now().Add(d)
	for {
		if dup := duplicates(in.tally()); len(dup) > 0 {
			in.t.Fatalf("notices arrived twice: %v", dup)
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(250 * time.Millisecond) // polling interval of an absence check
	}
}

// The deadlines on the real stack, with a schedule shortened to seconds (issue 6): a
// complete case gets a reminder to staff before its review deadline and an escalation
// to staff and the supervisor after it; an incomplete case gets a reminder to the
// complainant halfway and is then closed as expired with a notice. Each arrives
// exactly once, also across a restart of the daemon between the reminders and the
// deadlines. Time moves through the injected clock (COMPLAINTD_CLOCK_FILE): the test
// sets it between the reminders and the deadlines, then past the deadlines, so no
// notice can come early or late by the machine's speed.
func TestScheduleNoticesOnceOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor", "boss"}})
	d := newDaemon(t, st, deskOptions{})
	cfg, err := os.ReadFile(d.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	const staffLine = "staff:\n  addresses: [editor@desk.test]\n"
	if !strings.Contains(string(cfg), staffLine) {
		t.Fatalf("harness config changed; no %q in:\n%s", staffLine, cfg)
	}
	// Review deadline 30s after the case is complete, reminder 18s before it (at 12s);
	// an incomplete case expires after 20s, reminder halfway (at 10s). The deadline
	// job runs every second (of the injected clock, read every real second).
	const (
		reviewAfter    = 30 * time.Second
		reminderBefore = 18 * time.Second
		expireAfter    = 20 * time.Second
	)
	patched := strings.Replace(string(cfg), staffLine, staffLine+"  supervisors: [boss@desk.test]\n", 1) +
		fmt.Sprintf("policy:\n  review_after: %s\n  reminder_before: %s\n  expire_after: %s\nschedule:\n  deadlines: \"@every 1s\"\n",
			reviewAfter, reminderBefore, expireAfter)
	if err := os.WriteFile(d.cfgPath, []byte(patched), 0o600); err != nil {
		t.Fatal(err)
	}
	const start = "2026-12-07T10:00:00+08:00" // a Monday; the clock stands still until set
	set := d.driveClock(start)
	at := func(after time.Duration) string {
		t0, _ := time.Parse(time.RFC3339, start)
		return t0.Add(after).Format(time.RFC3339)
	}
	d.start()
	in := inbox{t: t, st: st, users: []string{"alice", "editor", "boss"}}

	// Case A is complete: staff are notified and its review clock runs.
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "sched-a@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	note, _ := nth(t, st, "editor", 1)
	caseA := tagRe.FindStringSubmatch(decodedSubject(note.Header.Get("Subject")))[1]
	// Case B lacks documents: its expiry clock runs.
	st.Deliver(t, complaint("王五 <alice@people.test>", "sched-b@people.test", "王五申请删除凤凰博客稿件",
		"申请人姓名：王五\n文章标题：《我的邻居》\n文章链接：http://blog.ifeng.com/article/123.html\n删除原因：博文泄露本人住址。", nil),
		"alice@people.test", "desk@desk.test")
	var caseB string
	waitFor(t, 60*time.Second, "case B", func() (bool, string) {
		var cs []cases.Case
		if err := json.Unmarshal(d.cli("cases", "list", "-json"), &cs); err != nil {
			return false, err.Error()
		}
		for _, c := range cs {
			if c.ID != caseA {
				caseB = c.ID
				return c.State == cases.Incomplete, string(c.State)
			}
		}
		return false, fmt.Sprintf("%d cases", len(cs))
	})
	if c := caseOf(t, d, caseA); c.State != "pending_review" {
		t.Fatalf("case A state %s, want pending_review", c.State)
	}
	if got := in.tally(); len(got) != 0 {
		t.Fatalf("notices before the clock moved: %v", got)
	}

	// 1. 15 s later: the reminders (due at 10 s and 12 s), once each; nothing due at
	// 20 s or 30 s comes early.
	set(at(15 * time.Second))
	in.waitOnce(40*time.Second, "editor "+caseA+" "+noticeReminder, "alice "+caseB+" "+noticeExpiryReminder)
	got := in.tally()
	for _, early := range []string{"editor " + caseA + " " + noticeEscalation, "boss " + caseA + " " + noticeEscalation, "alice " + caseB + " " + noticeExpired} {
		if got[early] != 0 {
			t.Errorf("%s arrived with the reminders, 15 s after the cases were opened (too early)", early)
		}
	}
	if got["boss "+caseA+" "+noticeReminder] != 0 {
		t.Errorf("the supervisor got the reminder; only the escalation is theirs")
	}

	// 2. Restart before the deadlines: the catch-up run at start must not remind again.
	d.stop()
	d.start()
	waitFor(t, 30*time.Second, "the restarted daemon to answer", func() (bool, string) {
		resp, err := http.Get("http://" + d.httpAddr + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return true, ""
	})
	in.assertNoRepeat(4 * time.Second)

	// 3. After the deadlines (20 s and 30 s): the escalation (staff and supervisor)
	// and the expiry.
	set(at(35 * time.Second))
	in.waitOnce(60*time.Second,
		"editor "+caseA+" "+noticeEscalation, "boss "+caseA+" "+noticeEscalation,
		"alice "+caseB+" "+noticeExpired)
	if c := caseOf(t, d, caseB); c.State != "expired" {
		t.Errorf("case B state %s after the expiry notice, want expired", c.State)
	}
	if c := caseOf(t, d, caseA); c.State != "pending_review" {
		t.Errorf("case A state %s after the escalation, want pending_review (an escalation keeps the state)", c.State)
	}
	// A few more scheduler periods, of both clocks: nothing arrives twice.
	set(at(time.Minute))
	in.assertNoRepeat(4 * time.Second)

	got = in.tally()
	want := map[string]int{
		"editor " + caseA + " " + noticeReminder:      1,
		"editor " + caseA + " " + noticeEscalation:    1,
		"boss " + caseA + " " + noticeEscalation:      1,
		"alice " + caseB + " " + noticeExpiryReminder: 1,
		"alice " + caseB + " " + noticeExpired:        1,
	}
	for k, n := range got {
		if want[k] != n {
			t.Errorf("%s: %d mails, want %d", k, n, want[k])
		}
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d mails, want %d", k, got[k], n)
		}
	}
}
