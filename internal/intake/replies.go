package intake

import (
	"fmt"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailer"
	"github.com/complaintd/complaintd/internal/mailmsg"
	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/store"
)

// conventionExample is the subject convention shown to complainants who did not follow it.
const conventionExample = "张三(蒙牛奶业集团)申请删除凤凰资讯稿件"

// autoReply queues an automatic reply to the complainant unless a cap over the
// sliding window is reached: per recipient, per sender (From: fifty mails with fifty
// different Reply-To addresses are one sender), per recipient domain and for the whole
// desk. A mail loop, a flood or forged Reply-To addresses must not make us a spam or
// backscatter source; a follow-up days later is still answered.
func (p *Processor) autoReply(tx *store.Tx, c *cases.Case, kind string, in *mailmsg.Message, now time.Time) (bool, string, error) {
	if why, err := p.replyCapped(tx, c, in, now); why != "" || err != nil {
		return false, why, err
	}
	d := p.o.Mailer.View(c)
	d.SubjectConforms = c.Subject.Conforms
	d.ConventionExample = conventionExample
	if c.DueAt != nil {
		d.Deadline = *c.DueAt
	}
	if awaitingItems(c) {
		// What staff asked for in their own words is still awaited: say so, the
		// missing kinds alone may be none.
		d.Items = c.RequestedItems
	}
	refs := append(append([]string{}, in.References...), in.MessageID)
	o := mailer.Outgoing{Kind: kind, Data: d, To: p.toComplainant(c), ReplyTo: p.complainantReplyTo(c.ID),
		InReplyTo: in.MessageID, References: refs, Auto: outbox.AutoReplied}
	if err := p.o.Mailer.Queue(tx, c, o, now); err != nil {
		return false, "", err
	}
	return true, "", p.countReply(tx, c, in, now)
}

// replyCapped says why an automatic reply to in about c may not go out now (a cap
// reached, counted as suppressed), or "" when it may.
func (p *Processor) replyCapped(tx *store.Tx, c *cases.Case, in *mailmsg.Message, now time.Time) (string, error) {
	since := now.Add(-p.o.ReplyWindow)
	for _, cp := range p.replyCaps(c, in) {
		recent, err := tx.AutoReplyCount(cp.key, since)
		if err != nil {
			return "", err
		}
		if cp.limit > 0 && recent >= cp.limit {
			p.afterCommit(tx, func() { p.o.Metrics.RepliesSuppressed.Add(1) })
			return fmt.Sprintf("rate limit: %d automatic replies %s within %s", recent, cp.what, p.o.ReplyWindow), nil
		}
	}
	return "", nil
}

// countReply counts an automatic reply to in about c, queued at now, in every cap.
func (p *Processor) countReply(tx *store.Tx, c *cases.Case, in *mailmsg.Message, now time.Time) error {
	since := now.Add(-p.o.ReplyWindow)
	for _, cp := range p.replyCaps(c, in) {
		if cp.limit > 0 {
			if err := tx.RecordAutoReply(cp.key, now, since); err != nil {
				return err
			}
		}
	}
	return nil
}

// replyCap is one counter of automatic replies.
type replyCap struct {
	key   string // the store's counter; the recipient's is the bare address (as before)
	limit int
	what  string // for the reply_suppressed event
}

func (p *Processor) replyCaps(c *cases.Case, in *mailmsg.Message) []replyCap {
	caps := []replyCap{{key: c.Complainant, limit: p.o.ReplyLimit, what: "to this address"}}
	if from := cases.AddressKey(in.From.Address); from != "" && from != cases.AddressKey(c.Complainant) {
		caps = append(caps, replyCap{key: "from:" + from, limit: p.o.ReplyLimit, what: "for mail from this sender"})
	}
	if _, domain, ok := strings.Cut(strings.ToLower(c.Complainant), "@"); ok {
		caps = append(caps, replyCap{key: "domain:" + domain, limit: p.o.ReplyDomainLimit, what: "to this domain"})
	}
	return append(caps, replyCap{key: "desk:*", limit: p.o.ReplyGlobalLimit, what: "in all"})
}
