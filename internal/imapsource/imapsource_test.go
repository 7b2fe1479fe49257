package imapsource

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

func TestDialSelectAgainstMemServer(t *testing.T) {
	ms := startMemServer(t, memServerConfig{withProxy: true})
	for i := 1; i <= 3; i++ {
		ms.appendMsg(t, "INBOX", testMessage(i))
	}
	c := dialT(t, ms.options())

	st, err := c.Select(context.Background(), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 3 || st.UIDNext != 4 || st.UIDValidity == 0 || st.Name != "INBOX" {
		t.Errorf("select = %+v, want 3 messages, uidnext 4, non-zero uidvalidity", st)
	}
	if !c.Has("move") || !c.CanMove() || !c.CanIdle() || !c.Caps()["UIDPLUS"] {
		t.Errorf("caps = %v, want MOVE, UIDPLUS and IDLE", c.Caps())
	}
	// imapmemserver does not offer ID, so none may be sent.
	if ms.rec.sent("ID ") {
		t.Errorf("ID sent to a server that does not offer it: %q", ms.rec.commands())
	}
	if !ms.rec.sent("SELECT INBOX") {
		t.Errorf("no read-write SELECT in %q", ms.rec.commands())
	}
}

func TestDialWrongPasswordIsAuthError(t *testing.T) {
	ms := startMemServer(t, memServerConfig{})
	o := ms.options()
	o.Password = "wrong"
	c, err := Dial(context.Background(), o)
	if err == nil {
		c.Close()
		t.Fatal("dial with a wrong password succeeded")
	}
	if !errors.Is(err, ErrAuthFailed) || IsConnError(err) {
		t.Errorf("err = %v; want ErrAuthFailed and not a connection error", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestDialSendsIDWhenOffered(t *testing.T) {
	tests := []struct {
		name   string
		caps   string
		id     map[string]string
		wantID string // substring of the ID command; "" means no ID may be sent
	}{
		{"163-style server offers ID: default identity sent", "ID IDLE", nil, `"name" "complaintd"`},
		{"configured identity is sent as given", "ID", map[string]string{"name": "desk", "vendor": "portal"}, `"vendor" "portal"`},
		{"no ID capability: no ID command", "IDLE", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeServer{caps: tt.caps, permFlags: `\*`}
			f.start(t)
			o := f.options()
			o.ClientID = tt.id
			c := dialT(t, o)
			if _, err := c.Select(context.Background(), "INBOX"); err != nil {
				t.Fatal(err)
			}
			cmds := f.rec.commands()
			idAt := slices.IndexFunc(cmds, func(s string) bool { return strings.HasPrefix(s, "ID ") })
			selectAt := slices.IndexFunc(cmds, func(s string) bool { return strings.HasPrefix(s, "SELECT") })
			loginAt := slices.IndexFunc(cmds, func(s string) bool { return strings.HasPrefix(s, "LOGIN") })
			if tt.wantID == "" {
				if idAt >= 0 {
					t.Fatalf("ID sent: %q", cmds)
				}
				return
			}
			if idAt < 0 || !strings.Contains(cmds[idAt], tt.wantID) {
				t.Fatalf("commands %q: want an ID containing %s", cmds, tt.wantID)
			}
			if !(loginAt < idAt && idAt < selectAt) {
				t.Errorf("order login=%d id=%d select=%d; want login, ID, then SELECT", loginAt, idAt, selectAt)
			}
		})
	}
}

func TestDialRejectsUnknownIDKey(t *testing.T) {
	_, err := Dial(context.Background(), Options{Host: "127.0.0.1", Port: 1, ClientID: map[string]string{"colour": "red"}})
	if err == nil || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("err = %v, want a complaint about the key", err)
	}
}

func TestAuthenticatePlainWhenLoginDisabled(t *testing.T) {
	f := &fakeServer{caps: "LOGINDISABLED AUTH=PLAIN", permFlags: `\*`}
	f.start(t)
	dialT(t, f.options())
	if f.rec.sent("LOGIN ") || !f.rec.sent("AUTHENTICATE PLAIN") {
		t.Errorf("commands %q: want AUTHENTICATE PLAIN and no LOGIN", f.rec.commands())
	}
}

func TestUIDsAfter(t *testing.T) {
	ms := startMemServer(t, memServerConfig{})
	for i := 1; i <= 5; i++ {
		ms.appendMsg(t, "INBOX", testMessage(i))
	}
	// The trap is real on this server: "7:*" answers the highest UID (5).
	raw := ms.inspect(t, "INBOX")
	trap, err := raw.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{{imap.UIDRange{Start: 7}}}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if got := trap.AllUIDs(); len(got) != 1 || got[0] != 5 {
		t.Fatalf("server answers 7:* with %v; the test assumes [5]", got)
	}

	c := dialT(t, ms.options())
	if _, err := c.Select(context.Background(), "INBOX"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		after uint32
		want  []uint32
	}{
		{"fresh checkpoint returns everything", 0, []uint32{1, 2, 3, 4, 5}},
		{"mid checkpoint returns the rest in order", 2, []uint32{3, 4, 5}},
		{"checkpoint at the last UID: n:* trap returns 5, filtered", 5, nil},
		{"checkpoint beyond the last UID: trap filtered", 9, nil},
		{"largest UID: nothing can follow", math.MaxUint32, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.UIDsAfter(context.Background(), tt.after)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("UIDsAfter(%d) = %v, want %v", tt.after, got, tt.want)
			}
		})
	}
}

