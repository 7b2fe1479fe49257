package imapsource

// This file decides what a fresh store does with a mailbox that was read before it
// (PipelineOptions.Start): the mail already there is processed like new mail
// ("all"), recorded without replies ("new"), or — when nobody said and the mailbox
// carries our processing marks — the desk refuses to run, because a store that was
// lost would answer all of that history again.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// RefusedError stops the pipeline for good: a start the operator must decide on.
// Run returns it instead of retrying.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return e.Reason }

// IsRefused reports whether err is a RefusedError.
func IsRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}

// firstRead handles the first read of the mailbox by this store (no progress yet):
// with "new" it has the mail there marked for adoption before any of it is read;
// unset, it refuses a mailbox with our marks.
func (pl *Pipeline[P]) firstRead(ctx context.Context, c *Client, st MailboxStatus) error {
	switch pl.o.Start {
	case "new":
		uids, err := c.UIDsAfter(ctx, 0)
		if err != nil {
			return fmt.Errorf("search: %w", err)
		}
		var through uint32
		if len(uids) > 0 {
			through = uids[len(uids)-1]
		}
		// Recorded before any of it is read: a crash half-way through still adopts the
		// rest on the next start instead of answering it.
		if err := pl.in.Adopt(pl.stream, st.UIDValidity, through); err != nil {
			return err
		}
		pl.o.Logger.Warn("imap.start is new: the mail already in the mailbox is recorded without replies",
			"mailbox", pl.o.Mailbox, "messages", len(uids), "through_uid", through)
		return nil
	case "all":
		return nil
	}
	marks, err := pl.marks(ctx, c)
	if err != nil {
		return err
	}
	if marks != "" {
		return &RefusedError{Reason: fmt.Sprintf("mailbox %q was processed before (%s) but this store has never read it: "+
			"a lost or new store would answer that mail again. Set imap.start: new to record the mail there without replies, "+
			"or imap.start: all to process it like new mail, or restore the store from its backup", pl.o.Mailbox, marks)}
	}
	return nil
}

// marks describes complaintd's processing marks in the mailbox ("" for none): its
// keywords on mail, and mail in the processed folder.
func (pl *Pipeline[P]) marks(ctx context.Context, c *Client) (string, error) {
	var found []string
	n, err := c.CountKeyword(ctx, FlagProcessed, FlagQuarantined)
	if err != nil {
		return "", err
	}
	if n > 0 {
		found = append(found, fmt.Sprintf("%s with the keyword %s or %s", messages(n), FlagProcessed, FlagQuarantined))
	}
	if f := pl.o.ProcessedFolder; f != "" && !strings.EqualFold(f, pl.o.Mailbox) {
		m, err := c.StatusMessages(ctx, f)
		if err != nil {
			return "", err
		}
		if m > 0 {
			found = append(found, fmt.Sprintf("%s in the folder %q", messages(int(m)), f))
		}
	}
	return strings.Join(found, ", "), nil
}

// CountKeyword counts the messages of the selected mailbox that carry any of the
// keywords (UID SEARCH OR KEYWORD a KEYWORD b).
func (c *Client) CountKeyword(ctx context.Context, keywords ...string) (int, error) {
	c.op.Lock()
	defer c.op.Unlock()
	if c.selected == "" {
		return 0, fmt.Errorf("uid search: %w", ErrNoMailbox)
	}
	if len(keywords) == 0 {
		return 0, nil
	}
	criteria := &imap.SearchCriteria{Flag: []imap.Flag{imap.Flag(keywords[0])}}
	for _, k := range keywords[1:] {
		criteria = &imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{*criteria, {Flag: []imap.Flag{imap.Flag(k)}}}}}
	}
	uids, err := c.uidSearch(ctx, criteria)
	return len(uids), err
}

// StatusMessages is the number of messages in mailbox name (STATUS), 0 when it does
// not exist.
func (c *Client) StatusMessages(ctx context.Context, name string) (uint32, error) {
	c.op.Lock()
	defer c.op.Unlock()
	var data *imap.StatusData
	err := c.guard(ctx, "status", c.opts.CommandTimeout, func() error {
		var err error
		data, err = c.ic.Status(name, &imap.StatusOptions{NumMessages: true}).Wait()
		return err
	})
	var ie *imap.Error
	if errors.As(err, &ie) {
		return 0, nil // NO: no such mailbox
	}
	if err != nil {
		return 0, fmt.Errorf("status %q: %w", name, err)
	}
	if data.NumMessages == nil {
		return 0, nil
	}
	return *data.NumMessages, nil
}

func messages(n int) string {
	if n == 1 {
		return "1 message"
	}
	return fmt.Sprintf("%d messages", n)
}
