package intake_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/complaintd/complaintd/internal/store"
)

// Order does not matter (issue 17, 5): a follow-up processed before the mail it
// answers opens the case and is linked; the original, when it comes, joins that case
// (documents and fields added, an event recorded) instead of opening a second one,
// and is not acknowledged a second time. Only the same sender's mail joins; a case
// number named before it existed links the two cases for staff.
func TestFollowUpBeforeItsOriginalIsMerged(t *testing.T) {
	p, st, _ := newBareProcessor(t)
	box := inbound.Stream{Channel: inbound.IMAP, Name: "INBOX"}
	seq := uint32(0)
	process := func(m testMail) inbound.Outcome {
		t.Helper()
		seq++
		out, err := p.Process(context.Background(), inbound.Source{Stream: box, Epoch: 1, Seq: seq}, bytes.NewReader(m.bytes()))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	followUp := testMail{from: "王五|wangwu@example.cn", subject: "Re: 王五申请删除凤凰博客稿件", messageID: "followup@example.cn",
		inReplyTo: "original@example.cn", references: []string{"original@example.cn"},
		body:  "补充材料：身份证复印件见附件。\n",
		files: []file{{"身份证复印件.jpg", "image/jpeg", []byte("JPEG id card")}}}
	original := plainComplaint("王五|wangwu@example.cn", "original@example.cn", "王五申请删除凤凰博客稿件")
	original.files = []file{{"删帖申请表.pdf", "application/pdf", []byte("%PDF form")}}

	first := process(followUp)
	if first.Case == "" {
		t.Fatalf("follow-up: %+v", first)
	}
	second := process(original)
	if second.Case != first.Case {
		t.Fatalf("the original opened %q, want it to join %s", second.Case, first.Case)
	}
	var c *cases.Case
	var acks, all int
	st.View(func(tx *store.Tx) error {
		n := 0
		tx.EachCase(true, func(x *cases.Case) error { n++; c = x; return nil })
		if n != 1 {
			t.Errorf("cases = %d, want 1", n)
		}
		return tx.EachOutbox(func(e *store.OutboxEntry) error {
			if e.Case == first.Case {
				all++
				if e.Kind == "acknowledgement" {
					acks++
				}
			}
			return nil
		})
	})
	var files []string
	for _, d := range c.Documents {
		files = append(files, d.Filename)
	}
	if !slices.Contains(files, "身份证复印件.jpg") || !slices.Contains(files, "删帖申请表.pdf") {
		t.Errorf("documents %v, want both mails'", files)
	}
	if c.Request.URL == "" {
		t.Errorf("the original's fields were not added: %+v", c.Request)
	}
	var linked []string
	for _, e := range c.Events {
		if e.Type == cases.EventLinked {
			linked = append(linked, e.Note)
		}
	}
	if len(linked) != 2 || !strings.Contains(linked[1], "joined the case") {
		t.Errorf("linked events %q, want the link and the join", linked)
	}
	if acks != 1 {
		t.Errorf("acknowledgements = %d (of %d replies), want 1", acks, all)
	}

	// Someone else's mail with the claimed Message-ID does not join the case.
	process(testMail{from: "李四|lisi@example.cn", subject: "Re: 投诉", messageID: "bob-followup@example.cn",
		inReplyTo: "claimed@example.cn", body: "补充材料。\n"})
	stranger := process(plainComplaint("王五|wangwu@example.cn", "claimed@example.cn", "王五申请删除凤凰博客稿件"))
	if stranger.Case == "" || stranger.Case == first.Case {
		t.Fatalf("another sender's claim: %+v", stranger)
	}

	// A case number named before it existed: the two cases are linked for staff.
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
	future := fmt.Sprintf("TS-%d-%06d", year, 5)
	named := process(testMail{from: "赵六|zhaoliu@example.cn", subject: "[" + future + "] 补充材料", messageID: "names-future@example.cn",
		body: "补充材料。\n"})
	later := process(plainComplaint("赵六|zhaoliu@example.cn", "becomes-5@example.cn", "赵六申请删除凤凰博客稿件"))
	if later.Case != future {
		t.Fatalf("the next case is %s, the test expected %s", later.Case, future)
	}
	st.View(func(tx *store.Tx) error {
		for id, want := range map[string]string{named.Case: "is now registered", later.Case: "named this case's number"} {
			evs, _ := tx.Events(id)
			found := false
			for _, e := range evs {
				found = found || (e.Type == cases.EventLinked && strings.Contains(e.Note, want))
			}
			if !found {
				t.Errorf("case %s: no linked event saying %q: %+v", id, want, evs)
			}
		}
		return nil
	})
}
