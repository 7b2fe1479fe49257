package schedule

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/templates"
)

// recordingMailer keeps what the jobs asked to send, to render and inspect it.
type recordingMailer struct {
	fakeMailer
	sent []mailer.Outgoing
}

func (m *recordingMailer) Queue(q mailer.Queue, c *cases.Case, o mailer.Outgoing, now time.Time) error {
	m.sent = append(m.sent, o)
	return m.fakeMailer.Queue(q, c, o, now)
}

// digestsByRecipient runs the digest job at now and returns each digest by its
// recipients (joined with ",") and its rendered zh-CN text.
func digestsByRecipient(t *testing.T, st *store.Store, now time.Time, depts map[string][]string) (map[string]render.Digest, map[string]string) {
	t.Helper()
	rec := &recordingMailer{}
	s, err := New(Options{
		Store: st, Mailer: rec, Executor: fakeExecutor{}, Deadlines: defaultDeadlines(t), Policy: defaultPolicy(),
		Specs: Specs{Digest: "0 9 * * 1-5"},
		Staff: Recipients{Notify: []string{"all-staff@example.cn"}, Department: func(name string) []string { return depts[name] }},
		Now:   (&clock{t: now}).Now, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunJob(JobDigest); err != nil {
		t.Fatal(err)
	}
	set, err := render.Load(templates.FS(), "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	digests, texts := map[string]render.Digest{}, map[string]string{}
	for _, o := range rec.sent {
		if o.Kind != render.KindDigest {
			continue
		}
		var to []string
		for _, a := range o.To {
			to = append(to, a.Address)
		}
		k := strings.Join(to, ",")
		r, err := set.Render(o.Kind, "zh-CN", o.Data)
		if err != nil {
			t.Fatal(err)
		}
		digests[k], texts[k] = o.Data.Digest, r.Text
	}
	return digests, texts
}

func newIDs(l []render.Summary) []string {
	var out []string
	for _, s := range l {
		out = append(out, s.ID)
	}
	return out
}

// Issue 15: an all-staff digest said 今日没有新案件 on a day with 13 new cases. Every
// case had a department, and the notify list's digest covered only the cases of no
// department — yet said there were no new cases at all. The notify list's digest is
// the whole desk's; each department's staff get their own cases.
func TestAllStaffDigestCountsEveryDepartment(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	depts := map[string][]string{"资讯": {"news@example.cn"}, "财经": {"fin@example.cn"}}
	// Tuesday 10 March; the previous digest ran on Monday at 09:00.
	if err := st.Update(func(tx *store.Tx) error { return tx.PutLastRun(JobDigest, at(2026, 3, 9, 9, 0)) }); err != nil {
		t.Fatal(err)
	}
	var wantNews, wantFin []string
	for i := range 13 {
		id := fmt.Sprintf("TS-2026-%06d", 100+i)
		c := pendingCase(id, at(2026, 3, 9, 10, 0).Add(time.Duration(i)*time.Hour), at(2026, 3, 9, 10, 30).Add(time.Duration(i)*time.Hour))
		c.Department = "资讯"
		wantNews = append(wantNews, id)
		if i%2 == 1 {
			c.Department = "财经"
			wantNews, wantFin = wantNews[:len(wantNews)-1], append(wantFin, id)
		}
		putCase(t, st, c)
	}
	digests, texts := digestsByRecipient(t, st, at(2026, 3, 10, 9, 0), depts)
	if len(digests) != 3 {
		t.Fatalf("%d digests, want 3 (all staff, 资讯, 财经): %v", len(digests), texts)
	}
	all := digests["all-staff@example.cn"]
	if n := len(all.New); n != 13 || all.Department != "" {
		t.Errorf("all-staff digest: %d new cases (department %q), want 13 of the whole desk", n, all.Department)
	}
	if strings.Contains(texts["all-staff@example.cn"], "今日没有新案件") {
		t.Errorf("all-staff digest says there were no new cases:\n%s", texts["all-staff@example.cn"])
	}
	if c := all.Counts; len(c) != 1 || c[0] != (render.StateCount{State: "pending_review", Count: 13}) {
		t.Errorf("all-staff digest counts %v, want 13 pending_review", c)
	}
	for who, want := range map[string][]string{"news@example.cn": wantNews, "fin@example.cn": wantFin} {
		d := digests[who]
		if got := newIDs(d.New); !slices.Equal(got, want) {
			t.Errorf("%s digest: new %v, want %v", who, got, want)
		}
		if d.Department == "" || d.Counts[0].Count != len(want) {
			t.Errorf("%s digest: department %q counts %v, want its own %d cases", who, d.Department, d.Counts, len(want))
		}
	}
}

// The digest's new cases are those since the previous digest, in absolute time: a
// case opened at 00:30 in Shanghai (16:30 UTC the day before) is new in that morning's
// digest, and one opened a minute before the previous digest is not. The digest is
// dated, and sent once, by the Shanghai calendar day — 07:30 on Tuesday in Shanghai is
// still Monday in UTC.
func TestDigestWindowIsShanghaiTime(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	if err := st.Update(func(tx *store.Tx) error { return tx.PutLastRun(JobDigest, at(2026, 3, 9, 7, 30)) }); err != nil {
		t.Fatal(err)
	}
	putCase(t, st, pendingCase("TS-2026-000001", at(2026, 3, 9, 7, 29), at(2026, 3, 9, 8, 0)))   // before the previous digest
	putCase(t, st, pendingCase("TS-2026-000002", at(2026, 3, 10, 0, 30), at(2026, 3, 10, 1, 0))) // 2026-03-09 16:30 UTC
	putCase(t, st, pendingCase("TS-2026-000003", at(2026, 3, 10, 7, 0), at(2026, 3, 10, 7, 10)))
	now := at(2026, 3, 10, 7, 30)
	if now.UTC().Day() != 9 {
		t.Fatal("the test needs a time that is another day in UTC")
	}
	digests, texts := digestsByRecipient(t, st, now, nil)
	d, ok := digests["all-staff@example.cn"]
	if !ok {
		t.Fatalf("no digest: %v", texts)
	}
	if got := newIDs(d.New); !slices.Equal(got, []string{"TS-2026-000002", "TS-2026-000003"}) {
		t.Errorf("new cases %v, want the two since the previous digest", got)
	}
	if !d.Since.Equal(at(2026, 3, 9, 7, 30)) {
		t.Errorf("window starts %v, want the previous digest's time", d.Since)
	}
	text := texts["all-staff@example.cn"]
	if !strings.Contains(text, "2026-03-10") || strings.Contains(text, "今日没有新案件") {
		t.Errorf("digest is not the Shanghai date's, or says there were no new cases:\n%s", text)
	}
	var marked bool
	if err := st.View(func(tx *store.Tx) error {
		_, done, err := tx.Marker("digest/2026-03-10")
		marked = done
		return err
	}); err != nil || !marked {
		t.Errorf("no marker for the Shanghai day 2026-03-10 (err %v)", err)
	}
}
