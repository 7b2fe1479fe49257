package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
)

// BenchmarkOpenCasesOfAWave: reading every open case of a wave of complaints about
// one article, as the deadline job (every 5 minutes) and `cases list` do, with
// their related cases (Case) and without (CaseWithoutRelated).
//
//	go test -run '^$' -bench OpenCasesOfAWave -benchtime 3x ./internal/store/
func BenchmarkOpenCasesOfAWave(b *testing.B) {
	for _, tc := range []struct {
		n       int
		related bool
	}{{500, true}, {2000, true}, {500, false}, {2000, false}} {
		n := tc.n
		b.Run(fmt.Sprintf("cases=%d/related=%v", n, tc.related), func(b *testing.B) {
			s, err := Open(b.TempDir()+"/db", time.Second)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if err := putWave(s, n); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				err := s.View(func(tx *Tx) error {
					return tx.EachFacts(func(f *cases.Facts) error {
						read := tx.CaseWithoutRelated
						if tc.related {
							read = tx.Case
						}
						_, err := read(f.ID)
						return err
					})
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// putWave stores n open cases about one article, TS-2026-000001 on, filed under its
// link as intake files them.
func putWave(s *Store, n int) error {
	created := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	return s.Update(func(tx *Tx) error {
		for i := range n {
			c := &cases.Case{ID: fmt.Sprintf("TS-2026-%06d", i+1), State: cases.PendingReview, CreatedAt: created, LinkKey: "ifeng.com/c/8Wave01"}
			if err := tx.PutCase(c); err != nil {
				return err
			}
			if err := tx.IndexCase("link", c.LinkKey, c.ID, created); err != nil {
				return err
			}
		}
		return nil
	})
}
