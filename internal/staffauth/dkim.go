// SPDX-License-Identifier: MIT

package staffauth

// Our own DKIM verification (RFC 6376) of staff mail, through
// github.com/emersion/go-msgauth, which enters the desk through this package only.
//
// Implementation notes:
//   - Keys are looked up only for signatures whose d= is aligned with the From
//     domain (RFC 7489 §3.1.1 relaxed: the From domain or a parent of it): no other
//     signature could vouch for a staff mail, so a forged staff mail cannot make the
//     desk query a domain of the forger's choosing. At most maxSignatures are read.
//   - A mail with several From or Subject fields gets no pass: a signature covers the
//     bottom-most field of a name (RFC 6376 §5.4.2), the desk reads the first, and a
//     field added above a genuine signed mail would otherwise change the sender or
//     the case the signature seems to vouch for.
//   - A pass needs Subject among the signed fields: the subject's case tag picks the
//     case a command acts on.
//   - go-msgauth refuses l= (body length) signatures and rsa-sha1 (RFC 8301); it
//     checks a signature's x= expiry against the system clock, the one place time is
//     not the caller's (a signature's own expiry, not a desk rule).
//   - The caller bounds what it hands VerifyDKIM (the message size limit): the body
//     hash is computed over what is read, streaming, never held.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// Resolver answers the DNS TXT queries of DKIM key lookups (RFC 6376 §3.6.2.2).
// *net.Resolver satisfies it; tests hand a fake DNS holding a test key. The context
// carries the deadline of the whole verification.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// DKIMResult is one DKIM-Signature of a mail as we verified it.
type DKIMResult struct {
	// Domain is the signing domain (d=), lower case.
	Domain string
	// Pass is true when the signature verified (body hash and header signature).
	Pass bool
	// SignedSubject is true when the signature covers the Subject field.
	SignedSubject bool
	// Reason says why it did not pass ("" when it did).
	Reason string
}

const (
	// maxSignatures bounds the signatures verified per mail (each may cost a lookup).
	maxSignatures = 5
	// maxHeaderBytes bounds the header block read before the library reads it again.
	maxHeaderBytes = 1 << 20
)

var errNotAligned = errors.New("key not looked up: d= is not aligned with the From domain")

// VerifyDKIM verifies the DKIM signatures of the raw message read from raw (header
// and body, as received) with keys looked up through r under ctx. It returns one
// result per signature verified, nil when the mail has none. raw is read to its end
// or until the verification gives up; the caller bounds it.
func VerifyDKIM(ctx context.Context, r Resolver, raw io.Reader) []DKIMResult {
	br := bufio.NewReader(raw)
	head, err := readHeaderBlock(br, maxHeaderBytes)
	if err != nil {
		return []DKIMResult{{Reason: "header unreadable: " + err.Error()}}
	}
	fields := headerFields(head)
	var from, signatures, subjects []string
	for _, f := range fields {
		switch strings.ToLower(f.name) {
		case "from":
			from = append(from, f.value)
		case "subject":
			subjects = append(subjects, f.value)
		case "dkim-signature":
			signatures = append(signatures, f.value)
		}
	}
	if len(signatures) == 0 {
		return nil
	}
	if len(from) != 1 || len(subjects) > 1 {
		return []DKIMResult{{Reason: "several From or Subject fields: no signature can vouch for the one the desk reads"}}
	}
	_, fromDomain, why := parseFrom(from[0])
	if why != "" {
		return []DKIMResult{{Reason: why}}
	}
	// lookup runs on go-msgauth's goroutines when a mail has several signatures
	// (parallelVerify), where no caller's recover reaches: it must not panic, and a
	// bug in it becomes a failed lookup, not the end of the process.
	lookup := func(name string) (txt []string, err error) {
		defer func() {
			if v := recover(); v != nil {
				txt, err = nil, fmt.Errorf("key lookup failed: %v", v)
			}
		}()
		// Index and slice the same string: strings.ToLower may change the byte
		// length of a forged selector (U+023A grows from 2 to 3 bytes).
		lname := strings.ToLower(name)
		i := strings.LastIndex(lname, "._domainkey.")
		if i < 0 || !aligned(lname[i+len("._domainkey."):], fromDomain) {
			return nil, errNotAligned
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return r.LookupTXT(ctx, name)
	}
	verifs, err := dkim.VerifyWithOptions(io.MultiReader(bytes.NewReader(head), br),
		&dkim.VerifyOptions{LookupTXT: lookup, MaxVerifications: maxSignatures})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) && len(verifs) == 0 {
		return []DKIMResult{{Reason: err.Error()}}
	}
	out := make([]DKIMResult, 0, len(verifs))
	for _, v := range verifs {
		res := DKIMResult{Domain: strings.ToLower(strings.TrimSuffix(v.Domain, ".")), Pass: v.Err == nil,
			SignedSubject: slices.ContainsFunc(v.HeaderKeys, func(k string) bool { return strings.EqualFold(k, "subject") })}
		if v.Err != nil {
			res.Reason = strings.TrimPrefix(v.Err.Error(), "dkim: ")
		}
		out = append(out, res)
	}
	return out
}

