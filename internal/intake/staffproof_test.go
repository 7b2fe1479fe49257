package intake_test

// Staff proof through the whole pipeline (issue 13): tokens bound to the mail they
// came with, expiring, revocable, old-form tokens for one lifetime after the upgrade,
// and our own DKIM verification of the raw mail as it streams past the parser.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/staffauth"
	"github.com/complaintd/complaintd/internal/store"
)

// lastSecurityNote is the reason of the case's latest security event.
func lastSecurityNote(c *cases.Case) string {
	ev := eventsOf(c, cases.EventSecurity)
	if len(ev) == 0 {
		return ""
	}
	return ev[len(ev)-1].Note
}

// refusedFor sends raw, asserts that nothing changed and that the security event
// gives the reason.
func (d *deskT) refusedFor(o opened, raw []byte, reason string) {
	d.t.Helper()
	before, m, metric := d.h.caseByID(o.c.ID), d.mark(), d.h.metrics.SecurityEvents.Load()
	d.send(raw)
	d.refusedAsSecurity(before, m, metric, "")
	if got := lastSecurityNote(d.h.caseByID(o.c.ID)); !strings.Contains(got, reason) {
		d.t.Errorf("security event %q, want the reason %q", got, reason)
	}
}

func TestStaffTokenBoundToItsMail(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	o := d.open("zhang@example.cn", "bound1@example.cn")

	// Issue 13: "an old token with a new Message-ID ran". The client's address book
	// keeps the Reply-To; a new mail to it answers no notification.
	d.refusedFor(o, cmdMail{from: staffA, to: replyAddr(o.notif), subject: "[" + o.c.ID + "] 受理", messageID: "fresh1@desk.example.cn",
		body: "受理"}.bytes(), "token not for this notification")
	// Nor does a reply to another mail of the case (the complainant's acknowledgement
	// is linked to it too).
	ack := one(t, d.mails(0), "acknowledgement", "zhang@example.cn")
	d.refusedFor(o, cmdMail{from: staffA, to: replyAddr(o.notif), subject: "回复：" + o.notif.subject, messageID: "fresh2@desk.example.cn",
		inReplyTo: ack.id, body: "受理"}.bytes(), "token not for this notification")

	// The reply to the notification runs, and its confirmation carries a token of its
	// own, bound to the confirmation: a reply to that runs too.
	ms := d.command(o, staffA, "bound-ok@desk.example.cn", "受理")
	if c := d.h.caseByID(o.c.ID); c.State != cases.Accepted {
		t.Fatalf("the reply to the notification: state %s", c.State)
	}
	conf := one(t, ms, "staff_confirmation", staffA)
	assertBound(t, conf, o.c.ID)
	if tokenOf(conf) == tokenOf(o.notif) {
		t.Error("the confirmation reuses the notification's token")
	}
	d.command(opened{c: o.c, notif: conf}, staffA, "bound-ok2@desk.example.cn", "备注 第二封")
	if ev := eventsOf(d.h.caseByID(o.c.ID), "note"); len(ev) != 1 {
		t.Errorf("the reply to the confirmation: note events %d, want 1", len(ev))
	}
}

func TestStaffTokenExpires(t *testing.T) {
	d := newDesk(t, withStaff(func(s *intake.StaffOptions) { s.Auth.TokenTTL = time.Hour }))
	o := d.open("zhang@example.cn", "exp1@example.cn")
	d.h.clock.Advance(time.Hour)
	d.refusedFor(o, cmdMail{from: staffA, to: replyAddr(o.notif), subject: "回复：" + o.notif.subject, messageID: "exp-late@desk.example.cn",
		inReplyTo: o.notif.id, body: "受理"}.bytes(), "token expired")
}

func TestStaffTokenRevoked(t *testing.T) {
	t.Run("the case's tokens", func(t *testing.T) {
		d := newDesk(t, withStaff(nil))
		o := d.open("zhang@example.cn", "rev1@example.cn")
		other := d.open("li@example.cn", "rev2@example.cn")
		revoke(t, d, o.c.ID)
		d.refusedFor(o, cmdMail{from: staffA, to: replyAddr(o.notif), subject: "回复：" + o.notif.subject, messageID: "rev-a@desk.example.cn",
			inReplyTo: o.notif.id, body: "受理"}.bytes(), "token revoked for this case")
		// Another case's tokens still work.
		d.command(other, staffA, "rev-b@desk.example.cn", "受理")
		if c := d.h.caseByID(other.c.ID); c.State != cases.Accepted {
			t.Errorf("another case after a per-case revocation: state %s", c.State)
		}
	})
	t.Run("every token", func(t *testing.T) {
		d := newDesk(t, withStaff(nil))
		o := d.open("zhang@example.cn", "revall1@example.cn")
		revoke(t, d, "")
		d.refusedFor(o, cmdMail{from: staffA, to: replyAddr(o.notif), subject: "回复：" + o.notif.subject, messageID: "revall-a@desk.example.cn",
			inReplyTo: o.notif.id, body: "受理"}.bytes(), "token revoked (every staff token")
	})
}

