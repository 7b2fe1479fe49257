// SPDX-License-Identifier: MIT

package memserver

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// IMAP is an in-process IMAP server (IMAP4rev1 and IMAP4rev2, with
// UIDPLUS, MOVE and IDLE) that keeps users and messages in memory. It accepts
// plaintext LOGIN without TLS. It is safe for concurrent use.
type IMAP struct {
	ln   net.Listener
	srv  *imapserver.Server
	mem  *imapmemserver.Server
	done chan struct{} // closed when the serve goroutine returns

	closeOnce sync.Once
	closeErr  error

	mu    sync.Mutex
	users map[string]*imapmemserver.User
}

// imapCaps lists the capabilities advertised. IMAP4rev1 clients only see
// extensions named here, so the ones imapmemserver implements are spelled out.
var imapCaps = []imap.Cap{
	imap.CapIMAP4rev1, imap.CapIMAP4rev2,
	imap.CapUIDPlus, imap.CapMove, imap.CapESearch, imap.CapListStatus,
	imap.CapStatusSize, imap.CapChildren, imap.CapSpecialUse, imap.CapLiteralPlus,
}

// NewIMAP starts an in-memory IMAP server listening on addr, or on
// 127.0.0.1 with a free port when addr is empty. It has no users until
// [IMAP.AddUser]. Call [IMAP.Close] to stop it.
func NewIMAP(addr string) (*IMAP, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen imap: %w", err)
	}
	caps := make(imap.CapSet, len(imapCaps))
	for _, c := range imapCaps {
		caps[c] = struct{}{}
	}
	m := &IMAP{
		ln:    ln,
		mem:   imapmemserver.New(),
		done:  make(chan struct{}),
		users: make(map[string]*imapmemserver.User),
	}
	m.srv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return m.mem.NewSession(), nil, nil
		},
		Caps:         caps,
		Logger:       log.New(os.Stderr, "memserver: imap: ", log.LstdFlags),
		InsecureAuth: true,
	})
	go func() {
		defer close(m.done)
		// Serve returns nil once Close closes the listener; any other error
		// ends the server early and shows up as refused connections.
		_ = m.srv.Serve(ln)
	}()
	return m, nil
}

// Addr returns the host:port the server listens on.
func (m *IMAP) Addr() string { return m.ln.Addr().String() }

// AddUser creates a user with the given password and an empty INBOX.
// Adding a user twice is an error.
func (m *IMAP) AddUser(name, pass string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[name]; ok {
		return fmt.Errorf("add user %q: already exists", name)
	}
	u := imapmemserver.NewUser(name, pass)
	if err := u.Create("INBOX", nil); err != nil {
		return fmt.Errorf("add user %q: create inbox: %w", name, err)
	}
	m.users[name] = u
	m.mem.AddUser(u)
	return nil
}

// CreateMailbox creates a mailbox for user. Creating an existing mailbox is
// an error. Deleting a mailbox over IMAP and creating it again gives it a new
// UIDVALIDITY, which is how a test simulates a server that renumbered.
func (m *IMAP) CreateMailbox(user, mailbox string) error {
	u, err := m.user(user)
	if err != nil {
		return err
	}
	if err := u.Create(mailbox, nil); err != nil {
		return fmt.Errorf("create mailbox %q for %q: %w", mailbox, user, err)
	}
	return nil
}

// Append stores raw as a new message in the user's mailbox, creating the
// mailbox when it does not exist, and returns the UID the message got.
// Clients with the mailbox selected see it at their next NOOP or IDLE.
func (m *IMAP) Append(user, mailbox string, raw []byte) (uid uint32, err error) {
	u, err := m.user(user)
	if err != nil {
		return 0, err
	}
	data, err := u.Append(mailbox, literal{bytes.NewReader(raw)}, &imap.AppendOptions{})
	var imapErr *imap.Error
	if errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeTryCreate {
		if cerr := u.Create(mailbox, nil); cerr != nil && !isAlreadyExists(cerr) {
			return 0, fmt.Errorf("append to %q for %q: create mailbox: %w", mailbox, user, cerr)
		}
		data, err = u.Append(mailbox, literal{bytes.NewReader(raw)}, &imap.AppendOptions{})
	}
	if err != nil {
		return 0, fmt.Errorf("append to %q for %q: %w", mailbox, user, err)
	}
	return uint32(data.UID), nil
}

// Close stops the server, drops every connection and waits until the
// serving goroutine has returned. Calling it again is harmless.
func (m *IMAP) Close() error {
	m.closeOnce.Do(func() {
		err := m.srv.Close()
		// See SMTPSink.Close: a Serve that has not started yet must not outlive Close.
		m.ln.Close()
		<-m.done
		if err != nil && !errors.Is(err, net.ErrClosed) {
			m.closeErr = fmt.Errorf("close imap server: %w", err)
		}
	})
	return m.closeErr
}

func (m *IMAP) user(name string) (*imapmemserver.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[name]
	if !ok {
		return nil, fmt.Errorf("no user %q", name)
	}
	return u, nil
}

func isAlreadyExists(err error) bool {
	var imapErr *imap.Error
	return errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeAlreadyExists
}

// literal adapts a bytes.Reader to imap.LiteralReader.
type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }
