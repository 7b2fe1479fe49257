package intake_test

import (
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/staffauth"
)

// With staff.auth.trusted_hop set, only Authentication-Results above the Received line
// of that hop are to be trusted. receivedBy took the word after the first "by" of a
// Received header; Postfix writes the client's HELO name first ("Received: from HELO
// (rdns [ip]) by mx… (Postfix) …"), so a sender that says "HELO by" makes our border's
// real line read as "by by", and a Received line the sender wrote further down ("from a
// by <trusted hop>") was taken as the border. The sender's own Authentication-Results
// above that fake line was then trusted, and a forged staff command ran (found in
// review). (As in the
// existing test "a forged pass below our border alone": our border added no
// Authentication-Results of its own to this mail.)
func TestHELOByDoesNotMakeTheSendersAuthResultsTrusted(t *testing.T) {
	d := newDesk(t, withStaff(func(s *intake.StaffOptions) {
		s.Auth.Mode = staffauth.ModeAuthResults
		s.Auth.AuthServID = authServID
		s.Auth.TrustedHop = authServID
	}))
	o := d.open("zhang@example.cn", "helo-open@example.cn")
	forgedPass := "Authentication-Results: " + authServID + "; dkim=pass header.d=desk.example.cn; spf=pass smtp.mailfrom=desk.example.cn"
	fakeBorder := "Received: from a by " + authServID + "; Mon, 30 Nov 2026 09:59:00 +0800"
	border := func(helo string) string {
		return "Received: from " + helo + " (unknown [198.51.100.7]) by " + authServID + " (Postfix) with ESMTP id 4Y; Mon, 30 Nov 2026 10:00:00 +0800"
	}
	// Control: the same forged mail, sent with an ordinary HELO name, is refused.
	before, m, metric := d.h.caseByID(o.c.ID), d.mark(), d.h.metrics.SecurityEvents.Load()
	d.send(cmdMail{from: staffA, to: deskAddr, subject: "回复：" + o.notif.subject, messageID: "helo-control@evil.example",
		top: []string{border("mail.evil.example")}, bottom: []string{forgedPass, fakeBorder}, body: "驳回 材料不实"}.bytes())
	d.refusedAsSecurity(before, m, metric, staffA)
	if t.Failed() {
		t.Fatal("control failed: the test does not isolate the HELO")
	}
	// The attack: HELO "by".
	before, m, metric = d.h.caseByID(o.c.ID), d.mark(), d.h.metrics.SecurityEvents.Load()
	d.send(cmdMail{from: staffA, to: deskAddr, subject: "回复：" + o.notif.subject, messageID: "helo-by@evil.example",
		top: []string{border("by")}, bottom: []string{forgedPass, fakeBorder}, body: "驳回 材料不实"}.bytes())
	if c := d.h.caseByID(o.c.ID); c.State != before.State {
		t.Fatalf("a forged command ran: state %s → %s (events %v)", before.State, c.State, eventsOf(c, cases.EventOf(cases.Reject)))
	}
	d.refusedAsSecurity(before, m, metric, staffA)
}
