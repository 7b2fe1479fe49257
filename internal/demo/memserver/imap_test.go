// SPDX-License-Identifier: MIT

package memserver

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

func TestIMAP(t *testing.T) {
	srv, err := NewIMAP("")
	if err != nil {
		t.Fatalf("NewIMAP: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.AddUser("desk", "pw"); err != nil {
		t.Fatalf("AddUser: %v", err)
	}

	t.Run("setup errors", func(t *testing.T) {
		cases := []struct {
			name string
			err  error
		}{
			{"a second user with the same name would silently replace the first", srv.AddUser("desk", "other")},
			{"appending for an unknown user must not invent one", func() error { _, err := srv.Append("ghost", "INBOX", []byte("x")); return err }()},
			{"creating an existing mailbox is refused like on a real server", srv.CreateMailbox("desk", "INBOX")},
		}
		for _, tc := range cases {
			if tc.err == nil {
				t.Errorf("%s: got no error", tc.name)
			}
		}
	})

	raw1 := []byte("Subject: one\r\nMessage-ID: <1@x>\r\n\r\nfirst\r\n")
	raw2 := []byte("Subject: two\r\nMessage-ID: <2@x>\r\n\r\nsecond\r\n")
	uid1, err := srv.Append("desk", "INBOX", raw1)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}

	c, err := imapclient.DialInsecure(srv.Addr(), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if err := c.Login("desk", "wrong").Wait(); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	if err := c.Login("desk", "pw").Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	for _, capName := range []imap.Cap{imap.CapIdle, imap.CapUIDPlus, imap.CapMove} {
		if !c.Caps().Has(capName) {
			t.Errorf("server does not advertise %s to an IMAP4rev1 client", capName)
		}
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	if sel.NumMessages != 1 || sel.UIDValidity == 0 {
		t.Fatalf("select: %d messages, uidvalidity %d; want 1 and non-zero", sel.NumMessages, sel.UIDValidity)
	}

	// A message appended while the mailbox is selected shows up at NOOP,
	// as a client in a poll loop would see it.
	uid2, err := srv.Append("desk", "INBOX", raw2)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if uid2 <= uid1 {
		t.Fatalf("uids not increasing: %d then %d", uid1, uid2)
	}
	if err := c.Noop().Wait(); err != nil {
		t.Fatalf("noop: %v", err)
	}
	if got := c.Mailbox().NumMessages; got != 2 {
		t.Fatalf("after NOOP the client sees %d messages, want 2", got)
	}

	section := &imap.FetchItemBodySection{Peek: true}
	bufs, err := c.Fetch(imap.UIDSetNum(imap.UID(uid1), imap.UID(uid2)), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	got := map[imap.UID][]byte{}
	for _, b := range bufs {
		got[b.UID] = b.FindBodySection(section)
	}
	if !bytes.Equal(got[imap.UID(uid1)], raw1) || !bytes.Equal(got[imap.UID(uid2)], raw2) {
		t.Fatalf("fetched bytes differ from appended ones: %q, %q", got[imap.UID(uid1)], got[imap.UID(uid2)])
	}

	// Append to a mailbox that does not exist yet creates it.
	if _, err := srv.Append("desk", "Junk", raw1); err != nil {
		t.Fatalf("append to new mailbox: %v", err)
	}
	st, err := c.Status("Junk", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil || st.NumMessages == nil || *st.NumMessages != 1 {
		t.Fatalf("status Junk: %v, %+v", err, st)
	}

	// MOVE works, since the intake moves failed mail to a folder.
	if _, err := c.Move(imap.UIDSetNum(imap.UID(uid1)), "Junk").Wait(); err != nil {
		t.Fatalf("move: %v", err)
	}
	st, err = c.Status("Junk", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil || *st.NumMessages != 2 {
		t.Fatalf("status Junk after move: %v, %+v", err, st)
	}

	// Close ends the server; a second Close is harmless.
	addr := srv.Addr()
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("server still accepts connections after Close")
	}
}