func revoke(t *testing.T, d *deskT, caseID string) {
	t.Helper()
	if err := d.h.store.Update(func(tx *store.Tx) error {
		_, err := tx.RevokeStaffTokens(caseID, d.h.clock.Now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// Tokens of the old form (an HMAC of the case under the master-derived secret) that
// are already out there keep working for one token lifetime after the upgrade, on a
// store that held cases then; never on a store that never sent one.
func TestOldFormTokensDuringTheTransition(t *testing.T) {
	d := newDesk(t, withStaff(func(s *intake.StaffOptions) { s.Auth.TokenTTL = time.Hour }))
	o := d.open("zhang@example.cn", "old1@example.cn")
	old := staffauth.ReplyAddress(deskAddr, o.c.ID, staffauth.LegacyToken([]byte(staffSecret), o.c.ID))
	// No upgrade record: this store never mailed an old-form token.
	d.refusedFor(o, cmdMail{from: staffA, to: old, subject: "回复：[" + o.c.ID + "]", messageID: "old-a@desk.example.cn", body: "受理"}.bytes(),
		"token expired (old form")
	// The first start with bound tokens, on a store that held cases.
	if err := d.h.store.Update(func(tx *store.Tx) error {
		u, err := tx.MarkStaffTokenUpgrade(d.h.clock.Now())
		if !u.Legacy {
			t.Error("a store with cases: upgrade not marked legacy")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	d.send(cmdMail{from: staffA, to: old, subject: "回复：[" + o.c.ID + "]", messageID: "old-b@desk.example.cn", body: "备注 旧令牌"}.bytes())
	if ev := eventsOf(d.h.caseByID(o.c.ID), "note"); len(ev) != 1 {
		t.Fatalf("an old-form token inside the transition: note events %d, want 1 (security: %q)", len(ev), lastSecurityNote(d.h.caseByID(o.c.ID)))
	}
	d.h.clock.Advance(time.Hour)
	d.refusedFor(o, cmdMail{from: staffA, to: old, subject: "回复：[" + o.c.ID + "]", messageID: "old-c@desk.example.cn", body: "受理"}.bytes(),
		"token expired (old form")
}

// fakeDNS answers DKIM key queries from a map and counts them.
type fakeDNS struct {
	mu      sync.Mutex
	records map[string]string
	asked   []string
}

func (f *fakeDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, name)
	if r, ok := f.records[name]; ok {
		return []string{r}, nil
	}
	return nil, errors.New("no such host")
}

func (f *fakeDNS) queries() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.asked)
}

// sign DKIM-signs raw as desk.example.cn's server would (selector s1).
func sign(t *testing.T, key ed25519.PrivateKey, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := dkim.Sign(&b, bytes.NewReader(raw), &dkim.SignOptions{Domain: "desk.example.cn", Selector: "s1", Signer: key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The raw bytes reach our own DKIM verification as the parser reads them: a signed
// staff mail runs in the dkim mode without a token, an altered one does not, and
// mail from anyone else costs no DNS query.
func TestStaffDKIMVerifiedFromTheRawMail(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	dns := &fakeDNS{records: map[string]string{
		"s1._domainkey.desk.example.cn": "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey)),
	}}
	d := newDesk(t, withStaff(func(s *intake.StaffOptions) {
		s.Auth.Mode = staffauth.ModeDKIM
		s.Resolver = dns
	}))
	o := d.open("zhang@example.cn", "dkim1@example.cn")
	if n := dns.queries(); n != 0 {
		t.Errorf("a complaint cost %d DNS queries", n)
	}
	signed := func(id string) []byte {
		return sign(t, key, cmdMail{from: staffA, to: deskAddr, subject: "回复：" + o.notif.subject, messageID: id,
			inReplyTo: o.notif.id, body: "受理" + strings.Repeat("\n引用的通知正文", 4000)}.bytes())
	}
	// A signature broken in transit (the body changed) proves nothing.
	d.refusedFor(o, bytes.Replace(signed("dkim-bad@desk.example.cn"), []byte("\r\n\r\n"), []byte("\r\n\r\nx"), 1), "body hash did not verify")
	// The mail as signed runs (a body of ~100 KB: many reads through the tap).
	d.send(signed("dkim-ok@desk.example.cn"))
	if c := d.h.caseByID(o.c.ID); c.State != cases.Accepted {
		t.Errorf("a signed staff mail in the dkim mode: state %s (security: %q)", c.State, lastSecurityNote(c))
	}
}

// TestForgedDKIMSelectorRefusedNotFatal: anyone can write a staff address into From.
// A forged signature whose selector grows when lower-cased made the key lookup slice
// out of range, on the verifier's goroutine, where no recover of intake's reaches:
// one such mail ended the daemon. It is a command refused as a security event, and
// the desk goes on.
func TestForgedDKIMSelectorRefusedNotFatal(t *testing.T) {
	d := newDesk(t, withStaff(func(s *intake.StaffOptions) {
		s.Auth.Mode = staffauth.ModeDKIM
		s.Resolver = &fakeDNS{records: map[string]string{}}
	}))
	o := d.open("zhang@example.cn", "selector1@example.cn")
	sig := "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=desk.example.cn; s=" +
		strings.Repeat("Ⱥ", 20) + "; h=from:subject; bh=AAAA; b=AAAA"
	for i, top := range [][]string{{sig}, {sig, sig}} {
		d.refusedFor(o, cmdMail{from: staffA, to: deskAddr, subject: "回复：" + o.notif.subject, messageID: fmt.Sprintf("forged-selector%d@evil.example", i),
			inReplyTo: o.notif.id, top: top, body: "受理"}.bytes(), "dkim")
	}
	d.open("li@example.cn", "selector2@example.cn") // the desk still takes complaints
}
