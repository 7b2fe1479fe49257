package imapsource

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/mailmsg"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// MailboxStatus is what SELECT reported about a mailbox.
type MailboxStatus struct {
	Name        string
	UIDValidity uint32 // RFC 9051 section 2.3.1.1; a change invalidates every stored UID
	UIDNext     uint32 // zero if the server did not say
	Messages    uint32
}

// Select opens mailbox read-write (SELECT, not EXAMINE, so that flags and
// moves are possible).
func (c *Client) Select(ctx context.Context, mailbox string) (MailboxStatus, error) {
	c.op.Lock()
	defer c.op.Unlock()
	var data *imap.SelectData
	err := c.guard(ctx, "select", c.opts.CommandTimeout, func() error {
		var err error
		data, err = c.ic.Select(mailbox, nil).Wait()
		return err
	})
	if err != nil {
		c.selected = ""
		return MailboxStatus{}, fmt.Errorf("mailbox %q: %w", mailbox, err)
	}
	c.selected = mailbox
	c.permFlags = slices.Clone(data.PermanentFlags)
	select { // an EXISTS seen before this SELECT is about the old mailbox
	case <-c.changed:
	default:
	}
	return MailboxStatus{
		Name:        mailbox,
		UIDValidity: data.UIDValidity,
		UIDNext:     uint32(data.UIDNext),
		Messages:    data.NumMessages,
	}, nil
}

// UIDsAfter returns the UIDs greater than uid in the selected mailbox, in
// ascending order, using UID SEARCH UID uid+1:*.
//
// "n:*" always matches the highest UID in the mailbox, even when that UID is
// below n (RFC 9051 section 6.4.4: "*" is the largest UID in use, and a range
// is unordered), so a server answers "n:*" with the last message again and
// again; those UIDs are filtered out here.
func (c *Client) UIDsAfter(ctx context.Context, uid uint32) ([]uint32, error) {
	c.op.Lock()
	defer c.op.Unlock()
	if c.selected == "" {
		return nil, fmt.Errorf("uid search: %w", ErrNoMailbox)
	}
	if uid == math.MaxUint32 {
		return nil, nil
	}
	criteria := &imap.SearchCriteria{
		UID: []imap.UIDSet{{imap.UIDRange{Start: imap.UID(uid + 1), Stop: 0}}}, // Stop 0 is "*"
	}
	all, err := c.uidSearch(ctx, criteria)
	if err != nil {
		return nil, err
	}
	// In ascending order, whatever the server's: intake takes them in this order and
	// its checkpoint, the highest UID committed, must never pass one not taken.
	all = slices.DeleteFunc(all, func(u uint32) bool { return u <= uid })
	slices.Sort(all)
	return all, nil
}

// Fetch streams the full raw message uid (UID FETCH uid (UID RFC822.SIZE
// BODY.PEEK[])) to fn. r yields exactly size bytes straight from the
// connection; fn must not keep r after returning, and what fn leaves unread
// is discarded. \Seen is not set. fn is called at most once. The whole call,
// including fn, is bounded by Options.FetchTimeout.
//
// ErrNotFound means the UID is not in the mailbox: when a FETCH brings no
// body, Fetch asks UID SEARCH before saying so, because go-imap cannot
// attribute a body that a server sends before the UID item, nor one that
// follows an unsolicited FETCH for the same UID. In those cases Fetch retries
// once and then reports a plain error (not ErrNotFound), so the caller keeps
// the message instead of skipping it.
//
// An error returned by fn is returned wrapped (not a connection error) after
// the rest of the message has been drained.
func (c *Client) Fetch(ctx context.Context, uid uint32, fn func(r io.Reader, size int64) error) error {
	c.op.Lock()
	defer c.op.Unlock()
	if c.selected == "" {
		return fmt.Errorf("fetch uid %d: %w", uid, ErrNoMailbox)
	}
	where := fmt.Sprintf("mailbox %q uid %d", c.selected, uid)
	for attempt := 1; ; attempt++ {
		got, fnErr, err := c.fetchOnce(ctx, uid, fn)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", where, err)
		case fnErr != nil:
			return fmt.Errorf("%s: process message: %w", where, fnErr)
		case got:
			return nil
		}
		exists, err := c.uidExists(ctx, uid)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", where, err)
		case !exists:
			return fmt.Errorf("%s: %w", where, ErrNotFound)
		case attempt >= 2:
			return fmt.Errorf("%s: server sent no usable body for an existing message", where)
		}
		c.log.Debug("imap fetch brought no body, retrying", "mailbox", c.selected, "uid", uid)
	}
}

