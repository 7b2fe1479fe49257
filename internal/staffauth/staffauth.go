// SPDX-License-Identifier: MIT

// Package staffauth decides whether a command mail really comes from staff (SPEC §4,
// issue 4 §4, issue 13 "Staff proof"). It is pure apart from one interface, Resolver,
// through which VerifyDKIM looks up DKIM keys in the DNS: the caller hands Verify the
// From header, the recipient headers, the Message-IDs the mail answers, the trace
// headers in the order they appear (topmost first), the result of VerifyDKIM, the
// revocations in force and the time, and gets back a Decision with a reason fit for
// the security event.
//
// Two kinds of proof exist, combined by Mode:
//   - a staff token carried in the Reply-To sub-address of every staff mail the desk
//     sends (desk+ts-2026-000123.<token>@example.cn), so only someone who received
//     that mail can reply to the right address (token.go). A token is bound to the
//     one mail it was sent with: its MAC covers the case, that mail's Message-ID and
//     the issue time, and a reply counts only when its In-Reply-To or References
//     names that Message-ID. It expires TokenTTL after issue, and the store can
//     revoke every token of a case, or every token, issued up to an instant. It is
//     keyed by a key of its own (TokenKey), not by the store's master key, so
//     rotating the master key leaves tokens valid;
//   - a pass of the sender's domain: a DKIM signature we verified ourselves (RFC
//     6376, github.com/emersion/go-msgauth), aligned with the From domain (RFC 7489
//     §3.1.1 relaxed alignment: d= is the From domain or a parent of it); and, in the
//     auth-results modes only, as a fallback, a DKIM (aligned), SPF or DMARC pass in
//     the Authentication-Results header (RFC 8601) our own border added
//     (authresults.go).
//
// Invariants:
//   - Fail closed: an unknown mode, an empty key or authserv-id, an unparsable From
//     or several From addresses deny.
//   - A token is checked for authenticity (its MAC over case and issue time) before
//     anything else is said about it, so "token expired", "token revoked" and
//     "token not for this notification" are only ever said of tokens the daemon
//     minted; anything else is "token invalid".
//   - Only Authentication-Results headers above the Received line of our trusted hop
//     are ever read, and only the topmost of them, and only when its authserv-id is
//     ours (RFC 8601 §5: our MTA prepends its header; anything below could have been
//     written by the sender).
//   - Tokens and MACs are compared in constant time.
//   - Time is the caller's (Input.Now): nothing here reads the system clock (the
//     DKIM library checks a signature's own x= expiry against it, see dkim.go).
//   - Replay (the same command mail delivered twice) is not detected here: the caller
//     deduplicates by Message-ID / IMAP UID before executing, in the same store
//     transaction as the case change.
package staffauth

import (
	"io"
	"mime"
	"net/mail"
	"strings"
	"time"
)

// Mode says which proofs a command mail needs.
type Mode string

// Modes. The auth-results modes keep their meaning ("the sender's domain vouches for
// the mail") and gain our own DKIM verification, tried first; the dkim modes trust
// our own verification only, never a header.
const (
	// ModeToken: the staff token in a recipient address.
	ModeToken Mode = "token"
	// ModeAuthResults: our own DKIM verification (aligned), else a DKIM/SPF/DMARC
	// pass in our border's Authentication-Results header.
	ModeAuthResults Mode = "auth-results"
	// ModeBoth: the token and ModeAuthResults.
	ModeBoth Mode = "token+auth-results"
	// ModeEither: the token or ModeAuthResults.
	ModeEither Mode = "token|auth-results"
	// ModeDKIM: our own DKIM verification (aligned) only.
	ModeDKIM Mode = "dkim"
	// ModeTokenAndDKIM: the token and ModeDKIM.
	ModeTokenAndDKIM Mode = "token+dkim"
	// ModeTokenOrDKIM: the token or ModeDKIM.
	ModeTokenOrDKIM Mode = "token|dkim"
)

// Modes lists every valid mode, for configuration checks and documentation.
func Modes() []Mode {
	return []Mode{ModeToken, ModeAuthResults, ModeBoth, ModeEither, ModeDKIM, ModeTokenAndDKIM, ModeTokenOrDKIM}
}

// Valid reports whether m is one of Modes.
func (m Mode) Valid() bool {
	for _, v := range Modes() {
		if m == v {
			return true
		}
	}
	return false
}

func (m Mode) needsToken() bool { return m != ModeAuthResults && m != ModeDKIM }

// UsesDKIM reports whether the mode reads our own DKIM verification, i.e. whether
// VerifyDKIM is worth running for a staff mail.
func (m Mode) UsesDKIM() bool { return m.Valid() && m != ModeToken }

