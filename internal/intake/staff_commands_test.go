package intake_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/demo/samplemail"
	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/routing"
)

// A mail in which one command was recognised but could not run (已处理 without its
// note) must not run the others either: "all commands of one mail run, or none does".
// Run half, the case was closed without the complainant ever hearing it was resolved,
// and the confirmation did not say the 已处理 had been dropped.
func TestCommandWithoutItsArgumentStopsTheWholeMail(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	o := d.open("zhang@example.cn", "half1@example.cn")
	d.command(o, staffA, "cmd-half-acc@desk.example.cn", "受理")
	if c := d.h.caseByID(o.c.ID); c.State != cases.Accepted {
		t.Fatalf("after 受理: state %q", c.State)
	}

	ms := d.command(o, staffA, "cmd-half@desk.example.cn", "已处理\n结案")
	c := d.h.caseByID(o.c.ID)
	if c.State != cases.Accepted {
		t.Errorf("state %q, want accepted unchanged: the 已处理 of the mail was not run, so nothing of it may be", c.State)
	}
	if e := eventsOf(c, "close"); len(e) != 0 {
		t.Errorf("结案 ran although the 已处理 before it was refused: %+v", e)
	}
	if got := only(ms, "staff_confirmation", staffA); len(got) != 0 {
		t.Errorf("the staff member was told the mail was executed:\n%s", got[0].text)
	}
	e := one(t, ms, "staff_error", staffA)
	if !strings.Contains(e.text, "已处理") {
		t.Errorf("staff_error does not name the refused 已处理:\n%s", e.text)
	}
}

// A keyword glued to other text ("受理科", a department in a signature) may be no
// command at all: the mail's commands run, and the confirmation names the line that
// did not.
func TestGluedKeywordLineIsReportedInTheConfirmation(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	o := d.open("zhang@example.cn", "glued1@example.cn")
	ms := d.command(o, staffA, "cmd-glued@desk.example.cn", "受理\n\n李编辑\n受理科 内容审核组")
	if c := d.h.caseByID(o.c.ID); c.State != cases.Accepted {
		t.Errorf("state %q, want accepted", c.State)
	}
	conf := one(t, ms, "staff_confirmation", staffA)
	if !strings.Contains(conf.text, "受理科") {
		t.Errorf("confirmation does not name the line not run:\n%s", conf.text)
	}
}

// A second 补充 on a case still incomplete must not ask again for what the complainant
// already sent in answer to the first: the new request's time used to apply to every
// kind ever requested, so the 营业执照 received after the first request no longer
// counted and the complainant was told to send it again.
func TestSecondNeedMoreKeepsDocumentsSentForTheFirst(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	o := d.open("li@example.cn", "nm2-1@example.cn")
	ms := d.command(o, staffA, "cmd-nm2-1@desk.example.cn", "补充 营业执照、工作证")
	mn := one(t, ms, "more_needed", "li@example.cn")
	d.send(testMail{from: "张三|li@example.cn", subject: "Re: " + mn.subject, messageID: "nm2-f1@example.cn", inReplyTo: mn.id,
		body: "营业执照见附件。", files: []file{{"营业执照.jpg", "image/jpeg", samplemail.Scan("jpg", "licence nm2")}}}.bytes())
	c := d.h.caseByID(o.c.ID)
	if c.State != cases.Incomplete || !slices.Equal(c.Missing, []cases.Kind{cases.WorkID}) {
		t.Fatalf("after the licence: state %q missing %v, want incomplete lacking work_id", c.State, c.Missing)
	}

	ms = d.command(o, staffA, "cmd-nm2-2@desk.example.cn", "补充 委托书")
	c = d.h.caseByID(o.c.ID)
	if slices.Contains(c.Missing, cases.BusinessLicense) {
		t.Errorf("missing %v: the business licence sent after the first 补充 is asked for again", c.Missing)
	}
	if !slices.Contains(c.Missing, cases.WorkID) || !slices.Contains(c.Missing, cases.PowerOfAttorney) {
		t.Errorf("missing %v, want work_id and power_of_attorney", c.Missing)
	}
	mn = one(t, ms, "more_needed", "li@example.cn")
	if label := cases.DefaultCatalogue().Explain(cases.BusinessLicense, "zh-CN"); strings.Contains(mn.text, label) {
		t.Errorf("more_needed asks for the business licence again:\n%s", mn.text)
	}
}

