package dispatch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/outbox"
	"github.com/complaintd/complaintd/internal/store"
)

// Found in review of a487c1d (fixed since): a mail of no case keeps its headers only once sent, but only
// when try() records it. A digest accepted by the relay whose result the process
// died before writing is recorded at the next start from the journal (replay), and
// replay writes the entry as it reads it: body and attachments (names, articles,
// the weekly CSV) stay in clear for good. The crash test counts ~20 such replies a run.
func TestReplayedMailOfNoCaseKeepsItsHeadersOnly(t *testing.T) {
	st := internalStore(t)
	digest := &store.OutboxEntry{Kind: "digest", MessageID: "digest.r2@desk.example.cn", To: []string{"staff@example.cn"},
		Mail: []byte(`{"message_id":"digest.r2@desk.example.cn","from":{"address":"desk@desk.example.cn"},"to":[{"address":"staff@example.cn"}],` +
			`"subject":"每日汇总","text":"张三丰 申请删除《我的邻居》","attachments":[{"filename":"w.csv","content_type":"text/csv","data":"5byg5LiJ"}]}`),
		NextAt: time.Now().Add(-time.Minute), CreatedAt: time.Now()}
	if err := st.Update(func(tx *store.Tx) error { return tx.Enqueue(digest) }); err != nil {
		t.Fatal(err)
	}
	// The previous life: the relay accepted it, the journal noted it, the process died.
	path := filepath.Join(t.TempDir(), "outbox.journal")
	rec := accepted{seq: digest.Seq, at: time.Now(), attempts: 1, hash: replyHash(digest)}
	if err := os.WriteFile(path, rec.encode(), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &countingSender{accepted: map[string]int{}}
	drain(t, Options{Store: st, Sender: s, SendTimeout: 5 * time.Second, Journal: path})
	if n := s.count(digest.MessageID); n != 0 {
		t.Fatalf("setup: the journalled digest was sent again %d times", n)
	}
	st.View(func(tx *store.Tx) error {
		e, err := tx.OutboxEntry(digest.Seq)
		if err != nil {
			t.Fatal(err)
		}
		var m outbox.Mail
		if err := json.Unmarshal(e.Mail, &m); err != nil {
			t.Fatal(err)
		}
		if e.State != store.OutboxSent || m.Text != "" || len(m.Attachments) != 0 {
			t.Errorf("digest recorded from the journal kept as state %s, text %q, %d attachments; want its headers only", e.State, m.Text, len(m.Attachments))
		}
		return nil
	})
}
