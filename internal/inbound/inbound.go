// Package inbound is the vocabulary between the channels mail reaches the desk by
// (IMAP today, a web form later) and intake, which registers it: the channel, where a
// message sits in its stream, how far a stream has been processed, and what became of
// a message. It is pure: no I/O, nothing but the standard library.
//
// A channel delivers messages from one or more streams (IMAP: a mailbox). Within a
// stream every message has a position, Seq, that only grows; positions hold for one
// Epoch of the stream (IMAP: the UIDVALIDITY, RFC 3501 §2.3.1.1), and a new epoch makes
// every earlier position meaningless.
//
// Invariants the two sides keep:
//
//   - Intake keeps one Progress per stream and advances it in the store transaction
//     that registers the message, so a message is registered once however often its
//     channel delivers it. The channel never decides from its own markers (IMAP flags)
//     what has been processed.
//   - A message that fails is counted against its Source and retried; one that fails
//     permanently or too often is quarantined (recorded, and the stream advanced past
//     it) so that it never holds up the messages behind it.
//   - Mail seen again under a new epoch is recognised by its Message-ID and a digest
//     of its decoded content, not by its position.
package inbound

import (
	"context"
	"errors"
	"time"
)

// Channel names the way a message reached the desk.
type Channel string

// IMAP is mail read from a mailbox (package imapsource).
const IMAP Channel = "imap"

// Stream is one numbered sequence of messages within a channel.
type Stream struct {
	Channel Channel
	Name    string // IMAP: the mailbox name
}

// Source is where one message came from: its stream and its position there.
type Source struct {
	Stream
	Epoch uint32 // the numbering Seq belongs to; IMAP: UIDVALIDITY
	Seq   uint32 // the message's position, growing within an epoch; IMAP: the UID
}

// Progress is how far a stream has been processed.
type Progress struct {
	Epoch uint32   // the numbering Last and Retry belong to; 0: never read
	Last  uint32   // every position up to Last is handled, or waits in Retry
	Retry []uint32 // positions whose attempt failed and that wait for another, ascending
}

// Outcome is what happened to one registered message.
type Outcome struct {
	Case      string // the case it created or joined; "" for noise and duplicates
	Role      string // complainant | staff | author | noise | security | duplicate | adopted
	Result    string // human-readable, recorded with the message
	Replies   int    // outbox entries created
	Duplicate bool
	MessageID string    // of the mail, when it could be read
	Date      time.Time // the mail's Date header (the sender's clock), zero when absent
}

// RoleAdopted is the role of a mail that was in the source before the desk first read
// it (imap.start: new): recorded, not processed; the source leaves it as it is (no
// processed flag, not moved).
const RoleAdopted = "adopted"

// Failure is what became of a message whose attempt failed.
type Failure struct {
	Attempts    int  // failed attempts so far, this one included
	Quarantined bool // given up on: recorded in quarantine, and the stream advanced past it
}

// EnvironmentError marks a failure of the desk's environment, not of the message in
// hand: the store or the disk under it (no space, an I/O error, bbolt refusing a
// commit), the channel's connection, a stop. It is set where the failure arises; a
// channel that sees it (IsEnvironment) pauses and tries the message again later, and
// never counts it against the message's attempts.
type EnvironmentError struct{ Err error }

func (e *EnvironmentError) Error() string { return e.Err.Error() }
func (e *EnvironmentError) Unwrap() error { return e.Err }

// Environment marks err as the environment's fault (nil stays nil).
func Environment(err error) error {
	if err == nil || IsEnvironment(err) {
		return err
	}
	return &EnvironmentError{Err: err}
}

// IsEnvironment reports whether err is the environment's fault: marked with
// Environment, or a cancelled or expired context (a stop is never the message's fault).
func IsEnvironment(err error) bool {
	var e *EnvironmentError
	return errors.As(err, &e) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Quarantined is a message given up on and kept aside, as a channel needs it to
// release it for another attempt.
type Quarantined struct {
	Source    Source // where the message was when it was given up on
	MessageID string // "" when it could not be read
	// Moved says the channel moved the message aside; At is where it went (IMAP: the
	// quarantine folder, its UIDVALIDITY and the message's UID there; zero when the
	// server did not say).
	Moved bool
	At    Source
}
