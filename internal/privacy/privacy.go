// SPDX-License-Identifier: MIT

// Package privacy carries out what PIPL gives the people in a case a right to, and
// what it asks of the desk: erasure (art. 47: on request, and when the retention time
// after closing has run out), and the deliberate, recorded ways staff see personal
// information in full — an unmasked case (`cases show -reveal`) and its documents
// decrypted (`cases documents`).
//
// Invariants:
//   - Erasure destroys the case's keys (package vault): from then on its documents
//     and every record sealed with them (names, ID numbers, addresses, texts, notes,
//     replies not yet sent) are unreadable wherever copies survive — bbolt free
//     pages, backups. The record is marked (erased_at, documents erased, look-up
//     entries removed, an "erased" event that says who and why) in the write
//     transaction that destroys the keys, after a last check that the case is still
//     due (retention), so no command changes it in between. The look-up entries to
//     remove are noted (as keyed hashes) before: a crash after the destruction leaves
//     the note, and repeating the erasure completes it.
//   - Every reveal and every export is an event on the case, with who and when,
//     written before the data leaves.
//   - The anonymous facts stay for statistics: state, dates, severity, department,
//     document kinds and sizes.
package privacy

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"time"
	"unicode"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
)

// Vault is what erasure and export need of package vault.
type Vault interface {
	Erase(caseID string) error
	OpenBlob(caseID string, ref vault.BlobRef) (*vault.Reader, error)
	// SealDesk seals what must outlive the case's keys: the list of its mails to
	// delete from the mailbox.
	SealDesk(what string, plain []byte) ([]byte, error)
}

// Erase erases the personal information and every document of a case, recording who
// (actor: "cli:<user>", "scheduler") and why. Erasing an erased case again records
// nothing new and succeeds.
func Erase(st *store.Store, v Vault, caseID, actor, reason string, now time.Time) error {
	_, err := erase(st, v, caseID, actor, reason, now, nil)
	return err
}

// EraseIfDue is Erase for a case that must still be due (retention: closed long
// enough) when its keys are destroyed: due is checked in the transaction that
// destroys them, so a command that reopened the case since it was found due keeps
// it whole. An erasure already begun (its keys gone) is completed whatever due says.
// erased is false when the case was no longer due.
func EraseIfDue(st *store.Store, v Vault, caseID, actor, reason string, now time.Time, due func(*cases.Case) bool) (erased bool, err error) {
	return erase(st, v, caseID, actor, reason, now, due)
}

// erasingPrefix keys the note of an erasure begun: the keyed hashes of the look-up
// entries to remove, written before the keys are destroyed, since afterwards the
// values they hash can no longer be read (a crash between the two steps).
const erasingPrefix = "erasing/"

type erasing struct {
	Lookups [][2]string `json:"lookups"`        // kind, store.Tx.LookupKey of the value
	Mail    []byte      `json:"mail,omitempty"` // the case's MailCopy list, sealed (SealDesk)
}

