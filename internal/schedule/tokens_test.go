package schedule

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/templates"
)

// fakeTokens signs a staff mail with a token naming its case, Message-ID and issue
// time, so a test can tell it was bound to that very mail. With staff set, as
// intake's, a mail to anyone else gets none.
type fakeTokens struct{ staff map[string]bool }

func (f fakeTokens) StaffReplyTo(caseID, messageID string, to []string, issued time.Time) (string, *outbox.Address) {
	for _, a := range to {
		if f.staff != nil && !f.staff[a] {
			return "", nil
		}
	}
	local, _, _ := strings.Cut(messageID, "@")
	tok := strings.ReplaceAll(local, ".", "-") + "-" + issued.UTC().Format("20060102T1504")
	return tok, &outbox.Address{Address: "desk+" + strings.ToLower(caseID) + "." + tok + "@example.cn"}
}

// TestRemindersAndEscalationsCarryAStaffToken: in token mode a reply to a reminder or
// an escalation must be accepted like a reply to a notification (issue 13), so the
// scheduler's staff mail carries a token bound to its own Message-ID and a Reply-To
// that carries it; the complainant's expiry reminder carries none.
func TestRemindersAndEscalationsCarryAStaffToken(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	id := "TS-2026-000001"
	putCase(t, st, pendingCase(id, at(2026, 3, 9, 9, 0), at(2026, 3, 9, 10, 0)))
	set, err := render.Load(templates.FS(), "zh-CN", render.WithLocation(testCalendar(t).Location()))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: at(2026, 3, 12, 8, 0)} // the day before the review deadline: a reminder
	s, err := New(Options{
		Store: st, Mailer: mailer.New(mailer.Options{Templates: set, Desk: outbox.Address{Name: "投诉受理中心", Address: "desk@example.cn"}, Locale: "zh-CN"}),
		Executor: fakeExecutor{}, Tokens: fakeTokens{}, Deadlines: defaultDeadlines(t), Policy: defaultPolicy(),
		Specs: Specs{Deadlines: "@every 5m"},
		Staff: Recipients{Notify: []string{"desk-staff@example.cn"}, Supervisors: []string{"boss@example.cn"}},
		Now:   clk.Now, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunJob(JobDeadlines); err != nil {
		t.Fatal(err)
	}
	issued := map[string]time.Time{render.KindReminder: clk.t}
	clk.t = at(2026, 3, 13, 8, 0) // past it: an escalation
	issued[render.KindEscalation] = clk.t
	if err := s.RunJob(JobDeadlines); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	st.View(func(tx *store.Tx) error {
		return tx.EachOutbox(func(e *store.OutboxEntry) error {
			var m outbox.Mail
			if err := json.Unmarshal(e.Mail, &m); err != nil {
				t.Fatal(err)
			}
			kinds[e.Kind] = true
			_, replyTo := fakeTokens{}.StaffReplyTo(id, e.MessageID, nil, issued[e.Kind])
			if m.ReplyTo == nil || m.ReplyTo.Address != replyTo.Address {
				t.Errorf("%s Reply-To %+v, want the token bound to its Message-ID: %s", e.Kind, m.ReplyTo, replyTo.Address)
			}
			if c, ok := tx.CaseByMessageID(e.MessageID); !ok || c != id {
				t.Errorf("%s: its Message-ID %s is not linked to the case, so a reply to it finds nothing", e.Kind, e.MessageID)
			}
			return nil
		})
	})
	if !kinds[render.KindReminder] || !kinds[render.KindEscalation] {
		t.Errorf("queued %v, want a reminder and an escalation", kinds)
	}
}

// An escalation goes to the assignee (or the notify list) and to the supervisors, who
// need not be staff (they default to the admins). A token works with any staff From,
// so it goes to staff only: each recipient gets a mail of their own, the staff ones
// with their token, the others with none. Before, all shared one mail and one token,
// and whoever read a supervisor's mailbox could run every command (found in review).
func TestEscalationTokenGoesToStaffOnly(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	id := "TS-2026-000001"
	putCase(t, st, pendingCase(id, at(2026, 3, 9, 9, 0), at(2026, 3, 9, 10, 0)))
	set, err := render.Load(templates.FS(), "zh-CN", render.WithLocation(testCalendar(t).Location()))
	if err != nil {
		t.Fatal(err)
	}
	tokens := fakeTokens{staff: map[string]bool{"desk-staff@example.cn": true}}
	s, err := New(Options{
		Store: st, Mailer: mailer.New(mailer.Options{Templates: set, Desk: outbox.Address{Name: "投诉受理中心", Address: "desk@example.cn"}, Locale: "zh-CN"}),
		Executor: fakeExecutor{}, Tokens: tokens, Deadlines: defaultDeadlines(t), Policy: defaultPolicy(),
		Specs: Specs{Deadlines: "@every 5m"},
		Staff: Recipients{Notify: []string{"desk-staff@example.cn"}, Supervisors: []string{"boss@example.cn"}},
		Now:   (&clock{t: at(2026, 3, 13, 8, 0)}).Now, Logger: testLogger(t), // past the review deadline
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RunJob(JobDeadlines); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{} // recipient: Reply-To
	st.View(func(tx *store.Tx) error {
		return tx.EachOutbox(func(e *store.OutboxEntry) error {
			if e.Kind != render.KindEscalation {
				return nil
			}
			var m outbox.Mail
			if err := json.Unmarshal(e.Mail, &m); err != nil {
				t.Fatal(err)
			}
			if len(m.To) != 1 {
				t.Errorf("escalation to %v: want one recipient per mail", m.To)
				return nil
			}
			got[m.To[0].Address] = ""
			if m.ReplyTo != nil {
				got[m.To[0].Address] = m.ReplyTo.Address
			}
			return nil
		})
	})
	if len(got) != 2 || !strings.HasPrefix(got["desk-staff@example.cn"], "desk+") || got["boss@example.cn"] != "" {
		t.Errorf("escalations (recipient: token Reply-To) %v; want the staff member's with a token, the supervisor's without", got)
	}
}
