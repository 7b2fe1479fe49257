// SPDX-License-Identifier: MIT

package mailtest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// gbkMail builds a complaint as a Chinese mail client sends it: GBK body,
// 8bit transfer encoding, GBK encoded-word subject. It returns the raw
// message and its body bytes.
func gbkMail(t *testing.T, msgID, text string) (raw, body []byte) {
	t.Helper()
	enc := simplifiedchinese.GBK.NewEncoder()
	body, err := enc.Bytes([]byte(strings.ReplaceAll(text, "\n", "\r\n")))
	if err != nil {
		t.Fatalf("encode body as GBK: %v", err)
	}
	var b bytes.Buffer
	b.WriteString("From: =?GBK?B?1cXI/Q==?= <zhangsan@example.cn>\r\n")
	b.WriteString("To: desk@complaints.example.org\r\n")
	b.WriteString("Subject: =?GBK?B?1cXI/SjDycWjxMzStby8r83FKcnqx+vJvrP9t+u7y9fK0bbl5bz+?=\r\n")
	b.WriteString("Message-ID: <" + msgID + ">\r\n")
	b.WriteString("Date: Fri, 27 Nov 2026 10:00:00 +0800\r\n")
	b.WriteString("MIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: text/plain; charset=GBK\r\n")
	b.WriteString("Content-Transfer-Encoding: 8bit\r\n\r\n")
	b.Write(body)
	return b.Bytes(), body
}

// splitBody returns what follows the header block.
func splitBody(t *testing.T, raw []byte) []byte {
	t.Helper()
	_, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("message has no header/body separator:\n%q", raw)
	}
	return body
}

// TestStack drives a real Dovecot and Postfix through everything the
// end-to-end tests rely on. The steps share one stack and run in order.
func TestStack(t *testing.T) {
	begin := time.Now()
	s := StartStack(t, StackOptions{Users: []string{"desk", "staff"}, Passwords: map[string]string{"staff": "s3cret-staff"}})
	t.Logf("StartStack took %v", time.Since(begin))

	const text = "申请人：张三\n单位：蒙牛奶业集团\n身份证号：11010519491231002X\n删除原因：报道失实，附件为说明函。\n"
	raw, wantBody := gbkMail(t, "gbk-1@example.cn", text)

	t.Run("gbk mail over smtp arrives byte for byte", func(t *testing.T) {
		s.Deliver(t, raw, "zhangsan@example.cn", "desk@complaints.example.org")
		msgs := s.WaitMessages(t, "desk", "INBOX", 1, 30*time.Second)
		if len(msgs) != 1 {
			t.Fatalf("got %d messages, want 1", len(msgs))
		}
		if got := splitBody(t, msgs[0]); !bytes.Equal(got, wantBody) {
			t.Fatalf("body changed in transit:\n got %q\nwant %q", got, wantBody)
		}
		decoded, err := simplifiedchinese.GBK.NewDecoder().Bytes(splitBody(t, msgs[0]))
		if err != nil || !strings.Contains(string(decoded), "蒙牛奶业集团") {
			t.Fatalf("body does not decode back to the Chinese text (err %v): %q", err, decoded)
		}
		if !bytes.Contains(msgs[0], []byte("Message-ID: <gbk-1@example.cn>")) {
			t.Fatalf("original headers missing:\n%s", msgs[0])
		}
	})

	t.Run("recipients", func(t *testing.T) {
		cases := []struct {
			name, to string
			wantCode int // 0: accepted
		}{
			{"any domain reaches the user named by the local part", "staff@another.example", 0},
			{"a +detail sub-address reaches the same user", "staff+TS-2026-000123.k3y@desk.example", 0},
			{"an unknown local part is refused at RCPT, not bounced later", "nobody@complaints.example.org", 550},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := s.deliver(raw, "zhangsan@example.cn", tc.to, "mailtest.localhost")
				var se *smtp.SMTPError
				switch {
				case tc.wantCode == 0 && err != nil:
					t.Fatalf("deliver to %s: %v", tc.to, err)
				case tc.wantCode != 0 && (!errors.As(err, &se) || se.Code != tc.wantCode):
					t.Fatalf("deliver to %s: got %v, want SMTP %d", tc.to, err, tc.wantCode)
				}
			})
		}
		// The two accepted ones, and nothing else, are in staff's INBOX.
		msgs := s.WaitMessages(t, "staff", "INBOX", 2, 30*time.Second)
		if len(msgs) != 2 {
			t.Fatalf("staff has %d messages, want 2", len(msgs))
		}
	})

	t.Run("postfix finds its config cool, so it starts without waiting", func(t *testing.T) {
		// Postfix waits (300 ms steps) for a main.cf changed within the last
		// seconds: that was 1.5 s of every start of every end-to-end test.
		for _, name := range []string{"main.cf", "master.cf", "recipients"} {
			st, err := os.Stat(filepath.Join(s.layout.postfixConf(), name))
			if err != nil {
				t.Fatal(err)
			}
			if age := time.Since(st.ModTime()); age < 10*time.Second {
				t.Errorf("%s is %v old: postfix pauses to let it cool down", name, age.Round(time.Millisecond))
			}
		}
	})

	t.Run("dovecot stops and comes back on the same port; postfix queues meanwhile", func(t *testing.T) {
		addr := s.IMAPAddr
		pgid := s.dovecot.cmd.Process.Pid
		s.StopDovecot(t)
		if !groupOthersGone(pgid) || !processGone(pgid) {
			t.Fatalf("dovecot processes of group %d still run after StopDovecot", pgid)
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Fatalf("imap %s still accepts connections after StopDovecot", addr)
		}
		raw2, _ := gbkMail(t, "gbk-2@example.cn", "第二封：补充材料。\n")
		s.Deliver(t, raw2, "zhangsan@example.cn", "desk@complaints.example.org")
		s.StartDovecot(t)
		if s.IMAPAddr != addr {
			t.Fatalf("imap moved from %s to %s", addr, s.IMAPAddr)
		}
		msgs := s.WaitMessages(t, "desk", "INBOX", 2, 60*time.Second)
		if !bytes.Contains(msgs[len(msgs)-1], []byte("gbk-2@example.cn")) {
			t.Fatalf("the mail queued while dovecot was down is not the newest one")
		}
	})

	t.Run("uidvalidity changes, messages stay", func(t *testing.T) {
		n := len(s.WaitMessages(t, "desk", "INBOX", 2, 10*time.Second))
		before, after := s.ChangeUIDValidity(t, "desk", "INBOX")
		if before == after || before == 0 || after == 0 {
			t.Fatalf("uidvalidity %d -> %d", before, after)
		}
		if got := s.UIDValidity(t, "desk", "INBOX"); got != after {
			t.Fatalf("STATUS reports %d, ChangeUIDValidity returned %d", got, after)
		}
		if got := len(s.WaitMessages(t, "desk", "INBOX", n, 10*time.Second)); got != n {
			t.Fatalf("%d messages after the change, want %d", got, n)
		}
	})

	t.Run("append creates the mailbox and returns increasing uids", func(t *testing.T) {
		var uids []uint32
		for i := range 3 {
			r, _ := gbkMail(t, "append-"+string(rune('a'+i))+"@example.cn", "积压邮件\n")
			uids = append(uids, s.AppendRaw(t, "desk", "Backlog", r, imap.FlagSeen))
		}
		if uids[0] == 0 || uids[1] <= uids[0] || uids[2] <= uids[1] {
			t.Fatalf("uids %v", uids)
		}
		msgs := s.WaitMessages(t, "desk", "Backlog", 3, 10*time.Second)
		if !bytes.Contains(msgs[2], []byte("append-c@example.cn")) {
			t.Fatalf("third appended message is not last:\n%s", msgs[2])
		}
	})

	t.Run("postfix stops and comes back on the same port", func(t *testing.T) {
		s.StopPostfix(t)
		if err := s.deliver(raw, "a@example.cn", "desk@x.example", "mailtest.localhost"); err == nil {
			t.Fatal("deliver succeeded with postfix stopped")
		}
		s.StartPostfix(t)
		s.Deliver(t, raw, "a@example.cn", "staff@x.example")
		s.WaitMessages(t, "staff", "INBOX", 3, 30*time.Second)
	})
}

