package intake

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/calendar"
	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/internal/staffauth"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
	"github.com/complaintd/complaintd/templates"
)

// The executor has a case for every action of the domain core: an action added to
// cases.Actions without its effect here fails this test, instead of falling through
// silently. Each action is run in every state the table allows it in, and leaves the
// case in the state the table says.
func TestExecuteHandlesEveryAction(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "c.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, err := vault.Open(filepath.Join(dir, "att"), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	cal, err := calendar.New("Asia/Shanghai", []string{"saturday", "sunday"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := render.Load(templates.FS(), "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	desk := outbox.Address{Name: "desk", Address: "desk@example.cn"}
	p, err := NewProcessor(Options{
		Store: st, Vault: v, Mailer: mailer.New(mailer.Options{Templates: set, Desk: desk}), Desk: desk, CasePrefix: "TS",
		Deadlines: cases.Deadlines{Calendar: cal, Policy: cases.DeadlinePolicy{ReviewDays: 3, ProcessDays: 5, ExpireDays: 15}},
		Staff:     StaffOptions{Auth: staffauth.Config{Staff: []string{"editor@example.cn"}}, Notify: []string{"editor@example.cn"}, AuthorDays: 7, AppealDays: 15},
	})
	if err != nil {
		t.Fatal(err)
	}
	args := map[cases.Action]string{cases.Assign: "editor@example.cn", cases.NotifyAuthor: "author@example.net",
		cases.Reject: "不实", cases.NeedMore: "身份证", cases.Resolve: "已删除", cases.Note: "备注", cases.Appeal: "理由"}
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for _, a := range cases.Actions() {
		tried := 0
		for _, r := range cases.Table() {
			if r.Action != a {
				continue
			}
			tried++
			c := &cases.Case{ID: "TS-2026-000001", State: r.From, CreatedAt: now.Add(-time.Hour), Complainant: "zhang@example.cn",
				LastInbound: "m1@example.cn", Locale: "zh-CN", Missing: []cases.Kind{}}
			err := st.Update(func(tx *store.Tx) error {
				pend := &pending{}
				if err := p.execute(tx, c, a, args[a], "editor@example.cn", now, pend); err != nil {
					return err
				}
				if len(pend.events) == 0 || len(pend.results) != 1 {
					t.Errorf("%s in %s: %d events, %d results", a, r.From, len(pend.events), len(pend.results))
				}
				_, err := p.commit(tx, c, pend, now)
				return err
			})
			if errors.Is(err, ErrUnhandledAction) {
				t.Errorf("%s: not handled by the executor", a)
			} else if err != nil {
				t.Errorf("%s in %s: %v", a, r.From, err)
			} else if c.State != r.To {
				t.Errorf("%s in %s: state %s, want %s", a, r.From, c.State, r.To)
			}
		}
		if tried == 0 {
			t.Errorf("%s is legal in no state: dead action", a)
		}
	}
}