// fetchOnce runs one UID FETCH and hands the first non-NIL body to fn.
func (c *Client) fetchOnce(ctx context.Context, uid uint32, fn func(r io.Reader, size int64) error) (got bool, fnErr, err error) {
	err = c.guard(ctx, "uid fetch", c.opts.FetchTimeout, func() error {
		cmd := c.ic.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{
			UID:         true,
			RFC822Size:  true,
			BodySection: []*imap.FetchItemBodySection{{Peek: true}},
		})
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			for item := msg.Next(); item != nil; item = msg.Next() {
				body, ok := item.(imapclient.FetchItemDataBodySection)
				if !ok || got || body.Literal == nil {
					continue // anything unread is discarded by Next
				}
				got = true
				fnErr = fn(body.Literal, body.Literal.Size())
			}
		}
		return cmd.Close() // drains what fn left unread
	})
	return got, fnErr, err
}

// FetchBatch streams several messages with one UID FETCH (one round trip, and the
// server keeps sending while fn works on the message before), calling fn for each
// body in the order the server sends them. The watchdog allows FetchTimeout per
// message. UIDs that brought no body are returned: the caller fetches them one by one
// with Fetch, which tells a vanished message from a server quirk. An error from fn
// stops the batch (the rest is drained) and is returned wrapped; it is not a
// connection error.
func (c *Client) FetchBatch(ctx context.Context, uids []uint32, fn func(uid uint32, r io.Reader, size int64) error) (missing []uint32, err error) {
	c.op.Lock()
	defer c.op.Unlock()
	if c.selected == "" {
		return nil, fmt.Errorf("fetch: %w", ErrNoMailbox)
	}
	if len(uids) == 0 {
		return nil, nil
	}
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	got := map[uint32]bool{}
	var fnErr error
	err = c.guardEach(ctx, "uid fetch", c.opts.FetchTimeout, func(progress func()) error {
		cmd := c.ic.Fetch(set, &imap.FetchOptions{
			UID:         true,
			RFC822Size:  true,
			BodySection: []*imap.FetchItemBodySection{{Peek: true}},
		})
		for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
			progress()
			var uid uint32
			for item := msg.Next(); item != nil; item = msg.Next() {
				switch it := item.(type) {
				case imapclient.FetchItemDataUID:
					uid = uint32(it.UID)
				case imapclient.FetchItemDataBodySection:
					// Dovecot sends UID before the body; a body before its UID
					// cannot be attributed and is left to the one-by-one fetch.
					if it.Literal == nil || uid == 0 || got[uid] || fnErr != nil || !slices.Contains(uids, uid) {
						continue
					}
					got[uid] = true
					fnErr = fn(uid, it.Literal, it.Literal.Size())
				}
			}
		}
		return cmd.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("mailbox %q uid %s: %w", c.selected, uidList(uids), err)
	}
	if fnErr != nil {
		return nil, fmt.Errorf("mailbox %q: process message: %w", c.selected, fnErr)
	}
	for _, u := range uids {
		if !got[u] {
			missing = append(missing, u)
		}
	}
	return missing, nil
}

// uidExists asks UID SEARCH UID uid whether the message is there.
func (c *Client) uidExists(ctx context.Context, uid uint32) (bool, error) {
	var data *imap.SearchData
	err := c.guard(ctx, "uid search", c.opts.CommandTimeout, func() error {
		var err error
		data, err = c.ic.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{imap.UIDSetNum(imap.UID(uid))}}, nil).Wait()
		return err
	})
	if err != nil {
		return false, err
	}
	return slices.Contains(data.AllUIDs(), imap.UID(uid)), nil
}