// 补充 with free-text items only (no document kind) leaves nothing in Missing: the
// complainant's next mail, even a question without any file, made the case complete
// again — "材料齐全" to the complainant and a new notification to staff for a
// document nobody sent.
func TestFreeTextNeedMoreWaitsForADocument(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	o := d.open("zhang@example.cn", "nmf1@example.cn")
	ms := d.command(o, staffA, "cmd-nmf1@desk.example.cn", "补充 请提供加盖公章的情况说明原件扫描")
	if c := d.h.caseByID(o.c.ID); c.State != cases.Incomplete {
		t.Fatalf("after 补充: state %q, want incomplete", c.State)
	}
	mn := one(t, ms, "more_needed", "zhang@example.cn")

	m := d.mark()
	d.send(testMail{from: "张三|zhang@example.cn", subject: "Re: " + mn.subject, messageID: "nmf1-q@example.cn", inReplyTo: mn.id,
		body: "请问原件扫描需要彩色的吗？"}.bytes())
	c := d.h.caseByID(o.c.ID)
	if c.State != cases.Incomplete {
		t.Errorf("a question without any file made the case %q", c.State)
	}
	ms = d.mails(m)
	if got := only(ms, "staff_notification", ""); len(got) != 0 {
		t.Errorf("staff were notified again of a case nobody sent anything for: %v", kinds(ms))
	}
	if got := only(ms, "complete", ""); len(got) != 0 {
		t.Errorf("the complainant was told the documents are complete: %v", kinds(ms))
	}
	if r := only(ms, "missing_items", "zhang@example.cn"); len(r) != 1 || !strings.Contains(r[0].text, "加盖公章的情况说明原件扫描") {
		t.Errorf("the answer does not say what is still awaited: %v", kinds(ms))
	}

	m = d.mark()
	d.send(testMail{from: "张三|zhang@example.cn", subject: "Re: " + mn.subject, messageID: "nmf1-f@example.cn", inReplyTo: mn.id,
		body: "原件扫描见附件。", files: []file{{"情况说明（盖章）.pdf", "application/pdf", samplemail.Scan("pdf", "stamped nmf1")}}}.bytes())
	if c := d.h.caseByID(o.c.ID); c.State != cases.PendingReview {
		t.Errorf("after the document: state %q, want pending_review", c.State)
	}
	one(t, d.mails(m), "staff_notification", staffA)
}

