package imapsource

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/inbound"
)

// checkpointIntake keeps a stream's progress as intake does: a commit moves Last to
// the highest UID committed (internal/intake, advanceIn); what it committed is noted.
type checkpointIntake struct {
	Intake[gapPrep]
	mu        sync.Mutex
	last      uint32
	committed []uint32
}

type gapPrep struct{ id string }

func (p gapPrep) MessageID() string { return p.id }

func (in *checkpointIntake) Progress(inbound.Stream) (inbound.Progress, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return inbound.Progress{Epoch: 42, Last: in.last}, nil
}

func (in *checkpointIntake) Retries(inbound.Stream) ([]inbound.Quarantined, error) { return nil, nil }

func (in *checkpointIntake) Prepare(_ context.Context, raw io.Reader) (gapPrep, error) {
	b, err := io.ReadAll(raw)
	return gapPrep{id: string(b[:min(len(b), 40)])}, err
}

func (in *checkpointIntake) Discard(gapPrep) {}

func (in *checkpointIntake) commit(seq uint32) {
	in.committed = append(in.committed, seq)
	in.last = max(in.last, seq)
}

func (in *checkpointIntake) CommitGroup(srcs []inbound.Source, _ []gapPrep) ([]inbound.Outcome, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	outs := make([]inbound.Outcome, len(srcs))
	for i, s := range srcs {
		in.commit(s.Seq)
		outs[i] = inbound.Outcome{Role: "complainant"}
	}
	return outs, nil
}

func (in *checkpointIntake) Process(_ context.Context, src inbound.Source, raw io.Reader) (inbound.Outcome, error) {
	if _, err := io.ReadAll(raw); err != nil {
		return inbound.Outcome{}, err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.commit(src.Seq)
	return inbound.Outcome{Role: "complainant"}, nil
}

func (in *checkpointIntake) Paused(inbound.Stream, error) {}

func (in *checkpointIntake) Resumed(inbound.Stream, time.Time, error) error { return nil }

func (in *checkpointIntake) state() (uint32, []uint32) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.last, slices.Clone(in.committed)
}

// A FETCH of several mails that leaves one out must not let the checkpoint pass it:
// the checkpoint is the highest UID committed, and the next session asks only for
// mail after it. The server answers UID FETCH 1:3 with mails 1 and 3, then, as
// Gmail does, NO "Some messages could not be FETCHed", or OK; and it drops the
// connection at the first fetch of mail 2 alone. Before, 1 and 3 were committed,
// the checkpoint went to 3, and mail 2 was never read again (found in review).
func TestMailLeftOutOfAFetchIsNotPassed(t *testing.T) {
	for _, status := range []string{"NO Some messages could not be FETCHed", "OK done"} {
		t.Run(status, func(t *testing.T) {
			body := func(uid int) string {
				return fmt.Sprintf("Message-ID: <m%d@example.cn>\r\nSubject: %d\r\n\r\nbody %d\r\n", uid, uid, uid)
			}
			var mu sync.Mutex
			dropped := 0
			f := &fakeServer{caps: "UIDPLUS", permFlags: `\Seen \Flagged $Processed \*`, searchUIDs: "1 2 3"}
			f.fetch = func(set string, conn net.Conn) string {
				mu.Lock()
				defer mu.Unlock()
				send := func(uid int) {
					b := body(uid)
					fmt.Fprintf(conn, "* %d FETCH (UID %d RFC822.SIZE %d BODY[] {%d}\r\n%s)\r\n", uid, uid, len(b), len(b), b)
				}
				if set == "2" {
					if dropped < 2 {
						dropped++
						return "" // the connection breaks
					}
					send(2)
					return "OK done"
				}
				// Mail 2 is left out of every FETCH of several.
				for _, uid := range []int{1, 2, 3} {
					if uid != 2 && fetchSetHas(set, uid) {
						send(uid)
					}
				}
				return status
			}
			f.start(t)
			in := &checkpointIntake{}
			pl := NewPipeline[gapPrep](in, PipelineOptions{
				IMAP: f.options(), Mailbox: "INBOX", PollInterval: 50 * time.Millisecond,
				Backoff: Backoff{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond},
			})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); pl.Run(ctx) }()
			deadline := time.Now().Add(20 * time.Second)
			for {
				last, committed := in.state()
				if slices.Contains(committed, 2) && slices.Contains(committed, 3) {
					break
				}
				if !slices.Contains(committed, 2) && last >= 2 {
					cancel()
					<-done
					t.Fatalf("checkpoint %d with mail 2 not registered (committed %v): it is never read again", last, committed)
				}
				if time.Now().After(deadline) {
					cancel()
					<-done
					t.Fatalf("not all mail registered in 20 s: committed %v, checkpoint %d", committed, last)
				}
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
			<-done
			if _, committed := in.state(); !slices.Equal(committed, []uint32{1, 2, 3}) {
				t.Errorf("committed %v, want 1, 2, 3 once each, in order", committed)
			}
		})
	}
}

// fetchSetHas reports whether a UID set as a client sends it ("1:3", "2,4:5", "3:*")
// holds uid.
func fetchSetHas(set string, uid int) bool {
	for part := range splitComma(set) {
		var lo, hi int
		if n, _ := fmt.Sscanf(part, "%d:%d", &lo, &hi); n == 2 {
			if uid >= lo && uid <= hi {
				return true
			}
			continue
		}
		if n, _ := fmt.Sscanf(part, "%d", &lo); n == 1 && (lo == uid || (len(part) > 2 && part[len(part)-1] == '*' && uid >= lo)) {
			return true
		}
	}
	return false
}

func splitComma(s string) func(func(string) bool) {
	return func(yield func(string) bool) {
		start := 0
		for i := 0; i <= len(s); i++ {
			if i == len(s) || s[i] == ',' {
				if !yield(s[start:i]) {
					return
				}
				start = i + 1
			}
		}
	}
}
