package schedule

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/stats"
)

// The weekly report's CSV is the CSV of `cases export -csv` for the week's cases,
// masked as the export masks them: a complainant writing from 13712345678@139.com
// (China Mobile's addresses are the owner's phone number) and a title quoting an ID
// number must not reach the admins' mail, nor the outbox where it waits in clear,
// in full.
func TestWeeklyReportCSVMasksPhonesAndIDNumbersAsTheExportDoes(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	created := at(2026, 3, 3, 10, 0)
	c := &cases.Case{ID: "TS-2026-000001", State: cases.Incomplete, CreatedAt: created, Complainant: "13712345678@139.com",
		Applicant: cases.Party{Name: "张三 13712345678", Email: "13712345678@139.com"},
		Request:   cases.Request{Title: "曝光110101199003074514的帖子"},
		Events:    []cases.Event{{At: created, Type: "created", Actor: "desk", To: cases.Incomplete}}}
	putCase(t, st, c)
	st.Close()

	rec := &weeklyRec{}
	st = openStore(t, dir)
	defer st.Close()
	s, err := New(Options{Store: st, Mailer: rec, Executor: fakeExecutor{}, Deadlines: defaultDeadlines(t), Policy: defaultPolicy(),
		Specs: Specs{Weekly: "0 9 * * 1"}, Staff: Recipients{Admins: []string{"ops@example.cn"}},
		Now: (&clock{t: at(2026, 3, 9, 9, 0)}).Now, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunJob(JobWeekly); err != nil {
		t.Fatal(err)
	}
	if len(rec.csv) != 1 {
		t.Fatalf("%d weekly reports, want 1", len(rec.csv))
	}
	got := rec.csv[0]
	for _, whole := range []string{"13712345678", "110101199003074514"} {
		if strings.Contains(got, whole) {
			t.Errorf("the weekly CSV carries %s in full:\n%s", whole, got)
		}
	}
	// What `cases export -csv` prints for the same case.
	var export bytes.Buffer
	stored := readCase(t, st, c.ID)
	stored.Events = c.Events
	if err := stats.WriteCSV(&export, []*cases.Case{stored.Public().Masked()}, testCalendar(t).Location()); err != nil {
		t.Fatal(err)
	}
	if got != export.String() {
		t.Errorf("weekly CSV\n%q\ndiffers from the export\n%q", got, export.String())
	}
}

// outgoingRec keeps every mail of no case the scheduler queues, as data.
type outgoingRec struct {
	fakeMailer
	out []mailer.Outgoing
}

func (m *outgoingRec) Queue(q mailer.Queue, c *cases.Case, o mailer.Outgoing, now time.Time) error {
	m.out = append(m.out, o)
	return m.fakeMailer.Queue(q, c, o, now)
}

// The digest's and the weekly report's case lines (applicant, title) leave the desk by
// mail: ID numbers and phones in them are masked, as in every other staff mail.
func TestDigestAndWeeklyCaseLinesMaskPhonesAndIDNumbers(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	created := at(2026, 3, 2, 10, 0)
	c := pendingCase("TS-2026-000001", created, created.Add(time.Hour))
	c.Applicant.Name, c.Request.Title = "张三 13712345678", "曝光110101199003074514的帖子"
	putCase(t, st, c)
	rec := &outgoingRec{}
	now := at(2026, 3, 9, 9, 0) // the review deadline (Thursday 03-05) has passed: a breach
	s, err := New(Options{Store: st, Mailer: rec, Executor: fakeExecutor{}, Deadlines: defaultDeadlines(t), Policy: defaultPolicy(),
		Specs: Specs{Digest: "0 9 * * 1-5", Weekly: "0 9 * * 1"}, Staff: Recipients{Notify: []string{"desk@example.cn"}, Admins: []string{"ops@example.cn"}},
		Now: (&clock{t: now}).Now, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{JobDigest, JobWeekly} {
		if err := s.RunJob(job); err != nil {
			t.Fatal(err)
		}
	}
	var lines []render.Summary
	for _, o := range rec.out {
		if d := o.Data.Digest; !d.Date.IsZero() {
			lines = append(lines, d.New...)
			lines = append(lines, d.Overdue...)
		}
		lines = append(lines, o.Data.Report.Breaches...)
	}
	if len(lines) != 2 {
		t.Fatalf("%d case lines in the digest and the weekly report, want the overdue case and the breach: %+v", len(lines), lines)
	}
	for _, l := range lines {
		if strings.Contains(l.Applicant+l.Title, "13712345678") || strings.Contains(l.Title, "110101199003074514") {
			t.Errorf("a case line carries a phone or ID number in full: %q %q", l.Applicant, l.Title)
		}
	}
}
