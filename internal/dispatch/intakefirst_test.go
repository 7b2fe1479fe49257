package dispatch_test

import (
	"context"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/dispatch"
)

// TestIntakeFirstHoldsSendingWithinItsBounds: while intake reports a backlog of
// more than IntakeFirst.Backlog mails, nothing is sent, until the replies of
// IntakeFirst.Mails mails were queued, Most has passed or the backlog is caught up;
// after a bound ends the wait, the same backlog does not start another, and a small
// catch-up never starts one (issue 18: replies and intake share the machine).
func TestIntakeFirstHoldsSendingWithinItsBounds(t *testing.T) {
	run := func(t *testing.T, first dispatch.IntakeFirst) (*fixture, func()) {
		t.Helper()
		f := newFixture(t, &fakeSender{}, func(o *dispatch.Options) { o.IntakeFirst = first })
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- f.d.Run(ctx) }()
		return f, func() { cancel(); <-done }
	}
	sentWithin := func(t *testing.T, f *fixture, want int, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			_, sent := f.sender.count()
			if sent >= want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d replies sent after %v, want %d", sent, within, want)
			}
			time.Sleep(5 * time.Millisecond) // polling interval
		}
	}
	noneSentFor := func(t *testing.T, f *fixture, d time.Duration) {
		t.Helper()
		time.Sleep(d)
		if _, sent := f.sender.count(); sent != 0 {
			t.Fatalf("%d replies sent while intake catches up on its backlog", sent)
		}
	}
	queue := func(t *testing.T, f *fixture, n int) {
		t.Helper()
		for range n {
			f.enqueue(t, nil)
			f.d.Queued()
		}
	}

	t.Run("until the backlog is caught up", func(t *testing.T) {
		f, stop := run(t, dispatch.IntakeFirst{Backlog: 10, Mails: 100, Most: time.Minute})
		defer stop()
		f.d.IntakeBacklog(50)
		queue(t, f, 3)
		noneSentFor(t, f, 300*time.Millisecond)
		f.d.IntakeBacklog(0)
		sentWithin(t, f, 3, 10*time.Second)
		if waited := time.Duration(f.m.OutboxYield.Load()); waited < 300*time.Millisecond {
			t.Errorf("the wait for intake counted %v, want at least the 300ms it lasted", waited)
		}
	})
	t.Run("counted from the start of the wait", func(t *testing.T) {
		f, stop := run(t, dispatch.IntakeFirst{Backlog: 10, Mails: 100, Most: time.Minute})
		defer stop()
		time.Sleep(50 * time.Millisecond) // the loop idle, waiting for mail
		f.d.IntakeBacklog(50)
		time.Sleep(300 * time.Millisecond)
		f.d.IntakeBacklog(0)
		queue(t, f, 1)
		sentWithin(t, f, 1, 10*time.Second)
		if waited := time.Duration(f.m.OutboxYield.Load()); waited < 250*time.Millisecond {
			t.Errorf("the wait for intake counted %v, want about the 300ms it lasted", waited)
		}
	})
	t.Run("down to the backlog threshold", func(t *testing.T) {
		f, stop := run(t, dispatch.IntakeFirst{Backlog: 10, Mails: 100, Most: time.Minute})
		defer stop()
		f.d.IntakeBacklog(50)
		queue(t, f, 2)
		noneSentFor(t, f, 200*time.Millisecond)
		f.d.IntakeBacklog(10)
		sentWithin(t, f, 2, 10*time.Second)
	})
	t.Run("until the replies of Mails mails are queued", func(t *testing.T) {
		f, stop := run(t, dispatch.IntakeFirst{Backlog: 10, Mails: 5, Most: time.Minute})
		defer stop()
		f.d.IntakeBacklog(50)
		queue(t, f, 4)
		noneSentFor(t, f, 200*time.Millisecond)
		queue(t, f, 1)
		sentWithin(t, f, 5, 10*time.Second)
		// The same backlog, reported again, does not hold sending a second time.
		f.d.IntakeBacklog(40)
		queue(t, f, 1)
		sentWithin(t, f, 6, 10*time.Second)
		// A new backlog after intake caught up does.
		f.d.IntakeBacklog(0)
		f.d.IntakeBacklog(50)
		queue(t, f, 1)
		time.Sleep(200 * time.Millisecond)
		if _, sent := f.sender.count(); sent != 6 {
			t.Fatalf("%d replies sent during a new backlog, want the 6 sent before it", sent)
		}
	})
	t.Run("for Most at the longest", func(t *testing.T) {
		const most = 300 * time.Millisecond
		f, stop := run(t, dispatch.IntakeFirst{Backlog: 10, Mails: 100, Most: most})
		defer stop()
		begin := time.Now()
		f.d.IntakeBacklog(50)
		queue(t, f, 2)
		sentWithin(t, f, 2, 10*time.Second)
		if waited := time.Since(begin); waited < most {
			t.Errorf("sending began %v after the backlog was reported, want its bound of %v", waited, most)
		}
	})
	t.Run("not for a small catch-up", func(t *testing.T) {
		f, stop := run(t, dispatch.IntakeFirst{Backlog: 10, Mails: 100, Most: time.Minute})
		defer stop()
		f.d.IntakeBacklog(10)
		queue(t, f, 2)
		sentWithin(t, f, 2, 2*time.Second)
	})
}