// TestStackIsolation starts stacks concurrently, as parallel test packages
// do, each receiving its own mail: a shared port, queue or maildir would put
// a foreign message in some INBOX.
func TestStackIsolation(t *testing.T) {
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := StartStack(t, StackOptions{})
			id := "iso-" + name + "@example.cn"
			raw, _ := gbkMail(t, id, "隔离\n")
			s.Deliver(t, raw, "x@example.cn", "desk@example.org")
			msgs := s.WaitMessages(t, "desk", "INBOX", 1, 30*time.Second)
			if len(msgs) != 1 || !bytes.Contains(msgs[0], []byte(id)) {
				t.Fatalf("stack %s holds %d messages, want only its own %s", name, len(msgs), id)
			}
		})
	}
}

// BenchmarkStackAppendRaw measures how fast a backlog can be loaded with
// AppendRaw (go test -run '^$' -bench AppendRaw ./internal/mailtest/).
func BenchmarkStackAppendRaw(b *testing.B) {
	s := StartStack(b, StackOptions{})
	raw := bytes.Repeat([]byte("x"), 2000)
	raw = append([]byte("Subject: backlog\r\nMessage-ID: <b@x>\r\n\r\n"), raw...)
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for b.Loop() {
		s.AppendRaw(b, "desk", "INBOX", raw)
	}
}

// A relayed domain's mail goes on to its server over SMTP and never into
// Dovecot; other domains are delivered as before, and the recipients of the
// relayed domain are still checked at RCPT.
func TestStackRelay(t *testing.T) {
	sink, err := NewSMTPSink(SinkOptions{Domain: "mx.people.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	s := StartStack(t, StackOptions{Users: []string{"desk", "alice"}, Relay: map[string]string{"people.test": sink.Addr()}})
	raw, _ := gbkMail(t, "relay-1@example.cn", "申请人：张三\n")
	s.Deliver(t, raw, "desk@desk.test", "alice+7@people.test")
	s.Deliver(t, raw, "desk@desk.test", "alice@elsewhere.test")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := sink.WaitN(ctx, 1)
	if err != nil {
		t.Fatalf("the relayed mail did not reach the sink: %v\n%s", err, s.Logs())
	}
	if len(got[0].To) != 1 || got[0].To[0] != "alice+7@people.test" {
		t.Errorf("the sink got the mail for %v, want alice+7@people.test", got[0].To)
	}
	if msgs := s.WaitMessages(t, "alice", "INBOX", 1, 30*time.Second); len(msgs) != 1 {
		t.Errorf("alice's INBOX holds %d mails, want only the one for elsewhere.test", len(msgs))
	}
	if len(sink.Messages()) != 1 {
		t.Errorf("the sink holds %d mails, want 1", len(sink.Messages()))
	}
	var se *smtp.SMTPError
	if err := s.deliver(raw, "desk@desk.test", "nobody@people.test", "mailtest.localhost"); !errors.As(err, &se) || se.Code != 550 {
		t.Errorf("an unknown recipient of the relayed domain: %v, want SMTP 550", err)
	}
}
