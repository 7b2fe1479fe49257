package imapsource

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// processed: move moves a batch of processed mail with one UID MOVE. It sent one
// MOVE per mail, a round trip each: up to a thousand at a stop in a backlog, past
// the unit's stop timeout on a slow server (found in review).
func TestProcessedMailMovesInOneCommandPerBatch(t *testing.T) {
	ms := startMemServer(t, memServerConfig{withProxy: true})
	const n = 40
	for i := 1; i <= n; i++ {
		ms.appendMsg(t, "INBOX", []byte(fmt.Sprintf("Message-ID: <m%d@example.cn>\r\nSubject: %d\r\n\r\nbody %d\r\n", i, i, i)))
	}
	in := &failingIntake{}
	pl := NewPipeline[gapPrep](in, PipelineOptions{
		IMAP: ms.options(), Mailbox: "INBOX", PollInterval: time.Second, Processed: "move", ProcessedFolder: "Processed",
		Backoff: Backoff{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); pl.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, committed := in.state(); len(committed) == n && len(ms.subjectsIn(t, "INBOX")) == 0 {
			break
		}
		if time.Now().After(deadline) {
			_, committed := in.state()
			t.Fatalf("after 20 s: %d committed, INBOX keeps %d", len(committed), len(ms.subjectsIn(t, "INBOX")))
		}
		time.Sleep(10 * time.Millisecond)
	}
	moves := 0
	for _, c := range ms.rec.commands() {
		if strings.HasPrefix(strings.ToUpper(c), "UID MOVE") {
			moves++
		}
	}
	if moves == 0 || moves > n/4 {
		t.Errorf("%d UID MOVE commands for %d mails, want one per batch", moves, n)
	}
}
