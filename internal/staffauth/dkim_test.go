// SPDX-License-Identifier: MIT

package staffauth

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// fakeDNS holds DKIM key records and counts the queries it answered.
type fakeDNS struct {
	mu      sync.Mutex
	records map[string][]string
	asked   []string
	err     error // returned for every query when set (a DNS outage)
}

func (f *fakeDNS) LookupTXT(ctx context.Context, name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, name)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.err != nil {
		return nil, f.err
	}
	if r, ok := f.records[strings.ToLower(name)]; ok {
		return r, nil
	}
	return nil, errors.New("no such host")
}

// testKey is a signing key with its DNS record, deterministic so failures reproduce.
func testKey(seed byte) (ed25519.PrivateKey, string) {
	k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return k, "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
}

// staffMail is a staff member's command mail as their server signs it: d=domain,
// signing keys (nil: every field, Subject included).
func staffMail(t *testing.T, key ed25519.PrivateKey, domain string, keys []string, extraTop string) []byte {
	t.Helper()
	raw := "From: 王五 <wangwu@example.cn>\r\nTo: ts@example.cn\r\nSubject: Re: [TS-2026-000123] 请处理\r\n" +
		"Date: Tue, 01 Dec 2026 10:00:00 +0800\r\nMessage-ID: <r1@example.cn>\r\nIn-Reply-To: <" + noteA + ">\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n受理\r\n"
	var b bytes.Buffer
	err := dkim.Sign(&b, strings.NewReader(raw), &dkim.SignOptions{Domain: domain, Selector: "s1", Signer: key,
		HeaderKeys: keys, HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed})
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(extraTop), b.Bytes()...)
}

// Our own DKIM verification against a fake DNS holding the test keys, and the verdict
// Verify gives on what it found (issue 13: verify staff DKIM ourselves, aligned with
// the From domain; the header only as a fallback).
func TestVerifyDKIMWithFakeDNS(t *testing.T) {
	staffKey, staffRecord := testKey(1)
	evilKey, evilRecord := testKey(2)
	dns := func() *fakeDNS {
		return &fakeDNS{records: map[string][]string{
			"s1._domainkey.example.cn":   {staffRecord},
			"s1._domainkey.evil.example": {evilRecord},
		}}
	}
	signed := staffMail(t, staffKey, "example.cn", nil, "")
	tests := []struct {
		name       string
		raw        []byte
		dns        func(*fakeDNS)
		ctxDone    bool
		mode       Mode
		ok         bool
		reasonPart string
		asked      int // DNS queries expected
	}{
		{"a staff mail signed by its domain", signed, nil, false, ModeDKIM, true, "dkim: pass d=example.cn", 1},
		{"as the server relays it: trace headers added above the signature", append([]byte("Received: from a by mx.example.cn; Tue, 1 Dec 2026 10:00:01 +0800\r\n"), signed...),
			nil, false, ModeDKIM, true, "dkim: pass", 1},
		{"the body changed after signing", bytes.Replace(signed, []byte("受理\r\n"), []byte("驳回 无理由\r\n"), 1),
			nil, false, ModeDKIM, false, "body hash did not verify", 1},
		{"the subject changed after signing (another case)", bytes.Replace(signed, []byte("000123]"), []byte("000124]"), 1),
			nil, false, ModeDKIM, false, "signature did not verify", 1},
		{"a genuine signature of the forger's domain on a staff From: no lookup, no pass",
			staffMail(t, evilKey, "evil.example", nil, ""), nil, false, ModeDKIM, false, "not aligned", 0},
		{"a From field added above a genuinely signed mail", staffMail(t, staffKey, "example.cn", nil, "From: lisi@mail.example.cn\r\n"),
			nil, false, ModeDKIM, false, "several From or Subject", 0},
		{"a Subject field added above a genuinely signed mail", staffMail(t, staffKey, "example.cn", nil, "Subject: [TS-2026-000124] 受理\r\n"),
			nil, false, ModeDKIM, false, "several From or Subject", 0},
		{"a signature that leaves the Subject out", staffMail(t, staffKey, "example.cn", []string{"From", "To", "Date"}, ""),
			nil, false, ModeDKIM, false, "does not sign the Subject", 1},
		{"the key is not in the DNS", signed, func(f *fakeDNS) { delete(f.records, "s1._domainkey.example.cn") }, false, ModeDKIM, false, "no aligned pass", 1},
		{"a DNS outage", signed, func(f *fakeDNS) { f.err = errors.New("i/o timeout") }, false, ModeDKIM, false, "no aligned pass", 1},
		{"the deadline passed before the lookup", signed, nil, true, ModeDKIM, false, "no aligned pass", 0},
		{"no signature at all", []byte("From: wangwu@example.cn\r\nSubject: x\r\n\r\n受理\r\n"), nil, false, ModeDKIM, false, "no signature verified by us", 0},
		{"auth-results mode: DKIM fails, a forged header below our border does not count",
			append([]byte("Received: from evil by mx.example.cn; Tue, 1 Dec 2026 10:00:01 +0800\r\nAuthentication-Results: mx.example.cn; dkim=pass header.d=example.cn\r\n"),
				bytes.Replace(signed, []byte("受理"), []byte("结案"), 1)...),
			nil, false, ModeAuthResults, false, "no Authentication-Results added by our border", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := dns()
			if tc.dns != nil {
				tc.dns(f)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.ctxDone {
				cancel()
			}
			res := VerifyDKIM(ctx, f, bytes.NewReader(tc.raw))
			in := Input{From: "王五 <wangwu@example.cn>", CaseID: caseA, DKIM: res, Now: now, Trace: traceOf(tc.raw)}
			d := Verify(cfg(tc.mode), in)
			if d.OK != tc.ok || !strings.Contains(d.Reason, tc.reasonPart) {
				t.Errorf("Verify = %+v (DKIM %+v); want OK=%v, reason containing %q", d, res, tc.ok, tc.reasonPart)
			}
			if len(f.asked) != tc.asked {
				t.Errorf("DNS queries %q, want %d", f.asked, tc.asked)
			}
		})
	}
}