// AddFlags adds flags (system flags such as \Flagged or keywords such as
// $Complaintd-Processed) to message uid with UID STORE +FLAGS.SILENT.
//
// When the mailbox's PERMANENTFLAGS lists neither a flag nor \*, nothing is
// stored and the error wraps ErrFlagsUnsupported. When
// the server sent no PERMANENTFLAGS the store is attempted (RFC 9051 section
// 7.1: without it, all flags are assumed permanent). \Deleted and \Recent are
// refused: this package deletes only through Move.
func (c *Client) AddFlags(ctx context.Context, uid uint32, flags ...string) error {
	return c.AddFlagsMany(ctx, []uint32{uid}, flags...)
}

// AddFlagsMany is AddFlags for several messages in one UID STORE (one round trip for
// a whole batch of processed mail).
func (c *Client) AddFlagsMany(ctx context.Context, uids []uint32, flags ...string) error {
	c.op.Lock()
	defer c.op.Unlock()
	where := fmt.Sprintf("uid %s", uidList(uids))
	if c.selected == "" {
		return fmt.Errorf("store %s: %w", where, ErrNoMailbox)
	}
	if len(flags) == 0 || len(uids) == 0 {
		return nil
	}
	list := make([]imap.Flag, 0, len(flags))
	for _, f := range flags {
		if err := checkFlag(f); err != nil {
			return fmt.Errorf("store %s: %w", where, err)
		}
		list = append(list, imap.Flag(f))
	}
	if unsupported := c.unstorable(list); len(unsupported) > 0 {
		return fmt.Errorf("mailbox %q %s: %w: %s", c.selected, where, ErrFlagsUnsupported, strings.Join(unsupported, " "))
	}
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	err := c.guard(ctx, "uid store", c.opts.CommandTimeout, func() error {
		return c.ic.Store(set, &imap.StoreFlags{
			Op: imap.StoreFlagsAdd, Silent: true, Flags: list,
		}, nil).Close()
	})
	if err != nil {
		return fmt.Errorf("mailbox %q %s: %w", c.selected, where, err)
	}
	return nil
}

func uidList(uids []uint32) string {
	if len(uids) == 1 {
		return fmt.Sprint(uids[0])
	}
	return fmt.Sprintf("%d..%d (%d)", uids[0], uids[len(uids)-1], len(uids))
}

// checkFlag refuses flags this package must not set and names that cannot be
// sent as an IMAP atom.
func checkFlag(f string) error {
	switch strings.ToLower(f) {
	case "\\deleted", "\\recent", "\\*":
		return fmt.Errorf("flag %s may not be set by this package", f)
	}
	if f == "" || f == "\\" {
		return errors.New("empty flag")
	}
	for i, r := range f {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`(){%*"]`, r) || (r == '\\' && i > 0) {
			return fmt.Errorf("flag %q is not a valid IMAP flag", f)
		}
	}
	return nil
}

// unstorable returns the flags PERMANENTFLAGS does not allow.
func (c *Client) unstorable(flags []imap.Flag) []string {
	if c.permFlags == nil {
		return nil // unknown: let the server decide
	}
	has := func(f imap.Flag) bool {
		return slices.ContainsFunc(c.permFlags, func(p imap.Flag) bool { return strings.EqualFold(string(p), string(f)) })
	}
	// \* promises new keywords (RFC 9051 section 7.1); a server that
	// promises those but omits an unused system flag from the list (as
	// imapmemserver does) stores it too, so \* admits both.
	wildcard := has(imap.FlagWildcard)
	var out []string
	for _, f := range flags {
		if has(f) || wildcard {
			continue
		}
		out = append(out, string(f))
	}
	return out
}