func TestCallsBeforeSelect(t *testing.T) {
	ms := startMemServer(t, memServerConfig{})
	c := dialT(t, ms.options())
	ctx := context.Background()
	if _, err := c.UIDsAfter(ctx, 0); !errors.Is(err, ErrNoMailbox) {
		t.Errorf("UIDsAfter: %v", err)
	}
	if err := c.Fetch(ctx, 1, func(io.Reader, int64) error { return nil }); !errors.Is(err, ErrNoMailbox) {
		t.Errorf("Fetch: %v", err)
	}
	if err := c.WaitForChange(ctx, time.Millisecond); !errors.Is(err, ErrNoMailbox) {
		t.Errorf("WaitForChange: %v", err)
	}
}

// bigMessage returns a syntactically valid message of at least size bytes.
func bigMessage(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: big@example.org\r\nTo: desk@example.com\r\nSubject: big\r\n\r\n")
	line := strings.Repeat("0123456789abcdef", 4) + "\r\n"
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "%08d ", i)
		b.WriteString(line)
	}
	return b.Bytes()
}

func TestFetchStreamsLargeMessage(t *testing.T) {
	ms := startMemServer(t, memServerConfig{withProxy: true})
	size := 25 << 20
	if testing.Short() {
		size = 2 << 20
	}
	msg := bigMessage(size)
	uid := ms.appendMsg(t, "INBOX", msg)
	c := dialT(t, ms.options())
	if _, err := c.Select(context.Background(), "INBOX"); err != nil {
		t.Fatal(err)
	}

	h := sha256.New()
	var n, gotSize int64
	err := c.Fetch(context.Background(), uid, func(r io.Reader, size int64) error {
		gotSize = size
		buf := make([]byte, 32<<10) // the message never sits in memory whole
		for {
			k, err := r.Read(buf)
			h.Write(buf[:k])
			n += int64(k)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(msg)
	if n != int64(len(msg)) || gotSize != int64(len(msg)) || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("streamed %d bytes (size %d), want %d with matching sha256", n, gotSize, len(msg))
	}
	if !ms.rec.sent(fmt.Sprintf("UID FETCH %d", uid)) || !strings.Contains(strings.Join(ms.rec.commands(), "\n"), "BODY.PEEK[]") {
		t.Errorf("commands %q: want UID FETCH with BODY.PEEK[]", ms.rec.commands())
	}
	for _, c := range ms.rec.commands() {
		if strings.Contains(c, "BODYSTRUCTURE") || strings.Contains(c, "ENVELOPE") {
			t.Errorf("fetch asked for %q", c)
		}
	}
	if slices.Contains(ms.flagsOf(t, "INBOX", uid), imap.FlagSeen) {
		t.Error("fetch set \\Seen")
	}
}

func TestFetchErrors(t *testing.T) {
	ms := startMemServer(t, memServerConfig{})
	uid := ms.appendMsg(t, "INBOX", testMessage(1))
	c := dialT(t, ms.options())
	ctx := context.Background()
	if _, err := c.Select(ctx, "INBOX"); err != nil {
		t.Fatal(err)
	}

	t.Run("vanished UID is ErrNotFound and the session survives", func(t *testing.T) {
		err := c.Fetch(ctx, uid+100, func(io.Reader, int64) error {
			t.Error("callback called for a missing message")
			return nil
		})
		if !errors.Is(err, ErrNotFound) || IsConnError(err) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("callback error is returned, not a connection error", func(t *testing.T) {
		boom := errors.New("disk full")
		err := c.Fetch(ctx, uid, func(r io.Reader, _ int64) error {
			_, _ = io.ReadFull(r, make([]byte, 10)) // leave the rest unread
			return boom
		})
		if !errors.Is(err, boom) || IsConnError(err) {
			t.Fatalf("err = %v, want the callback's error", err)
		}
	})
	t.Run("next fetch still works and reads the whole message", func(t *testing.T) {
		var got []byte
		err := c.Fetch(ctx, uid, func(r io.Reader, _ int64) error {
			var err error
			got, err = io.ReadAll(r)
			return err
		})
		if err != nil || !bytes.Equal(got, testMessage(1)) {
			t.Fatalf("fetch = %q, %v", got, err)
		}
	})
}

func TestAddFlags(t *testing.T) {
	ms := startMemServer(t, memServerConfig{withProxy: true})
	uid := ms.appendMsg(t, "INBOX", testMessage(1))
	c := dialT(t, ms.options())
	ctx := context.Background()
	if _, err := c.Select(ctx, "INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddFlags(ctx, uid, "$Complaintd-Processed", `\Flagged`); err != nil {
		t.Fatal(err)
	}
	flags := ms.flagsOf(t, "INBOX", uid)
	has := func(want imap.Flag) bool { // keywords are case-insensitive (RFC 9051 section 2.3.2)
		return slices.ContainsFunc(flags, func(f imap.Flag) bool { return strings.EqualFold(string(f), string(want)) })
	}
	if !has("$Complaintd-Processed") || !has(imap.FlagFlagged) || has(imap.FlagSeen) {
		t.Errorf("flags = %v, want the keyword and \\Flagged, not \\Seen", flags)
	}

	before := len(ms.rec.commands())
	for _, bad := range []string{`\Deleted`, `\recent`, "two words", "", `a\b`} {
		if err := c.AddFlags(ctx, uid, bad); err == nil {
			t.Errorf("AddFlags(%q) accepted", bad)
		}
	}
	if after := ms.rec.commands(); len(after) != before {
		t.Errorf("refused flags still sent commands: %q", after[before:])
	}
}

func TestAddFlagsRespectsPermanentFlags(t *testing.T) {
	tests := []struct {
		name      string
		permFlags string
		flag      string
		wantErr   error // nil: STORE sent
	}{
		{"keyword without \\* is refused locally", `\Seen \Flagged`, "$Complaintd-Processed", ErrFlagsUnsupported},
		{"listed system flag is stored", `\Seen \Flagged`, `\Flagged`, nil},
		{"unlisted system flag is refused", `\Seen`, `\Flagged`, ErrFlagsUnsupported},
		{"keyword with \\* is stored", `\Flagged \*`, "$Complaintd-Processed", nil},
		{"no PERMANENTFLAGS: let the server decide", "-", "$Complaintd-Processed", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeServer{caps: "UIDPLUS", permFlags: tt.permFlags}
			f.start(t)
			c := dialT(t, f.options())
			if _, err := c.Select(context.Background(), "INBOX"); err != nil {
				t.Fatal(err)
			}
			err := c.AddFlags(context.Background(), 7, tt.flag)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if sent := f.rec.sent("UID STORE 7"); sent != (tt.wantErr == nil) {
				t.Errorf("STORE sent = %v; commands %q", sent, f.rec.commands())
			}
		})
	}
}

func TestMoveAgainstMemServer(t *testing.T) {
	tests := []struct {
		name     string
		caps     imap.CapSet
		wantCmds []string // command prefixes that must appear
	}{
		{"MOVE server uses UID MOVE", imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapMove: {}, imap.CapUIDPlus: {}},
			[]string{`UID MOVE 2 "Quarantine"`}},
		{"UIDPLUS-only server uses COPY, STORE, UID EXPUNGE of that UID", imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}},
			[]string{`UID COPY 2 "Quarantine"`, `UID STORE 2 +FLAGS.SILENT (\Deleted)`, "UID EXPUNGE 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := startMemServer(t, memServerConfig{caps: tt.caps, withProxy: true})
			for i := 1; i <= 3; i++ {
				ms.appendMsg(t, "INBOX", testMessage(i))
			}
			// Someone else's message marked \Deleted must survive our move.
			if err := ms.inspect(t, "INBOX").Store(imap.UIDSetNum(3), &imap.StoreFlags{
				Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted},
			}, nil).Close(); err != nil {
				t.Fatal(err)
			}
			c := dialT(t, ms.options())
			ctx := context.Background()
			if _, err := c.Select(ctx, "INBOX"); err != nil {
				t.Fatal(err)
			}
			if err := c.Move(ctx, 2, "Quarantine"); err != nil {
				t.Fatal(err)
			}
			got, err := c.UIDsAfter(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, []uint32{1, 3}) {
				t.Errorf("INBOX after move = %v, want [1 3] (uid 3 is \\Deleted but not ours)", got)
			}
			for _, want := range tt.wantCmds {
				if !ms.rec.sent(want) {
					t.Errorf("commands %q: missing %q", ms.rec.commands(), want)
				}
			}
			for _, cmd := range ms.rec.commands() {
				if strings.EqualFold(cmd, "EXPUNGE") {
					t.Errorf("plain EXPUNGE sent: %q", ms.rec.commands())
				}
			}
			st, err := c.Select(ctx, "Quarantine")
			if err != nil || st.Messages != 1 {
				t.Fatalf("Quarantine = %+v, %v; want 1 message", st, err)
			}
		})
	}
}

