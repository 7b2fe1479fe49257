package imapsource

import (
	"math/rand/v2"
	"time"
)

// Backoff computes reconnect delays: exponential from Min to Max, with
// "equal jitter" (each delay is uniformly drawn from [max(d/2, Min), d] where
// d is the exponential step), so that many daemons restarted together do not hammer
// the server in lockstep. The zero value uses 1s and 5m. Not safe for
// concurrent use; one reconnect loop owns one Backoff.
type Backoff struct {
	// Min is the first step. Zero means 1s.
	Min time.Duration
	// Max caps every step. Zero means 5m. A Max below Min is raised to Min.
	Max time.Duration
	// Rand returns a number in [0, 1). Nil means math/rand/v2's Float64;
	// tests set it to make delays deterministic.
	Rand func() float64

	attempt int
}

// Next returns the delay before the next attempt and advances the sequence.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = 5 * time.Minute
	}
	hi = max(hi, lo)
	d := lo
	for i := 0; i < b.attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	if d < hi {
		b.attempt++
	}
	r := rand.Float64
	if b.Rand != nil {
		r = b.Rand
	}
	floor := max(d/2, lo)
	return floor + time.Duration(r()*float64(d-floor))
}

// Reset starts the sequence again from Min; call it after a connection has
// been working.
func (b *Backoff) Reset() { b.attempt = 0 }
