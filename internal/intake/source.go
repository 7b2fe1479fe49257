package intake

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/complaintd/complaintd/internal/pii"
	"github.com/complaintd/complaintd/internal/store"
)

// What intake keeps per source, for every channel: how far each stream has been
// processed, the failed attempts of the messages waiting for a retry, and the messages
// given up on. The channel reads the progress, hands messages over and says what went
// wrong; it writes no record itself. Registering a message advances its stream in the
// same transaction (CommitGroup), so the progress never claims a message that is not
// registered, and never misses one that is.

// alertRenumbered is the kind of the alert a new epoch raises. It keeps the IMAP name
// operators and stored alerts already know.
const alertRenumbered = "uidvalidity"

// streamKey names a stream's records in the store (its progress, and the mailbox field
// of its messages and quarantine records). IMAP's records predate channels and keep
// the bare mailbox name; another channel's are prefixed with the channel, so that its
// stream never shares a record with a mailbox of the same name.
func streamKey(s inbound.Stream) string {
	if s.Channel == inbound.IMAP {
		return s.Name
	}
	return string(s.Channel) + ":" + s.Name
}

// Progress reads how far a stream has been processed.
func (p *Processor) Progress(s inbound.Stream) (inbound.Progress, error) {
	var cp store.Checkpoint
	err := p.o.Store.View(func(tx *store.Tx) error {
		var err error
		cp, err = tx.Checkpoint(streamKey(s))
		return err
	})
	if err != nil {
		return inbound.Progress{}, environment(err)
	}
	pr := inbound.Progress{Epoch: cp.UIDValidity, Last: cp.LastUID}
	for seq := range cp.Retry {
		pr.Retry = append(pr.Retry, seq)
	}
	slices.Sort(pr.Retry)
	return pr, nil
}

// Renumbered starts a new epoch of a stream (IMAP: the UIDVALIDITY changed): the old
// positions mean nothing now, so its progress starts over, waiting retries included,
// and an operator alert says why. Mail registered under the old epoch is recognised
// again by its Message-ID and content digest and does not become a second case.
func (p *Processor) Renumbered(s inbound.Stream, epoch uint32, alert string) error {
	now := p.o.Now()
	return p.o.Store.Update(func(tx *store.Tx) error {
		if err := tx.AddAlert(store.Alert{At: now, Kind: alertRenumbered, Message: alert}); err != nil {
			return err
		}
		return tx.PutCheckpoint(streamKey(s), store.Checkpoint{UIDValidity: epoch, Updated: now})
	})
}

// Adopt starts a stream that was never read at epoch: its messages up to and
// including seq through were there before the desk and are recorded without
// replies when committed (no case, no acknowledgement, nobody notified). A stream
// already read is left alone.
func (p *Processor) Adopt(s inbound.Stream, epoch, through uint32) error {
	now := p.o.Now()
	return p.o.Store.Update(func(tx *store.Tx) error {
		key := streamKey(s)
		cp, err := tx.Checkpoint(key)
		if err != nil {
			return err
		}
		if cp.UIDValidity != 0 {
			return nil
		}
		return tx.PutCheckpoint(key, store.Checkpoint{UIDValidity: epoch, AdoptThrough: through, Updated: now})
	})
}

// adopted reports whether the message at src is one Adopt marked.
func adopted(tx *store.Tx, src inbound.Source) (bool, error) {
	cp, err := tx.Checkpoint(streamKey(src.Stream))
	if err != nil {
		return false, err
	}
	return cp.UIDValidity == src.Epoch && src.Seq <= cp.AdoptThrough, nil
}

// Skip advances a stream past a message that is gone before it could be read (IMAP:
// expunged by someone between SEARCH and FETCH). Nothing is registered.
func (p *Processor) Skip(src inbound.Source) error {
	return p.o.Store.Update(func(tx *store.Tx) error { return advanceIn(tx, src, p.o.Now()) })
}

