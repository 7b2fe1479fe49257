// SPDX-License-Identifier: MIT

package staffauth

import (
	"regexp"
	"strings"
	"testing"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

const (
	desk   = "ts@example.cn"
	caseA  = "TS-2026-000123"
	caseB  = "TS-2026-000124"
	ourID  = "mx.example.cn"
	staffA = "wangwu@example.cn"
)

// ourAR is what our MTA prepends for a genuine staff mail.
const ourAR = `mx.example.cn; dkim=pass (2048-bit key; unprotected) header.d=example.cn header.i=@example.cn header.s=s1 header.b=AbCd; spf=pass (mx.example.cn: domain of wangwu@example.cn designates 203.0.113.5 as permitted sender) smtp.mailfrom=wangwu@example.cn`

func cfg(mode Mode) Config {
	return Config{Mode: mode, AuthServID: ourID, TrustedHop: "mx.example.cn", Staff: []string{staffA, "lisi@example.cn"}, Secret: secret}
}

func replyTo(caseID string) string {
	return "投诉受理台 <" + ReplyAddress(desk, caseID, Token(secret, caseID)) + ">"
}

func TestToken(t *testing.T) {
	tok := Token(secret, caseA)
	if !regexp.MustCompile(`^[a-z2-7]{16}$`).MatchString(tok) {
		t.Errorf("Token = %q, want 16 chars of lower-case base32", tok)
	}
	if Token(secret, caseA) != tok || Token(secret, strings.ToLower(caseA)) != tok {
		t.Error("Token must be deterministic and ignore the case number's letter case")
	}
	if Token(secret, caseB) == tok {
		t.Error("two cases share a token")
	}
	if Token([]byte("another secret"), caseA) == tok {
		t.Error("the token does not depend on the secret")
	}
}

func TestReplyAddressAndExtract(t *testing.T) {
	tok := Token(secret, caseA)
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

func TestVerify(t *testing.T) {
	tests := []struct {
		name       string
		mode       Mode
		in         Input
		ok         bool
		reasonPart string
	}{
		{"token mode: staff reply to the notification", ModeToken,
			Input{From: "王五 <wangwu@example.cn>", CaseID: caseA, Recipients: []string{replyTo(caseA)}}, true, "token ok"},
		{"staff address compared case-insensitively", ModeToken,
			Input{From: "Wang Wu <WangWu@Example.CN>", CaseID: caseA, Recipients: []string{replyTo(caseA)}}, true, "token ok"},
		{"forged From of a staff address without token", ModeToken,
			Input{From: staffA, CaseID: caseA, Recipients: []string{desk}}, false, "token missing"},
		{"token of another case", ModeToken,
			Input{From: staffA, CaseID: caseA, Recipients: []string{replyTo(caseB)}}, false, "token for another case"},
		{"guessed token for the right case", ModeToken,
			Input{From: staffA, CaseID: caseA, Recipients: []string{"ts+ts-2026-000123.aaaaaaaaaaaaaaaa@example.cn"}}, false, "token invalid"},
		{"complainant with a valid token (forwarded notification) is still not staff", ModeToken,
			Input{From: "zhangsan@mengniu.example", CaseID: caseA, Recipients: []string{replyTo(caseA)}}, false, "sender not on staff list"},
		{"a staff member's own plus-tag is not a case token", ModeToken,
			Input{From: staffA, CaseID: caseA, Recipients: []string{"wangwu+news.cn@example.cn"}}, false, "token missing"},
		{"no case tag", ModeToken,
			Input{From: staffA, Recipients: []string{replyTo(caseA)}}, false, "no case tag"},
		{"encoded-word display name in GB2312", ModeToken,
			Input{From: "=?gb2312?B?zfXO5A==?= <wangwu@example.cn>", CaseID: caseA, Recipients: []string{replyTo(caseA)}}, true, "token ok"},
		{"two From addresses", ModeToken,
			Input{From: "wangwu@example.cn, evil@evil.example", CaseID: caseA, Recipients: []string{replyTo(caseA)}}, false, "several From"},
		{"display name pretending to be staff", ModeToken,
			Input{From: `"wangwu@example.cn" <evil@evil.example>`, CaseID: caseA, Recipients: []string{replyTo(caseA)}}, false, "sender not on staff list"},

		{"auth-results: our dkim pass aligned", ModeAuthResults,
			Input{From: staffA, CaseID: caseA, Trace: above(ourAR)}, true, "dkim=pass"},
		{"auth-results: spf pass only", ModeAuthResults,
			Input{From: staffA, Trace: above("mx.example.cn; dkim=none; spf=pass smtp.mailfrom=wangwu@example.cn")}, true, "spf=pass"},
		{"auth-results: header name included and CFWS around =", ModeAuthResults,
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
		{"no Authentication-Results at all", ModeAuthResults,
			Input{From: staffA}, false, "no Authentication-Results"},
		{"dmarc pass", ModeAuthResults,
			Input{From: staffA, Trace: above("mx.example.cn; dmarc=pass (p=reject) header.from=example.cn")}, true, "dmarc=pass"},

		{"both: token without AR is refused", ModeBoth,
			Input{From: staffA, CaseID: caseA, Recipients: []string{replyTo(caseA)}}, false, "token ok"},
		{"both: token and AR", ModeBoth,
			Input{From: staffA, CaseID: caseA, Recipients: []string{replyTo(caseA)}, Trace: above(ourAR)}, true, "dkim=pass"},
		{"either: AR without token", ModeEither,
			Input{From: staffA, CaseID: caseA, Recipients: []string{desk}, Trace: above(ourAR)}, true, "dkim=pass"},
		{"either: neither", ModeEither,
			Input{From: staffA, CaseID: caseA, Recipients: []string{desk}}, false, "token missing"},
		{"unknown mode fails closed", "dkim",
			Input{From: staffA, CaseID: caseA, Recipients: []string{replyTo(caseA)}, Trace: above(ourAR)}, false, "invalid auth mode"},
	}
	for _, tc := range tests {
		d := Verify(cfg(tc.mode), tc.in)
		if d.OK != tc.ok || !strings.Contains(d.Reason, tc.reasonPart) {
			t.Errorf("%s: Verify = %+v; want OK=%v, reason containing %q", tc.name, d, tc.ok, tc.reasonPart)
		}
	}
}

func TestVerifyFailsClosedOnMissingConfig(t *testing.T) {
	in := Input{From: staffA, CaseID: caseA, Recipients: []string{replyTo(caseA)}, Trace: above(ourAR)}
	c := cfg(ModeToken)
	c.Secret = nil
	if d := Verify(c, in); d.OK || !strings.Contains(d.Reason, "secret") {
		t.Errorf("empty secret: %+v", d)
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
		_ = parseAuthResults(v)
		_ = Verify(cfg(ModeEither), Input{From: v, CaseID: v, Recipients: []string{v}, Trace: above(v)})
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
