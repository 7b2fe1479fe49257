// SPDX-License-Identifier: MIT

// Package privacy carries out what PIPL gives the people in a case a right to, and
// what it asks of the desk: erasure (art. 47: on request, and when the retention time
// after closing has run out), and the deliberate, recorded ways staff see personal
// information in full — an unmasked case (`cases show -reveal`) and its documents
// decrypted (`cases documents`).
//
// Invariants:
//   - Erasure destroys the case's keys first (package vault): from then on its
//     documents and every record sealed with them (names, ID numbers, addresses,
//     texts, notes, replies not yet sent) are unreadable wherever copies survive —
//     bbolt free pages, backups. Then the record is marked (erased_at, documents
//     erased, look-up entries removed) with an "erased" event that says who and why.
//     A crash between the two steps leaves a case whose keys are gone and whose mark
//     is missing: repeating the erasure completes it.
//   - Every reveal and every export is an event on the case, with who and when,
//     written before the data leaves.
//   - The anonymous facts stay for statistics: state, dates, severity, department,
//     document kinds and sizes.
package privacy

import (
	"fmt"
	"io"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/complaintd/complaintd/internal/vault"
)

// Vault is what erasure and export need of package vault.
type Vault interface {
	Erase(caseID string) error
	OpenBlob(caseID string, ref vault.BlobRef) (*vault.Reader, error)
}

// Erase erases the personal information and every document of a case, recording who
// (actor: "cli:<user>", "scheduler") and why. Erasing an erased case again records
// nothing new and succeeds.
func Erase(st *store.Store, v Vault, caseID, actor, reason string, now time.Time) error {
	var lookups [][2]string
	err := st.View(func(tx *store.Tx) error {
		c, err := tx.Case(caseID)
		if err != nil {
			return err
		}
		// The look-up entries are filed under hashes of values the erasure destroys:
		// collect them while they can still be read.
		lookups = append(lookups, [2]string{"from", c.Complainant})
		if c.Applicant.IDNo != "" {
			lookups = append(lookups, [2]string{"idno", c.Applicant.IDNo})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("erase %s: %w", caseID, err)
	}
	if err := v.Erase(caseID); err != nil {
		return fmt.Errorf("erase %s: destroy keys: %w", caseID, err)
	}
	err = st.Update(func(tx *store.Tx) error {
		c, err := tx.Case(caseID)
		if err != nil {
			return err
		}
		for _, l := range lookups {
			if err := tx.Unindex(l[0], l[1], caseID); err != nil {
				return err
			}
		}
		if c.ErasedAt != nil {
			return nil
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
		// In clear on purpose: the record of the erasure outlives what it erased.
		return tx.AppendEventClear(caseID, cases.Event{At: now, Type: cases.EventErased, Actor: actor,
			Note: fmt.Sprintf("%s (%d documents and all personal information erased)", reason, n)})
	})
	if err != nil {
		return fmt.Errorf("erase %s: record: %w", caseID, err)
	}
	return nil
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
