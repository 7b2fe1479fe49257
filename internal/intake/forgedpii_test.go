package intake_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/complaintd/complaintd/internal/store"
)

// lockedBuffer is a bytes.Buffer safe for the desk's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A mail that names a case and opens with a staff command word is refused as a forged
// command (refuseForged). The security alert it writes quotes the command as written
// names the action only: it quoted the command as written (the keyword line plus, for
// 驳回/已处理/…, its continuation lines), and so did the "message registered" log line;
// alerts are listed by the unauthenticated /healthz, so the complainant's phone and ID
// numbers reached /healthz and the log (found in review). Here someone writing from
// another mailbox than the complainant's asks for the case to be reopened.
func TestForgedCommandRefusalQuotesNoPersonalNumbers(t *testing.T) {
	logs := &lockedBuffer{}
	d := newDesk(t, withStaff(nil), func(c *config) {
		c.proc.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	o := d.open("zhang@example.cn", "pii-open@example.cn")
	const phone, idNo = "13912345678", "44030619851127301X"
	// From another mailbox than the complainant's: the complainant's own mail about
	// their case is their follow-up, not a forged command (review_flow_test.go).
	d.send(cmdMail{from: "张三 <zhang@other.example>", to: deskAddr, subject: "回复：[" + o.c.ID + "]", messageID: "pii-reopen@example.cn",
		body: "已处理：没有处理！文章还在。\n请回电 " + phone + "，身份证号 " + idNo + "\n\n张三"}.bytes())
	if msg := d.h.message("pii-reopen@example.cn"); msg == nil || msg.Role != "security" {
		t.Fatalf("registered message = %+v, want a refused (security) record", msg)
	}
	var alerts []store.Alert
	d.h.view(func(tx *store.Tx) error {
		var err error
		alerts, err = tx.OpenAlerts()
		return err
	})
	for _, a := range alerts {
		if strings.Contains(a.Message, phone) || strings.Contains(a.Message, idNo) {
			t.Errorf("open security alert (listed by the unauthenticated /healthz) holds personal numbers: %q", a.Message)
		}
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, phone) || strings.Contains(line, idNo) {
			t.Errorf("log line holds personal numbers: %s", line)
		}
	}
}