// checkDKIM accepts a verified signature aligned with the From domain that covers
// the Subject.
func checkDKIM(results []DKIMResult, fromDomain string) (bool, string) {
	if len(results) == 0 {
		return false, "dkim: no signature verified by us"
	}
	var why []string
	for _, r := range results {
		d := r.Domain
		if d == "" {
			d = "?"
		}
		switch {
		case !r.Pass:
			why = append(why, "d="+d+" "+r.Reason)
		case !aligned(r.Domain, fromDomain):
			why = append(why, "d="+d+" not aligned with the From domain")
		case !r.SignedSubject:
			why = append(why, "d="+d+" does not sign the Subject")
		default:
			return true, "dkim: pass d=" + r.Domain + " (verified by us)"
		}
	}
	return false, "dkim: no aligned pass (" + strings.Join(why, "; ") + ")"
}

// aligned is DMARC relaxed alignment (RFC 7489 §3.1.1) without a public suffix
// list: d is the From domain or a parent of it, and has at least two labels. A
// single-label d= ("cn") is refused outright; a registry-level parent with two labels
// ("com.cn") cannot publish keys under _domainkey for its registrants, so it cannot
// sign for them either.
func aligned(d, fromDomain string) bool {
	d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	fromDomain = strings.TrimSuffix(strings.ToLower(fromDomain), ".")
	if d == "" || !strings.Contains(d, ".") {
		return false
	}
	return d == fromDomain || strings.HasSuffix(fromDomain, "."+d)
}

// HeaderSender returns the address (lower case) of the one From field of a raw
// header block, "" when there is none, several, or it cannot be parsed. Intake asks
// it before the parse, to run VerifyDKIM for staff mail only.
func HeaderSender(head []byte) string {
	var from []string
	for _, f := range headerFields(head) {
		if strings.EqualFold(f.name, "from") {
			from = append(from, f.value)
		}
	}
	if len(from) != 1 {
		return ""
	}
	addr, _, why := parseFrom(from[0])
	if why != "" {
		return ""
	}
	return addr
}

// ReadHeader reads the header block of a raw message from br, through the empty line
// that ends it, at most max bytes. It returns what it read, and an error when the
// block is longer or the input ends or fails first; what was read is returned either
// way, so the caller can hand it on.
func ReadHeader(br *bufio.Reader, max int) ([]byte, error) {
	return readHeaderBlock(br, max)
}

func readHeaderBlock(br *bufio.Reader, max int) ([]byte, error) {
	var head []byte
	start := 0 // of the line being read
	for {
		chunk, err := br.ReadSlice('\n')
		head = append(head, chunk...)
		if len(head) > max {
			return head, errors.New("header block too long")
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue // the same line goes on
		}
		if err != nil {
			return head, err
		}
		if len(bytes.TrimRight(head[start:], "\r\n")) == 0 {
			return head, nil
		}
		start = len(head)
	}
}

type field struct{ name, value string }

// headerFields splits a header block into unfolded fields; lines that are no field
// (no colon) are skipped.
func headerFields(head []byte) []field {
	var out []field
	for _, line := range strings.SplitAfter(string(head), "\n") {
		l := strings.TrimRight(line, "\r\n")
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(out) > 0 {
			out[len(out)-1].value += " " + strings.TrimSpace(l)
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok || strings.ContainsAny(name, " \t") {
			continue
		}
		out = append(out, field{name: name, value: strings.TrimSpace(value)})
	}
	return out
}
