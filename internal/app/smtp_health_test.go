package app

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/internal/outbox"
)

// /healthz is not ok while the outbox cannot deliver although the server greets
// (issue 17: "reachable" while Postfix refused mail): a refused MAIL FROM is a
// reason until a reply is accepted again; a refused recipient is not.
func TestSMTPDeliveryProblem(t *testing.T) {
	sink, err := mailtest.NewSMTPSink(mailtest.SinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	host, port, _ := net.SplitHostPort(sink.Addr())
	p, _ := strconv.Atoi(port)
	s, err := outbox.NewSender(outbox.Options{Host: host, Port: p, TLS: outbox.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := &desk{sender: s}
	m := outbox.Mail{MessageID: "h1@desk.example.cn", From: outbox.Address{Address: "desk@desk.example.cn"},
		To: []outbox.Address{{Address: "a@example.cn"}}, Subject: "x", Text: "x", Date: time.Now()}
	if p := d.smtpDeliveryProblem(); p != "" {
		t.Fatalf("problem before any traffic: %q", p)
	}
	sink.FailNextAt(mailtest.StageRcpt, 1, 451)
	if err := s.Send(context.Background(), m); err == nil {
		t.Fatal("the refused recipient was accepted")
	}
	if p := d.smtpDeliveryProblem(); p != "" {
		t.Errorf("a refused recipient made the relay a problem: %q", p)
	}
	sink.FailNext(1, 452) // MAIL FROM, on the new connection (the last failure closed the session)
	if err := s.Send(context.Background(), m); err == nil {
		t.Fatal("the refused send succeeded")
	}
	if p := d.smtpDeliveryProblem(); !strings.Contains(p, "452") {
		t.Errorf("problem %q, want the refusal of MAIL FROM (452)", p)
	}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if p := d.smtpDeliveryProblem(); p != "" {
		t.Errorf("still a problem after a reply was accepted: %q", p)
	}
}
