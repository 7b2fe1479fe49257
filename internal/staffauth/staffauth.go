// SPDX-License-Identifier: MIT

// Package staffauth decides whether a command mail really comes from staff (SPEC §4,
// issue 4 §4). It is pure: the caller hands it the From header, the recipient headers,
// the Authentication-Results headers in the order they appear (topmost first) and the
// configuration; it returns a Decision with a reason fit for the security event.
//
// Two proofs exist, combined by Mode:
//   - a per-case token, an HMAC of the case number under a secret only the daemon
//     knows, carried in the Reply-To sub-address of the staff notification
//     (desk+ts-2026-000123.<token>@example.cn), so only someone who received the
//     notification can reply to the right address;
//   - a DKIM (aligned with the From domain), SPF (MAIL FROM domain equal to the From
//     domain) or DMARC pass in the Authentication-Results header (RFC 8601) written by
//     our own MTA, identified by its authserv-id.
//
// Invariants:
//   - Fail closed: an unknown mode, an empty secret or authserv-id, an unparsable From
//     or several From addresses deny.
//   - Only the topmost Authentication-Results header is ever trusted, and only when its
//     authserv-id is ours (RFC 8601 §5: our MTA prepends its header and must remove or
//     ignore copies claiming its authserv-id further down; anything below the top could
//     have been written by the sender). If the top header is not ours, no result counts.
//   - Tokens are compared in constant time.
//   - Replay (the same command mail delivered twice) is not detected here: the caller
//     deduplicates by Message-ID / IMAP UID before executing, in the same store
//     transaction as the case change.
package staffauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"io"
	"mime"
	"net/mail"
	"strings"
)

// Mode says which proofs a command mail needs.
type Mode string

// Modes.
const (
	// ModeToken: the per-case token in a recipient address.
	ModeToken Mode = "token"
	// ModeAuthResults: a DKIM/SPF/DMARC pass in our Authentication-Results header.
	ModeAuthResults Mode = "auth-results"
	// ModeBoth: both proofs are required.
	ModeBoth Mode = "token+auth-results"
	// ModeEither: either proof suffices.
	ModeEither Mode = "token|auth-results"
)

// Valid reports whether m is one of the modes above.
func (m Mode) Valid() bool {
	switch m {
	case ModeToken, ModeAuthResults, ModeBoth, ModeEither:
		return true
	}
	return false
}

func (m Mode) needsToken() bool { return m == ModeToken || m == ModeBoth || m == ModeEither }
func (m Mode) needsAR() bool    { return m == ModeAuthResults || m == ModeBoth || m == ModeEither }

// Config is the staff authentication configuration.
type Config struct {
	// Mode combines the proofs; the zero value is invalid and denies everything.
	Mode Mode
	// AuthServID is the authserv-id our own MTA writes into Authentication-Results
	// (e.g. "mx.example.cn"); compared case-insensitively. Required for modes using it.
	AuthServID string
	// TrustedHop is the host our border MTA names in the Received header it adds
	// ("Received: from … by TrustedHop …"); only Authentication-Results above that line
	// were added by us. Empty: only those above the topmost Received header.
	TrustedHop string
	// Staff lists the staff addresses, lower-case.
	Staff []string
	// Secret keys the per-case tokens. Required for modes using tokens; keep it at least
	// 32 random bytes.
	Secret []byte
}

// Input describes one command mail.
type Input struct {
	// From is the From header value ("张三 <a@example.cn>" or a bare address).
	From string
	// CaseID is the case the mail targets (from the subject's case tag).
	CaseID string
	// Recipients are the values of To, Cc, Delivered-To and X-Original-To (each may hold
	// several addresses with display names).
	Recipients []string
	// Trace are the Received and Authentication-Results headers in header order,
	// topmost first.
	Trace []Trace
}

// Trace is one Received or Authentication-Results header.
type Trace struct {
	Received bool // a Received header; else Authentication-Results
	Value    string
}

