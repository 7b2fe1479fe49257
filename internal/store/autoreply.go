// SPDX-License-Identifier: MIT

package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// The automatic-reply counters (intake's caps per recipient, sender, domain and
// desk, and the staff notification caps) count replies over a sliding window.
//
// Each counter lives in bReplyTimes under its key k (the hashed look-up key, see
// lookup), written as uvarint(len(k)) || k so that no counter's keys begin with
// another's: at that key, the counter's total; at the key followed by an instant
// (8 bytes, big-endian, ordered), how many replies were counted at that instant.
// Counting the window subtracts the few instants that fell out of it from the
// total, and recording one reply deletes those and adds one: both cost O(log n)
// whatever the window holds. The form before (issue 18) kept the whole window as
// one JSON list in bAutoReply, rewritten at every reply: with the desk-wide cap
// raised for a backlog, about 36 bytes per reply of the window, rewritten twice per
// mail (BenchmarkAutoReply: 1.38 ms a reply with 20,000 in the window, 23 µs now). Such a list is still read, and moved into the new form the first time
// its counter records a reply.
var bReplyTimes = []byte("auto_reply_times")

// counterKey is the key of sender's counter in bReplyTimes.
func (t *Tx) counterKey(sender string) []byte { return counterKeyOf(t.lookup(strings.ToLower(sender))) }

func counterKeyOf(k string) []byte { return append(binary.AppendUvarint(nil, uint64(len(k))), k...) }

// counterRehash re-files a key of bReplyTimes written without a sealer (Migrate).
func counterRehash(t *Tx, key []byte) []byte {
	n, l := binary.Uvarint(key)
	if l <= 0 || uint64(len(key)-l) < n {
		return nil
	}
	k, rest := key[l:l+int(n)], key[l+int(n):]
	if bytes.HasPrefix(k, []byte("h:")) {
		return nil
	}
	return append(counterKeyOf(t.lookup(string(k))), rest...)
}

// instantKey is the key of the replies counted at 'at' in the counter of key.
func instantKey(key []byte, at time.Time) []byte {
	// The sign bit flipped keeps instants before 1970 in order.
	return binary.BigEndian.AppendUint64(slices.Clip(key), uint64(at.UnixNano())^1<<63)
}

// lastInstant is the latest time a counter can hold.
var lastInstant = time.Unix(0, 1<<63-1)

func instantOf(k []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[len(k)-8:])^1<<63))
}

// counted walks the instants of the counter of key up to and including until, in
// time order, with how many replies each holds.
func (t *Tx) counted(key []byte, until time.Time, fn func(k []byte, at time.Time, n uint64)) {
	b := t.tx.Bucket(bReplyTimes)
	if b == nil {
		return // a file opened read-only before this bucket existed
	}
	c := b.Cursor()
	for k, v := c.Seek(instantKey(key, time.Unix(0, -1<<63))); k != nil && len(k) == len(key)+8 && bytes.HasPrefix(k, key); k, v = c.Next() {
		at := instantOf(k)
		if at.After(until) {
			return
		}
		n, _ := binary.Uvarint(v)
		fn(k, at, n)
	}
}

// total is the counter's total over every instant it holds.
func (t *Tx) total(key []byte) uint64 {
	if b := t.tx.Bucket(bReplyTimes); b != nil {
		if v := b.Get(key); len(v) == 8 {
			return binary.BigEndian.Uint64(v)
		}
	}
	return 0
}

// AutoReplyCount is how many automatic replies to sender are newer than since.
func (t *Tx) AutoReplyCount(sender string, since time.Time) (int, error) {
	key := t.counterKey(sender)
	var expired uint64
	t.counted(key, since, func(_ []byte, _ time.Time, n uint64) { expired += n })
	ts, first, err := t.autoReplyTimes(sender, since)
	return int(less(t.total(key), expired)) + len(ts) - first, err
}