// 转交 to a department's alias (routing.departments[].aliases) hands the case to that
// department: its digest and reports count it there, and a later mail of the
// complainant does not route it back by its link. The department used to stay where
// the rules had put it, so the new department's digest never listed the case.
func TestAssignToDepartmentAliasMovesTheCase(t *testing.T) {
	router, err := routing.New(routing.Config{
		DefaultDepartment: "资讯",
		Departments: []routing.DepartmentConfig{
			{Name: "资讯", Channels: []string{"资讯"}, Hosts: []string{"news.ifeng.com"}, Staff: []string{staffA}},
			{Name: "财经", Channels: []string{"财经"}, Hosts: []string{"finance.ifeng.com"}, Staff: []string{staffB},
				Aliases: map[string]string{"finance": staffB}},
		},
		Severity: routing.SeverityConfig{RepeatThreshold: 100, RepeatWindowDays: 30},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := newDesk(t, withStaff(nil), func(c *config) { c.proc.Router = router })
	o := d.open("zhang@example.cn", "dep1@example.cn")
	if o.c.Department != "资讯" {
		t.Fatalf("routed to %q, want 资讯", o.c.Department)
	}
	ms := d.command(o, staffA, "cmd-dep1@desk.example.cn", "转交 finance")
	one(t, ms, "staff_notification", staffB)
	c := d.h.caseByID(o.c.ID)
	if c.Assignee != staffB || c.Department != "财经" {
		t.Fatalf("after 转交 finance: assignee %q department %q, want %s in 财经", c.Assignee, c.Department, staffB)
	}

	d.send(testMail{from: "张三|zhang@example.cn", subject: "Re: [" + c.ID + "] 进度", messageID: "dep1-f@example.cn",
		body: "请问进度如何？\n文章链接：https://news.ifeng.com/c/8abcDEF123"}.bytes())
	if c := d.h.caseByID(o.c.ID); c.Department != "财经" {
		t.Errorf("a follow-up routed the case back to %q", c.Department)
	}
}

// A refused staff mail changes nothing (all or nothing): neither may it count the
// notification its 转交 would have sent against the colleague's cap. It did, and the
// colleague's real assignment right after was held for the batch an hour later,
// without a notification they could answer.
func TestRefusedAssignDoesNotUseTheNotificationCap(t *testing.T) {
	d := newDesk(t, withStaff(func(s *intake.StaffOptions) {
		s.Aliases = map[string]string{"王审核": staffB}
		s.NotifyLimit, s.NotifyWindow = 1, time.Hour
	}))
	o := d.open("zhang@example.cn", "cap1@example.cn")
	// The mails are read from the outbox: a batch held for later keeps it from draining.
	cmd := func(id, body string) []string {
		t.Helper()
		n := len(d.h.outbox())
		d.h.waitCheckpoint(d.srv.deliver(t, cmdMail{from: staffA, to: replyAddr(o.notif), subject: "回复：" + o.notif.subject,
			messageID: id, inReplyTo: o.notif.id, body: body + qqQuote(o.notif)}.bytes()))
		var got []string
		for _, e := range d.h.outbox()[n:] {
			got = append(got, e.Kind+"→"+strings.Join(e.To, ","))
		}
		return got
	}
	got := cmd("cmd-cap1@desk.example.cn", "转交 王审核\n重开")
	if want := []string{"staff_error→" + staffA}; !slices.Equal(got, want) {
		t.Fatalf("refused mail queued %v, want %v", got, want)
	}
	if c := d.h.caseByID(o.c.ID); c.Assignee != "" {
		t.Fatalf("a refused mail assigned the case to %q", c.Assignee)
	}
	got = cmd("cmd-cap2@desk.example.cn", "转交 王审核")
	if !slices.Contains(got, "staff_notification→"+staffB) {
		t.Errorf("转交 queued %v: no notification to %s, whose cap the refused mail had used", got, staffB)
	}
	if slices.Contains(got, "digest→"+staffB) {
		t.Errorf("the assignment was held for a batch mail: %v", got)
	}
}

// A complete case that is major from the start needs a staff member who is both on
// the notify list and in the leadership once: one notification, not the review's and
// the leadership's alert side by side, each with every document attached.
func TestStaffInLeadershipGetsOneNotificationForAMajorCase(t *testing.T) {
	router, err := routing.New(routing.Config{Leadership: []string{staffA}, Severity: routing.SeverityConfig{Rules: routing.DefaultSeverityRules(), RepeatThreshold: 5, RepeatWindowDays: 30}})
	if err != nil {
		t.Fatal(err)
	}
	d := newDesk(t, withStaff(nil), func(c *config) { c.proc.Router = router })
	m := d.mark()
	mail := completeComplaint("张三|zhang@example.cn", "maj2@example.cn")
	mail.body += "\n我方已委托律师发出律师函。"
	d.send(mail.bytes())
	c := d.caseOf("zhang@example.cn")
	if c.State != cases.PendingReview || c.Severity != cases.Major {
		t.Fatalf("state %s severity %s, want a complete major case", c.State, c.Severity)
	}
	n := one(t, d.mails(m), "staff_notification", staffA)
	if !strings.Contains(n.subject, "【重大】") {
		t.Errorf("the one notification does not say the case is major: %q", n.subject)
	}
}