// Move moves message uid from the selected mailbox to dest, creating dest if
// needed, and touches no other message:
//
//   - with MOVE (RFC 6851): UID MOVE uid dest;
//   - else with UIDPLUS (RFC 4315): UID COPY, UID STORE +FLAGS.SILENT
//     (\Deleted), UID EXPUNGE of exactly uid;
//   - else: ErrMoveUnsupported, and nothing is created, copied or expunged.
//
// go-imap's own Move fallback (COPY + STORE + plain EXPUNGE) would expunge
// every \Deleted message in the mailbox, so it is never used: go-imap's Move
// is called only after checking that its capability view has MOVE. (A server
// that changed its advertised capabilities between that check and the call
// could still trigger the fallback; no known server does.)
//
// ErrNotFound means the server reported (COPYUID) that uid was not there.
// If the copy succeeded but the removal failed, the message exists in both
// mailboxes and the error says so; the \Deleted flag is removed again when
// UID EXPUNGE fails.
func (c *Client) Move(ctx context.Context, uid uint32, dest string) error {
	_, err := c.MoveUID(ctx, uid, dest)
	return err
}

// Moved is where a message went: the destination's UIDVALIDITY and the message's UID
// there, both zero when the server did not say (no COPYUID, RFC 4315 section 3).
type Moved struct {
	UIDValidity uint32
	UID         uint32
}

// goImapHasMove reports whether go-imap's own view of the capabilities has MOVE (the
// caller holds c.op): without it, its Move falls back to COPY + STORE + a plain
// EXPUNGE, which would remove every \Deleted message of the mailbox.
func (c *Client) goImapHasMove(ctx context.Context) (bool, error) {
	var has bool
	err := c.guard(ctx, "capability", c.opts.CommandTimeout, func() error {
		caps := c.ic.Caps()
		if caps == nil {
			return errors.New("no capability list from server")
		}
		has = caps.Has(imap.CapMove)
		return nil
	})
	return has, err
}

