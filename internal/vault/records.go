// SPDX-License-Identifier: MIT

package vault

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
)

// Records: the personal information of a case that the store keeps (names, ID numbers,
// addresses, texts) is sealed with the case's sensitive key, the key that seals its
// ID card scans; destroying that key erases both. Format: version byte, a 4-byte
// fingerprint of the case key, a 12-byte nonce, then the AES-256-GCM ciphertext, with
// "record/<case>" as additional data. The fingerprint tells a record sealed under a
// key destroyed since (the case was erased, and a later mail gave it a new key) from
// damage.
const (
	recordVersion = 1
	fpSize        = 4
)

// lookupLabel derives the key of the look-up hashes from the master key.
const lookupLabel = "complaintd lookup v1"

// SealRecord seals a case's personal record, giving the case its keys if it has none
// (made durable by the caller's Flush, like Keep's files).
func (v *Vault) SealRecord(caseID string, plain []byte) ([]byte, error) {
	if !caseIDPattern.MatchString(caseID) {
		return nil, fmt.Errorf("seal record: bad case %q", caseID)
	}
	kek, err := v.caseKey(caseID, ClassSensitive, true)
	if err != nil {
		return nil, fmt.Errorf("seal record: %w", err)
	}
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	fp := fingerprint(kek)
	nonce := randomBytes(aead.NonceSize())
	out := make([]byte, 0, 1+fpSize+len(nonce)+len(plain)+aead.Overhead())
	out = append(append(append(out, recordVersion), fp...), nonce...)
	return aead.Seal(out, nonce, plain, []byte("record/"+caseID)), nil
}

// OpenRecord opens what SealRecord sealed. erased is true, with no error, when the key
// it was sealed with has been destroyed (retention, `cases erase`).
func (v *Vault) OpenRecord(caseID string, sealed []byte) (plain []byte, erased bool, err error) {
	if !caseIDPattern.MatchString(caseID) {
		return nil, false, fmt.Errorf("open record: bad case %q", caseID)
	}
	if len(sealed) < 1+fpSize || sealed[0] != recordVersion {
		return nil, false, fmt.Errorf("open record of %s: unknown format", caseID)
	}
	kek, err := v.caseKey(caseID, ClassSensitive, false)
	if errors.Is(err, ErrErased) || errors.Is(err, os.ErrNotExist) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("open record of %s: %w", caseID, err)
	}
	if !hmac.Equal(fingerprint(kek), sealed[1:1+fpSize]) {
		return nil, true, nil // sealed under a key destroyed since
	}
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, false, err
	}
	rest := sealed[1+fpSize:]
	if len(rest) < aead.NonceSize() {
		return nil, false, fmt.Errorf("open record of %s: truncated", caseID)
	}
	plain, err = aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], []byte("record/"+caseID))
	if err != nil {
		return nil, false, fmt.Errorf("open record of %s: damaged", caseID)
	}
	return plain, false, nil
}

// LookupHash is a keyed hash (HMAC-SHA256 under a key derived from the master key) of
// a value the store must find records by without keeping it: a complainant's address,
// an ID number, a Message-ID. 128 bits, hex.
func (v *Vault) LookupHash(value string) string {
	m, _ := v.lookupMACs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, v.lookupKey)
	}
	m.Reset()
	m.Write([]byte(value))
	var sum [sha256.Size]byte
	s := hex.EncodeToString(m.Sum(sum[:0])[:16])
	v.lookupMACs.Put(m)
	return s
}

func fingerprint(kek []byte) []byte {
	sum := sha256.Sum256(append([]byte("fingerprint/"), kek...))
	return sum[:fpSize]
}

// deskLabel derives the key of the desk's own records from the master key.
const deskLabel = "complaintd desk records v1"

// SealDesk seals a record that belongs to no case key: what must outlive the keys
// of an erased case until it is done (the list of its mails to delete from the
// mailbox, whose Message-IDs can hold addresses). what names the record's kind and
// is bound to it, so a record of one kind cannot be passed off as another.
func (v *Vault) SealDesk(what string, plain []byte) ([]byte, error) {
	aead, err := newAEAD(v.deskKey)
	if err != nil {
		return nil, err
	}
	nonce := randomBytes(aead.NonceSize())
	out := append([]byte{recordVersion}, nonce...)
	return aead.Seal(out, nonce, plain, []byte("desk/"+what)), nil
}

// OpenDesk opens what SealDesk sealed with the same what.
func (v *Vault) OpenDesk(what string, sealed []byte) ([]byte, error) {
	aead, err := newAEAD(v.deskKey)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+aead.NonceSize() || sealed[0] != recordVersion {
		return nil, fmt.Errorf("open %s: unknown format", what)
	}
	nonce := sealed[1 : 1+aead.NonceSize()]
	plain, err := aead.Open(nil, nonce, sealed[1+aead.NonceSize():], []byte("desk/"+what))
	if err != nil {
		return nil, fmt.Errorf("open %s: damaged, or sealed under another master key", what)
	}
	return plain, nil
}
