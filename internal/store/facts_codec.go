// SPDX-License-Identifier: MIT

package store

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
)

// Facts are read 100,000 at a time (a report, a scrape, a filtered list), so they are
// kept in a small binary form rather than JSON, which spent most of a report's time
// parsing timestamps: a version byte, then the fields in a fixed order — strings as
// a uvarint length and bytes, times as varint Unix nanoseconds (0: none), the two
// timeline flags and the erasure in one byte. Version 2 added the timeline's
// ClockStarted after Ended; version 1 records are still read (without it), but a file
// of schema 4 holds none (its migration computed every case's facts anew).
const factsVersion = 2

var errFactsFormat = errors.New("facts: unknown or damaged record")

func encodeFacts(f *cases.Facts) []byte {
	b := make([]byte, 0, 128)
	b = append(b, factsVersion)
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	tm := func(t time.Time) {
		var n int64
		if !t.IsZero() {
			n = t.UnixNano()
		}
		b = binary.AppendVarint(b, n)
	}
	str(f.ID)
	str(string(f.State))
	str(f.Department)
	str(string(f.Severity))
	tm(f.CreatedAt)
	tm(f.DueAt)
	str(string(f.ContentKind))
	str(string(f.ApplicantType))
	b = binary.AppendUvarint(b, uint64(len(f.Missing)))
	for _, k := range f.Missing {
		str(string(k))
	}
	b = binary.AppendUvarint(b, uint64(max(f.Satisfaction, 0)))
	tl := &f.Timeline
	for _, t := range []time.Time{tl.FirstReplySent, tl.Completed, tl.Decided, tl.Accepted, tl.Rejected, tl.Resolved, tl.Ended, tl.ClockStarted} {
		tm(t)
	}
	var flags byte
	if tl.Appealed {
		flags |= 1
	}
	if tl.Surveyed {
		flags |= 2
	}
	if f.Erased {
		flags |= 4
	}
	return append(b, flags)
}

// factsDecoder decodes facts records, sharing the strings of the few values the
// enumerated fields take.
type factsDecoder struct{ interned map[string]string }

func (d *factsDecoder) decode(v []byte, f *cases.Facts) error {
	if len(v) == 0 || v[0] < 1 || v[0] > factsVersion {
		return errFactsFormat
	}
	version := v[0]
	p := v[1:]
	bad := false
	raw := func() []byte {
		n, w := binary.Uvarint(p)
		if w <= 0 || uint64(len(p)-w) < n {
			bad = true
			p = nil
			return nil
		}
		s := p[w : w+int(n)]
		p = p[w+int(n):]
		return s
	}
	str := func() string { return string(raw()) }
	enum := func() string {
		s := raw()
		if d.interned == nil {
			d.interned = map[string]string{}
		}
		if v, ok := d.interned[string(s)]; ok {
			return v
		}
		v := string(s)
		if len(d.interned) < 256 {
			d.interned[v] = v
		}
		return v
	}
	tm := func() time.Time {
		n, w := binary.Varint(p)
		if w <= 0 {
			bad = true
			p = nil
			return time.Time{}
		}
		p = p[w:]
		if n == 0 {
			return time.Time{}
		}
		return time.Unix(0, n).UTC()
	}
	uv := func() uint64 {
		n, w := binary.Uvarint(p)
		if w <= 0 {
			bad = true
			p = nil
			return 0
		}
		p = p[w:]
		return n
	}
	f.ID = str()
	f.State = cases.State(enum())
	f.Department = enum()
	f.Severity = cases.Severity(enum())
	f.CreatedAt = tm()
	f.DueAt = tm()
	f.ContentKind = cases.ContentKind(enum())
	f.ApplicantType = cases.ApplicantType(enum())
	if n := uv(); n > 0 && n <= uint64(len(p)) {
		f.Missing = make([]cases.Kind, n)
		for i := range f.Missing {
			f.Missing[i] = cases.Kind(enum())
		}
	} else if n > 0 {
		bad = true
	}
	f.Satisfaction = int(uv())
	tl := &f.Timeline
	for _, t := range []*time.Time{&tl.FirstReplySent, &tl.Completed, &tl.Decided, &tl.Accepted, &tl.Rejected, &tl.Resolved, &tl.Ended} {
		*t = tm()
	}
	if version >= 2 {
		tl.ClockStarted = tm()
	}
	if bad || len(p) != 1 {
		return errFactsFormat
	}
	tl.Appealed, tl.Surveyed, f.Erased = p[0]&1 != 0, p[0]&2 != 0, p[0]&4 != 0
	return nil
}