// MoveMany moves the messages uids of the selected mailbox to dest (created if
// needed) in one UID MOVE: the processed mail of a whole batch in one round trip.
// Without MOVE it moves them one by one (Move). Where they went is not reported.
func (c *Client) MoveMany(ctx context.Context, uids []uint32, dest string) error {
	if len(uids) == 0 {
		return nil
	}
	if !c.caps.Has(imap.CapMove) || len(uids) == 1 {
		for _, u := range uids {
			if err := c.Move(ctx, u, dest); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		return nil
	}
	c.op.Lock()
	defer c.op.Unlock()
	where := fmt.Sprintf("uid %s to %q", uidList(uids), dest)
	if c.selected == "" {
		return fmt.Errorf("move %s: %w", where, ErrNoMailbox)
	}
	if dest == "" || dest == c.selected {
		return fmt.Errorf("move %s: destination is empty or the selected mailbox", where)
	}
	if err := c.ensureMailbox(ctx, dest); err != nil {
		return err
	}
	// As in MoveUID: go-imap falls back to COPY + STORE + a plain EXPUNGE when its
	// own view of the capabilities lacks MOVE.
	icMove, err := c.goImapHasMove(ctx)
	if err != nil {
		return fmt.Errorf("move %s: %w", where, err)
	}
	if !icMove {
		return fmt.Errorf("move %s: capabilities changed: %w", where, ErrMoveUnsupported)
	}
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	err = c.guard(ctx, "uid move", c.opts.CommandTimeout, func() error {
		_, err := c.ic.Move(set, dest).Wait()
		return err
	})
	if err != nil {
		return fmt.Errorf("mailbox %q move %s: %w", c.selected, where, err)
	}
	return nil
}

// MoveUID is Move, reporting where the message went.
func (c *Client) MoveUID(ctx context.Context, uid uint32, dest string) (Moved, error) {
	c.op.Lock()
	defer c.op.Unlock()
	if c.selected == "" {
		return Moved{}, fmt.Errorf("move uid %d: %w", uid, ErrNoMailbox)
	}
	if dest == "" || dest == c.selected {
		return Moved{}, fmt.Errorf("move uid %d: destination %q is empty or the selected mailbox", uid, dest)
	}
	hasMove, hasUIDPlus := c.caps.Has(imap.CapMove), c.caps.Has(imap.CapUIDPlus)
	if !hasMove && !hasUIDPlus {
		return Moved{}, fmt.Errorf("move uid %d to %q: %w", uid, dest, ErrMoveUnsupported)
	}
	if err := c.ensureMailbox(ctx, dest); err != nil {
		return Moved{}, err
	}
	set := imap.UIDSetNum(imap.UID(uid))
	where := fmt.Sprintf("mailbox %q uid %d to %q", c.selected, uid, dest)

	if hasMove {
		// go-imap decides between MOVE and its unsafe fallback with its own
		// capability view: check that view right before the call.
		icMove, err := c.goImapHasMove(ctx)
		if err != nil {
			return Moved{}, fmt.Errorf("move %s: %w", where, err)
		}
		if !icMove {
			return Moved{}, fmt.Errorf("move %s: capabilities changed: %w", where, ErrMoveUnsupported)
		}
		var data *imapclient.MoveData
		err = c.guard(ctx, "uid move", c.opts.CommandTimeout, func() error {
			var err error
			data, err = c.ic.Move(set, dest).Wait()
			return err
		})
		if err != nil {
			return Moved{}, fmt.Errorf("move %s: %w", where, err)
		}
		src, _ := data.SourceUIDs.(imap.UIDSet)
		if !reportedUID(src, uid) {
			return Moved{}, fmt.Errorf("move %s: %w", where, ErrNotFound)
		}
		dst, _ := data.DestUIDs.(imap.UIDSet)
		return movedTo(data.UIDValidity, dst), nil
	}

	var copied *imap.CopyData
	err := c.guard(ctx, "uid copy", c.opts.CommandTimeout, func() error {
		var err error
		copied, err = c.ic.Copy(set, dest).Wait()
		return err
	})
	if err != nil {
		return Moved{}, fmt.Errorf("copy %s: %w", where, err)
	}
	if !reportedUID(copied.SourceUIDs, uid) {
		return Moved{}, fmt.Errorf("copy %s: %w", where, ErrNotFound)
	}
	deleted := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
	err = c.guard(ctx, "uid store", c.opts.CommandTimeout, func() error {
		return c.ic.Store(set, deleted, nil).Close()
	})
	if err != nil {
		return Moved{}, fmt.Errorf("move %s: copied but not removed: %w", where, err)
	}
	err = c.guard(ctx, "uid expunge", c.opts.CommandTimeout, func() error {
		return c.ic.UIDExpunge(set).Close()
	})
	if err != nil {
		if !IsConnError(err) {
			undo := &imap.StoreFlags{Op: imap.StoreFlagsDel, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
			_ = c.guard(ctx, "uid store", c.opts.CommandTimeout, func() error {
				return c.ic.Store(set, undo, nil).Close()
			})
		}
		return Moved{}, fmt.Errorf("move %s: copied but not removed: %w", where, err)
	}
	return movedTo(copied.UIDValidity, copied.DestUIDs), nil
}

// movedTo reads the one destination UID of a COPYUID answer.
func movedTo(validity uint32, dst imap.UIDSet) Moved {
	if validity == 0 || len(dst) != 1 || dst[0].Start != dst[0].Stop || dst[0].Start == 0 {
		return Moved{}
	}
	return Moved{UIDValidity: validity, UID: uint32(dst[0].Start)}
}

// SearchMessageID returns the UIDs of the selected mailbox whose Message-ID is id
// (without angle brackets; compared without regard to case). UID SEARCH HEADER
// Message-ID matches substrings (RFC 9051 section 6.4.4): "1@example.cn" finds
// <21@example.cn> too, so the Message-ID of each match is fetched and compared.
func (c *Client) SearchMessageID(ctx context.Context, id string) ([]uint32, error) {
	c.op.Lock()
	defer c.op.Unlock()
	if c.selected == "" {
		return nil, fmt.Errorf("uid search: %w", ErrNoMailbox)
	}
	found, err := c.uidSearch(ctx, &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}}})
	if err != nil || len(found) == 0 {
		return nil, err
	}
	ids, err := c.messageIDs(ctx, found)
	if err != nil {
		return nil, err
	}
	var out []uint32
	for _, u := range found {
		// A header the server did not send leaves the search's word standing.
		if got, sent := ids[u]; !sent || strings.EqualFold(got, id) {
			out = append(out, u)
		}
	}
	return out, nil
}

