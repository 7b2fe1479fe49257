package intake_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/privacy"
	"github.com/complaintd/complaintd/internal/store"
)

// Found in review of 411dc19 (fixed since): findCase skips erased cases, but claimedBy (a late original
// joining the case its follow-up opened, through a pending link) does not. A case
// erased by `cases erase` while open (the CLI erases whatever the state) keeps its
// pending links; the original arriving afterwards finds the erased case, and an
// event with the sender as actor is sealed onto it: new keys, the complainant's
// address readable on the erased case again.
func TestLateOriginalDoesNotReachAnErasedCase(t *testing.T) {
	d := newPDDesk(t)
	follow := plainComplaint("王五|wangwu@example.cn", "followup.r2@example.cn", "王五申请删除凤凰博客稿件")
	follow.inReplyTo = "original.r2@example.cn" // not seen yet: claimed by the new case
	x := d.process(follow)
	if x.Case == "" {
		t.Fatalf("no case: %+v", x)
	}
	if err := privacy.Erase(d.st, d.v, x.Case, "cli:audit", "data subject's request", time.Now()); err != nil {
		t.Fatal(err)
	}
	late := d.process(plainComplaint("王五|wangwu@example.cn", "original.r2@example.cn", "王五申请删除凤凰博客稿件"))
	var c *cases.Case
	if err := d.st.View(func(tx *store.Tx) error { var err error; c, err = tx.Case(x.Case); return err }); err != nil {
		t.Fatal(err)
	}
	if c.ErasedAt == nil {
		t.Fatal("setup: not erased")
	}
	if late.Case == x.Case {
		t.Errorf("the late original joined the erased case %s", x.Case)
	}
	for _, e := range c.Events {
		if strings.Contains(e.Actor+e.Note, "wangwu@example.cn") {
			t.Errorf("erased case %s reads again: event %s actor %q note %q", c.ID, e.Type, e.Actor, e.Note)
		}
	}
	if c.Complainant != "" || c.Applicant.Name != "" {
		t.Errorf("erased case %s has personal data again: complainant %q applicant %q", c.ID, c.Complainant, c.Applicant.Name)
	}
	if _, err := os.Stat(filepath.Join(d.dir, "attachments", "keys", x.Case+".keys")); err == nil {
		t.Errorf("the erased case %s has a key file again", x.Case)
	}
}
