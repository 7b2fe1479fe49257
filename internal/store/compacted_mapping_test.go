package store

import (
	"path/filepath"
	"testing"
	"time"
)

// The migration of a schema-1 file compacts it into a new file and runs on with
// that one. It was opened with bbolt's default mapping, not the large one Open
// makes, so for the whole first run after the upgrade an online backup (a long
// read) stalled every write that grew the file: intake and the outbox.
func TestLongReadDoesNotStallWritesAfterMigrationCompacted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	st := clearStore(t, path, "310101198001010018", true)
	defer st.Close()
	st.SetSealer(&fakeSealer{keys: map[string][]byte{}})
	if rep, err := st.Migrate(); err != nil || !rep.Compacted {
		t.Fatal(rep, err)
	}
	if !growingWritesPassALongRead(t, st, 20*time.Second) {
		t.Fatal("after the migration's compaction, writes that grow the file waited for a long read")
	}
}
