// SPDX-License-Identifier: MIT

package imapsource

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// ErrExpungeUnsupported means the server cannot remove chosen messages only (no
// UIDPLUS, RFC 4315): a plain EXPUNGE would also remove every other message
// someone marked \Deleted, so nothing is deleted.
var ErrExpungeUnsupported = errors.New("server cannot expunge single messages (no UIDPLUS)")

// Copy is a mail to delete from the mailbox: where the desk read it (folder,
// UIDVALIDITY, UID) and its Message-ID, by which it is found again in any folder it
// was moved to.
type Copy struct {
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	MessageID   string
}

// EraseCopies deletes from folder every message that is one of copies: the message
// at a copy's own place (same folder and UIDVALIDITY) when its Message-ID is the
// copy's, and every message whose Message-ID is a copy's (the mail moved to the
// processed folder, a second delivery of it). A Message-ID is compared whole, after
// UID SEARCH's substring match. It returns how many messages were deleted; a folder
// that does not exist holds none.
//
// The messages are marked \Deleted and removed with UID EXPUNGE, which touches no
// other message.
func (c *Client) EraseCopies(ctx context.Context, folder string, copies []Copy) (int, error) {
	if !c.Has(string(imap.CapUIDPlus)) {
		return 0, fmt.Errorf("erase in %q: %w", folder, ErrExpungeUnsupported)
	}
	if exists, err := c.mailboxExists(ctx, folder); err != nil || !exists {
		return 0, err
	}
	status, err := c.Select(ctx, folder)
	if err != nil {
		return 0, fmt.Errorf("erase: %w", err)
	}
	c.op.Lock()
	defer c.op.Unlock()

	wanted := map[string]bool{} // Message-IDs to delete wherever they are
	placed := map[uint32]Copy{} // the copies' own places in this folder
	var candidates []uint32
	for _, cp := range copies {
		if id := normMessageID(cp.MessageID); id != "" {
			wanted[id] = true
			uids, err := c.uidSearch(ctx, &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}}})
			if err != nil {
				return 0, fmt.Errorf("erase: %w", err)
			}
			candidates = append(candidates, uids...)
		}
		if cp.UID != 0 && cp.Mailbox == folder && cp.UIDValidity == status.UIDValidity {
			placed[cp.UID] = cp
			candidates = append(candidates, cp.UID)
		}
	}
	if len(candidates) == 0 {
		return 0, nil
	}
	slices.Sort(candidates)
	candidates = slices.Compact(candidates)

	// Each candidate's own Message-ID decides: a substring match of SEARCH, or a UID
	// that now holds another mail (a mailbox recreated with the same UIDVALIDITY by a
	// broken server), is left alone; so is a mail whose header did not come.
	ids, err := c.messageIDs(ctx, candidates)
	if err != nil {
		return 0, fmt.Errorf("erase: %w", err)
	}
	var doomed imap.UIDSet
	n := 0
	for _, u := range candidates {
		got, sent := ids[u]
		if !sent {
			continue
		}
		id := normMessageID(got)
		cp, at := placed[u]
		if (id != "" && wanted[id]) || (at && id == "" && normMessageID(cp.MessageID) == "") {
			doomed.AddNum(imap.UID(u))
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	deleted := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
	err = c.guard(ctx, "uid store", c.opts.CommandTimeout, func() error {
		return c.ic.Store(doomed, deleted, nil).Close()
	})
	if err != nil {
		return 0, fmt.Errorf("erase in %q: %w", folder, err)
	}
	err = c.guard(ctx, "uid expunge", c.opts.CommandTimeout, func() error {
		return c.ic.UIDExpunge(doomed).Close()
	})
	if err != nil {
		return 0, fmt.Errorf("erase in %q: marked \\Deleted, not removed: %w", folder, err)
	}
	return n, nil
}

// mailboxExists asks LIST whether folder exists (a SELECT's NO does not always
// say why: Dovecot 2.3 sends no NONEXISTENT code).
func (c *Client) mailboxExists(ctx context.Context, folder string) (bool, error) {
	c.op.Lock()
	defer c.op.Unlock()
	var found bool
	err := c.guard(ctx, "list", c.opts.CommandTimeout, func() error {
		list, err := c.ic.List("", folder, nil).Collect()
		for _, l := range list {
			found = found || l.Mailbox == folder || strings.EqualFold(folder, "INBOX") && strings.EqualFold(l.Mailbox, "INBOX")
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("list %q: %w", folder, err)
	}
	return found, nil
}

// normMessageID is a Message-ID as the store compares them: no angle brackets, no
// spaces, lower case.
func normMessageID(id string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(id), "<>"))
}