// traceOf is the Received and Authentication-Results fields of raw, topmost first, as
// mailmsg hands them to intake.
func traceOf(raw []byte) []Trace {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	var out []Trace
	for _, f := range headerFields(append(head, "\r\n"...)) {
		switch strings.ToLower(f.name) {
		case "received":
			out = append(out, Trace{Received: true, Value: f.value})
		case "authentication-results":
			out = append(out, Trace{Value: f.value})
		}
	}
	return out
}

func TestHeaderSender(t *testing.T) {
	tests := []struct{ head, want string }{
		{"From: =?UTF-8?B?546L5LqU?= <WangWu@Example.CN>\r\nSubject: x\r\n\r\n", "wangwu@example.cn"},
		{"Received: x\r\nfrom:\r\n wangwu@example.cn\r\n\r\n", "wangwu@example.cn"},
		{"From: a@example.cn\r\nFrom: b@example.cn\r\n\r\n", ""},
		{"Subject: no sender\r\n\r\n", ""},
	}
	for _, tc := range tests {
		if got := HeaderSender([]byte(tc.head)); got != tc.want {
			t.Errorf("HeaderSender(%q) = %q, want %q", tc.head, got, tc.want)
		}
	}
}

func FuzzVerifyDKIM(f *testing.F) {
	key, _ := testKey(1)
	var b bytes.Buffer
	dkim.Sign(&b, strings.NewReader("From: a@example.cn\r\nSubject: x\r\n\r\nbody\r\n"), &dkim.SignOptions{Domain: "example.cn", Selector: "s1", Signer: key})
	f.Add(b.Bytes())
	f.Add([]byte("DKIM-Signature: v=1; d=example.cn; s=s1; h=from; a=ed25519-sha256; b=; bh=\r\nFrom: a@example.cn\r\n\r\n"))
	// Two signatures whose selector grows when lower-cased: panicked on go-msgauth's
	// goroutines (TestForgedSelectorFailsWithoutPanic).
	sig := "DKIM-Signature: v=1; d=example.cn; s=" + strings.Repeat("\u023a", 20) + "; h=from; a=ed25519-sha256; b=AAAA; bh=AAAA\r\n"
	f.Add([]byte(sig + sig + "From: a@example.cn\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		dns := &fakeDNS{records: map[string][]string{}}
		res := VerifyDKIM(context.Background(), dns, bytes.NewReader(raw))
		if len(res) > maxSignatures {
			t.Errorf("%d results, at most %d signatures are verified", len(res), maxSignatures)
		}
		if len(dns.asked) > maxSignatures {
			t.Errorf("%d lookups", len(dns.asked))
		}
	})
}

// A forged DKIM-Signature whose selector holds letters that grow when lower-cased
// (U+023A is 2 bytes, its lower case U+2C65 is 3) is a signature that does not
// verify. The key lookup sliced the name at an index found in its lower case and
// panicked: with two signatures on go-msgauth's own goroutines, where no recover of
// ours reaches, so one forged "staff" mail ended the daemon.
func TestForgedSelectorFailsWithoutPanic(t *testing.T) {
	sig := "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=ex.cn; s=" + strings.Repeat("Ⱥ", 10) +
		"; h=from:subject; bh=AAAA; b=AAAA\r\n"
	for _, n := range []int{1, 2} {
		raw := strings.Repeat(sig, n) + "From: li.bianji@ex.cn\r\nSubject: x\r\n\r\nbody\r\n"
		dns := &fakeDNS{}
		res := VerifyDKIM(context.Background(), dns, strings.NewReader(raw))
		if len(res) != n {
			t.Fatalf("%d signatures: %d results %+v", n, len(res), res)
		}
		for _, r := range res {
			if r.Pass {
				t.Errorf("%d signatures: a forged signature passed: %+v", n, r)
			}
		}
	}
}
