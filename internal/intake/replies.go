package intake

import (
	"fmt"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/mailmsg"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/store"
)

// conventionExample is the subject convention shown to complainants who did not follow it.
const conventionExample = "张三(蒙牛奶业集团)申请删除凤凰资讯稿件"

// autoReply queues an automatic reply to the complainant unless the per-sender cap over
// the sliding window is reached (a mail loop or a flood must not make us a spam source;
// a follow-up days later is still answered).
func (p *Processor) autoReply(tx *store.Tx, c *cases.Case, kind string, in *mailmsg.Message, now time.Time) (bool, string, error) {
	since := now.Add(-p.o.ReplyWindow)
	recent, err := tx.AutoReplies(c.Complainant, since)
	if err != nil {
		return false, "", err
	}
	if len(recent) >= p.o.ReplyLimit {
		p.o.Metrics.RepliesSuppressed.Add(1)
		return false, fmt.Sprintf("rate limit: %d automatic replies to this sender within %s", len(recent), p.o.ReplyWindow), nil
	}
	d := p.o.Mailer.View(c)
	d.SubjectConforms = c.Subject.Conforms
	d.ConventionExample = conventionExample
	if c.DueAt != nil {
		d.Deadline = *c.DueAt
	}
	refs := append(append([]string{}, in.References...), in.MessageID)
	o := mailer.Outgoing{Kind: kind, Data: d, To: p.toComplainant(c), ReplyTo: p.complainantReplyTo(c.ID),
		InReplyTo: in.MessageID, References: refs, Auto: outbox.AutoReplied}
	if err := p.o.Mailer.Queue(tx, c, o, now); err != nil {
		return false, "", err
	}
	if err := tx.RecordAutoReply(c.Complainant, now, since); err != nil {
		return false, "", err
	}
	return true, "", nil
}