func TestMoveWithoutMoveCapability(t *testing.T) {
	tests := []struct {
		name     string
		caps     string
		wantErr  error
		wantCmds []string
	}{
		{"neither MOVE nor UIDPLUS: refuse and touch nothing", "IDLE", ErrMoveUnsupported, nil},
		{"UIDPLUS without MOVE: exact UID EXPUNGE", "UIDPLUS", nil,
			[]string{`CREATE "Quarantine"`, `UID COPY 7 "Quarantine"`, `UID STORE 7 +FLAGS.SILENT (\Deleted)`, "UID EXPUNGE 7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeServer{caps: tt.caps, permFlags: `\*`}
			f.start(t)
			c := dialT(t, f.options())
			ctx := context.Background()
			if _, err := c.Select(ctx, "INBOX"); err != nil {
				t.Fatal(err)
			}
			err := c.Move(ctx, 7, "Quarantine")
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if IsConnError(err) {
				t.Errorf("%v is a connection error", err)
			}
			var got []string
			for _, cmd := range f.rec.commands() {
				switch strings.Fields(strings.ToUpper(cmd))[0] {
				case "CAPABILITY", "LOGIN", "SELECT", "LOGOUT":
				default:
					got = append(got, cmd)
				}
			}
			if !slices.Equal(got, tt.wantCmds) {
				t.Errorf("commands after SELECT = %q, want %q", got, tt.wantCmds)
			}
		})
	}
}

