package imapsource

import "testing"

func TestBufferPoolClasses(t *testing.T) {
	p := newBufferPool(64<<10, 8<<20, 16<<20)
	for _, size := range []int{0, 1, 64 << 10, 64<<10 + 1, 3 << 20, 8 << 20} {
		b := p.get(size)
		if len(b) != size || cap(b) < size || cap(b)&(cap(b)-1) != 0 && size > 0 {
			t.Fatalf("get(%d): len %d cap %d", size, len(b), cap(b))
		}
		p.put(b)
	}
	if b := p.get(9 << 20); len(b) != 9<<20 {
		t.Fatalf("oversized get: len %d", len(b))
	}
	p.put(make([]byte, 100<<10)) // foreign capacity: ignored, no panic
}

// Free buffers are reused, and kept only up to maxKept bytes.
func TestBufferPoolKeepsWithinItsBound(t *testing.T) {
	p := newBufferPool(64<<10, 8<<20, 4<<20)
	a := p.get(1 << 20)
	a[0] = 42
	p.put(a)
	if b := p.get(1<<20 - 5); &b[0] != &a[0] {
		t.Error("a free buffer of the class was not reused")
	}
	var bufs [][]byte
	for range 8 {
		bufs = append(bufs, p.get(1<<20))
	}
	for _, b := range bufs {
		p.put(b)
	}
	if p.kept != 4<<20 {
		t.Errorf("kept %d bytes of free buffers, want the bound %d", p.kept, 4<<20)
	}
}
