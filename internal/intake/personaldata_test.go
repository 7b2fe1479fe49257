package intake_test

// Personal data at rest and in logs, against a desk wired as the daemon wires it
// (found in review).

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/calendar"
	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/metrics"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/pii"
	"github.com/complaintd/complaintd/internal/policy"
	"github.com/complaintd/complaintd/internal/privacy"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/routing"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
	"github.com/complaintd/complaintd/templates"
)

type pdLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *pdLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *pdLog) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

type pdDesk struct {
	p    *intake.Processor
	st   *store.Store
	v    *vault.Vault
	dir  string
	log  *pdLog
	seq  uint32
	t    *testing.T
	box  inbound.Stream
	file string
}

// newPDDesk is newBareProcessor wired as production wires it (desk.go): the store
// seals with the vault, and the log is kept (INFO and above, as the daemon logs).
func newPDDesk(t *testing.T, mutate ...func(*intake.Options)) *pdDesk {
	t.Helper()
	dir := t.TempDir()
	cal, err := calendar.New("Asia/Shanghai", []string{"saturday", "sunday"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := render.NewReloader("", templates.FS(), "zh-CN", nil, render.WithLocation(cal.Location()))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(filepath.Join(dir, "attachments"), testKey)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "complaintd.db")
	st, err := store.Open(file, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	st.SetSealer(v)
	t.Cleanup(func() { st.Close() })
	lg := &pdLog{}
	desk := outbox.Address{Name: "投诉受理中心", Address: deskAddr}
	o := intake.Options{
		Store: st, Vault: v, Rules: policy.DefaultRules(),
		Mailer:     mailer.New(mailer.Options{Templates: tpl, Desk: desk, CasePrefix: "TS", Locale: "zh-CN"}),
		Deadlines:  cases.Deadlines{Calendar: cal, Policy: cases.DeadlinePolicy{ReviewDays: 3, ExpireDays: 15}},
		CasePrefix: "TS", Desk: desk, Locale: "zh-CN", ReplyLimit: 10, ReplyWindow: time.Hour, Metrics: &metrics.Metrics{},
		Logger: slog.New(slog.NewTextHandler(lg, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	for _, f := range mutate {
		f(&o)
	}
	p, err := intake.NewProcessor(o)
	if err != nil {
		t.Fatal(err)
	}
	return &pdDesk{p: p, st: st, v: v, dir: dir, log: lg, t: t, box: inbound.Stream{Channel: inbound.IMAP, Name: "INBOX"}, file: file}
}

func (d *pdDesk) process(m testMail) inbound.Outcome {
	d.t.Helper()
	d.seq++
	out, err := d.p.Process(context.Background(), inbound.Source{Stream: d.box, Epoch: 1, Seq: d.seq}, bytes.NewReader(m.bytes()))
	if err != nil {
		d.t.Fatal(err)
	}
	return out
}

// storeBytes is the store file as it lies on disk (and in every backup).
func (d *pdDesk) storeBytes() []byte {
	d.t.Helper()
	b, err := os.ReadFile(d.file)
	if err != nil {
		d.t.Fatal(err)
	}
	return b
}

// A complainant who answers their own case with a line that starts with a staff-only
// keyword (重开 / reopen, 驳回, 已处理 …) had the whole command paragraph, their phone
// and ID number with it, copied into an operator alert (in clear in the store, listed
// on the unauthenticated /healthz, which only hashes addresses) and into the INFO log
// line "message registered" (outcome): no more (found in review). README: "Every
// refusal is a security event on the case with its reason (no command text; …)".
func TestForgedCommandTextStaysOutOfStoreAndLog(t *testing.T) {
	d := newPDDesk(t)
	first := d.process(plainComplaint("王五|wangwu@example.cn", "orig.audit@example.cn", "王五申请删除凤凰博客稿件"))
	if first.Case == "" {
		t.Fatalf("no case: %+v", first)
	}
	const phone, idno = "13712345678", "11010519491231002X"
	// From another mailbox than the complainant's: the complainant's own mail about
	// their case is their follow-up, not a forged command (review_flow_test.go).
	out := d.process(testMail{from: "王五|wangwu@other.example", subject: "Re: [" + first.Case + "] 已收到您的删帖申请",
		messageID: "reopen.audit@example.cn", inReplyTo: "orig.audit@example.cn",
		body: "重开：文章还能看到，请尽快处理。我的手机 " + phone + "，身份证号 " + idno + "。\n"})
	if out.Role != "security" {
		t.Fatalf("outcome %+v: the mail was not refused as a forged command", out)
	}
	var alerts []store.Alert
	if err := d.st.View(func(tx *store.Tx) error { var err error; alerts, err = tx.Alerts(); return err }); err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		shown := pii.RedactAddresses(a.Message) // what /healthz lists (http.go)
		if strings.Contains(shown, phone) || strings.Contains(shown, idno) {
			t.Errorf("alert %q (in clear in the store, on /healthz) carries the complainant's phone / ID number: %q", a.Kind, shown)
		}
	}
	if bytes.Contains(d.storeBytes(), []byte(idno)) {
		t.Errorf("the ID number lies in clear in the store file")
	}
	if l := d.log.String(); strings.Contains(l, phone) || strings.Contains(l, idno) {
		t.Errorf("the log carries the phone / ID number in full:\n%s", l)
	}
}

// An entrusted complaint files its case under the principal's ID number too
// (route.go identities: applicant and principal). privacy.Erase removed only the
// applicant's entry: the erased case was still found by the principal's ID number,
// and the next complaint about that person tied to it (repeat rule; found in review).
func TestEraseRemovesThePrincipalsIDIndex(t *testing.T) {
	router, err := routing.New(routing.Config{Severity: routing.SeverityConfig{RepeatThreshold: 3, RepeatWindowDays: 30}})
	if err != nil {
		t.Fatal(err)
	}
	d := newPDDesk(t, func(o *intake.Options) { o.Router = router })
	const principalID = "11010519491231002X"
	out := d.process(testMail{from: "李律师|lawyer@lawfirm.example.cn", subject: "李四(某某律师事务所)申请删除凤凰资讯稿件",
		messageID: "entrusted.audit@example.cn",
		body: "申请人姓名：李四\n单位名称：某某律师事务所\n受王五委托申请删除。\n委托人：王五\n委托人身份证号：" + principalID +
			"\n文章标题：《我的邻居》\n文章链接：https://news.ifeng.com/c/8abcDEF123\n删除原因：泄露住址。\n"})
	if out.Case == "" {
		t.Fatalf("no case: %+v", out)
	}
	var c *cases.Case
	d.st.View(func(tx *store.Tx) error { var err error; c, err = tx.Case(out.Case); return err })
	if c.Principal == nil || c.Principal.IDNo != principalID || !c.Principal.IDValid {
		t.Fatalf("principal not read: %+v", c.Principal)
	}
	found := func() []store.IndexEntry {
		var got []store.IndexEntry
		d.st.View(func(tx *store.Tx) error { got = tx.IndexedCases("idno", principalID); return nil })
		return got
	}
	if len(found()) != 1 {
		t.Fatalf("the case is not filed under the principal's ID number: %v", found())
	}
	if err := privacy.Erase(d.st, d.v, out.Case, "cli:audit", "data subject's request", time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := found(); len(got) != 0 {
		t.Errorf("after the erasure, the principal's ID number still finds %v", got)
	}
}

// After `cases erase` (or retention), the complainant answers an old mail of the case
// (its tag in the subject). Intake did not look at ErasedAt: the mail was not "from
// the complainant" any more (that was erased), so it opened a new case and appended a
// security event to the erased case with the sender's address as actor. Sealing it
// gave the erased case a fresh key, so it again held, readable, who its complainant
// was, and retention skips erased cases for good (found in review). Now an erased
// case is never found: the mail is new mail, and the erased case stays as it was.
func TestMailNamingAnErasedCaseLeavesItErased(t *testing.T) {
	d := newPDDesk(t)
	first := d.process(plainComplaint("王五|wangwu@example.cn", "orig3.audit@example.cn", "王五申请删除凤凰博客稿件"))
	if err := privacy.Erase(d.st, d.v, first.Case, "cli:audit", "data subject's request", time.Now()); err != nil {
		t.Fatal(err)
	}
	d.process(testMail{from: "王五|wangwu@example.cn", subject: "Re: [" + first.Case + "] 已收到您的删帖申请",
		messageID: "after.erase.audit@example.cn", inReplyTo: "orig3.audit@example.cn", body: "请问处理得怎么样了？\n"})
	var c *cases.Case
	if err := d.st.View(func(tx *store.Tx) error { var err error; c, err = tx.Case(first.Case); return err }); err != nil {
		t.Fatal(err)
	}
	if c.ErasedAt == nil {
		t.Fatal("setup: not erased")
	}
	for _, e := range c.Events {
		if strings.Contains(e.Actor+e.Note, "wangwu@example.cn") {
			t.Errorf("the erased case %s reads again, after its erasure, event %s actor %q note %q", c.ID, e.Type, e.Actor, e.Note)
		}
	}
	if _, err := os.Stat(filepath.Join(d.dir, "attachments", "keys", first.Case+".keys")); err == nil {
		t.Errorf("the erased case %s has a key file again", first.Case)
	}
}

// An out-of-office reply of a staff member to a staff notification (subject
// "自动回复: [TS-…] 待审核：<applicant>(<org>)申请删除《<title>》") is noise: its record
// belongs to no case and is written in clear. Its outcome quoted the subject
// (AutoReason, 80 runes): the applicant's name stayed in clear in the store, survived
// the case's erasure, and was logged ("message registered"; found in review). Now the
// reason names the prefix only.
func TestAutoReplySubjectStaysOutOfStoreAndLog(t *testing.T) {
	d := newPDDesk(t)
	first := d.process(plainComplaint("张三|zhangsan@example.cn", "orig2.audit@example.cn", "张三丰(蒙牛奶业集团)申请删除凤凰资讯稿件"))
	if first.Case == "" {
		t.Fatalf("no case: %+v", first)
	}
	const name = "张三丰(蒙牛奶业集团)"
	out := d.process(testMail{from: "编辑一|editor1@example.cn",
		subject:   "自动回复: [" + first.Case + "] 待审核：" + name + "申请删除《我的邻居》",
		messageID: "ooo.audit@example.cn", body: "我正在休假，回来后回复您。\n"})
	if out.Role != "noise" {
		t.Fatalf("outcome %+v", out)
	}
	if err := privacy.Erase(d.st, d.v, first.Case, "cli:audit", "data subject's request", time.Now()); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(d.storeBytes(), []byte(name)) {
		t.Errorf("after erasing %s, the applicant's name %q still lies in clear in the store file (noise record's outcome)", first.Case, name)
	}
	if l := d.log.String(); strings.Contains(l, "张三丰") {
		t.Errorf("the applicant's name is logged:\n%s", l)
	}
}

// privacy.Erase removes the case's "from" index entry so that "an erased case is no
// longer found by who its applicant was" (store.Unindex). The case's mail records
// kept, in their clear part, the keyed hash of the sender's address beside the case
// number, so the erased case was still found by that address (found in review). Mail
// records of a case keep no sender hash in clear now (records written before still do).
func TestErasedCaseIsNotFoundBySenderInItsMails(t *testing.T) {
	d := newPDDesk(t)
	const addr = "wangwu@example.cn"
	first := d.process(plainComplaint("王五|"+addr, "orig4.audit@example.cn", "王五申请删除凤凰博客稿件"))
	if err := privacy.Erase(d.st, d.v, first.Case, "cli:audit", "data subject's request", time.Now()); err != nil {
		t.Fatal(err)
	}
	byAddr := "h:" + d.v.LookupHash(addr)
	d.st.View(func(tx *store.Tx) error {
		if got := tx.IndexedCases("from", addr); len(got) != 0 {
			t.Fatalf("setup: from index not removed: %v", got)
		}
		return tx.EachMessage(func(m *store.Message) error {
			if m.Case == first.Case && m.From == byAddr {
				t.Errorf("erased case %s is still filed under its complainant's address (messages record, from %s)", m.Case, m.From)
			}
			return nil
		})
	})
}
