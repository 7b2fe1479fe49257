package app

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/imapsource"
	"github.com/complaintd/complaintd/internal/privacy"
	"github.com/complaintd/complaintd/internal/store"
)

// refusingIMAP is an IMAP server that refuses every login, counting them.
func refusingIMAP(t *testing.T) (addr *net.TCPAddr, logins *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	logins = &atomic.Int32{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.Write([]byte("* OK [CAPABILITY IMAP4rev1] ready\r\n"))
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					tag, cmd, _ := strings.Cut(strings.TrimSpace(line), " ")
					switch verb, _, _ := strings.Cut(strings.ToUpper(cmd), " "); verb {
					case "CAPABILITY":
						c.Write([]byte("* CAPABILITY IMAP4rev1\r\n" + tag + " OK done\r\n"))
					case "LOGIN":
						logins.Add(1)
						c.Write([]byte(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"))
					case "LOGOUT":
						c.Write([]byte("* BYE\r\n" + tag + " OK done\r\n"))
						return
					default:
						c.Write([]byte(tag + " BAD unknown\r\n"))
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr), logins
}

// A refused IMAP login is the configuration's (a password changed or expired), and
// each attempt is a failed login the provider counts towards locking the account:
// intake backs off to an hour for it. The mail eraser, with the mails of erased cases
// still to delete (retention erases closed cases by itself), logged in again every 5
// minutes, 12 failed logins an hour, and the account locked out took intake down
// with it even once the password was fixed. It now waits as long as for a server
// without UIDPLUS, which no retry soon cures either.
func TestMailEraserDoesNotRetryARefusedLoginEveryFewMinutes(t *testing.T) {
	d, _, _, _ := openFileDesk(t)
	defer d.store.Close()
	const id = "TS-2026-000001"
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	err := d.store.Update(func(tx *store.Tx) error {
		c := &cases.Case{ID: id, State: cases.Closed, CreatedAt: at, UpdatedAt: at, Complainant: "zhangsan@example.cn",
			Applicant: cases.Party{Name: "张三", Type: cases.Individual}, Locale: "zh-CN", Missing: []cases.Kind{}, Documents: []cases.Document{}}
		if err := tx.PutCase(c); err != nil {
			return err
		}
		return tx.PutMessage(&store.Message{Key: "d1", MessageID: "zhangsan.1@mail.example.cn", Mailbox: "INBOX", UIDValidity: 7, UID: 11,
			Case: id, From: "zhangsan@example.cn", Role: "complainant"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := privacy.Erase(d.store, d.vault, id, "cli:root", "request", at.AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	addr, logins := refusingIMAP(t)
	d.imapOptions = imapsource.Options{Host: addr.IP.String(), Port: addr.Port, TLS: imapsource.TLSNone,
		Username: "tousu@example.cn", Password: "old password", CommandTimeout: 5 * time.Second}

	left, noRetrySoon := d.eraseMail(context.Background())
	if logins.Load() != 1 {
		t.Fatalf("%d logins, want 1", logins.Load())
	}
	if left != 1 {
		t.Errorf("%d cases left, want the erased one", left)
	}
	if !noRetrySoon {
		t.Errorf("after a refused login the eraser tries again in %v, as after a lost connection; want %v", mailEraseRetry, mailEraseCheck)
	}
}