func erase(st *store.Store, v Vault, caseID, actor, reason string, now time.Time, due func(*cases.Case) bool) (bool, error) {
	key := erasingPrefix + caseID
	var done, notDue bool
	// Step 1: note the look-up entries while their values can be read.
	err := st.Update(func(tx *store.Tx) error {
		c, err := tx.Case(caseID)
		if err != nil {
			return err
		}
		if done = c.ErasedAt != nil; done {
			return nil
		}
		if gone, err := tx.CaseKeysDestroyed(caseID); err != nil || gone {
			return err // begun, interrupted after the destruction: step 2 completes it with the note
		}
		// The keys are whole: a note left by an attempt that stopped before the
		// destruction may miss entries filed since (a principal's ID number from a
		// follow-up); it is written anew.
		if notDue = due != nil && !due(c); notDue {
			return tx.DeleteMarker(key)
		}
		var e erasing
		for _, l := range lookupsOf(c) {
			e.Lookups = append(e.Lookups, [2]string{l[0], tx.LookupKey(l[1])})
		}
		if e.Mail, err = mailCopiesOf(tx, v, caseID); err != nil {
			return err
		}
		note, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return tx.PutMarker(key, store.Marker{At: now, Note: string(note)})
	})
	if err != nil {
		return false, fmt.Errorf("erase %s: %w", caseID, err)
	}
	if done || notDue {
		return false, nil
	}
	// Step 2: destroy the keys and mark the case, in one write transaction: nothing
	// changes the case between the last look at it and the destruction. If the
	// transaction fails after the destruction, the note stays, and the next attempt
	// completes the erasure.
	err = st.Update(func(tx *store.Tx) error {
		c, err := tx.Case(caseID)
		if err != nil {
			return err
		}
		if c.ErasedAt != nil {
			done = true
			return tx.DeleteMarker(key)
		}
		gone, err := tx.CaseKeysDestroyed(caseID)
		if err != nil {
			return err
		}
		if !gone && due != nil && !due(c) {
			notDue = true // reopened since step 1
			return tx.DeleteMarker(key)
		}
		var e erasing
		if m, ok, err := tx.Marker(key); err != nil {
			return err
		} else if ok {
			if err := json.Unmarshal([]byte(m.Note), &e); err != nil {
				return fmt.Errorf("decode %s: %w", key, err)
			}
		}
		if err := v.Erase(caseID); err != nil {
			return fmt.Errorf("destroy keys: %w", err)
		}
		for _, l := range e.Lookups {
			if err := tx.UnindexLookup(l[0], l[1], caseID); err != nil {
				return err
			}
		}
		// Read before the destruction: also the entries filed in clear by versions
		// before the sealing.
		for _, l := range lookupsOf(c) {
			if err := tx.Unindex(l[0], l[1], caseID); err != nil {
				return err
			}
		}
		if err := tx.ForgetSenders(caseID); err != nil {
			return err
		}
		// Read again: without its keys the case decodes without what they sealed.
		if c, err = tx.Case(caseID); err != nil {
			return err
		}
		n := 0
		for i := range c.Documents {
			d := &c.Documents[i]
			if !d.Erased && d.Skipped == "" {
				n++
			}
			d.Erased, d.SealedKey, d.File, d.Offset, d.Length = true, "", "", 0, 0
		}
		at := now
		c.ErasedAt, c.UpdatedAt = &at, now
		if err := tx.PutCase(c); err != nil {
			return err
		}
		if err := tx.DeleteMarker(key); err != nil {
			return err
		}
		if len(e.Mail) > 0 {
			if err := tx.PutMarker(MailErasePrefix+caseID, store.Marker{At: now, Note: base64.StdEncoding.EncodeToString(e.Mail)}); err != nil {
				return err
			}
		}
		// In clear on purpose: the record of the erasure outlives what it erased.
		return tx.AppendEventClear(caseID, cases.Event{At: now, Type: cases.EventErased, Actor: actor,
			Note: fmt.Sprintf("%s (%d documents and all personal information erased)", reason, n)})
	})
	if err != nil {
		return false, fmt.Errorf("erase %s: %w", caseID, err)
	}
	return !done && !notDue, nil
}

// MailCopy is a mail of a case as the mailbox had it when the desk read it: the
// folder, its UIDVALIDITY, the UID and the Message-ID. After an erasure the desk
// deletes the mail there and wherever its Message-ID shows it was moved (package
// imapsource), since the original, attachments and all, is as personal as what the
// store sealed.
type MailCopy struct {
	Mailbox     string `json:"mailbox"`
	UIDValidity uint32 `json:"uidvalidity"`
	UID         uint32 `json:"uid"`
	MessageID   string `json:"message_id,omitempty"`
}

// MailErasePrefix keys the store marker of an erased case whose mails are still to
// be deleted from the mailbox: its MailCopy list sealed with the desk's key, base64.
// Its Message-IDs are read before the case's keys are destroyed; the marker goes
// when the mailbox has no copy left.
const MailErasePrefix = "mail-erase/"

// mailErasure is the SealDesk label of a case's MailCopy list.
func mailErasure(caseID string) string { return MailErasePrefix + caseID }

// mailCopiesOf seals the list of the case's mails that came from a mailbox; nil when
// there are none.
func mailCopiesOf(tx *store.Tx, v Vault, caseID string) ([]byte, error) {
	var copies []MailCopy
	err := tx.EachMessageOf(caseID, func(m *store.Message) error {
		if m.UID == 0 && m.MessageID == "" {
			return nil // nothing to find it by
		}
		copies = append(copies, MailCopy{Mailbox: m.Mailbox, UIDValidity: m.UIDValidity, UID: m.UID, MessageID: m.MessageID})
		return nil
	})
	if err != nil || len(copies) == 0 {
		return nil, err
	}
	plain, err := json.Marshal(copies)
	if err != nil {
		return nil, err
	}
	return v.SealDesk(mailErasure(caseID), plain)
}

// DeskOpener opens what Vault.SealDesk sealed.
type DeskOpener interface {
	OpenDesk(what string, sealed []byte) ([]byte, error)
}

