package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// OpenAlerts lists the alerts not yet acknowledged, oldest first, with their IDs.
func (t *Tx) OpenAlerts() ([]Alert, error) {
	var out []Alert
	err := t.tx.Bucket(bAlerts).ForEach(func(k, v []byte) error {
		var a Alert
		if err := json.Unmarshal(v, &a); err != nil {
			return fmt.Errorf("decode alert: %w", err)
		}
		if a.AckedAt == nil {
			a.ID = binary.BigEndian.Uint64(k)
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// AckAlert records that an operator saw alert id. Acknowledging it again keeps the
// first time; an unknown id is ErrNotFound.
func (t *Tx) AckAlert(id uint64, at time.Time) error {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], id)
	b := t.tx.Bucket(bAlerts)
	v := b.Get(k[:])
	if v == nil {
		return ErrNotFound
	}
	var a Alert
	if err := json.Unmarshal(v, &a); err != nil {
		return fmt.Errorf("decode alert %d: %w", id, err)
	}
	if a.AckedAt != nil {
		return nil
	}
	a.AckedAt = &at
	nv, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return b.Put(k[:], nv)
}

// AckAllAlerts acknowledges every open alert and returns how many there were.
func (t *Tx) AckAllAlerts(at time.Time) (int, error) {
	open, err := t.OpenAlerts()
	if err != nil {
		return 0, err
	}
	for _, a := range open {
		if err := t.AckAlert(a.ID, at); err != nil {
			return 0, err
		}
	}
	return len(open), nil
}
