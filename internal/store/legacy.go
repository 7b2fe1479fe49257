package store

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/complaintd/complaintd/internal/cases"
)

// storedCase reads a case record, including the schemaless "extra" map of records
// written before the case had typed fields for what it held.
type storedCase struct {
	cases.Case
	Extra map[string]string `json:"extra,omitempty"`
	// Sealed is the case's cases.Personal, sealed (seal.go).
	Sealed []byte `json:"sealed,omitempty"`
}

// CaseKeysDestroyed reports whether the keys that seal the case's personal
// information are gone (its erasure began), whether or not the case is marked erased.
func (t *Tx) CaseKeysDestroyed(id string) (bool, error) {
	v := t.tx.Bucket(bCases).Get([]byte(id))
	if v == nil {
		return false, ErrNotFound
	}
	var sc storedCase
	if err := json.Unmarshal(v, &sc); err != nil {
		return false, fmt.Errorf("decode case %s: %w", id, err)
	}
	if sc.Sealed == nil || t.sealer == nil {
		return false, nil
	}
	var p cases.Personal
	return t.open(id, sc.Sealed, &p)
}

// decodeCase decodes a case record, moving the values of a legacy "extra" map to
// their typed fields.
func (t *Tx) decodeCase(v []byte) (*cases.Case, error) { return t.decodeCaseOpt(v, true) }

// decodeCaseOpt decodes a case record; without personal, its sealed part stays unread.
func (t *Tx) decodeCaseOpt(v []byte, personal bool) (*cases.Case, error) {
	t.read(v)
	var sc storedCase
	if err := json.Unmarshal(v, &sc); err != nil {
		return nil, err
	}
	c := sc.Case
	if sc.Sealed != nil && personal {
		var p cases.Personal
		erased, err := t.open(c.ID, sc.Sealed, &p)
		if err != nil {
			return nil, err
		}
		if !erased {
			c.MergePersonal(p)
		}
	}
	if x := sc.Extra; x != nil {
		if c.LinkKey == "" {
			c.LinkKey = x["link_key"]
		}
		c.SeverityByStaff = c.SeverityByStaff || x["severity_by"] == "staff"
		c.DepartmentByStaff = c.DepartmentByStaff || x["department_by"] == "staff"
		c.AwaitingAuthor = c.AwaitingAuthor || x["awaiting_author"] == "true"
		if n, err := strconv.Atoi(x["satisfaction"]); err == nil && c.Satisfaction == 0 && n >= 1 && n <= 5 {
			c.Satisfaction = n
		}
	}
	c.Related = nil
	return &c, nil
}
