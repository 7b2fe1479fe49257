package imapsource_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/complaintd/complaintd/internal/demo/samplemail"
	"github.com/complaintd/complaintd/internal/imapsource"
)

// hookHandler calls fn for each log record with the given message, synchronously, in
// the goroutine that logs: a way to act at an exact point of the pipeline's flow.
type hookHandler struct {
	msg string
	fn  func()
}

func (h hookHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h hookHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.fn()
	}
	return nil
}
func (h hookHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h hookHandler) WithGroup(string) slog.Handler      { return h }

// The quarantine record is what an operator reads to find a mail the desk gave up on.
// Its Moved field must say where the mail really is. Here the connection drops between
// the record's commit and the move (the pipeline logs "message quarantined" in between),
// so the mail stays in INBOX, unflagged — and the record must not claim it was moved.
// (It failed while Moved was set from CanMove() before the move was tried.)
func TestQuarantineRecordSaysWhereTheMailIs(t *testing.T) {
	srv := newServers(t)
	var live atomic.Pointer[imapsource.Client]
	h := startHarness(t, srv, "", func(c *config) {
		c.proc.Limits.MaxMessageBytes = 4 << 10
		c.poll.Dial = func(ctx context.Context, o imapsource.Options) (*imapsource.Client, error) {
			cl, err := imapsource.Dial(ctx, o)
			if err == nil {
				live.Store(cl)
			}
			return cl, err
		}
		c.poll.Logger = slog.New(hookHandler{msg: "message quarantined", fn: func() {
			if cl := live.Load(); cl != nil {
				// As if the connection dropped: Close kills it at once and then
				// waits for the command in progress (this very callback) to end.
				go cl.Close()
			}
		}})
	})
	big := completeComplaint("张三|zhangsan@example.cn", "big@example.cn")
	big.Files = append(big.Files, samplemail.File{Name: "视频.mp4", ContentType: "video/mp4", Content: make([]byte, 16<<10)})
	uid := srv.deliver(t, big.Bytes())
	h.waitCheckpoint(uid)
	eventually(t, "quarantine record", func() bool { return len(h.quarantined()) == 1 })
	// After the reconnect, look at the mailbox.
	eventually(t, "a reconnect", func() bool { return h.metrics.IMAPConnects.Load() >= 2 })
	c, err := imapsource.Dial(context.Background(), srv.imapOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Select(context.Background(), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	stillInInbox := st.Messages == 1
	if q := h.quarantined()[0]; q.Moved && stillInInbox {
		t.Errorf("record says moved, but the mail is still in INBOX: %+v", q)
	}
}
