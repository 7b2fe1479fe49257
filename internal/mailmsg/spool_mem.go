package mailmsg

import (
	"bytes"
	"fmt"
	"maps"
	"sync"
)

// MemSpool is an in-memory Spool for tests. Its zero value is ready to use and it is
// safe for concurrent use. FailCreate and FailWrite, when non-nil, are returned by
// Create and by SpoolFile.Write, to test how callers handle spool errors.
type MemSpool struct {
	FailCreate error
	FailWrite  error

	mu    sync.Mutex
	next  int
	files map[string][]byte
}

// Create starts a new in-memory file.
func (s *MemSpool) Create() (SpoolFile, error) {
	if s.FailCreate != nil {
		return nil, s.FailCreate
	}
	return &memFile{s: s}, nil
}

// Open returns the content of a committed file.
func (s *MemSpool) Open(id string) (*bytes.Reader, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[id]
	if !ok {
		return nil, fmt.Errorf("spool file %q not found", id)
	}
	return bytes.NewReader(b), nil
}

// Files returns a copy of the committed files by id.
func (s *MemSpool) Files() map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.files)
}

type memFile struct {
	s       *MemSpool
	buf     bytes.Buffer
	aborted bool
}

func (f *memFile) Write(p []byte) (int, error) {
	if f.s.FailWrite != nil {
		return 0, f.s.FailWrite
	}
	return f.buf.Write(p)
}

func (f *memFile) Commit() (string, error) {
	if f.aborted {
		return "", fmt.Errorf("commit after abort")
	}
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	f.s.next++
	id := fmt.Sprintf("mem-%d", f.s.next)
	if f.s.files == nil {
		f.s.files = map[string][]byte{}
	}
	f.s.files[id] = bytes.Clone(f.buf.Bytes())
	return id, nil
}

func (f *memFile) Abort() {
	f.aborted = true
	f.buf = bytes.Buffer{}
}