// less is a - b, or 0 for a total that does not cover what it should (a damaged
// file): a counter never goes negative.
func less(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// AutoReplies returns the times of recent automatic replies to sender, newer than
// since, in time order.
func (t *Tx) AutoReplies(sender string, since time.Time) ([]time.Time, error) {
	out, err := t.legacyReplies(sender, since)
	if err != nil {
		return nil, err
	}
	t.counted(t.counterKey(sender), lastInstant, func(_ []byte, at time.Time, n uint64) {
		for ; n > 0 && at.After(since); n-- {
			out = append(out, at)
		}
	})
	slices.SortStableFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out, nil
}

// RecordAutoReply notes an automatic reply to sender at 'at', dropping the ones at
// or before since.
func (t *Tx) RecordAutoReply(sender string, at, since time.Time) error {
	b := t.tx.Bucket(bReplyTimes)
	key := t.counterKey(sender)
	total := t.total(key)
	add := func(at time.Time, n uint64) error {
		k := instantKey(key, at)
		have, _ := binary.Uvarint(b.Get(k))
		total += n
		return b.Put(k, binary.AppendUvarint(nil, have+n))
	}
	// A counter still in the list form moves over.
	legacy, err := t.legacyReplies(sender, since)
	if err != nil {
		return err
	}
	for _, x := range legacy {
		if err := add(x, 1); err != nil {
			return err
		}
	}
	if err := t.tx.Bucket(bAutoReply).Delete([]byte(t.lookup(strings.ToLower(sender)))); err != nil {
		return err
	}
	var expired [][]byte
	t.counted(key, since, func(k []byte, _ time.Time, n uint64) {
		expired = append(expired, k)
		total = less(total, n)
	})
	for _, k := range expired {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	if err := add(at, 1); err != nil {
		return err
	}
	return b.Put(key, binary.BigEndian.AppendUint64(nil, total))
}

// legacyReplies are the times newer than since of sender's counter in the form
// before issue 18 (none when it has none).
func (t *Tx) legacyReplies(sender string, since time.Time) ([]time.Time, error) {
	ts, first, err := t.autoReplyTimes(sender, since)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	for _, s := range ts[first:] {
		x, err := time.Parse(time.RFC3339Nano, string(s))
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", bAutoReply, err)
		}
		out = append(out, x)
	}
	return out, nil
}

// autoReplyTimes reads a counter kept in the form before issue 18 (a JSON
// array of RFC 3339 strings, in time order, in bAutoReply), unparsed, and finds
// the first one newer than since. Only the O(log n) times the search probes are
// parsed.
func (t *Tx) autoReplyTimes(sender string, since time.Time) (ts [][]byte, first int, err error) {
	v := t.tx.Bucket(bAutoReply).Get([]byte(t.lookup(strings.ToLower(sender))))
	if v == nil {
		return nil, 0, nil
	}
	if ts = splitTimes(v); ts == nil {
		// Not the compact form json.Marshal writes: decode it the long way.
		var ss []string
		if err := json.Unmarshal(v, &ss); err != nil {
			return nil, 0, fmt.Errorf("decode %s: %w", bAutoReply, err)
		}
		ts = make([][]byte, len(ss))
		for i, s := range ss {
			ts[i] = []byte(s)
		}
	}
	first, err = searchTimes(ts, since)
	return ts, first, err
}

// splitTimes splits a compact JSON array of strings without escapes (what
// json.Marshal writes for []time.Time) into its strings, or returns nil for
// anything else. The strings alias v.
func splitTimes(v []byte) [][]byte {
	if len(v) < 2 || v[0] != '[' || v[len(v)-1] != ']' {
		return nil
	}
	out := make([][]byte, 0, bytes.Count(v, []byte{','})+1)
	for rest := v[1 : len(v)-1]; len(rest) > 0; {
		if rest[0] != '"' {
			return nil
		}
		end := bytes.IndexByte(rest[1:], '"')
		if end < 0 {
			return nil
		}
		s := rest[1 : 1+end]
		if bytes.IndexByte(s, '\\') >= 0 {
			return nil
		}
		out = append(out, s)
		rest = rest[end+2:]
		if len(rest) > 0 {
			if rest[0] != ',' || len(rest) == 1 {
				return nil
			}
			rest = rest[1:]
		}
	}
	return out
}

// searchTimes returns the index of the first of the sorted times ts after at.
func searchTimes(ts [][]byte, at time.Time) (int, error) {
	var err error
	i := sort.Search(len(ts), func(i int) bool {
		x, perr := time.Parse(time.RFC3339Nano, string(ts[i]))
		err = cmp.Or(err, perr)
		return x.After(at)
	})
	if err != nil {
		return 0, fmt.Errorf("decode %s: %w", bAutoReply, err)
	}
	return i, nil
}
