package intake_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/complaintd/complaintd/internal/intake"
)

// BenchmarkProcess measures the per-message cost of the intake path on a realistic
// complaint (about 1.4 MB: a form in the body and five scanned documents): parse,
// spool and seal the attachments, classify, render the reply and commit the bbolt
// transaction (with its fsync). Each iteration has a new Message-ID, so every one is a
// new case rather than a duplicate.
func BenchmarkProcess(b *testing.B) {
	p, _, _ := newBareProcessor(b, func(o *intake.Options) { o.ReplyLimit = 1 << 30 })
	const placeholder = "BENCH-MESSAGE-ID"
	m := completeComplaint("张三|zhangsan@example.cn", placeholder)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range m.files {
		scan := make([]byte, 200<<10) // incompressible, like a JPEG or a scanned PDF
		for j := range scan {
			scan[j] = byte(rng.Uint32())
		}
		m.files[i].content = append(m.files[i].content, scan...)
	}
	raw := m.bytes()
	at := bytes.Index(raw, []byte(placeholder))
	if at < 0 || bytes.Count(raw, []byte(placeholder)) != 1 {
		b.Fatal("placeholder Message-ID not found exactly once")
	}
	pre, post := raw[:at], raw[at+len(placeholder):]
	ctx := context.Background()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("bench-%09d@example.cn", i)
		r := io.MultiReader(bytes.NewReader(pre), strings.NewReader(id), bytes.NewReader(post))
		src := inbound.Source{Stream: inbound.Stream{Channel: inbound.IMAP, Name: mailbox}, Epoch: 1, Seq: uint32(i + 1)}
		out, err := p.Process(ctx, src, r)
		if err != nil {
			b.Fatal(err)
		}
		if out.Case == "" || out.Replies != 1 {
			b.Fatalf("iteration %d: outcome %+v, want a new case with one reply", i, out)
		}
	}
	b.ReportMetric(float64(len(raw))/(1<<20), "MB/msg")
}
