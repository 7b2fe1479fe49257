package backup

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The store's snapshot shows a case erased while the backup streams as it was when
// the backup began, not erased; its key file must be in the archive with it. The
// keys, walked last, were gone by then: the restored case read as open, without its
// complainant, its erasure event, or the list of its mails to delete.
func TestCaseErasedDuringBackupKeepsItsKeysWithTheSnapshot(t *testing.T) {
	att := filepath.Join(t.TempDir(), "attachments")
	write(t, filepath.Join(att, "TS-2026-000002", "b.pack"), "sealed pack")
	write(t, filepath.Join(att, "keys", "TS-2026-000002.keys"), "sealed keys")
	big := make([]byte, 1<<20) // the store's copy: the erasure commits while it streams
	rand.Read(big)
	w := &stallingWriter{stalled: make(chan struct{}), resume: make(chan struct{})}
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		_, err := Write(&teeWriter{w, &out}, Source{Store: fakeStore{big}, AttachmentsDir: att, Version: "test", Now: time.Now()})
		done <- err
	}()
	<-w.stalled
	os.Remove(filepath.Join(att, "keys", "TS-2026-000002.keys"))
	os.RemoveAll(filepath.Join(att, "TS-2026-000002"))
	close(w.resume)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m, err := Verify(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files {
		if f.Name == "attachments/keys/TS-2026-000002.keys" {
			return
		}
	}
	t.Errorf("the archive's store holds the case not erased, but its key file is not archived: %+v", m.Files)
}

type teeWriter struct {
	a, b interface{ Write([]byte) (int, error) }
}

func (t *teeWriter) Write(p []byte) (int, error) {
	t.b.Write(p)
	return t.a.Write(p)
}