// MailToErase is one erased case's mails still in the mailbox.
type MailToErase struct {
	Case   string
	Copies []MailCopy
}

// PendingMailErasures lists the erased cases whose mails are still to be deleted
// from the mailbox, in case order. A marker that cannot be opened (another
// master key, damage) is reported in bad and left for the operator.
func PendingMailErasures(st *store.Store, v DeskOpener) (pending []MailToErase, bad map[string]error, err error) {
	err = st.View(func(tx *store.Tx) error {
		return tx.EachMarker(MailErasePrefix, func(key string, m store.Marker) error {
			caseID := key[len(MailErasePrefix):]
			var copies []MailCopy
			sealed, err := base64.StdEncoding.DecodeString(m.Note)
			if err == nil {
				var plain []byte
				if plain, err = v.OpenDesk(mailErasure(caseID), sealed); err == nil {
					err = json.Unmarshal(plain, &copies)
				}
			}
			if err != nil {
				if bad == nil {
					bad = map[string]error{}
				}
				bad[caseID] = err
				return nil
			}
			pending = append(pending, MailToErase{Case: caseID, Copies: copies})
			return nil
		})
	})
	return pending, bad, err
}

// MailErased records that no mail of the case is left in the mailbox.
func MailErased(st *store.Store, caseID string) error {
	return st.Update(func(tx *store.Tx) error { return tx.DeleteMarker(MailErasePrefix + caseID) })
}

// lookupsOf are the look-up entries the desk files a case under (intake): its
// complainant's address and the ID numbers of its applicant and principal, as filed
// and as typed.
func lookupsOf(c *cases.Case) [][2]string {
	out := [][2]string{{"from", c.Complainant}}
	for _, id := range c.IDNumbers() {
		out = append(out, [2]string{"idno", id})
	}
	if c.Applicant.IDNo != "" {
		out = append(out, [2]string{"idno", c.Applicant.IDNo})
	}
	return out
}

// Reveal returns the case unmasked after recording who asked.
func Reveal(st *store.Store, caseID, who string, now time.Time) (*cases.Case, error) {
	var c *cases.Case
	err := st.Update(func(tx *store.Tx) error {
		var err error
		if c, err = tx.Case(caseID); err != nil {
			return err
		}
		e := cases.Event{At: now, Type: cases.EventRevealed, Actor: who, Note: "ID numbers and phones shown in full"}
		if err := tx.AppendEvent(caseID, e); err != nil {
			return err
		}
		c.Events = append(c.Events, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Document is one decrypted document handed to Export's write function.
type Document struct {
	// Name is a file name safe to create: "<n>-<kind>-<original name>".
	Name string
	Size int64
	Body io.Reader
}

// Export decrypts every document the case still has and hands each to write, after
// recording who exported them. Erased and never-kept documents are skipped.
func Export(st *store.Store, v Vault, caseID, who string, now time.Time, write func(Document) error) (int, error) {
	var c *cases.Case
	err := st.Update(func(tx *store.Tx) error {
		var err error
		if c, err = tx.Case(caseID); err != nil {
			return err
		}
		return tx.AppendEvent(caseID, cases.Event{At: now, Type: cases.EventDocumentsExported, Actor: who,
			Note: "documents decrypted for staff"})
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for i, d := range c.Documents {
		if d.Erased || d.File == "" || d.SealedKey == "" {
			continue
		}
		r, err := v.OpenBlob(caseID, vault.BlobRef{File: d.File, SealedKey: d.SealedKey, Class: d.KeyClass, Size: d.Size, Offset: d.Offset, Length: d.Length})
		if err != nil {
			return n, fmt.Errorf("document %d of %s: %w", i+1, caseID, err)
		}
		err = write(Document{Name: fmt.Sprintf("%02d-%s-%s", i+1, d.Kind, safeName(d.Filename)), Size: r.Size(), Body: r})
		r.Close()
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// safeName keeps a file name to one path element without controls.
func safeName(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case r == '/' || r == '\\' || r == 0 || r < 0x20 || r == 0x7f:
			out = append(out, '_')
		case unicode.Is(unicode.Bidi_Control, r):
			// Bidirectional controls would show "报告\u202Efdp.exe" as "报告exe.pdf".
		default:
			out = append(out, r)
		}
	}
	name := string(out)
	if name == "" || name == "." || name == ".." {
		name = "document"
	}
	if len(out) > 120 {
		name = string(out[:120])
	}
	return name
}