// messageIDs fetches the Message-ID of each of uids in the selected mailbox (the
// caller holds c.op): "" for a mail without one; absent when the server sent no
// header for the UID (expunged since).
func (c *Client) messageIDs(ctx context.Context, uids []uint32) (map[uint32]string, error) {
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Message-ID"}, Peek: true}
	out := make(map[uint32]string, len(uids))
	err := c.guard(ctx, "uid fetch", c.opts.CommandTimeout, func() error {
		msgs, err := c.ic.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		for _, m := range msgs {
			if h := m.FindBodySection(section); h != nil && m.UID != 0 {
				out[uint32(m.UID)] = headerMessageID(h)
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("mailbox %q: %w", c.selected, err)
	}
	return out, nil
}

// headerMessageID reads the Message-ID out of a header section as intake records it
// (mailmsg.MessageIDs): "" when there is none. A reading of its own missed the mail
// whose header said `id@host (comment)` or `"id@host"`: the erasure left it in the
// mailbox, and quarantine retry released its record with the mail still in the
// folder (found in review).
func headerMessageID(header []byte) string {
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(header))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return ""
	}
	if ids := mailmsg.MessageIDs(h.Get("Message-Id")); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// uidSearch runs UID SEARCH on the selected mailbox (the caller holds c.op) and
// returns the UIDs in ascending order, each once.
func (c *Client) uidSearch(ctx context.Context, criteria *imap.SearchCriteria) ([]uint32, error) {
	var data *imap.SearchData
	err := c.guard(ctx, "uid search", c.opts.CommandTimeout, func() error {
		var err error
		data, err = c.ic.UIDSearch(criteria, nil).Wait()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("mailbox %q: %w", c.selected, err)
	}
	var out []uint32
	for _, u := range data.AllUIDs() {
		out = append(out, uint32(u))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// reportedUID reports whether a COPYUID source set allows uid: a server
// without COPYUID (empty set) gives no evidence either way.
func reportedUID(src imap.UIDSet, uid uint32) bool {
	return len(src) == 0 || src.Contains(imap.UID(uid))
}

// ensureMailbox creates name once per session. A NO is tolerated: servers
// differ in how they say "already exists" (ALREADYEXISTS is RFC 5530, older
// servers send bare NO), and the command that uses the mailbox reports a
// real failure.
func (c *Client) ensureMailbox(ctx context.Context, name string) error {
	if c.created[name] || strings.EqualFold(name, "INBOX") {
		return nil
	}
	err := c.guard(ctx, "create", c.opts.CommandTimeout, func() error {
		return c.ic.Create(name, nil).Wait()
	})
	if IsConnError(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("create mailbox %q: %w", name, err)
	}
	var ie *imap.Error
	if err != nil && !(errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists) {
		c.log.Debug("imap create refused", "mailbox", name, "err", err)
	}
	c.created[name] = true
	return nil
}

// Append stores raw in mailbox with flags (creating the mailbox if needed)
// and returns the new UID, or 0 when the server does not report it (no
// UIDPLUS / APPENDUID).
func (c *Client) Append(ctx context.Context, mailbox string, raw []byte, flags ...string) (uint32, error) {
	c.op.Lock()
	defer c.op.Unlock()
	list := make([]imap.Flag, 0, len(flags))
	for _, f := range flags {
		if err := checkFlag(f); err != nil {
			return 0, fmt.Errorf("append to %q: %w", mailbox, err)
		}
		list = append(list, imap.Flag(f))
	}
	if err := c.ensureMailbox(ctx, mailbox); err != nil {
		return 0, err
	}
	timeout := max(c.opts.CommandTimeout, c.opts.FetchTimeout)
	var data *imap.AppendData
	err := c.guard(ctx, "append", timeout, func() error {
		cmd := c.ic.Append(mailbox, int64(len(raw)), &imap.AppendOptions{Flags: list})
		_, werr := cmd.Write(raw)
		cerr := cmd.Close()
		var err error
		data, err = cmd.Wait()
		return errors.Join(err, werr, cerr)
	})
	if err != nil {
		return 0, fmt.Errorf("append to %q: %w", mailbox, err)
	}
	return uint32(data.UID), nil
}

// WaitForChange waits until the selected mailbox may have new mail, maxWait has
// passed, or ctx ends.
//
// With IDLE (RFC 2177) it idles and returns when the server reports EXISTS;
// go-imap restarts IDLE every 28 minutes, inside the 29-minute limit the RFC
// allows servers. The IDLE is always ended with DONE, bounded by
// CommandTimeout, so the session stays usable. Without IDLE it sends NOOP
// (which makes the server report new mail) and then waits for maxWait.
//
// It returns nil after a change or after maxWait, ctx's error when ctx ended
// (the session is still usable), and an error wrapping ErrConnLost on
// connection trouble. A long maxWait delays noticing a silently dead connection
// until the DONE that follows it.
func (c *Client) WaitForChange(ctx context.Context, maxWait time.Duration) error {
	c.op.Lock()
	defer c.op.Unlock()
	if c.selected == "" {
		return fmt.Errorf("wait for change: %w", ErrNoMailbox)
	}
	if err := c.dead(); err != nil {
		return fmt.Errorf("wait for change: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-c.changed: // EXISTS arrived during an earlier command
		return nil
	default:
	}

	if !c.caps.Has(imap.CapIdle) {
		return c.poll(ctx, maxWait)
	}

	// Starting IDLE is not abandoned when ctx ends meanwhile (that would
	// cost the connection); wait notices ctx right after and ends IDLE.
	var idle *imapclient.IdleCommand
	err := c.guard(context.Background(), "idle", c.opts.CommandTimeout, func() error {
		var err error
		idle, err = c.ic.Idle()
		return err
	})
	var ie *imap.Error
	if errors.As(err, &ie) && !IsConnError(err) {
		// Advertised but refused (NO/BAD): poll this time.
		c.log.Debug("imap idle refused, polling", "mailbox", c.selected, "err", err)
		return c.poll(ctx, maxWait)
	}
	if err != nil {
		return fmt.Errorf("idle on %q: %w", c.selected, err)
	}
	waitErr := c.wait(ctx, maxWait)
	// End IDLE even when ctx is done: the caller keeps the session.
	err = c.guard(context.Background(), "idle done", c.opts.CommandTimeout, func() error {
		if err := idle.Close(); err != nil {
			return err
		}
		return idle.Wait()
	})
	if err != nil {
		return fmt.Errorf("idle on %q: %w", c.selected, err)
	}
	return waitErr
}

// poll sends NOOP, which makes the server report new mail, then waits.
func (c *Client) poll(ctx context.Context, maxWait time.Duration) error {
	if err := c.guard(ctx, "noop", c.opts.CommandTimeout, func() error { return c.ic.Noop().Wait() }); err != nil {
		return fmt.Errorf("poll mailbox %q: %w", c.selected, err)
	}
	return c.wait(ctx, maxWait)
}

// wait blocks until a change, maxWait, ctx or the connection's end.
func (c *Client) wait(ctx context.Context, maxWait time.Duration) error {
	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	select {
	case <-c.changed:
		return nil
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ic.Closed():
		return fmt.Errorf("wait on %q: %w", c.selected, c.dead())
	}
}
