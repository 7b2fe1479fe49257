package imapsource_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/imapsource"
)

// A mail that killed the process on every attempt (as recorded in the attempt file)
// is quarantined instead of killing it again — and the mails around it are processed,
// the one before it too: the quarantine record must not advance the checkpoint past
// mail still in the pipeline.
func TestMailThatKeepsKillingTheProcessIsQuarantined(t *testing.T) {
	srv := newServers(t)
	srv.deliver(t, plainComplaint("甲|a@example.cn", "k1@example.cn", "甲申请删除凤凰资讯稿件").Bytes())
	poison := srv.deliver(t, plainComplaint("乙|b@example.cn", "k2@example.cn", "乙申请删除凤凰资讯稿件").Bytes())
	last := srv.deliver(t, plainComplaint("丙|c@example.cn", "k3@example.cn", "丙申请删除凤凰资讯稿件").Bytes())
	c, err := imapsource.Dial(context.Background(), srv.imapOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Select(context.Background(), "INBOX")
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	attempts := filepath.Join(t.TempDir(), "inflight")
	// Five deaths while it was processed alone, and a sixth in hand alone (MaxAttempts
	// 3, twice that for deaths), as a mail that crashes the process leaves the file.
	os.WriteFile(attempts, []byte(fmt.Sprintf("INBOX\x1f%d\x1f%d\x015\x01i", st.UIDValidity, poison)), 0o600)
	h := startHarness(t, srv, "", func(c *config) { c.poll.InflightPath = attempts })
	h.waitCheckpoint(last)
	eventually(t, "the quarantine record", func() bool { return len(h.quarantined()) == 1 })
	q := h.quarantined()[0]
	if q.UID != poison || !strings.Contains(q.Reason, "process died") {
		t.Errorf("quarantine = %+v, want UID %d for dying with the process", q, poison)
	}
	for _, id := range []string{"k1@example.cn", "k3@example.cn"} {
		if m := h.message(id); m == nil || m.Role != "complainant" {
			t.Errorf("mail %s around the poison one not processed: %+v", id, m)
		}
	}
	if h.message("k2@example.cn") != nil {
		t.Error("the poison mail was processed after all")
	}
}

// A process that died with a pipeline of mails in hand blames none of them: each is
// processed again, alone, and registered — nothing is quarantined for a death that may
// have come from outside (a deploy, the OOM killer, a kill loop).
func TestDeathWithAPipelineInHandChargesNoMail(t *testing.T) {
	srv := newServers(t)
	var uids []uint32
	for i := range 5 {
		uids = append(uids, srv.deliver(t, plainComplaint(fmt.Sprintf("甲%d|a%d@example.cn", i, i), fmt.Sprintf("p%d@example.cn", i), "甲申请删除凤凰资讯稿件").Bytes()))
	}
	c, err := imapsource.Dial(context.Background(), srv.imapOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Select(context.Background(), "INBOX")
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	attempts := filepath.Join(t.TempDir(), "inflight")
	// Every mail in hand in a pipeline, several times over: the old counter would
	// have quarantined them all.
	var lines []string
	for _, uid := range uids {
		lines = append(lines, fmt.Sprintf("INBOX\x1f%d\x1f%d\x010\x01p", st.UIDValidity, uid))
	}
	os.WriteFile(attempts, []byte(strings.Join(lines, "\n")), 0o600)
	h := startHarness(t, srv, "", func(c *config) { c.poll.InflightPath = attempts })
	h.waitCheckpoint(uids[len(uids)-1])
	if q := h.quarantined(); len(q) != 0 {
		t.Errorf("quarantined %+v after a death with a pipeline in hand", q)
	}
	for i := range uids {
		if m := h.message(fmt.Sprintf("p%d@example.cn", i)); m == nil || m.Role != "complainant" {
			t.Errorf("mail %d not registered: %+v", i, m)
		}
	}
	// The last attempt ends after its commit (and its flag): the file empties then.
	eventually(t, "the attempt file to be empty once every attempt ended", func() bool {
		b, _ := os.ReadFile(attempts)
		return len(strings.Trim(string(b), "\x00")) == 0
	})
}
