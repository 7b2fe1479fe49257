package intake_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/routing"
)

// BenchmarkOneArticleMany: the cost of one more complaint about an article that
// already has N complaints from other people (a wave after a viral article), with
// the routing that files cases by article and names the related ones:
//
//	go test -run '^$' -bench OneArticleMany -benchtime 10x ./internal/intake/
//
// When each related case was opened to name it, the cost grew with the square of N
// (2.5 ms per mail at 0, 15 ms at 100, 160 ms at 400); now 2.8, 2.6, 2.7 and 4.6 ms
// at 2,000 (40 runs each, twice): what is left grows linearly, from the index
// entries read.
func BenchmarkOneArticleMany(b *testing.B) {
	for _, n := range []int{0, 100, 400, 2000} {
		b.Run(fmt.Sprintf("earlier=%d", n), func(b *testing.B) {
			router, err := routing.New(routing.Config{Severity: routing.SeverityConfig{RepeatThreshold: 3, RepeatWindowDays: 30}})
			if err != nil {
				b.Fatal(err)
			}
			p, _, _ := newBareProcessor(b, func(o *intake.Options) { o.ReplyLimit = 1 << 30; o.Router = router })
			ctx := context.Background()
			seq := uint32(0)
			one := func(i int) {
				seq++
				m := plainComplaint(fmt.Sprintf("王五|p%d@example.cn", i), fmt.Sprintf("viral-%d@example.cn", i), "删帖申请")
				src := inbound.Source{Stream: inbound.Stream{Channel: inbound.IMAP, Name: mailbox}, Epoch: 1, Seq: seq}
				out, err := p.Process(ctx, src, bytes.NewReader(m.bytes()))
				if err != nil || out.Case == "" {
					b.Fatalf("mail %d: %+v %v", i, out, err)
				}
			}
			begin := time.Now()
			for i := range n {
				one(i)
			}
			b.Logf("%d earlier complaints built in %v", n, time.Since(begin))
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				one(n + i)
			}
		})
	}
}
