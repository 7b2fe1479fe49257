// SPDX-License-Identifier: MIT

package store

import (
	"fmt"

	"github.com/complaintd/complaintd/internal/cases"
)

// bFacts keeps each case's anonymous facts (cases.Facts), written in the transaction
// that changes the case or appends to its log. Statistics, metrics and the filters of
// `cases list` read these small records instead of whole cases: at 100,000 cases a
// report reads a few MB in clear instead of opening 100,000 sealed records and a
// million events.
var bFacts = []byte("facts")

// Facts reads a case's facts.
func (t *Tx) Facts(id string) (cases.Facts, error) {
	if !t.hasFacts() {
		c, err := t.caseWithoutPersonal(id)
		if err != nil {
			return cases.Facts{}, err
		}
		return c.Facts(), nil
	}
	f, ok, err := t.facts(id)
	if err != nil {
		return f, err
	}
	if !ok {
		return f, ErrNotFound
	}
	return f, nil
}

// EachFacts calls fn with the facts of every case, in case-number order. A file of an
// earlier schema, read before its migration (the CLI on a stopped desk), has no facts
// yet: they are computed from the cases, slowly but alike.
func (t *Tx) EachFacts(fn func(*cases.Facts) error) error { return t.EachFactsAfter("", fn) }

// EachFactsAfter is EachFacts from the case after the given case number ("": the
// first): a long listing reads in several short transactions.
func (t *Tx) EachFactsAfter(after string, fn func(*cases.Facts) error) error {
	bucket, fromCases := bFacts, !t.hasFacts()
	if fromCases {
		bucket = bCases
	}
	var d factsDecoder
	c := t.tx.Bucket(bucket).Cursor()
	k, v := c.First()
	if after != "" {
		k, v = c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = c.Next()
		}
	}
	for ; k != nil; k, v = c.Next() {
		var f cases.Facts
		if fromCases {
			cs, err := t.caseWithoutPersonal(string(k))
			if err != nil {
				return err
			}
			f = cs.Facts()
		} else {
			t.read(v)
			if err := d.decode(v, &f); err != nil {
				return fmt.Errorf("decode facts of %s: %w", k, err)
			}
		}
		if f.State == "" {
			continue // events of a case whose record is not written yet
		}
		if err := fn(&f); err != nil {
			return err
		}
	}
	return nil
}

// hasFacts reports whether the file keeps facts that can be read: schema 4 on. A file
// of schema 3 keeps facts that do not know when the running deadline started (its
// migration computes them anew); until then they are computed from the cases.
func (t *Tx) hasFacts() bool {
	return schemaOf(t.tx) >= schemaClockFacts && t.tx.Bucket(bFacts) != nil
}

func (t *Tx) facts(id string) (cases.Facts, bool, error) {
	var f cases.Facts
	b := t.tx.Bucket(bFacts)
	if b == nil {
		return f, false, nil
	}
	v := b.Get([]byte(id))
	if v == nil {
		return f, false, nil
	}
	var d factsDecoder
	if err := d.decode(v, &f); err != nil {
		return f, false, fmt.Errorf("decode facts of %s: %w", id, err)
	}
	return f, true, nil
}

func (t *Tx) putFacts(f *cases.Facts) error {
	b := t.tx.Bucket(bFacts)
	if b == nil {
		return nil // a file of an earlier schema: its migration computes them
	}
	return b.Put([]byte(f.ID), encodeFacts(f))
}

// caseFacts refreshes the facts of a case being written.
func (t *Tx) caseFacts(c *cases.Case) error {
	f, _, err := t.facts(c.ID)
	if err != nil {
		return err
	}
	f.SetCase(c)
	return t.putFacts(&f)
}

// eventFacts takes an event appended to a case's log into its facts.
func (t *Tx) eventFacts(caseID string, e cases.Event) error {
	f, _, err := t.facts(caseID)
	if err != nil {
		return err
	}
	f.ID = caseID
	f.Timeline.Add(e)
	return t.putFacts(&f)
}

// caseWithoutPersonal reads a case and its log without opening anything personal: of
// the sealed parts, only the kind of mail of a reply_sent event written sealed.
func (t *Tx) caseWithoutPersonal(id string) (*cases.Case, error) {
	v := t.tx.Bucket(bCases).Get([]byte(id))
	if v == nil {
		return nil, ErrNotFound
	}
	c, err := t.decodeCaseOpt(v, false)
	if err != nil {
		return nil, fmt.Errorf("decode case %s: %w", id, err)
	}
	if c.Events, err = t.events(id, false); err != nil {
		return nil, err
	}
	return c, nil
}

// buildFacts computes the facts of every case (the migration to schema 3 and 4).
func (s *Store) buildFacts() (int, error) {
	return s.eachBatch(bCases, func(t *Tx, k, _ []byte) (bool, error) {
		c, err := t.caseWithoutPersonal(string(k))
		if err != nil {
			return false, err
		}
		f := c.Facts()
		return true, t.putFacts(&f)
	})
}