// UsesAuthResults reports whether the mode falls back to our border's
// Authentication-Results header (and so needs an authserv-id).
func (m Mode) UsesAuthResults() bool {
	return m == ModeAuthResults || m == ModeBoth || m == ModeEither
}

// both reports whether the mode needs the token and the domain proof; else either
// suffices (modes with only one proof are handled apart).
func (m Mode) both() bool { return m == ModeBoth || m == ModeTokenAndDKIM }

// DefaultTokenTTL is how long a staff token is valid when Config.TokenTTL is zero:
// longer than the longest ordinary wait between two staff mails of a case (a 15-day
// appeal window followed by a review of 3 business days, a holiday week between), short
// enough that a token left in an old mailbox or an address book dies within a month.
const DefaultTokenTTL = 30 * 24 * time.Hour

// Config is the staff authentication configuration.
type Config struct {
	// Mode combines the proofs; the zero value is invalid and denies everything.
	Mode Mode
	// AuthServID is the authserv-id our own MTA writes into Authentication-Results
	// (e.g. "mx.example.cn"); compared case-insensitively. Required for the
	// auth-results modes.
	AuthServID string
	// TrustedHop is the host our border MTA names in the Received header it adds
	// ("Received: from … by TrustedHop …"); only Authentication-Results above that line
	// were added by us. Empty: only those above the topmost Received header.
	TrustedHop string
	// Staff lists the staff addresses, lower-case.
	Staff []string
	// TokenKey keys the staff tokens (NewToken). Required for the token modes; at
	// least 32 random bytes, kept apart from the store's master key.
	TokenKey []byte
	// TokenTTL is how long a staff token is valid after it was issued. Zero:
	// DefaultTokenTTL.
	TokenTTL time.Duration
	// Secret keys the complainant tokens (ComplainantToken) and the staff tokens of
	// the old form (LegacyToken), accepted while Input.LegacyUntil says so. Empty:
	// no old-form token is accepted.
	Secret []byte
}

func (c Config) ttl() time.Duration {
	if c.TokenTTL > 0 {
		return c.TokenTTL
	}
	return DefaultTokenTTL
}

// Input describes one command mail, and what the store says about its tokens.
type Input struct {
	// From is the From header value ("张三 <a@example.cn>" or a bare address).
	From string
	// CaseID is the case the mail targets (from the subject's case tag).
	CaseID string
	// Recipients are the values of To, Cc, Delivered-To and X-Original-To (each may hold
	// several addresses with display names).
	Recipients []string
	// Replied are the Message-IDs the mail answers (In-Reply-To, then References),
	// with or without angle brackets.
	Replied []string
	// Trace are the Received and Authentication-Results headers in header order,
	// topmost first.
	Trace []Trace
	// DKIM is what VerifyDKIM found; nil when it did not run.
	DKIM []DKIMResult

	// Now is the time of the decision (the desk's clock).
	Now time.Time
	// RevokedAll: every staff token issued at or before it is revoked. Zero: none.
	RevokedAll time.Time
	// RevokedCase: every token of CaseID issued at or before it is revoked. Zero: none.
	RevokedCase time.Time
	// LegacyUntil: staff tokens of the old form (LegacyToken, unbound, issued before
	// the upgrade) are accepted before this instant. Zero: never.
	LegacyUntil time.Time
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
	// "token not for this notification", "token expired", "token revoked for this
	// case", "dkim: no aligned signature".
	Reason string
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
	var tokOK, domOK bool
	var tokWhy, domWhy string
	if cfg.Mode.needsToken() {
		tokOK, tokWhy = checkToken(cfg, in)
	}
	if cfg.Mode.UsesDKIM() {
		domOK, domWhy = checkDomain(cfg, in, domain)
	}
	switch {
	case cfg.Mode == ModeToken:
		d.OK, d.Reason = tokOK, tokWhy
	case cfg.Mode == ModeAuthResults || cfg.Mode == ModeDKIM:
		d.OK, d.Reason = domOK, domWhy
	case cfg.Mode.both():
		d.OK = tokOK && domOK
		d.Reason = tokWhy + "; " + domWhy
	default:
		d.OK = tokOK || domOK
		d.Reason = tokWhy + "; " + domWhy
	}
	return d
}

// checkDomain is the domain proof: our own DKIM verification first; in the
// auth-results modes our border's Authentication-Results as a fallback.
func checkDomain(cfg Config, in Input, fromDomain string) (bool, string) {
	ok, why := checkDKIM(in.DKIM, fromDomain)
	if ok || !cfg.Mode.UsesAuthResults() {
		return ok, why
	}
	arOK, arWhy := checkAuthResults(cfg, in.Trace, fromDomain)
	if arOK {
		return true, arWhy + " (our Authentication-Results; " + why + ")"
	}
	return false, why + "; " + arWhy
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
