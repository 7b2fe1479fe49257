// SPDX-License-Identifier: MIT

package outbox

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSessions measures replies per second handed to an in-process SMTP
// server that spends 2 ms on each message (its own work: queue file, fsync), or
// none, with one connection per reply (as before issue 17), one session carrying
// them all, and 4 and 8 sessions in parallel (issue 18). Run:
//
//	go test -run '^$' -bench Sessions -benchtime 2000x ./internal/outbox/
func BenchmarkSessions(b *testing.B) {
	type benchCase struct {
		name          string
		delay         time.Duration
		sessions, per int
	}
	var cases []benchCase
	for _, delay := range []time.Duration{2 * time.Millisecond, 0} {
		for _, c := range []benchCase{
			{"connection-per-reply", delay, 1, 1},
			{"sessions=1", delay, 1, 0},
			{"sessions=4", delay, 4, 0},
			{"sessions=8", delay, 8, 0},
		} {
			c.name = "delay=" + delay.String() + "/" + c.name
			cases = append(cases, c)
		}
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			ts := newTestServer(b, serverConfig{})
			ts.setFaults(faults{delay: bc.delay})
			s := senderFor(b, ts, Options{MaxPerSession: bc.per})
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range bc.sessions {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						if err := s.Send(context.Background(), mailN(int(i))); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			s.Close()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "replies/s")
			b.ReportMetric(float64(ts.sessionCount()), "connections")
			if n := len(ts.messages()); n != b.N {
				b.Errorf("server accepted %d of %d", n, b.N)
			}
		})
	}
}
