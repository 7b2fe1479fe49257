package store

import (
	"errors"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
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

// The summary reads the clear fields only: it works without the sealer that holds the
// personal part.
func TestCaseSummary(t *testing.T) {
	s, err := Open(t.TempDir()+"/db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	due := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if err := s.Update(func(tx *Tx) error {
		if err := tx.PutCase(&cases.Case{ID: "TS-2026-000001", State: cases.Accepted, Severity: cases.Major, Department: "news", DueAt: &due}); err != nil {
			return err
		}
		return tx.PutCase(&cases.Case{ID: "TS-2026-000002", State: cases.Incomplete})
	}); err != nil {
		t.Fatal(err)
	}
	var got []CaseSummary
	s.View(func(tx *Tx) error {
		return tx.EachCaseSummary(func(c CaseSummary) error { got = append(got, c); return nil })
	})
	if len(got) != 2 || got[0].State != cases.Accepted || got[0].Severity != cases.Major || got[0].Department != "news" ||
		got[0].DueAt == nil || !got[0].DueAt.Equal(due) || got[1].State != cases.Incomplete || got[1].DueAt != nil {
		t.Fatalf("summaries: %+v", got)
	}
}
