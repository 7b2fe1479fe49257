//go:build unix

package intake_test

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/demo/samplemail"
	"github.com/complaintd/complaintd/internal/intake"
)

// BenchmarkWorstMail measures what the worst mails of issue 13 cost Prepare (parse,
// spool, classify) under the default budgets: CPU time per mail (getrusage, all
// threads), the peak live heap while it runs (sampled every millisecond) and the
// process's peak RSS so far. Run one at a time for a meaningful RSS:
//
//	go test -run '^$' -bench 'WorstMail/zip-bomb' -benchtime 5x ./internal/intake/
func BenchmarkWorstMail(b *testing.B) {
	body := "申请人姓名：赵六\n文章标题：《某地某事》\n文章链接：https://news.ifeng.com/c/bomb\n删除原因：报道失实。"
	mk := func(files ...samplemail.File) []byte {
		return samplemail.Mail{From: "赵六|alice@people.test", To: "desk@desk.test", Subject: "赵六申请删除凤凰资讯稿件",
			MessageID: "worst@people.test", Body: body, Files: files}.Bytes()
	}
	const docxType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	for _, bm := range []struct {
		name string
		raw  []byte
	}{
		{"zip-bomb-200-entries", mk(samplemail.File{Name: "材料.zip", ContentType: "application/zip",
			Content: samplemail.OverlappingZip(samplemail.FormDocx(), 200)})},
		{"nested-docx-8MiB", mk(samplemail.File{Name: "表格.docx", ContentType: docxType, Content: samplemail.NestedDocx()})},
		{"six-archives-of-eight-1M-element-forms", mk(samplemail.HeavyArchives(6, 8)...)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			p, _, _ := newBareProcessor(b, func(o *intake.Options) {})
			ctx := context.Background()
			var ru0, ru1 syscall.Rusage
			peak := &heapPeak{}
			stop := peak.sample()
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			b.ResetTimer()
			for b.Loop() {
				pr, err := p.Prepare(ctx, bytes.NewReader(bm.raw))
				if err != nil {
					b.Fatal(err)
				}
				p.Discard(pr)
			}
			b.StopTimer()
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			stop()
			cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) / time.Duration(b.N)
			b.ReportMetric(float64(cpu)/float64(time.Millisecond), "cpu-ms/op")
			b.ReportMetric(float64(peak.max())/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(ru1.Maxrss)/1024, "maxrss-MB") // Linux reports KiB
			b.ReportMetric(float64(len(bm.raw))/1024, "mail-KB")
		})
	}
}

// heapPeak samples the live heap until stopped.
type heapPeak struct {
	mu   sync.Mutex
	peak uint64
}

func (h *heapPeak) sample() (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			h.mu.Lock()
			h.peak = max(h.peak, ms.HeapAlloc)
			h.mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

func (h *heapPeak) max() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.peak
}
