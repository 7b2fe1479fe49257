package mailmsg

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// cancelAt cancels its context once more than at bytes were read through it: the
// budget runs out at a known place in the message.
type cancelAt struct {
	r      io.Reader
	n, at  int
	cancel context.CancelFunc
}

func (c *cancelAt) Read(p []byte) (int, error) {
	if len(p) > 512 {
		p = p[:512] // small reads, so the cut falls inside the second file
	}
	n, err := c.r.Read(p)
	if c.n += n; c.n > c.at {
		c.cancel()
	}
	return n, err
}

// TestParseStopsAtTheBudget: when the message's context ends, the parse stops where it
// is with no error; the files read in time are kept, the one being read is listed
// with the reason and no content, the rest is not walked (issue 13, 3).
func TestParseStopsAtTheBudget(t *testing.T) {
	second := strings.Repeat("B", 64<<10)
	raw := "From: a@example.com\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n" +
		"--b\r\nContent-Type: application/pdf; name=first.pdf\r\n\r\nfirst\r\n" +
		"--b\r\nContent-Type: application/pdf; name=second.pdf\r\n\r\n" + second + "\r\n" +
		"--b\r\nContent-Type: application/pdf; name=third.pdf\r\n\r\nthird\r\n--b--\r\n"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	at := strings.Index(raw, second) + len(second)/2
	spool := &MemSpool{}
	m, err := ParseContext(ctx, &cancelAt{r: strings.NewReader(raw), at: at, cancel: cancel}, spool, Limits{})
	if err != nil {
		t.Fatalf("ParseContext: %v (a spent budget is not an error)", err)
	}
	if !m.Stopped || !hasProblem(m, "time budget") {
		t.Errorf("Stopped = %v, Problems = %q: want the stop recorded", m.Stopped, m.Problems)
	}
	if m.From.Address != "a@example.com" || m.Text != "body" {
		t.Errorf("header or text lost: from %q text %q", m.From.Address, m.Text)
	}
	if len(m.Attachments) != 2 {
		t.Fatalf("Attachments = %+v, want first (kept) and second (listed, not read)", m.Attachments)
	}
	if a := m.Attachments[0]; a.Filename != "first.pdf" || a.SpoolID == "" {
		t.Errorf("first = %+v, want kept", a)
	}
	if a := m.Attachments[1]; a.Filename != "second.pdf" || a.SpoolID != "" || a.Skipped != budgetSkipped {
		t.Errorf("second = %+v, want listed with Skipped %q", a, budgetSkipped)
	}
	if n := len(spool.Files()); n != 1 {
		t.Errorf("spool holds %d files, want only the first", n)
	}
}

// TestParseBudgetBoundsAHugeMessage: a message far bigger than what a budget allows is
// cut off soon after the deadline, not read to its end. The budget runs out once 1 MB
// of the body is read (the reader cancels it): a fixed 20 ms ran out before the
// header was read on a loaded machine under -race, and the test failed on that.
func TestParseBudgetBoundsAHugeMessage(t *testing.T) {
	body := bytes.Repeat([]byte("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n"), 1<<20) // 66 MB of base64 lines
	raw := append([]byte("From: a@example.com\r\nContent-Type: application/octet-stream; name=x.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"), body...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &countRead{r: bytes.NewReader(raw), cancelAt: 1 << 20, cancel: cancel}
	m, err := ParseContext(ctx, r, &MemSpool{}, Limits{MaxMessageBytes: 1 << 30, MaxAttachmentBytes: 1 << 30})
	if err != nil {
		t.Fatalf("ParseContext: %v", err)
	}
	if !m.Stopped {
		t.Errorf("the message was parsed to its end (%d bytes read) although its budget ran out", r.n)
	}
	if r.n >= len(raw) {
		t.Errorf("read %d of %d bytes: the budget did not stop the read", r.n, len(raw))
	}
}

type countRead struct {
	r        io.Reader
	n        int
	cancelAt int    // after this many bytes, cancel (0: never)
	cancel   func() // the budget's
}

func (c *countRead) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	if c.cancel != nil && c.cancelAt > 0 && c.n >= c.cancelAt {
		c.cancel()
	}
	return n, err
}
