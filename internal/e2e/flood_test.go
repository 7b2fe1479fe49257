package e2e

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
)

var caseIDRe = regexp.MustCompile(`TS-\d{4}-\d{6}`)

// A flood on the real stack (issue 13, 5): 50 complete complaints from one sender
// make 50 cases, 48 of them major (the repeat rule), but staff and leadership each get
// staff.notify_limit notifications and then ONE batch mail, when the window ends,
// that lists every case held; between them they name every case. After the window a
// case is notified on its own again.
func TestFloodOfComplaintsNotifiesStaffInABatch(t *testing.T) {
	t.Parallel()
	const flood, limit = 50, 5
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "bob", "editor", "boss"}})
	d := newDaemon(t, st, deskOptions{})
	cfg, err := os.ReadFile(d.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg = []byte(strings.Replace(string(cfg), "staff:\n", fmt.Sprintf("staff:\n  notify_limit: %d\n  notify_window: 1m\n", limit), 1) +
		"routing:\n  leadership: [boss@desk.test]\n")
	if err := os.WriteFile(d.cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	set := d.driveClock("2026-12-01T10:00:00+08:00")
	d.start()
	d.waitUp()
	for i := range flood {
		st.AppendRaw(t, "desk", "INBOX", completeComplaint("赵六 <alice@people.test>", fmt.Sprintf("flood%02d@people.test", i),
			fmt.Sprintf("赵六申请删除凤凰资讯稿件（%d）", i)))
	}
	// Every mail answered, the capped notifications sent, two batches waiting.
	waitFor(t, 5*time.Minute, "the flood registered and its immediate mail sent", func() (bool, string) {
		p, s, q := d.metric("complaintd_mails_processed_total"), d.metric("complaintd_replies_sent_total"), d.metric("complaintd_outbox_depth")
		return p == flood && s == flood+2*limit && q == 2, fmt.Sprintf("processed %v sent %v outbox %v", p, s, q)
	})
	// The window ends. A restart reads the new time at once (a running daemon re-reads
	// the clock file within a second) and proves the held batches survive it.
	d.stop()
	set("2026-12-01T10:02:00+08:00")
	d.start()
	d.waitUp()
	waitFor(t, 2*time.Minute, "the batches sent after the window", func() (bool, string) {
		s, q := d.metric("complaintd_replies_sent_total"), d.metric("complaintd_outbox_depth")
		return s == 2 && q == 0, fmt.Sprintf("sent %v outbox %v", s, q)
	})
	// Another person, another article: an ordinary case, told to staff alone.
	st.AppendRaw(t, "desk", "INBOX", complaint("钱七 <bob@people.test>", "after-window@people.test", "钱七申请删除凤凰资讯稿件",
		"申请人姓名：钱七\n身份证号：110105198001010018\n文章标题：《另一事》\n文章链接：https://news.ifeng.com/c/other\n删除原因：报道失实。",
		map[string]string{"删帖申请表.pdf": "%PDF form", "身份证复印件.jpg": "JPEG id", "事件说明函.pdf": "%PDF expl",
			"法院判决书.pdf": "%PDF proof", "原发媒体撤稿函.pdf": "%PDF withdrawal"}))
	waitFor(t, 2*time.Minute, "the mail after the window sent", func() (bool, string) {
		s, q := d.metric("complaintd_replies_sent_total"), d.metric("complaintd_outbox_depth")
		return s == 2+2 && q == 0, fmt.Sprintf("sent %v outbox %v", s, q)
	})

	// check reads a recipient's mail: the single notifications, the batch, what they name.
	check := func(user string, want int) (single, batched []string) {
		t.Helper()
		raws := st.WaitMessages(t, user, "INBOX", want, 2*time.Minute)
		if len(raws) != want {
			t.Errorf("%s got %d mails, want %d", user, len(raws), want)
		}
		batches := 0
		for _, raw := range raws {
			m := parseMail(t, raw)
			subj := decodedSubject(m.Header.Get("Subject"))
			if strings.Contains(subj, "汇总") {
				batches++
				batched = append(batched, caseIDRe.FindAllString(bodyText(t, raw), -1)...)
				if strings.Contains(m.Header.Get("Content-Type"), "multipart/mixed") {
					t.Errorf("%s's batch mail carries attachments", user)
				}
				continue
			}
			if id := tagRe.FindStringSubmatch(subj); id != nil {
				single = append(single, id[1])
			}
		}
		if batches != 1 {
			t.Errorf("%s got %d batch mails, want 1", user, batches)
		}
		return single, batched
	}
	// editor: 5 notifications, one batch of the 45 others, one notification after the window.
	single, batched := check("editor", limit+1+1)
	all := append(slices.Clone(single), batched...)
	slices.Sort(all)
	all = slices.Compact(all)
	if len(single) != limit+1 || len(batched) != flood-limit || len(all) != flood+1 {
		t.Errorf("editor: %d single, %d batched, %d cases named; want %d, %d, %d", len(single), len(batched), len(all), limit+1, flood-limit, flood+1)
	}
	// boss: the major cases (the third on) — 5 alerts, one batch of the 43 others.
	single, batched = check("boss", limit+1)
	if len(single) != limit || len(batched) != flood-2-limit {
		t.Errorf("boss: %d single, %d batched; want %d and %d", len(single), len(batched), limit, flood-2-limit)
	}
	// Each held case records that its notification was held.
	held := caseOf(t, d, batched[len(batched)-1])
	found := false
	for _, e := range held.Events {
		found = found || strings.Contains(e.Note, "notification cap")
	}
	if !found {
		t.Errorf("held case %s has no event saying so: %+v", held.ID, held.Events)
	}
}
