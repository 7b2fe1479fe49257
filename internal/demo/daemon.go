package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// daemon is the injected daemon running in the background.
type daemon struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when run returned
	err    error         // run's result, set before done closes
	once   sync.Once
}

func startDaemon(ctx context.Context, run func(context.Context) error) *daemon {
	ctx, cancel := context.WithCancel(ctx)
	d := &daemon{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		d.err = run(ctx)
	}()
	return d
}

// stop ends the daemon and waits until it has shut down; calling it again
// returns the same result.
func (d *daemon) stop() error {
	d.once.Do(d.cancel)
	<-d.done
	return d.err
}

// waitFor polls cond until it holds. It gives up when ctx ends, and at once
// when the daemon ended early (a configuration it refused, a store it could
// not open), instead of waiting out the timeout.
func (d *daemon) waitFor(ctx context.Context, what string, cond func() bool) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-d.done:
			err := d.err
			if err == nil {
				err = errors.New("it returned early")
			}
			return fmt.Errorf("waiting for %s: the daemon stopped: %w", what, err)
		case <-tick.C:
		}
	}
	return nil
}
