// SPDX-License-Identifier: MIT

package staffauth

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
)

var (
	secret   = []byte("0123456789abcdef0123456789abcdef") // complainant and old-form tokens
	tokenKey = []byte("fedcba9876543210fedcba9876543210") // staff tokens
	// now is the desk's clock in the tests; issued is when the notification went out.
	now    = time.Date(2026, 12, 1, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	issued = now.Add(-2 * time.Hour)
)

const (
	desk   = "ts@example.cn"
	caseA  = "TS-2026-000123"
	caseB  = "TS-2026-000124"
	ourID  = "mx.example.cn"
	staffA = "wangwu@example.cn"
	// noteA is the Message-ID of the staff notification of caseA the tokens are minted for.
	noteA = "ts-2026-000123.q5x3v7@example.cn"
)

// ourAR is what our MTA prepends for a genuine staff mail.
const ourAR = `mx.example.cn; dkim=pass (2048-bit key; unprotected) header.d=example.cn header.i=@example.cn header.s=s1 header.b=AbCd; spf=pass (mx.example.cn: domain of wangwu@example.cn designates 203.0.113.5 as permitted sender) smtp.mailfrom=wangwu@example.cn`

func cfg(mode Mode) Config {
	return Config{Mode: mode, AuthServID: ourID, TrustedHop: "mx.example.cn", Staff: []string{staffA, "lisi@mail.example.cn"},
		TokenKey: tokenKey, Secret: secret}
}

// replyTo is the Reply-To of caseID's notification noteA (for caseB: a token minted
// for caseB's own notification).
func replyTo(caseID string) string {
	return "投诉受理台 <" + ReplyAddress(desk, caseID, NewToken(tokenKey, caseID, noteA, issued)) + ">"
}

// reply is a staff member's genuine reply to noteA, at now; f adjusts it.
func reply(f func(*Input)) Input {
	in := Input{From: "王五 <wangwu@example.cn>", CaseID: caseA, Recipients: []string{replyTo(caseA)}, Replied: []string{noteA}, Now: now}
	if f != nil {
		f(&in)
	}
	return in
}

func withToken(tok string) func(*Input) {
	return func(in *Input) { in.Recipients = []string{ReplyAddress(desk, caseA, tok)} }
}

func TestNewToken(t *testing.T) {
	tok := NewToken(tokenKey, caseA, noteA, issued)
	if !regexp.MustCompile(`^[a-z2-7]{34}$`).MatchString(tok) {
		t.Errorf("NewToken = %q, want 34 chars of lower-case base32", tok)
	}
	if l := strings.Index(ReplyAddress("complaints@x", caseA, tok), "@"); l > 64 {
		t.Errorf("a 10-character desk local part gives a %d-octet local part, over RFC 5321's 64", l)
	}
	if NewToken(tokenKey, strings.ToLower(caseA), "<"+noteA+">", issued) != tok {
		t.Error("the token must ignore the case number's letter case and the Message-ID's angle brackets")
	}
	for name, other := range map[string]string{
		"another case":         NewToken(tokenKey, caseB, noteA, issued),
		"another notification": NewToken(tokenKey, caseA, "other@example.cn", issued),
		"another issue time":   NewToken(tokenKey, caseA, noteA, issued.Add(time.Second)),
		"another key":          NewToken([]byte("another key"), caseA, noteA, issued),
	} {
		if other == tok {
			t.Errorf("%s: same token", name)
		}
	}
	if got, ok := TokenIssued(tok); !ok || !got.Equal(issued) {
		t.Errorf("TokenIssued = %v, %v; want %v", got, ok, issued)
	}
	if LegacyToken(secret, caseA) == ComplainantToken(secret, caseA) {
		t.Error("the old staff token and the complainant token share a value")
	}
}

func TestReplyAddressAndExtract(t *testing.T) {
	tok := NewToken(tokenKey, caseA, noteA, issued)
	addr := ReplyAddress(desk, caseA, tok)
	if want := "ts+ts-2026-000123." + tok + "@example.cn"; addr != want {
		t.Fatalf("ReplyAddress = %q, want %q", addr, want)
	}
	tests := []struct {
		name    string
		values  []string
		ok      bool
		caseID  string
		wantTok string
	}{
		{"To with display name among others", []string{`"Desk" <ts@example.cn>, 投诉受理台 <` + addr + `>`}, true, caseA, tok},
		{"Delivered-To, upper-cased by a client", []string{strings.ToUpper(addr)}, true, caseA, tok},
		{"plain desk address has no token", []string{"ts@example.cn"}, false, "", ""},
		{"sub-address of another domain is not ours", []string{"ts+ts-2026-000123." + tok + "@evil.example"}, false, "", ""},
		{"sub-address without a token", []string{"ts+ts-2026-000123@example.cn"}, false, "", ""},
	}
	for _, tc := range tests {
		c, k, ok := ExtractToken(tc.values, desk)
		if ok != tc.ok || c != tc.caseID || k != tc.wantTok {
			t.Errorf("%s: ExtractToken = %q, %q, %v; want %q, %q, %v", tc.name, c, k, ok, tc.caseID, tc.wantTok, tc.ok)
		}
	}
}

// Every acceptance path and every refusal reason of the token (issue 13 "Staff
// proof": bound to its notification, expiring, revocable, old tokens only during the
// transition).
func TestVerifyToken(t *testing.T) {
	tampered := func() string {
		// The issue time moved a day later with both MACs kept: the case MAC covers
		// the time, so the token is not ours any more.
		b, _ := decodeBound(NewToken(tokenKey, caseA, noteA, issued))
		later, _ := decodeBound(NewToken(tokenKey, caseA, noteA, issued.Add(24*time.Hour)))
		copy(b[1:headBytes], later[1:headBytes])
		return strings.ToLower(b32.EncodeToString(b))
	}()
	tests := []struct {
		name       string
		cfg        func(*Config)
		in         Input
		ok         bool
		reasonPart string
	}{
		{"a reply to the notification the token came with", nil, reply(nil), true, "token ok"},
		{"the notification named in References only (a client that drops In-Reply-To)", nil,
			reply(func(in *Input) { in.Replied = []string{"root@people.example", "<" + noteA + ">"} }), true, "token ok"},
		{"staff address compared case-insensitively", nil,
			reply(func(in *Input) { in.From = "Wang Wu <WangWu@Example.CN>" }), true, "token ok"},
		{"encoded-word display name in GB2312", nil,
			reply(func(in *Input) { in.From = "=?gb2312?B?zfXO5A==?= <wangwu@example.cn>" }), true, "token ok"},

		// Issue 13: "an old token with a new Message-ID ran". The address book keeps
		// the sub-address; a fresh mail to it answers no notification.
		{"the token in a fresh mail that answers nothing", nil,
			reply(func(in *Input) { in.Replied = nil }), false, "token not for this notification"},
		{"the token in a reply to another mail of the case", nil,
			reply(func(in *Input) { in.Replied = []string{"ts-2026-000123.other@example.cn"} }), false, "token not for this notification"},
		{"token of another case", nil,
			reply(func(in *Input) { in.Recipients = []string{replyTo(caseB)} }), false, "token for another case"},
		{"guessed token of the right shape", nil,
			reply(withToken("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")), false, "token invalid"},
		{"token minted under another key", nil,
			reply(withToken(NewToken([]byte("a stolen master-derived secret!!"), caseA, noteA, issued))), false, "token invalid"},
		{"issue time moved later to outlive the TTL", nil, reply(withToken(tampered)), false, "token invalid"},
		{"the complainant token is no staff token", nil,
			reply(withToken(ComplainantToken(secret, caseA))), false, "token invalid"},
		{"forged From of a staff address without token", nil,
			reply(func(in *Input) { in.Recipients = []string{desk} }), false, "token missing"},
		{"a staff member's own plus-tag is not a case token", nil,
			reply(func(in *Input) { in.Recipients = []string{"wangwu+news.cn@example.cn"} }), false, "token missing"},
		{"no case tag", nil, reply(func(in *Input) { in.CaseID = "" }), false, "no case tag"},
		{"complainant with a valid token (forwarded notification) is still not staff", nil,
			reply(func(in *Input) { in.From = "zhangsan@mengniu.example" }), false, "sender not on staff list"},
		{"two From addresses", nil,
			reply(func(in *Input) { in.From = "wangwu@example.cn, evil@evil.example" }), false, "several From"},
		{"display name pretending to be staff", nil,
			reply(func(in *Input) { in.From = `"wangwu@example.cn" <evil@evil.example>` }), false, "sender not on staff list"},

		{"expired: exactly the TTL after issue", nil,
			reply(func(in *Input) { in.Now = issued.Add(DefaultTokenTTL) }), false, "token expired"},
		{"a second before expiry", nil,
			reply(func(in *Input) { in.Now = issued.Add(DefaultTokenTTL - time.Second) }), true, "token ok"},
		{"a configured TTL of one hour", func(c *Config) { c.TokenTTL = time.Hour }, reply(nil), false, "token expired"},

		{"revoked for the case at issue time", nil,
			reply(func(in *Input) { in.RevokedCase = issued }), false, "token revoked for this case"},
		{"issued after the case's revocation", nil,
			reply(func(in *Input) { in.RevokedCase = issued.Add(-time.Second) }), true, "token ok"},
		{"revoked globally", nil,
			reply(func(in *Input) { in.RevokedAll = now }), false, "token revoked (every staff token"},
		{"issued after the global revocation", nil,
			reply(func(in *Input) { in.RevokedAll = issued.Add(-time.Minute) }), true, "token ok"},
		{"revoked and expired: the revocation is said", nil,
			reply(func(in *Input) { in.RevokedCase, in.Now = now, issued.Add(DefaultTokenTTL) }), false, "revoked"},

		{"old-form token inside the transition window", nil,
			reply(func(in *Input) {
				withToken(LegacyToken(secret, caseA))(in)
				in.Replied, in.LegacyUntil = nil, now.Add(time.Hour)
			}), true, "old form"},
		{"old-form token after the transition window", nil,
			reply(func(in *Input) { withToken(LegacyToken(secret, caseA))(in); in.LegacyUntil = now }), false, "token expired (old form"},
		{"old-form token on a store that never sent one (no transition)", nil,
			reply(withToken(LegacyToken(secret, caseA))), false, "token expired (old form"},
		{"old-form token revoked for its case", nil,
			reply(func(in *Input) {
				withToken(LegacyToken(secret, caseA))(in)
				in.LegacyUntil, in.RevokedCase = now.Add(time.Hour), issued
			}), false, "token revoked for this case (old form)"},
		{"old-form token revoked globally", nil,
			reply(func(in *Input) {
				withToken(LegacyToken(secret, caseA))(in)
				in.LegacyUntil, in.RevokedAll = now.Add(time.Hour), issued
			}), false, "token revoked (old form"},
		{"old-form token of another case's shape", nil,
			reply(func(in *Input) { withToken(LegacyToken(secret, caseB))(in); in.LegacyUntil = now.Add(time.Hour) }), false, "token invalid"},

		{"several tokens: the telling reason wins over a guess", nil,
			reply(func(in *Input) {
				in.Recipients = []string{ReplyAddress(desk, caseA, "aaaaaaaaaaaaaaaa"), replyTo(caseA)}
				in.Replied = nil
			}), false, "token not for this notification"},
		{"several tokens: one good one suffices", nil,
			reply(func(in *Input) {
				in.Recipients = []string{ReplyAddress(desk, caseA, "aaaaaaaaaaaaaaaa"), replyTo(caseA)}
			}), true, "token ok"},
		{"no token key configured", func(c *Config) { c.TokenKey = nil }, reply(nil), false, "no token key"},
	}
	for _, tc := range tests {
		c := cfg(ModeToken)
		if tc.cfg != nil {
			tc.cfg(&c)
		}
		d := Verify(c, tc.in)
		if d.OK != tc.ok || !strings.Contains(d.Reason, tc.reasonPart) {
			t.Errorf("%s: Verify = %+v; want OK=%v, reason containing %q", tc.name, d, tc.ok, tc.reasonPart)
		}
	}
}

// The domain proofs: our own DKIM verification (results as VerifyDKIM gives them; the
// fake-DNS test below produces them from real signatures), and in the auth-results
// modes our border's Authentication-Results as a fallback.
func TestVerifyDomain(t *testing.T) {
	pass := []DKIMResult{{Domain: "example.cn", Pass: true, SignedSubject: true}}
	forgedBelow := []Trace{
		{Value: "mx.example.cn; dkim=fail header.d=example.cn; spf=softfail smtp.mailfrom=evil.example"},
		{Received: true, Value: border},
		{Value: ourAR}, // forged: our authserv-id, but below our border's Received line
	}
	tests := []struct {
		name       string
		mode       Mode
		in         Input
		ok         bool
		reasonPart string
	}{
		{"dkim: our pass, d= the From domain", ModeDKIM, Input{From: staffA, DKIM: pass}, true, "dkim: pass d=example.cn"},
		{"dkim: our pass, d= a parent of the From domain (relaxed alignment)", ModeDKIM,
			Input{From: "lisi@mail.example.cn", DKIM: pass}, true, "dkim: pass"},
		{"dkim: a genuine signature of another domain", ModeDKIM,
			Input{From: staffA, DKIM: []DKIMResult{{Domain: "evil.example", Pass: true, SignedSubject: true}}}, false, "not aligned"},
		{"dkim: a look-alike domain is no parent", ModeDKIM,
			Input{From: staffA, DKIM: []DKIMResult{{Domain: "xample.cn", Pass: true, SignedSubject: true}}}, false, "not aligned"},
		{"dkim: a top-level domain never aligns", ModeDKIM,
			Input{From: staffA, DKIM: []DKIMResult{{Domain: "cn", Pass: true, SignedSubject: true}}}, false, "not aligned"},
		{"dkim: a child of the From domain is no parent", ModeDKIM,
			Input{From: staffA, DKIM: []DKIMResult{{Domain: "evil.example.cn", Pass: true, SignedSubject: true}}}, false, "not aligned"},
		{"dkim: an aligned pass that does not sign the Subject (the case tag)", ModeDKIM,
			Input{From: staffA, DKIM: []DKIMResult{{Domain: "example.cn", Pass: true}}}, false, "does not sign the Subject"},
		{"dkim: an aligned signature that failed", ModeDKIM,
			Input{From: staffA, DKIM: []DKIMResult{{Domain: "example.cn", Reason: "body hash did not verify"}}}, false, "body hash did not verify"},
		{"dkim: one failed, one passed", ModeDKIM,
			Input{From: staffA, DKIM: append([]DKIMResult{{Domain: "example.cn", Reason: "signature did not verify"}}, pass...)}, true, "dkim: pass"},
		{"dkim mode never reads the header, even ours", ModeDKIM,
			Input{From: staffA, Trace: above(ourAR)}, false, "no signature verified by us"},
		{"dkim: not staff", ModeDKIM, Input{From: "evil@example.cn", DKIM: pass}, false, "sender not on staff list"},

		{"auth-results: our DKIM pass first, no header needed", ModeAuthResults, Input{From: staffA, DKIM: pass}, true, "verified by us"},
		{"auth-results: DKIM failed and a forged pass below our trusted hop", ModeAuthResults,
			Input{From: staffA, DKIM: []DKIMResult{{Domain: "example.cn", Reason: "body hash did not verify"}}, Trace: forgedBelow}, false, "no dkim/spf pass"},
		{"auth-results: no signature, our border's pass as the fallback", ModeAuthResults,
			Input{From: staffA, Trace: above(ourAR)}, true, "our Authentication-Results"},
		{"auth-results: unaligned DKIM, then our border's spf pass", ModeAuthResults,
			Input{From: staffA, DKIM: []DKIMResult{{Domain: "evil.example", Pass: true, SignedSubject: true}},
				Trace: above("mx.example.cn; dkim=none; spf=pass smtp.mailfrom=wangwu@example.cn")}, true, "spf=pass"},

		{"token+dkim: both", ModeTokenAndDKIM, reply(func(in *Input) { in.DKIM = pass }), true, "dkim: pass"},
		{"token+dkim: token without a signature", ModeTokenAndDKIM, reply(nil), false, "no signature verified by us"},
		{"token+dkim: signature without the token", ModeTokenAndDKIM,
			reply(func(in *Input) { in.DKIM, in.Recipients = pass, []string{desk} }), false, "token missing"},
		{"token|dkim: signature only", ModeTokenOrDKIM,
			reply(func(in *Input) { in.DKIM, in.Recipients = pass, []string{desk} }), true, "dkim: pass"},
		{"token|dkim: token only", ModeTokenOrDKIM, reply(nil), true, "token ok"},
		{"token|dkim: a forged header is no signature", ModeTokenOrDKIM,
			reply(func(in *Input) { in.Recipients, in.Trace = []string{desk}, above(ourAR) }), false, "no signature verified by us"},
	}
	for _, tc := range tests {
		d := Verify(cfg(tc.mode), tc.in)
		if d.OK != tc.ok || !strings.Contains(d.Reason, tc.reasonPart) {
			t.Errorf("%s: Verify = %+v; want OK=%v, reason containing %q", tc.name, d, tc.ok, tc.reasonPart)
		}
	}
}

// Our border's Authentication-Results, in the auth-results modes without a DKIM
// signature of ours to check (issue 4 §4; RFC 8601 §5).
func TestVerifyAuthResults(t *testing.T) {
	tests := []struct {
		name       string
		mode       Mode
		in         Input
		ok         bool
		reasonPart string
	}{
		{"our dkim pass aligned", ModeAuthResults, Input{From: staffA, CaseID: caseA, Trace: above(ourAR)}, true, "dkim=pass"},
		{"spf pass only", ModeAuthResults,
			Input{From: staffA, Trace: above("mx.example.cn; dkim=none; spf=pass smtp.mailfrom=wangwu@example.cn")}, true, "spf=pass"},
		{"header name included and CFWS around =", ModeAuthResults,
			Input{From: staffA, Trace: above("Authentication-Results: MX.example.cn;\r\n\tdkim = pass header.d = \"example.cn\"")}, true, "dkim=pass"},
		{"auth-results written by the sender below ours", ModeAuthResults,
			Input{From: staffA, Trace: []Trace{
				{Value: "mx.example.cn; dkim=none; spf=softfail smtp.mailfrom=evil.example"},
				{Received: true, Value: border},
				{Value: ourAR}, // forged: same authserv-id, but below our border's Received line
			}}, false, "no dkim/spf pass"},
		{"a forged pass below our border alone", ModeAuthResults,
			Input{From: staffA, Trace: []Trace{{Received: true, Value: border}, {Value: ourAR}}}, false, "no Authentication-Results added by our border"},
		{"a pass where no Received says our border took the mail", ModeAuthResults,
			Input{From: staffA, Trace: []Trace{{Value: ourAR}}}, false, "no Received header"},
		{"a pass above a Received that is not our border's (trusted hop set)", ModeAuthResults,
			Input{From: staffA, Trace: []Trace{{Value: ourAR}, {Received: true, Value: "from a by relay.evil.example; Mon, 1 Dec 2026 10:00:00 +0800"}}}, false, "no Received header by our border"},
		{"topmost header is not ours (our MTA added none)", ModeAuthResults,
			Input{From: staffA, Trace: above(ourAR[len("mx.example.cn"):], ourAR)}, false, "not ours"},
		{"sender header on top, ours below: the top one is not ours", ModeAuthResults,
			Input{From: staffA, Trace: above("relay.evil.example; dkim=pass header.d=example.cn", ourAR)}, false, "not ours"},
		{"dkim=pass for another domain", ModeAuthResults,
			Input{From: staffA, Trace: above("mx.example.cn; dkim=pass header.d=evil.example header.i=@evil.example; spf=fail smtp.mailfrom=evil.example")}, false, "another domain"},
		{"pass written only inside a comment", ModeAuthResults,
			Input{From: staffA, Trace: above("mx.example.cn; dkim=fail (dkim=pass header.d=example.cn) header.d=example.cn")}, false, "no dkim/spf pass"},
		{"parent-domain signature is not alignment for a look-alike", ModeAuthResults,
			Input{From: "wangwu@example.cn", Trace: above("mx.example.cn; dkim=pass header.d=xample.cn")}, false, "another domain"},
		{"no Authentication-Results at all", ModeAuthResults, Input{From: staffA}, false, "no Authentication-Results"},
		{"dmarc pass", ModeAuthResults,
			Input{From: staffA, Trace: above("mx.example.cn; dmarc=pass (p=reject) header.from=example.cn")}, true, "dmarc=pass"},

		{"both: token without AR is refused", ModeBoth, reply(nil), false, "token ok"},
		{"both: token and AR", ModeBoth, reply(func(in *Input) { in.Trace = above(ourAR) }), true, "dkim=pass"},
		{"either: AR without token", ModeEither, reply(func(in *Input) { in.Recipients, in.Trace = []string{desk}, above(ourAR) }), true, "dkim=pass"},
		{"either: neither", ModeEither, reply(func(in *Input) { in.Recipients = []string{desk} }), false, "token missing"},
		{"unknown mode fails closed", "dkim|whatever", reply(func(in *Input) { in.Trace = above(ourAR) }), false, "invalid auth mode"},
	}
	for _, tc := range tests {
		d := Verify(cfg(tc.mode), tc.in)
		if d.OK != tc.ok || !strings.Contains(d.Reason, tc.reasonPart) {
			t.Errorf("%s: Verify = %+v; want OK=%v, reason containing %q", tc.name, d, tc.ok, tc.reasonPart)
		}
	}
}

func TestVerifyFailsClosedOnMissingConfig(t *testing.T) {
	in := reply(func(in *Input) { in.Trace = above(ourAR) })
	c := cfg(ModeToken)
	c.TokenKey = nil
	if d := Verify(c, in); d.OK || !strings.Contains(d.Reason, "key") {
		t.Errorf("empty token key: %+v", d)
	}
	c = cfg(ModeAuthResults)
	c.AuthServID = ""
	if d := Verify(c, in); d.OK || !strings.Contains(d.Reason, "authserv-id") {
		t.Errorf("empty authserv-id: %+v", d)
	}
	c = cfg(ModeToken)
	c.Staff = nil
	if d := Verify(c, in); d.OK {
		t.Errorf("empty staff list: %+v", d)
	}
}

func TestParseAuthResults(t *testing.T) {
	ar := parseAuthResults(`mx.example.cn 1; dkim=pass reason="good; signature" header.d=example.cn; auth=pass (cram-md5) smtp.auth=sender@example.net; none`)
	if ar.servID != "mx.example.cn" || len(ar.results) != 2 {
		t.Fatalf("parsed %+v", ar)
	}
	if r := ar.results[0]; r.method != "dkim" || r.result != "pass" || r.props["header.d"] != "example.cn" || r.props["reason"] != "good; signature" {
		t.Errorf("dkim result %+v: quoted ';' must not split the resinfo", r)
	}
}

func FuzzParseAuthResults(f *testing.F) {
	f.Add(ourAR)
	f.Add(`a; b=c (d (e) "f) g="h\"i"`)
	f.Fuzz(func(t *testing.T, v string) {
		mailtest.Cost(t, time.Second+time.Duration(len(v)>>14)*time.Second, 1<<20+uint64(64*len(v)), func() {
			_ = parseAuthResults(v)
			_ = Verify(cfg(ModeEither), Input{From: v, CaseID: v, Recipients: []string{v}, Replied: []string{v}, Trace: above(v), Now: now})
			_ = headerFields([]byte(v))
		})
	})
}

// border is the Received line our border MTA (mx.example.cn) adds.
const border = "from mail.sender.example (mail.sender.example [203.0.113.5]) by mx.example.cn (Postfix) with ESMTPS id 4X; Mon, 1 Dec 2026 10:00:00 +0800"

// above is a trace with the given Authentication-Results headers added by our border:
// above its Received line, topmost first.
func above(ars ...string) []Trace {
	var out []Trace
	for _, a := range ars {
		out = append(out, Trace{Value: a})
	}
	return append(out, Trace{Received: true, Value: border})
}

// Without a trusted hop configured, the topmost Received line is the border: what is
// above it counts, what is below it never does.
func TestAuthResultsBorderIsTheTopmostReceivedByDefault(t *testing.T) {
	c := cfg(ModeAuthResults)
	c.TrustedHop = ""
	relay := "from a by relay.example.net; Mon, 1 Dec 2026 10:00:00 +0800"
	if d := Verify(c, Input{From: staffA, Trace: []Trace{{Value: ourAR}, {Received: true, Value: relay}}}); !d.OK {
		t.Errorf("our pass above the topmost Received refused: %s", d.Reason)
	}
	if d := Verify(c, Input{From: staffA, Trace: []Trace{{Received: true, Value: relay}, {Value: ourAR}}}); d.OK {
		t.Error("a pass below the topmost Received accepted")
	}
}
