package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
)

// springFestival is the 2026 calendar around the Spring Festival, as
// config.example.yaml ships it: holidays 02-15 … 02-23, make-up Saturdays 02-14 and
// 02-28; editor@ works the desk, boss@ gets escalations.
const springFestival = `policy:
  calendar:
    holidays: [2026-02-15, 2026-02-16, 2026-02-17, 2026-02-18, 2026-02-19, 2026-02-20, 2026-02-21, 2026-02-22, 2026-02-23]
    workdays: [2026-02-14, 2026-02-28]
`

// Time driven from outside (COMPLAINTD_CLOCK_FILE): a case completed on the Friday
// before the Spring Festival is due three business days later counting the make-up
// Saturday and skipping the holiday week — and the acknowledgement says so. Moving the
// clock past the reminder time and past the deadline sends one reminder and one
// escalation; a restart and further moves of the clock send neither again.
func TestSimulatedClockDrivesDeadlines(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor", "boss"}})
	d := newDaemon(t, st, deskOptions{})
	cfg, err := os.ReadFile(d.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg = []byte(strings.Replace(string(cfg), "staff:\n", "staff:\n  supervisors: [boss@desk.test]\n", 1) + springFestival)
	if err := os.WriteFile(d.cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	set := d.driveClock("2026-02-13T10:00:00+08:00")
	d.start()

	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "clock1@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	ack, ackText := nth(t, st, "alice", 1)
	id := tagRe.FindStringSubmatch(decodedSubject(ack.Header.Get("Subject")))[1]
	if !strings.Contains(ackText, "2026-02-25") {
		t.Errorf("the acknowledgement does not promise 2026-02-25 (Fri 02-13 + make-up Sat 02-14, Tue 02-24, Wed 02-25):\n%s", ackText)
	}
	c := caseOf(t, d, id)
	if c.DueAt == nil || c.DueAt.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04") != "2026-02-25 23:59" {
		t.Fatalf("due_at %v, want 2026-02-25 23:59 +08", c.DueAt)
	}
	if !strings.Contains(string(mustRead(t, d.logPath)), "the clock is simulated") {
		t.Error("no warning that the clock is simulated")
	}
	nth(t, st, "editor", 1) // the notification

	// The day before the deadline, after the reminder time (24h before).
	// The day's digest goes out at the same moment, over another SMTP session: the
	// two may reach the mailbox in either order, so the reminder is the second mail
	// about the case, not the second mail.
	set("2026-02-25T08:00:00+08:00")
	aboutCase(t, st, "editor", id, 2)
	// Past the deadline: escalated to the supervisor.
	set("2026-02-26T09:00:00+08:00")
	aboutCase(t, st, "boss", id, 1)
	// Restart, and days go by: nothing is sent twice.
	d.stop()
	d.start()
	// The digests and weekly reports of those days show that the scheduler ran at
	// those times: whatever it would send twice would be there by then.
	set("2026-03-02T09:00:00+08:00")
	st.WaitMessages(t, "editor", "INBOX", 8, 60*time.Second)
	set("2026-03-03T09:00:00+08:00")
	st.WaitMessages(t, "editor", "INBOX", 9, 60*time.Second)
	d.stop()
	var subjects []string
	for _, raw := range st.WaitMessages(t, "editor", "INBOX", 1, 0) {
		subjects = append(subjects, decodedSubject(parseMail(t, raw).Header.Get("Subject")))
	}
	count := func(part string) int {
		n := 0
		for _, s := range subjects {
			if strings.Contains(s, part) {
				n++
			}
		}
		return n
	}
	// One reminder and one escalation copy for the case, whatever the restarts and
	// the moves of the clock; the daily digest once per move that crossed a weekday
	// 09:00 (02-25, 02-26, 03-02, 03-03), the weekly report once per move that
	// crossed a Monday 09:00 (02-25 for 02-16 and 02-23 together, 03-02).
	for part, want := range map[string]int{"时限提醒": 1, "超时升级": 1, "每日汇总": 4, "周报": 2} {
		if got := count(part); got != want {
			t.Errorf("editor got %d mails with %q, want %d: %q", got, part, want, subjects)
		}
	}
	if n := len(st.WaitMessages(t, "boss", "INBOX", 1, 0)); n != 1 {
		t.Errorf("the supervisor got %d escalations, want 1", n)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// aboutCase waits up to a minute for the user's k-th mail whose subject names the
// case id, whatever else arrives in between, and fails the test without it.
func aboutCase(t *testing.T, st *mailtest.Stack, user, id string, k int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var subjects []string
		n := 0
		for _, raw := range st.WaitMessages(t, user, "INBOX", 1, 60*time.Second) {
			s := decodedSubject(parseMail(t, raw).Header.Get("Subject"))
			subjects = append(subjects, s)
			if strings.Contains(s, id) {
				n++
			}
		}
		if n >= k {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d mails about %s, want %d; subjects: %q", user, n, id, k, subjects)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The clock moved back (a drill rewinding the clock file; the wall clock stepped back):
// the scheduler plans its jobs again from the new time. Before, they stayed planned
// from the later time, and no reminder, escalation or expiry happened until the clock
// got there again (found in review).
func TestClockMovedBackKeepsDeadlinesOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor"}})
	d := newDaemon(t, st, deskOptions{})
	set := d.driveClock("2026-03-20T10:00:00+08:00")
	d.start()
	d.waitUp()
	waitFor(t, 30*time.Second, "the scheduler to start", func() (bool, string) {
		return strings.Contains(string(mustRead(t, d.logPath)), "the clock is simulated"), ""
	})
	time.Sleep(1500 * time.Millisecond) // a tick or two at 03-20, by design
	set("2026-03-09T09:00:00+08:00")    // back eleven days
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "back1@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	ack, _ := nth(t, st, "alice", 1)
	id := tagRe.FindStringSubmatch(decodedSubject(ack.Header.Get("Subject")))[1]
	nth(t, st, "editor", 1) // the notification
	// Review due Thursday 03-12 23:59, the reminder a day before: due at 03-12 08:00.
	set("2026-03-12T08:00:00+08:00")
	aboutCase(t, st, "editor", id, 2)
}

// On the real stack: the daily digest lists the applicants' names and articles, and
// no case key seals it (it is about no case), so once it is sent the store keeps its
// headers only. Before, every digest and weekly report stayed in clear for good, out
// of reach of an erasure (found in review).
func TestSentDigestKeepsItsHeadersOnlyOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor"}})
	d := newDaemon(t, st, deskOptions{})
	set := d.driveClock("2026-03-09T08:00:00+08:00")
	d.start()
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "digest1@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	nth(t, st, "alice", 1)
	nth(t, st, "editor", 1) // the notification
	set("2026-03-09T09:00:00+08:00")
	digest, text := nth(t, st, "editor", 2)
	if !strings.Contains(decodedSubject(digest.Header.Get("Subject")), "每日汇总") || !strings.Contains(text, "赵六") {
		t.Fatalf("setup: the second mail is not the digest naming the applicant: %q", decodedSubject(digest.Header.Get("Subject")))
	}
	d.stop()
	f := readFacts(t, d)
	n := 0
	for _, e := range f.outbox {
		if e.Kind != "digest" {
			continue
		}
		n++
		if e.State != "sent" || strings.Contains(string(e.Mail), "赵六") || strings.Contains(string(e.Mail), `"text":"`+"每") {
			t.Errorf("digest %d (%s) kept as %s", e.Seq, e.State, e.Mail)
		}
	}
	if n == 0 {
		t.Fatal("no digest in the outbox")
	}
}
