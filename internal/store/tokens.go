package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// The staff tokens' records (issue 13 "Staff proof") live in a bucket of their own,
// created on first write so that a store opened read-only (the CLI) or written before
// it existed needs nothing:
//
//   - "revoked/all": every staff token issued at or before this instant is revoked;
//   - "revoked/case/<ID>": every token of that case issued at or before it is;
//   - "upgrade": when this store first ran with bound tokens, and whether it could
//     have mailed tokens of the old form before (it held cases): those are accepted
//     for one token lifetime after it.
//
// A revocation only ever moves later (revoking again revokes what was issued since);
// the upgrade record is written once.
var bStaffTokens = []byte("staff_tokens")

// TokenRevocations are the revocations in force for one case.
type TokenRevocations struct {
	All  time.Time // every token issued at or before it; zero: none
	Case time.Time // the case's tokens issued at or before it; zero: none
}

// TokenUpgrade records the first start with bound staff tokens.
type TokenUpgrade struct {
	At time.Time `json:"at"`
	// Legacy is true when the store held cases then: tokens of the old form may be
	// out there.
	Legacy bool `json:"legacy"`
}

func revokedKey(caseID string) string {
	if caseID == "" {
		return "revoked/all"
	}
	return "revoked/case/" + caseID
}

// RevokeStaffTokens revokes every staff token of caseID ("" for every case) issued
// at or before at, and returns the instant in force afterwards (a later revocation
// already recorded stays).
func (t *Tx) RevokeStaffTokens(caseID string, at time.Time) (time.Time, error) {
	b, err := t.tx.CreateBucketIfNotExists(bStaffTokens)
	if err != nil {
		return time.Time{}, fmt.Errorf("staff token bucket: %w", err)
	}
	key := revokedKey(caseID)
	var cur time.Time
	if v := b.Get([]byte(key)); v != nil {
		if err := json.Unmarshal(v, &cur); err != nil {
			return time.Time{}, fmt.Errorf("decode %s: %w", key, err)
		}
	}
	if !at.After(cur) {
		return cur, nil
	}
	v, err := json.Marshal(at)
	if err != nil {
		return time.Time{}, err
	}
	return at, b.Put([]byte(key), v)
}

// StaffTokenRevocations returns the revocations that apply to caseID's tokens ("":
// the global one only).
func (t *Tx) StaffTokenRevocations(caseID string) (TokenRevocations, error) {
	var r TokenRevocations
	b := t.tx.Bucket(bStaffTokens)
	if b == nil {
		return r, nil
	}
	read := func(key string, dst *time.Time) error {
		if v := b.Get([]byte(key)); v != nil {
			if err := json.Unmarshal(v, dst); err != nil {
				return fmt.Errorf("decode %s: %w", key, err)
			}
		}
		return nil
	}
	if err := read(revokedKey(""), &r.All); err != nil {
		return TokenRevocations{}, err
	}
	if caseID != "" {
		if err := read(revokedKey(caseID), &r.Case); err != nil {
			return TokenRevocations{}, err
		}
	}
	return r, nil
}

// StaffTokenUpgrade returns the upgrade record (false when none was written).
func (t *Tx) StaffTokenUpgrade() (TokenUpgrade, bool, error) {
	b := t.tx.Bucket(bStaffTokens)
	if b == nil {
		return TokenUpgrade{}, false, nil
	}
	v := b.Get([]byte("upgrade"))
	if v == nil {
		return TokenUpgrade{}, false, nil
	}
	var u TokenUpgrade
	if err := json.Unmarshal(v, &u); err != nil {
		return TokenUpgrade{}, false, fmt.Errorf("decode upgrade: %w", err)
	}
	return u, true, nil
}

// MarkStaffTokenUpgrade writes the upgrade record at the first start with bound
// tokens (at, and whether the store held cases) and returns the record in force.
func (t *Tx) MarkStaffTokenUpgrade(at time.Time) (TokenUpgrade, error) {
	if u, ok, err := t.StaffTokenUpgrade(); err != nil || ok {
		return u, err
	}
	b, err := t.tx.CreateBucketIfNotExists(bStaffTokens)
	if err != nil {
		return TokenUpgrade{}, fmt.Errorf("staff token bucket: %w", err)
	}
	k, _ := t.tx.Bucket(bCases).Cursor().First()
	u := TokenUpgrade{At: at, Legacy: k != nil}
	v, err := json.Marshal(u)
	if err != nil {
		return TokenUpgrade{}, err
	}
	return u, b.Put([]byte("upgrade"), v)
}
