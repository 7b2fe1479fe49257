package store

import (
	"bytes"
	"time"
)

var bIndex = []byte("index")

// IndexEntry is one case found through an index.
type IndexEntry struct {
	Case    string
	Created time.Time
}

// IndexCase files a case under an index key: kind "link" (the normalised article link)
// finds related cases; kind "from" (the complainant's address) finds repeat
// complainants.
func (t *Tx) IndexCase(kind, key, caseID string, created time.Time) error {
	if key == "" {
		return nil
	}
	b, err := t.tx.CreateBucketIfNotExists(bIndex)
	if err != nil {
		return err
	}
	v, _ := created.UTC().MarshalText()
	return b.Put(indexKey(kind, key, caseID), v)
}

// IndexedCases lists the cases filed under kind/key, in case-number order.
func (t *Tx) IndexedCases(kind, key string) []IndexEntry {
	b := t.tx.Bucket(bIndex)
	if b == nil || key == "" {
		return nil
	}
	prefix := indexKey(kind, key, "")
	var out []IndexEntry
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var at time.Time
		at.UnmarshalText(v)
		out = append(out, IndexEntry{Case: string(k[len(prefix):]), Created: at})
	}
	return out
}

func indexKey(kind, key, caseID string) []byte {
	return []byte(kind + "\x00" + key + "\x00" + caseID)
}