// Decision is the verdict on one command mail.
type Decision struct {
	// OK is true when the command may run.
	OK bool
	// Sender is the From address, lower-case ("" when it could not be parsed).
	Sender string
	// Reason says why (for the security event when !OK, for the audit log when OK),
	// e.g. "sender not on staff list", "token missing", "token for another case",
	// "no dkim/spf pass in our Authentication-Results".
	Reason string
}

// tokenBytes is the number of HMAC bytes kept: 80 bits, 16 base32 characters.
const tokenBytes = 10

// Token returns the secret token for caseID: HMAC-SHA256 over the lower-cased case
// number, truncated to 80 bits, base32 in lower case (16 characters of a-z2-7, safe
// in an address local part).
func Token(secret []byte, caseID string) string {
	mac := hmac.New(sha256.New, secret)
	io.WriteString(mac, "complaintd case token\x00"+strings.ToLower(caseID))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(mac.Sum(nil)[:tokenBytes]))
}

// ComplainantToken is the per-case token in the Reply-To of the mails sent to the
// complainant: a mail carrying it acts on the case like the complainant's own, whatever
// its From (they may answer from another mailbox). It is keyed apart from the staff
// token, so one never passes for the other.
func ComplainantToken(secret []byte, caseID string) string {
	mac := hmac.New(sha256.New, secret)
	io.WriteString(mac, "complaintd complainant token\x00"+strings.ToLower(caseID))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(mac.Sum(nil)[:tokenBytes]))
}

// HasComplainantToken reports whether the recipients carry caseID's complainant token
// (a reply to a mail the desk sent the complainant).
func HasComplainantToken(secret []byte, recipients []string, deskAddr, caseID string) bool {
	if len(secret) == 0 || caseID == "" {
		return false
	}
	want := ComplainantToken(secret, caseID)
	for _, s := range extractAll(recipients, deskAddr) {
		if strings.EqualFold(s.caseID, caseID) && hmac.Equal([]byte(s.token), []byte(want)) {
			return true
		}
	}
	return false
}

// ReplyAddress returns the sub-address desk+<caseid lower>.<token>@domain that staff
// notifications use as Reply-To. deskAddr is the bare desk address. If deskAddr has no
// "@" it is returned unchanged.
func ReplyAddress(deskAddr, caseID, token string) string {
	at := strings.LastIndexByte(deskAddr, '@')
	if at < 0 {
		return deskAddr
	}
	return deskAddr[:at] + "+" + strings.ToLower(caseID) + "." + token + deskAddr[at:]
}

// ExtractToken scans header values (To, Cc, Delivered-To, X-Original-To) for a desk
// sub-address made by ReplyAddress and returns the first case number (upper-cased, as
// case numbers are written) and token found.
func ExtractToken(addrs []string, deskAddr string) (caseID, token string, ok bool) {
	found := extractAll(addrs, deskAddr)
	if len(found) == 0 {
		return "", "", false
	}
	return found[0].caseID, found[0].token, true
}

type subAddr struct{ caseID, token string }

// extractAll returns every desk sub-address in values, in order.
func extractAll(values []string, deskAddr string) []subAddr {
	at := strings.LastIndexByte(deskAddr, '@')
	if at < 0 {
		return nil
	}
	local, domain := strings.ToLower(deskAddr[:at]), strings.ToLower(deskAddr[at+1:])
	var out []subAddr
	for _, v := range values {
		for _, word := range strings.FieldsFunc(v, func(r rune) bool {
			return strings.ContainsRune(" \t\r\n,;<>\"'()", r)
		}) {
			word = strings.ToLower(word)
			a := strings.LastIndexByte(word, '@')
			if a < 0 || word[a+1:] != domain || !strings.HasPrefix(word[:a], local+"+") {
				continue
			}
			detail := word[len(local)+1 : a]
			dot := strings.LastIndexByte(detail, '.')
			if dot <= 0 || dot == len(detail)-1 {
				continue
			}
			out = append(out, subAddr{caseID: strings.ToUpper(detail[:dot]), token: detail[dot+1:]})
		}
	}
	return out
}

