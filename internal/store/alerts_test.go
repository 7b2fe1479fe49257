package store

import (
	"errors"
	"testing"
	"time"
)

// An acknowledged alert stays in the store but is no longer open; acknowledging twice
// keeps the first time, an unknown ID is refused, and ack -all takes the rest.
func TestAlertAcknowledgement(t *testing.T) {
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	if err := s.Update(func(tx *Tx) error {
		for _, k := range []string{"templates", "uidvalidity", "imap_auth"} {
			if err := tx.AddAlert(Alert{At: t0, Kind: k, Message: k + " went wrong"}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	open := func() []Alert {
		var out []Alert
		if err := s.View(func(tx *Tx) error { out, err = tx.OpenAlerts(); return err }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	as := open()
	if len(as) != 3 || as[0].ID == 0 || as[0].ID == as[1].ID {
		t.Fatalf("open alerts: %+v", as)
	}
	later := t0.Add(time.Hour)
	if err := s.Update(func(tx *Tx) error { return tx.AckAlert(as[1].ID, later) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *Tx) error { return tx.AckAlert(as[1].ID, later.Add(time.Hour)) }); err != nil {
		t.Fatal(err)
	}
	if got := open(); len(got) != 2 || got[0].Kind != "templates" || got[1].Kind != "imap_auth" {
		t.Fatalf("after ack of %d: %+v", as[1].ID, got)
	}
	var all []Alert
	s.View(func(tx *Tx) error { all, err = tx.Alerts(); return err })
	if len(all) != 3 || all[1].AckedAt == nil || !all[1].AckedAt.Equal(later) {
		t.Fatalf("the acknowledged alert is not kept with its first time: %+v", all)
	}
	if err := s.Update(func(tx *Tx) error { return tx.AckAlert(999, later) }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ack of an unknown alert: %v", err)
	}
	var n int
	if err := s.Update(func(tx *Tx) error { n, err = tx.AckAllAlerts(later); return err }); err != nil || n != 2 {
		t.Fatalf("ack -all: %d, %v", n, err)
	}
	if got := open(); len(got) != 0 {
		t.Fatalf("open after ack -all: %+v", got)
	}
}