// Fail records a failed attempt at the message at src: it is counted, to be retried
// on a later pass, or quarantined (recorded, and the stream advanced past it) when
// cause is a PermanentError or this was attempt maxAttempts. messageID is the mail's,
// when it could be read. A message Adopt marked is advanced past instead, recorded by
// its Message-ID: never retried, never quarantined. The error is about the store only.
//
// Only the message's own faults are counted: a cause that is the environment's
// (inbound.IsEnvironment) is refused with that cause, and nothing is recorded; the
// channel pauses and tries the message again later.
func (p *Processor) Fail(src inbound.Source, messageID string, cause error, maxAttempts int) (inbound.Failure, error) {
	if inbound.IsEnvironment(cause) {
		return inbound.Failure{}, cause
	}
	p.o.Metrics.Failures.Add(1)
	var perm *PermanentError
	permanent := errors.As(cause, &perm)
	now := p.o.Now()
	var f inbound.Failure
	adopt := false
	err := p.o.Store.Update(func(tx *store.Tx) error {
		key := streamKey(src.Stream)
		cp, err := tx.Checkpoint(key)
		if err != nil {
			return err
		}
		if cp.UIDValidity == src.Epoch && src.Seq <= cp.AdoptThrough {
			// Mail that was there before the desk (imap.start: new) and does not even
			// parse: people handled it, so it is neither retried nor moved aside;
			// recorded by its Message-ID when it has one.
			adopt = true
			if err := tx.KnowMessageID(messageID); err != nil {
				return err
			}
			return advanceIn(tx, src, now)
		}
		f.Attempts = cp.Retry[src.Seq] + 1
		f.Quarantined = permanent || f.Attempts >= maxAttempts
		if f.Quarantined {
			return quarantineIn(tx, src, messageID, f.Attempts, cause.Error(), store.FaultMail, now)
		}
		if cp.Retry == nil {
			cp.Retry = map[uint32]int{}
		}
		cp.Retry[src.Seq] = f.Attempts
		cp.LastUID = max(cp.LastUID, src.Seq)
		return tx.PutCheckpoint(key, cp)
	})
	if err != nil {
		return inbound.Failure{}, environment(fmt.Errorf("record failure: %w", err))
	}
	if adopt {
		p.o.Logger.Info("message adopted unread", "mailbox", src.Name, "uid", src.Seq, "message_id", pii.LogHash(messageID), "err", cause)
		return inbound.Failure{Attempts: 1}, nil
	}
	if f.Quarantined {
		p.o.Metrics.Quarantined.Add(1)
	}
	return f, nil
}

// Quarantine gives up on the message at src without an attempt of its own to count
// (IMAP: it took the process down too often), and advances its stream past it.
// attempts and reason are recorded for the operator.
func (p *Processor) Quarantine(src inbound.Source, messageID string, attempts int, reason string) error {
	err := p.o.Store.Update(func(tx *store.Tx) error {
		return quarantineIn(tx, src, messageID, attempts, reason, store.FaultMail, p.o.Now())
	})
	if err != nil {
		return environment(fmt.Errorf("record quarantine: %w", err))
	}
	p.o.Metrics.Quarantined.Add(1)
	return nil
}

// QuarantineMoved corrects the quarantine record of the message at src to say that
// the channel moved the message aside (IMAP: into the quarantine folder), to at (its
// position there; zero when the channel could not tell). It is called only once the
// move succeeded: until then the record says the mail is where it was.
func (p *Processor) QuarantineMoved(src, at inbound.Source) error {
	return p.o.Store.Update(func(tx *store.Tx) error {
		q, err := tx.QuarantineRecord(streamKey(src.Stream), src.Epoch, src.Seq)
		if err != nil {
			return err
		}
		q.Moved = true
		q.Folder, q.FolderValidity, q.FolderUID = at.Name, at.Epoch, at.Seq
		return tx.PutQuarantined(q)
	})
}

