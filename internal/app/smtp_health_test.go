package app

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/internal/outbox"
)

func senderTo(t *testing.T, addr string) *outbox.Sender {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	s, err := outbox.NewSender(outbox.Options{Host: host, Port: p, TLS: outbox.TLSNone, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// /healthz's SMTP check speaks SMTP: a listener that accepts TCP but refuses
// service (issue 17: the TCP check said "reachable" while Postfix refused mail) is
// not healthy, a working server is, and one that refuses every MAIL FROM is not
// once the outbox has seen it, although it answers NOOP.
func TestSMTPHealthSpeaksSMTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("554 5.3.2 no SMTP service here\r\n"))
			c.Close()
		}
	}()
	if (&desk{sender: senderTo(t, ln.Addr().String())}).smtpDelivers() {
		t.Error("a TCP listener refusing SMTP service passed the check")
	}

	sink, err := mailtest.NewSMTPSink(mailtest.SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	d := &desk{sender: senderTo(t, sink.Addr())}
	if !d.smtpDelivers() {
		t.Fatal("a working SMTP server failed the check")
	}
	sink.FailNext(2, 452) // the reused session, then the new one the Send retries on
	m := outbox.Mail{MessageID: "h1@desk.example.cn", From: outbox.Address{Address: "desk@desk.example.cn"},
		To: []outbox.Address{{Address: "a@example.cn"}}, Subject: "x", Text: "x", Date: time.Now()}
	if err := d.sender.Send(context.Background(), m); err == nil {
		t.Fatal("the refused send succeeded")
	}
	if d.smtpDelivers() {
		t.Error("healthy while the relay refuses mail")
	}
	if err := d.sender.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if !d.smtpDelivers() {
		t.Error("still unhealthy after a reply was accepted")
	}
}
