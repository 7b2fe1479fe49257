package store

import (
	"bytes"
	"slices"
	"sort"
	"time"
)

var bIndex = []byte("index")

// IndexEntry is one case found through an index.
type IndexEntry struct {
	Case    string
	Created time.Time
}

// IndexCase files a case under an index key: kind "link" (the normalised article link)
// finds related cases; kind "from" (the complainant's address) and kind "idno" (the
// applicant's ID number) find repeat applicants. With a sealer the key is kept as a
// keyed hash; entries filed in clear by earlier versions are still found.
func (t *Tx) IndexCase(kind, key, caseID string, created time.Time) error {
	if key == "" {
		return nil
	}
	b, err := t.tx.CreateBucketIfNotExists(bIndex)
	if err != nil {
		return err
	}
	v, _ := created.UTC().MarshalText()
	return b.Put(indexKey(kind, t.lookup(key), caseID), v)
}

// IndexedCases lists the cases filed under kind/key, in case-number order.
func (t *Tx) IndexedCases(kind, key string) []IndexEntry {
	b := t.tx.Bucket(bIndex)
	if b == nil || key == "" {
		return nil
	}
	var out []IndexEntry
	for _, lk := range t.lookups(key) {
		prefix := indexKey(kind, lk, "")
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var at time.Time
			at.UnmarshalText(v)
			out = append(out, IndexEntry{Case: string(k[len(prefix):]), Created: at})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Case < out[j].Case })
	return slices.CompactFunc(out, func(a, b IndexEntry) bool { return a.Case == b.Case })
}

func indexKey(kind, key, caseID string) []byte {
	return []byte(kind + "\x00" + key + "\x00" + caseID)
}

// LookupKey is the keyed hash under which the index files value (value itself in a
// store without a sealer): what UnindexLookup needs once the value cannot be read.
func (t *Tx) LookupKey(value string) string { return t.lookup(value) }

// UnindexLookup removes a case from kind and a LookupKey.
func (t *Tx) UnindexLookup(kind, lookupKey, caseID string) error {
	b := t.tx.Bucket(bIndex)
	if b == nil || lookupKey == "" {
		return nil
	}
	return b.Delete(indexKey(kind, lookupKey, caseID))
}

// Unindex removes a case from kind/key (the hashed entry and one filed in clear by
// earlier versions): an erased case is no longer found by who its applicant was.
func (t *Tx) Unindex(kind, key, caseID string) error {
	b := t.tx.Bucket(bIndex)
	if b == nil || key == "" {
		return nil
	}
	for _, lk := range t.lookups(key) {
		if err := b.Delete(indexKey(kind, lk, caseID)); err != nil {
			return err
		}
	}
	return nil
}