// Verify decides whether in may run a command under cfg. The sender must be on the
// staff list, and the mail must carry the proofs cfg.Mode asks for.
func Verify(cfg Config, in Input) Decision {
	if !cfg.Mode.Valid() {
		return Decision{Reason: "invalid auth mode " + quote(string(cfg.Mode))}
	}
	sender, domain, err := parseFrom(in.From)
	if err != "" {
		return Decision{Reason: err}
	}
	d := Decision{Sender: sender}
	staff := false
	for _, s := range cfg.Staff {
		if strings.EqualFold(strings.TrimSpace(s), sender) {
			staff = true
			break
		}
	}
	if !staff {
		d.Reason = "sender not on staff list"
		return d
	}
	var tokOK, arOK bool
	var tokWhy, arWhy string
	if cfg.Mode.needsToken() {
		tokOK, tokWhy = checkToken(cfg, in)
	}
	if cfg.Mode.needsAR() {
		arOK, arWhy = checkAuthResults(cfg, in.Trace, domain)
	}
	switch cfg.Mode {
	case ModeToken:
		d.OK, d.Reason = tokOK, tokWhy
	case ModeAuthResults:
		d.OK, d.Reason = arOK, arWhy
	case ModeBoth:
		d.OK = tokOK && arOK
		d.Reason = tokWhy + "; " + arWhy
	case ModeEither:
		d.OK = tokOK || arOK
		d.Reason = tokWhy + "; " + arWhy
	}
	return d
}

// checkToken looks for the target case's token among the recipients. Any sub-address
// shape desk+<case>.<token>@… is considered, whatever the desk address, because the
// token itself binds the case and only the daemon can compute it.
func checkToken(cfg Config, in Input) (bool, string) {
	if len(cfg.Secret) == 0 {
		return false, "no token secret configured"
	}
	if strings.TrimSpace(in.CaseID) == "" {
		return false, "no case tag in subject"
	}
	want := []byte(Token(cfg.Secret, in.CaseID))
	found := tokensByShape(in.Recipients)
	if len(found) == 0 {
		return false, "token missing"
	}
	otherCase := false
	for _, f := range found {
		if !strings.EqualFold(f.caseID, in.CaseID) {
			otherCase = true
			continue
		}
		if subtle.ConstantTimeCompare([]byte(f.token), want) == 1 {
			return true, "token ok"
		}
	}
	if otherCase {
		return false, "token for another case"
	}
	return false, "token invalid"
}

// tokensByShape finds local+<case>.<token>@domain addresses in header values.
func tokensByShape(values []string) []subAddr {
	var out []subAddr
	for _, v := range values {
		for _, word := range strings.FieldsFunc(v, func(r rune) bool {
			return strings.ContainsRune(" \t\r\n,;<>\"'()", r)
		}) {
			word = strings.ToLower(word)
			a := strings.LastIndexByte(word, '@')
			if a < 0 {
				continue
			}
			plus := strings.IndexByte(word[:a], '+')
			if plus < 0 {
				continue
			}
			detail := word[plus+1 : a]
			dot := strings.LastIndexByte(detail, '.')
			if dot <= 0 || dot == len(detail)-1 {
				continue
			}
			if !caseLike(detail[:dot]) {
				continue // someone's own tag (wangwu+news.cn@…), not a case token
			}
			out = append(out, subAddr{caseID: strings.ToUpper(detail[:dot]), token: detail[dot+1:]})
		}
	}
	return out
}

// caseLike reports the shape of a case number: <prefix>-<year>-<digits>.
func caseLike(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) != 3 || parts[0] == "" {
		return false
	}
	for _, p := range parts[1:] {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// parseFrom returns the single From address (lower-case) and its domain, or a reason.
// Display names in any charset are accepted: only the address matters here.
func parseFrom(from string) (addr, domain, reason string) {
	p := mail.AddressParser{WordDecoder: &mime.WordDecoder{
		CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil },
	}}
	list, err := p.ParseList(strings.TrimSpace(from))
	if err != nil || len(list) == 0 {
		return "", "", "unparsable From"
	}
	if len(list) > 1 {
		return "", "", "several From addresses"
	}
	addr = strings.ToLower(list[0].Address)
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "", "", "unparsable From"
	}
	return addr, addr[at+1:], ""
}

func quote(s string) string { return "\"" + s + "\"" }
