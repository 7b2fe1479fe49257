package dispatch_test

import (
	"context"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/dispatch"
)

// TestWaitBehindPacesOnTheReplies: Behind counts the due replies not sent yet, and
// WaitBehind holds its caller while more than the limit are, until sending catches
// up, or for its bound at most when sending does not (issue 18: a backlog's replies
// fell behind its intake by thousands).
func TestWaitBehindPacesOnTheReplies(t *testing.T) {
	b := &blockingSender{started: make(chan struct{}, 16), release: make(chan struct{})}
	f := newFixture(t, nil, func(o *dispatch.Options) { o.Sender = b; o.Sessions = 2; o.Now = time.Now })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if n := f.d.Behind(); n != 0 {
		t.Fatalf("Behind = %d before anything was queued", n)
	}
	begin := time.Now()
	f.d.WaitBehind(ctx, 0, time.Minute)
	if waited := time.Since(begin); waited > time.Second {
		t.Fatalf("WaitBehind waited %v with nothing behind", waited)
	}
	for range 6 {
		f.enqueue(t, nil)
	}
	done := make(chan error, 1)
	go func() { done <- f.d.Run(ctx) }()
	defer func() { cancel(); close(b.release); <-done }()
	<-b.started
	deadline := time.Now().Add(10 * time.Second)
	for f.d.Behind() != 6 {
		if time.Now().After(deadline) {
			t.Fatalf("Behind = %d with 6 replies due and none sent, want 6", f.d.Behind())
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}

	// Sending is stuck: the wait ends at its bound.
	begin = time.Now()
	f.d.WaitBehind(ctx, 3, 150*time.Millisecond)
	if waited := time.Since(begin); waited < 150*time.Millisecond || waited > 5*time.Second {
		t.Errorf("WaitBehind with sending stuck took %v, want its bound of 150ms", waited)
	}

	// Sending goes on: the wait ends once no more than 3 are behind.
	waited := make(chan int, 1)
	go func() {
		f.d.WaitBehind(ctx, 3, time.Minute)
		waited <- f.d.Behind()
	}()
	select {
	case n := <-waited:
		t.Fatalf("WaitBehind returned with %d behind and nothing sent", n)
	case <-time.After(100 * time.Millisecond):
	}
	for sent := 1; ; sent++ {
		b.release <- struct{}{}
		select {
		case n := <-waited:
			if n > 3 || sent < 3 {
				t.Fatalf("WaitBehind returned with %d behind after %d sent, want at most 3 behind", n, sent)
			}
			return
		case <-b.started:
		case <-time.After(10 * time.Second):
			t.Fatalf("no progress after %d sent", sent)
		}
	}
}
