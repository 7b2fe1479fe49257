package imapsource

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		name string
		b    Backoff
		rnd  float64
		want []time.Duration
	}{
		{"doubles up to Max with no jitter draw", Backoff{Min: time.Second, Max: 10 * time.Second}, 0.999999999,
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}},
		{"lowest draw stays at half the step but never below Min", Backoff{Min: time.Second, Max: 10 * time.Second}, 0,
			[]time.Duration{time.Second, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second}},
		{"zero value uses 1s..5m", Backoff{}, 0.999999999,
			[]time.Duration{time.Second, 2 * time.Second}},
		{"Max below Min is raised", Backoff{Min: time.Minute, Max: time.Second}, 0.999999999,
			[]time.Duration{time.Minute, time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b
			b.Rand = func() float64 { return tt.rnd }
			for i, want := range tt.want {
				got := b.Next().Round(time.Millisecond)
				if got != want {
					t.Fatalf("step %d = %v, want %v", i, got, want)
				}
			}
		})
	}
}

func TestBackoffJitterAndReset(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	seen := map[time.Duration]bool{}
	for range 50 {
		b.Reset()
		b.Next()
		d := b.Next() // step 200ms: drawn from [100ms, 200ms]
		if d < 100*time.Millisecond || d > 200*time.Millisecond {
			t.Fatalf("second delay %v outside [100ms, 200ms]", d)
		}
		seen[d] = true
	}
	if len(seen) < 2 {
		t.Error("no jitter: 50 draws gave one value")
	}
	b.Reset()
	if d := b.Next(); d != 100*time.Millisecond {
		t.Errorf("after Reset first delay = %v, want Min", d)
	}
}
