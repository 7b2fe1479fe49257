package mailmsg

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds hostile bytes to Parse, seeded with the whole corpus. Invariants:
// no panic, a nil error comes with a non-nil Message, everything returned is valid
// UTF-8, and every stored attachment is in the spool with its size and hash.
// Crashers found by `go test -fuzz` are kept in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.eml"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		spool := &MemSpool{}
		m, err := Parse(bytes.NewReader(raw), spool, Limits{MaxMessageBytes: 1 << 20, MaxParts: 100, MaxDepth: 10})
		if err != nil {
			var le *LimitError
			if !errors.As(err, &le) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if m == nil {
			t.Fatal("nil Message with nil error")
		}
		checkUTF8(t, m)
		checkSpool(t, m, spool)
	})
}
