// SPDX-License-Identifier: MIT

package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/imapsource"
	"github.com/complaintd/complaintd/internal/privacy"
)

// mailEraser deletes from the mailbox the mails of erased cases (imap.erased_mail:
// delete): an erasure destroys what the store and the vault hold, but the originals,
// ID card scans attached, would stay in the INBOX or the processed folder for good.
// It works on its own IMAP connection, at the start, at once after an erasure, and
// again every mailEraseRetry while mails are left to delete (the server was down),
// else every mailEraseCheck.
type mailEraser struct {
	kick chan struct{}
	// toldUnsupported: the server's lack of UIDPLUS was logged once; it is tried
	// again every mailEraseCheck, quietly (a server upgrade brings it).
	toldUnsupported bool
}

const (
	mailEraseRetry = 5 * time.Minute
	mailEraseCheck = time.Hour
)

// wake has the eraser look again now (an erasure was just recorded).
func (e *mailEraser) wake() {
	if e == nil {
		return
	}
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

func (d *desk) runMailEraser(ctx context.Context) {
	for {
		wait := mailEraseCheck
		if left, stuck := d.eraseMail(ctx); left > 0 && !stuck {
			wait = mailEraseRetry
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.mailEraser.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// eraseMail deletes the mails of every erased case still listed and returns how many
// cases are left for a later attempt; stuck when no retry soon cures what stopped it:
// a server that cannot expunge single messages (no UIDPLUS), a refused login or an
// untrusted certificate (a change of the configuration or of the server).
func (d *desk) eraseMail(ctx context.Context) (left int, stuck bool) {
	log := d.log.With("part", "imap")
	pending, bad, err := privacy.PendingMailErasures(d.store, d.vault)
	if err != nil {
		log.Error("mails of erased cases: list not read", "err", err)
		return 1, false
	}
	for id, err := range bad {
		log.Error("mails of an erased case cannot be found: their list does not open", "case", id, "err", err)
	}
	if len(pending) == 0 {
		return 0, false
	}
	if d.cfg.IMAP.ErasedMail == "keep" {
		for _, p := range pending {
			if err := privacy.MailErased(d.store, p.Case); err != nil {
				log.Error("mails of an erased case: list not dropped", "case", p.Case, "err", err)
				left++
				continue
			}
			log.Info("mails of an erased case kept in the mailbox (imap.erased_mail: keep)", "case", p.Case, "mails", len(p.Copies))
		}
		return left, false
	}
	c, err := imapsource.Dial(ctx, d.imapOptions)
	if err != nil {
		if why := imapsource.ConfigFailure(err); why != "" && ctx.Err() == nil {
			// Each attempt is a failed login the server counts towards locking the
			// account, which intake backs off from for up to an hour: a try every
			// mailEraseRetry added 12 an hour (found in review).
			log.Error("mails of erased cases not deleted yet: imap "+why, "cases", len(pending), "retry_in", mailEraseCheck, "err", err)
			return len(pending), true
		}
		if ctx.Err() == nil {
			log.Warn("mails of erased cases not deleted yet: no connection", "cases", len(pending), "retry_in", mailEraseRetry, "err", err)
		}
		return len(pending), false
	}
	defer c.Close()
	folders := []string{d.cfg.IMAP.Mailbox}
	for _, f := range []string{d.cfg.IMAP.ProcessedFolder, d.cfg.IMAP.QuarantineFolder} {
		if f != "" && !slices.ContainsFunc(folders, func(g string) bool { return strings.EqualFold(f, g) }) {
			folders = append(folders, f)
		}
	}
	for i, p := range pending {
		copies := make([]imapsource.Copy, 0, len(p.Copies))
		for _, cp := range p.Copies {
			copies = append(copies, imapsource.Copy{Mailbox: cp.Mailbox, UIDValidity: cp.UIDValidity, UID: cp.UID, MessageID: cp.MessageID})
		}
		deleted := 0
		var failed error
		for _, f := range folders {
			n, err := c.EraseCopies(ctx, f, copies)
			deleted += n
			if err != nil {
				failed = err
				break
			}
		}
		if failed == nil {
			failed = privacy.MailErased(d.store, p.Case)
		}
		if failed != nil {
			if ctx.Err() != nil {
				return len(pending) - i, false
			}
			if errors.Is(failed, imapsource.ErrExpungeUnsupported) {
				if !d.mailEraser.toldUnsupported {
					d.mailEraser.toldUnsupported = true
					log.Error("mails of erased cases stay in the mailbox: the server cannot expunge single messages (no UIDPLUS); delete them by hand or set imap.erased_mail: keep",
						"cases", len(pending), "retry_in", mailEraseCheck)
				}
				return len(pending), true
			}
			log.Warn("mails of an erased case not deleted yet", "case", p.Case, "deleted", deleted, "retry_in", mailEraseRetry, "err", failed)
			left++
			if imapsource.IsConnError(failed) {
				return left + len(pending) - i - 1, false
			}
			continue
		}
		log.Info("mails of an erased case deleted from the mailbox", "case", p.Case, "mails", deleted)
	}
	return left, false
}