func TestWatchdog(t *testing.T) {
	t.Run("stalled greeting-only server: dial fails", func(t *testing.T) {
		f := &fakeServer{greetingOnly: true}
		f.start(t)
		o := f.options()
		o.CommandTimeout = 200 * time.Millisecond
		done := make(chan error, 1)
		go func() {
			c, err := Dial(context.Background(), o)
			if err == nil {
				c.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if !IsConnError(err) || !errors.Is(err, ErrTimeout) {
				t.Fatalf("err = %v, want a timeout connection error", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Dial did not return: watchdog did not fire")
		}
	})

	t.Run("stalled command kills the session; later calls fail fast", func(t *testing.T) {
		f := &fakeServer{caps: "UIDPLUS", permFlags: `\*`, stall: map[string]bool{"UID SEARCH": true}}
		f.start(t)
		o := f.options()
		o.CommandTimeout = 200 * time.Millisecond
		c := dialT(t, o)
		ctx := context.Background()
		if _, err := c.Select(ctx, "INBOX"); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := c.UIDsAfter(ctx, 0)
			done <- err
		}()
		select {
		case err := <-done:
			if !IsConnError(err) || !errors.Is(err, ErrTimeout) {
				t.Fatalf("err = %v, want a timeout connection error", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("UIDsAfter did not return: watchdog did not fire")
		}
		selects := len(slices.DeleteFunc(f.rec.commands(), func(s string) bool { return !strings.HasPrefix(s, "SELECT") }))
		if _, err := c.Select(ctx, "INBOX"); !IsConnError(err) {
			t.Errorf("Select on a dead client = %v, want ErrConnLost", err)
		}
		if c.Err() == nil {
			t.Error("Err() = nil on a dead client")
		}
		after := len(slices.DeleteFunc(f.rec.commands(), func(s string) bool { return !strings.HasPrefix(s, "SELECT") }))
		if after != selects {
			t.Error("a dead client still sent SELECT")
		}
	})

	t.Run("cancelled context abandons a stalled command", func(t *testing.T) {
		f := &fakeServer{caps: "UIDPLUS", permFlags: `\*`, stall: map[string]bool{"UID SEARCH": true}}
		f.start(t)
		c := dialT(t, f.options()) // 10s command timeout: the context must win
		if _, err := c.Select(context.Background(), "INBOX"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := c.UIDsAfter(ctx, 0)
			done <- err
		}()
		waitFor(t, "UID SEARCH sent", func() bool { return f.rec.sent("UID SEARCH") })
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) || !IsConnError(err) {
				t.Fatalf("err = %v, want context.Canceled and ErrConnLost", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("UIDsAfter ignored the cancelled context")
		}
	})
}

func TestWaitForChangeIdle(t *testing.T) {
	ms := startMemServer(t, memServerConfig{withProxy: true})
	ms.appendMsg(t, "INBOX", testMessage(1))
	c := dialT(t, ms.options())
	if _, err := c.Select(context.Background(), "INBOX"); err != nil {
		t.Fatal(err)
	}
	idles := func() int {
		n := 0
		for _, cmd := range ms.rec.commands() {
			if cmd == "IDLE" {
				n++
			}
		}
		return n
	}

	t.Run("wakes on mail appended by another connection", func(t *testing.T) {
		before := idles()
		done := make(chan error, 1)
		go func() { done <- c.WaitForChange(context.Background(), time.Hour) }()
		waitFor(t, "IDLE sent", func() bool { return idles() > before })

		other := dialT(t, ms.options())
		if _, err := other.Append(context.Background(), "INBOX", testMessage(2)); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("IDLE did not wake on new mail")
		}
		got, err := c.UIDsAfter(context.Background(), 1)
		if err != nil || !slices.Equal(got, []uint32{2}) {
			t.Fatalf("after wake: %v, %v; want [2]", got, err)
		}
	})

	t.Run("context cancellation ends IDLE cleanly", func(t *testing.T) {
		before := idles()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.WaitForChange(ctx, time.Hour) }()
		waitFor(t, "IDLE sent", func() bool { return idles() > before })
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) || IsConnError(err) {
				t.Fatalf("err = %v, want context.Canceled without losing the connection", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("WaitForChange ignored cancellation")
		}
		if !ms.rec.sent("DONE") {
			t.Error("IDLE not ended with DONE")
		}
		if _, err := c.UIDsAfter(context.Background(), 0); err != nil {
			t.Errorf("session unusable after cancelled IDLE: %v", err)
		}
	})

	t.Run("returns nil after max without mail", func(t *testing.T) {
		if err := c.WaitForChange(context.Background(), 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Close from another goroutine interrupts IDLE", func(t *testing.T) {
		before := idles()
		done := make(chan error, 1)
		go func() { done <- c.WaitForChange(context.Background(), time.Hour) }()
		waitFor(t, "IDLE sent", func() bool { return idles() > before })
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if !IsConnError(err) {
				t.Fatalf("err = %v, want ErrConnLost", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("WaitForChange survived Close")
		}
	})
}

func TestWaitForChangePollingFallback(t *testing.T) {
	t.Run("NOOP then wait for max", func(t *testing.T) {
		f := &fakeServer{caps: "UIDPLUS", permFlags: `\*`}
		f.start(t)
		c := dialT(t, f.options())
		if _, err := c.Select(context.Background(), "INBOX"); err != nil {
			t.Fatal(err)
		}
		if c.CanIdle() {
			t.Fatal("fake server should not offer IDLE")
		}
		start := time.Now()
		if err := c.WaitForChange(context.Background(), 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) < 50*time.Millisecond {
			t.Error("returned before max without a change")
		}
		if !f.rec.sent("NOOP") || f.rec.sent("IDLE") {
			t.Errorf("commands %q: want NOOP and no IDLE", f.rec.commands())
		}
	})
	t.Run("EXISTS in the NOOP answer returns at once", func(t *testing.T) {
		f := &fakeServer{caps: "UIDPLUS", permFlags: `\*`, noopExists: true}
		f.start(t)
		c := dialT(t, f.options())
		if _, err := c.Select(context.Background(), "INBOX"); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- c.WaitForChange(context.Background(), time.Hour) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("new mail reported by NOOP did not end the wait")
		}
	})
	t.Run("cancellation ends the wait", func(t *testing.T) {
		f := &fakeServer{caps: "UIDPLUS", permFlags: `\*`}
		f.start(t)
		c := dialT(t, f.options())
		if _, err := c.Select(context.Background(), "INBOX"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- c.WaitForChange(ctx, time.Hour) }()
		waitFor(t, "NOOP sent", func() bool { return f.rec.sent("NOOP") })
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("polling wait ignored cancellation")
		}
	})
}

func TestTLSModes(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	tests := []struct {
		name    string
		cfg     memServerConfig
		mode    TLSMode
		client  *tls.Config
		wantErr bool
	}{
		{"implicit TLS with a trusted certificate", memServerConfig{implicit: serverTLS}, TLSImplicit, clientTLS, false},
		{"implicit TLS refuses an untrusted certificate", memServerConfig{implicit: serverTLS}, TLSImplicit, nil, true},
		{"STARTTLS upgrades before login", memServerConfig{starttls: serverTLS}, TLSStartTLS, clientTLS, false},
		{"STARTTLS mode refuses a server without STARTTLS", memServerConfig{}, TLSStartTLS, clientTLS, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := startMemServer(t, tt.cfg)
			ms.appendMsg(t, "INBOX", testMessage(1))
			o := ms.options()
			o.TLS, o.TLSConfig = tt.mode, tt.client
			c, err := Dial(context.Background(), o)
			if tt.wantErr {
				if err == nil {
					c.Close()
					t.Fatal("dial succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if st, err := c.Select(context.Background(), "INBOX"); err != nil || st.Messages != 1 {
				t.Fatalf("select over TLS = %+v, %v", st, err)
			}
		})
	}
}

func TestStartTLSNeverLogsInInTheClear(t *testing.T) {
	_, clientTLS := selfSigned(t)
	ms := startMemServer(t, memServerConfig{withProxy: true}) // no STARTTLS offered
	o := ms.options()
	o.TLS, o.TLSConfig = TLSStartTLS, clientTLS
	if c, err := Dial(context.Background(), o); err == nil {
		c.Close()
		t.Fatal("dial succeeded")
	}
	if ms.rec.sent("LOGIN") || ms.rec.sent("AUTHENTICATE") {
		t.Errorf("credentials sent without TLS: %q", ms.rec.commands())
	}
}

func TestIsConnError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"watchdog", fmt.Errorf("uid fetch: %w: %w", ErrTimeout, ErrConnLost), true},
		{"server NO about a message", fmt.Errorf("uid fetch: %w", &imap.Error{Type: imap.StatusResponseTypeNo}), false},
		{"missing message", ErrNotFound, false},
		{"no MOVE", ErrMoveUnsupported, false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		if got := IsConnError(tt.err); got != tt.want {
			t.Errorf("%s: IsConnError = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFetchFromStreamingServer(t *testing.T) {
	f := &fakeServer{caps: "UIDPLUS", permFlags: `\*`, fetchSize: 3<<20 + 17}
	f.start(t)
	c := dialT(t, f.options())
	if _, err := c.Select(context.Background(), "INBOX"); err != nil {
		t.Fatal(err)
	}
	var n int64
	err := c.Fetch(context.Background(), 9, func(r io.Reader, size int64) error {
		if size != f.fetchSize {
			t.Errorf("size = %d, want %d", size, f.fetchSize)
		}
		var err error
		n, err = io.CopyBuffer(io.Discard, r, make([]byte, 4096))
		return err
	})
	if err != nil || n != f.fetchSize {
		t.Fatalf("fetch streamed %d bytes, err %v; want %d", n, err, f.fetchSize)
	}
	if !f.rec.sent("UID FETCH 9 (UID RFC822.SIZE BODY.PEEK[])") {
		t.Errorf("commands %q", f.rec.commands())
	}
}

// BenchmarkFetch25MB streams a 25 MB message from a server that generates it
// on the fly, so B/op is the client's own allocation for one message.
func BenchmarkFetch25MB(b *testing.B) {
	f := &fakeServer{caps: "UIDPLUS", permFlags: `\*`, fetchSize: 25 << 20}
	f.start(b)
	c, err := Dial(context.Background(), f.options())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Select(context.Background(), "INBOX"); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 32<<10)
	b.SetBytes(f.fetchSize)
	b.ReportAllocs()
	for b.Loop() {
		err := c.Fetch(context.Background(), 9, func(r io.Reader, _ int64) error {
			_, err := io.CopyBuffer(io.Discard, r, buf)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func TestFetchUnattributableBodyIsNotNotFound(t *testing.T) {
	tests := []struct {
		name       string
		searchUIDs string
		wantNotFnd bool
	}{
		{"message exists: plain error so the caller keeps it", "9", false},
		{"message really gone: ErrNotFound", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeServer{caps: "UIDPLUS", permFlags: `\*`, fetchSize: 100, bodyFirst: true, searchUIDs: tt.searchUIDs}
			f.start(t)
			c := dialT(t, f.options())
			if _, err := c.Select(context.Background(), "INBOX"); err != nil {
				t.Fatal(err)
			}
			err := c.Fetch(context.Background(), 9, func(r io.Reader, _ int64) error {
				t.Error("callback got a body go-imap could not attribute")
				return nil
			})
			if err == nil || IsConnError(err) || errors.Is(err, ErrNotFound) != tt.wantNotFnd {
				t.Fatalf("err = %v, want ErrNotFound=%v and not a connection error", err, tt.wantNotFnd)
			}
		})
	}
}

func TestFetchStallMidBodyFiresWatchdog(t *testing.T) {
	f := &fakeServer{caps: "UIDPLUS", permFlags: `\*`, fetchSize: 1 << 20, fetchStallAt: 1000}
	f.start(t)
	o := f.options()
	o.FetchTimeout = 300 * time.Millisecond
	c := dialT(t, o)
	if _, err := c.Select(context.Background(), "INBOX"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var read int64
	go func() {
		done <- c.Fetch(context.Background(), 9, func(r io.Reader, _ int64) error {
			var err error
			read, err = io.Copy(io.Discard, r)
			return err
		})
	}()
	select {
	case err := <-done:
		if !IsConnError(err) || !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v, want a timeout connection error", err)
		}
		if read < 1 || read >= 1<<20 {
			t.Errorf("callback read %d bytes, want part of the body", read)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Fetch did not return: watchdog did not fire")
	}
}