// Retries lists the quarantined messages of stream s to try again now: those an
// operator asked for (RequestRetry), and those quarantined for the environment's
// fault, which are tried again as soon as the channel works (the store answered this
// call; a fault that persists pauses the channel again, and never charges the mail).
func (p *Processor) Retries(s inbound.Stream) ([]inbound.Quarantined, error) {
	var out []inbound.Quarantined
	err := p.o.Store.View(func(tx *store.Tx) error {
		qs, err := tx.Quarantined()
		if err != nil {
			return err
		}
		key := streamKey(s)
		for _, q := range qs {
			if q.Mailbox != key || (q.RetryRequested.IsZero() && QuarantineFault(q) != store.FaultEnvironment) {
				continue
			}
			out = append(out, inbound.Quarantined{
				Source:    inbound.Source{Stream: s, Epoch: q.UIDValidity, Seq: q.UID},
				MessageID: q.MessageID, Moved: q.Moved,
				At: inbound.Source{Stream: inbound.Stream{Channel: s.Channel, Name: q.Folder}, Epoch: q.FolderValidity, Seq: q.FolderUID},
			})
		}
		return nil
	})
	return out, environment(err)
}

// Released forgets the quarantine record of the message at src: the channel put the
// message back where it reads new mail (IMAP: moved it back from the quarantine
// folder, under a new UID), or, with requeue, the message is still at src and waits
// there for a fresh attempt (its position is put back among the retries, with no
// attempt counted). Either way it is processed once more, once: nothing of it was
// registered.
func (p *Processor) Released(src inbound.Source, requeue bool) error {
	now := p.o.Now()
	err := p.o.Store.Update(func(tx *store.Tx) error {
		key := streamKey(src.Stream)
		q, err := tx.QuarantineRecord(key, src.Epoch, src.Seq)
		if errors.Is(err, store.ErrNotFound) {
			return nil // released already
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteQuarantined(key, src.Epoch, src.Seq); err != nil {
			return err
		}
		why := "released from quarantine: " + q.Reason
		if !q.RetryRequested.IsZero() {
			why = "an operator released from quarantine: " + q.Reason
		}
		if err := tx.AddAlert(store.Alert{At: now, Kind: "quarantine", Message: fmt.Sprintf("%s uid %d: %s", src.Name, src.Seq, why)}); err != nil {
			return err
		}
		cp, err := tx.Checkpoint(key)
		if err != nil {
			return err
		}
		if !requeue || cp.UIDValidity != src.Epoch {
			return nil
		}
		if cp.Retry == nil {
			cp.Retry = map[uint32]int{}
		}
		cp.Retry[src.Seq] = 0
		cp.Updated = now
		return tx.PutCheckpoint(key, cp)
	})
	if err != nil {
		return environment(fmt.Errorf("release from quarantine: %w", err))
	}
	p.o.Logger.Info("message released from quarantine", "mailbox", src.Name, "uid", src.Seq, "requeued", requeue)
	return nil
}

// Paused records an operator alert: the channel stopped taking mail from s because of
// an environment fault (best effort: the store may be what failed; Resumed says it
// again once it works).
func (p *Processor) Paused(s inbound.Stream, cause error) {
	p.o.Logger.Error("intake paused: environment fault, no mail is charged", "mailbox", s.Name, "err", cause)
	err := p.o.Store.Update(func(tx *store.Tx) error {
		return tx.AddAlert(store.Alert{At: p.o.Now(), Kind: alertPaused, Message: fmt.Sprintf("intake of %s paused: %v", s.Name, cause)})
	})
	if err != nil {
		p.o.Logger.Warn("record pause alert", "err", err)
	}
}

// Resumed records that the channel takes mail from s again after a pause that began
// at since because of cause.
func (p *Processor) Resumed(s inbound.Stream, since time.Time, cause error) error {
	now := p.o.Now()
	p.o.Logger.Info("intake resumed", "mailbox", s.Name, "paused_for", now.Sub(since).Round(time.Second))
	// The pause cleared itself: its alert is settled, and the resumption is kept for
	// the record, not shown as a problem (a healed disk must not page anyone).
	err := p.o.Store.Update(func(tx *store.Tx) error {
		open, err := tx.OpenAlerts()
		if err != nil {
			return err
		}
		for _, a := range open {
			if a.Kind == alertPaused {
				if err := tx.AckAlert(a.ID, now); err != nil {
					return err
				}
			}
		}
		return tx.AddAlert(store.Alert{At: now, Kind: alertPaused, AckedAt: &now, Message: fmt.Sprintf("intake of %s resumed after %s paused (%v); no mail was charged",
			s.Name, now.Sub(since).Round(time.Second), cause)})
	})
	return environment(err)
}

// alertPaused is the kind of the alerts about intake paused by an environment fault.
const alertPaused = "intake_paused"

// RequestRetry asks for another attempt at quarantined mail: the record of id
// (QuarantineID), or every record when all is set. It returns the records asked for.
// The channel takes them up on its next pass (Retries).
func RequestRetry(st *store.Store, id string, all bool, now time.Time) ([]store.Quarantined, error) {
	var out []store.Quarantined
	err := st.Update(func(tx *store.Tx) error {
		qs, err := tx.Quarantined()
		if err != nil {
			return err
		}
		for _, q := range qs {
			if !all && QuarantineID(q) != id {
				continue
			}
			q.RetryRequested = now
			if err := tx.PutQuarantined(q); err != nil {
				return err
			}
			out = append(out, q)
		}
		if !all && len(out) == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	return out, err
}

// QuarantineID names a quarantine record for operators: mailbox/uidvalidity/uid.
func QuarantineID(q store.Quarantined) string {
	return fmt.Sprintf("%s/%d/%d", q.Mailbox, q.UIDValidity, q.UID)
}

// QuarantineFault is whose fault a quarantined mail is. Records written before faults
// were told apart are judged by their reason: an earlier version quarantined good mail
// for a full disk or a lost connection, and those are the environment's.
func QuarantineFault(q store.Quarantined) string {
	if q.Fault != "" {
		return q.Fault
	}
	r := strings.ToLower(q.Reason)
	for _, s := range []string{"no space left", "input/output error", "read-only file system", "disk quota", "too many open files",
		"database not open", "store commit", "imap connection lost", "context canceled", "deadline exceeded", "connection reset", "broken pipe"} {
		if strings.Contains(r, s) {
			return store.FaultEnvironment
		}
	}
	return store.FaultMail
}

// environment marks err as the environment's fault when it is one: the store itself
// failed (store.FaultError), or the disk under the store or the vault did.
func environment(err error) error {
	if err == nil {
		return nil
	}
	var fe *store.FaultError
	if errors.As(err, &fe) || diskFault(err) {
		return inbound.Environment(err)
	}
	return err
}

// diskFault reports an error of the file system rather than of a file's content.
func diskFault(err error) bool {
	for _, e := range []syscall.Errno{syscall.ENOSPC, syscall.EIO, syscall.EROFS, syscall.EDQUOT, syscall.ENFILE, syscall.EMFILE, syscall.ENOMEM} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// quarantineIn records the message as given up on and advances past it, before the
// channel does anything with the message: a failed move must not make it processed
// again.
func quarantineIn(tx *store.Tx, src inbound.Source, messageID string, attempts int, reason, fault string, now time.Time) error {
	q := store.Quarantined{Mailbox: streamKey(src.Stream), UIDValidity: src.Epoch, UID: src.Seq, MessageID: messageID,
		Reason: reason, At: now, Attempts: attempts, Fault: fault}
	if err := tx.PutQuarantined(q); err != nil {
		return err
	}
	return advanceIn(tx, src, now)
}

// advanceIn moves src's stream past src: the epoch is src's, the last position at
// least src's, and src no longer waits for a retry.
func advanceIn(tx *store.Tx, src inbound.Source, now time.Time) error {
	key := streamKey(src.Stream)
	cp, err := tx.Checkpoint(key)
	if err != nil {
		return err
	}
	cp.UIDValidity = src.Epoch
	cp.LastUID = max(cp.LastUID, src.Seq)
	delete(cp.Retry, src.Seq)
	cp.Updated = now
	return tx.PutCheckpoint(key, cp)
}
