// SPDX-License-Identifier: MIT

package staffauth

// The tokens, and the desk sub-addresses that carry them.
//
// A staff token (NewToken) is 21 bytes in lower-case base32 (34 characters of a-z2-7,
// safe in an address local part; desk+ts-2026-000123.<token>@ stays within the 64
// octets of RFC 5321 §4.5.3.1.1 for desk local parts up to 10 characters):
//
//	version (1) | issued, Unix seconds (4) | case MAC (8) | mail MAC (8)
//
// The case MAC, over the case and the issue time, says the token is ours; the mail MAC,
// over the case, the Message-ID of the mail it was sent with and the issue time, binds
// it to that mail. Two MACs rather than one let the security event tell a token that
// was never ours ("token invalid") from one of ours used out of place ("token not for
// this notification"), at no cost in strength: each is 64 bits, and a guess costs a mail.
//
// The old form (LegacyToken) is 16 characters: an HMAC of the case alone under Secret.

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"io"
	"strings"
	"time"
)

const (
	tokenVersion = 1
	tagBytes     = 8
	headBytes    = 1 + 4
	boundBytes   = headBytes + 2*tagBytes
	// legacyBytes is the old token's HMAC length: 80 bits, 16 base32 characters.
	legacyBytes = 10
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewToken returns the staff token of one mail about caseID: the mail whose
// Message-ID is messageID (with or without angle brackets), issued at issued.
func NewToken(key []byte, caseID, messageID string, issued time.Time) string {
	var b [boundBytes]byte
	b[0] = tokenVersion
	binary.BigEndian.PutUint32(b[1:headBytes], uint32(max(0, min(issued.Unix(), 1<<32-1))))
	copy(b[headBytes:], caseMAC(key, caseID, b[:headBytes]))
	copy(b[headBytes+tagBytes:], mailMAC(key, caseID, messageID, b[:headBytes]))
	return strings.ToLower(b32.EncodeToString(b[:]))
}

// TokenIssued returns the issue time of a staff token of the current form (false for
// anything else; nothing is verified).
func TokenIssued(token string) (time.Time, bool) {
	b, ok := decodeBound(token)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(int64(binary.BigEndian.Uint32(b[1:headBytes])), 0), true
}

func caseMAC(key []byte, caseID string, head []byte) []byte {
	m := hmac.New(sha256.New, key)
	io.WriteString(m, "complaintd staff token v1 case\x00"+strings.ToLower(caseID)+"\x00")
	m.Write(head)
	return m.Sum(nil)[:tagBytes]
}

func mailMAC(key []byte, caseID, messageID string, head []byte) []byte {
	m := hmac.New(sha256.New, key)
	io.WriteString(m, "complaintd staff token v1 mail\x00"+strings.ToLower(caseID)+"\x00"+normID(messageID)+"\x00")
	m.Write(head)
	return m.Sum(nil)[:tagBytes]
}

// normID is a Message-ID as the desk stores it: without angle brackets and blanks.
func normID(id string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
}

func decodeBound(token string) ([]byte, bool) {
	if len(token) != b32.EncodedLen(boundBytes) {
		return nil, false
	}
	b, err := b32.DecodeString(strings.ToUpper(token))
	if err != nil || len(b) != boundBytes || b[0] != tokenVersion {
		return nil, false
	}
	return b, true
}

// LegacyToken is the staff token of the old form, before issue 13: HMAC-SHA256 over
// the lower-cased case number, truncated to 80 bits, base32 in lower case. It names
// no mail and never expires by itself; Verify accepts it only before
// Input.LegacyUntil. Nothing mints it any more but tests of that transition.
func LegacyToken(secret []byte, caseID string) string {
	mac := hmac.New(sha256.New, secret)
	io.WriteString(mac, "complaintd case token\x00"+strings.ToLower(caseID))
	return strings.ToLower(b32.EncodeToString(mac.Sum(nil)[:legacyBytes]))
}

// ComplainantToken is the per-case token in the Reply-To of the mails sent to the
// complainant: a mail carrying it acts on the case like the complainant's own, whatever
// its From (they may answer from another mailbox). It is keyed apart from the staff
// token, so one never passes for the other.
func ComplainantToken(secret []byte, caseID string) string {
	mac := hmac.New(sha256.New, secret)
	io.WriteString(mac, "complaintd complainant token\x00"+strings.ToLower(caseID))
	return strings.ToLower(b32.EncodeToString(mac.Sum(nil)[:legacyBytes]))
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
		for _, word := range addressWords(v) {
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

func addressWords(v string) []string {
	words := strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(" \t\r\n,;<>\"'()", r) })
	for i, w := range words {
		words[i] = strings.ToLower(w)
	}
	return words
}

// tokenVerdict ranks what one token found among the recipients says, so that with
// several the most telling reason is reported: an authentic token used out of place
// says more than a token that is not ours.
type tokenVerdict struct {
	ok     bool
	rank   int
	reason string
}

// checkToken looks for the target case's token among the recipients. Any sub-address
// shape desk+<case>.<token>@… is considered, whatever the desk address, because the
// token itself binds the case and only the daemon can compute it.
func checkToken(cfg Config, in Input) (bool, string) {
	if len(cfg.TokenKey) == 0 {
		return false, "no token key configured"
	}
	if strings.TrimSpace(in.CaseID) == "" {
		return false, "no case tag in subject"
	}
	found := tokensByShape(in.Recipients)
	if len(found) == 0 {
		return false, "token missing"
	}
	best := tokenVerdict{reason: "token for another case"}
	for _, f := range found {
		if !strings.EqualFold(f.caseID, in.CaseID) {
			continue
		}
		v := judgeToken(cfg, in, f.token)
		if v.ok {
			return true, v.reason
		}
		if v.rank > best.rank {
			best = v
		}
	}
	return false, best.reason
}

// judgeToken checks one token of the target case: authentic, not revoked, not
// expired, bound to a mail this one answers — in that order.
func judgeToken(cfg Config, in Input, token string) tokenVerdict {
	if b, ok := decodeBound(token); ok {
		head := b[:headBytes]
		if subtle.ConstantTimeCompare(b[headBytes:headBytes+tagBytes], caseMAC(cfg.TokenKey, in.CaseID, head)) != 1 {
			return tokenVerdict{rank: 1, reason: "token invalid"}
		}
		issued := time.Unix(int64(binary.BigEndian.Uint32(b[1:headBytes])), 0)
		switch {
		case !in.RevokedAll.IsZero() && !issued.After(in.RevokedAll):
			return tokenVerdict{rank: 3, reason: "token revoked (every staff token issued up to " + stamp(in.RevokedAll) + ")"}
		case !in.RevokedCase.IsZero() && !issued.After(in.RevokedCase):
			return tokenVerdict{rank: 3, reason: "token revoked for this case (issued up to " + stamp(in.RevokedCase) + ")"}
		case !in.Now.Before(issued.Add(cfg.ttl())):
			return tokenVerdict{rank: 3, reason: "token expired (issued " + stamp(issued) + ", valid " + cfg.ttl().String() + ")"}
		}
		for _, id := range in.Replied {
			if subtle.ConstantTimeCompare(b[headBytes+tagBytes:], mailMAC(cfg.TokenKey, in.CaseID, id, head)) == 1 {
				return tokenVerdict{ok: true, reason: "token ok"}
			}
		}
		return tokenVerdict{rank: 2, reason: "token not for this notification (the mail does not answer the mail the token came with)"}
	}
	if len(token) == b32.EncodedLen(legacyBytes) && len(cfg.Secret) > 0 &&
		subtle.ConstantTimeCompare([]byte(token), []byte(LegacyToken(cfg.Secret, in.CaseID))) == 1 {
		// An old-form token was issued before the upgrade, so any revocation (made
		// with this version, after the upgrade) covers it.
		switch {
		case !in.RevokedAll.IsZero():
			return tokenVerdict{rank: 3, reason: "token revoked (old form; every staff token revoked)"}
		case !in.RevokedCase.IsZero():
			return tokenVerdict{rank: 3, reason: "token revoked for this case (old form)"}
		case in.LegacyUntil.IsZero() || !in.Now.Before(in.LegacyUntil):
			return tokenVerdict{rank: 3, reason: "token expired (old form, accepted only during the transition after the upgrade)"}
		}
		return tokenVerdict{ok: true, reason: "token ok (old form, accepted until " + stamp(in.LegacyUntil) + ")"}
	}
	return tokenVerdict{rank: 1, reason: "token invalid"}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// tokensByShape finds local+<case>.<token>@domain addresses in header values.
func tokensByShape(values []string) []subAddr {
	var out []subAddr
	for _, v := range values {
		for _, word := range addressWords(v) {
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
