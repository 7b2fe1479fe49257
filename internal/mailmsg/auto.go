package mailmsg

import (
	"strings"
)

// detectAuto decides whether a message is machine-generated (SPEC §2 "Noise").
//
// Ranking, strongest first; the first signal found decides and is named in reason:
//  1. Bounce by content: a top-level multipart/report (RFC 6522; DSN, ARF, MDN), a
//     machine-readable report part, or From MAILER-DAEMON / postmaster.
//  2. AutoReply: Auto-Submitted other than "no" (RFC 3834 §5), X-Auto-Response-Suppress,
//     X-Autoreply / X-Autorespond, or a subject starting "Automatic reply:" / "自动回复:".
//  3. Bounce by envelope: Return-Path: <> alone. RFC 3834 §3.3 tells responders to send
//     with a null sender as well, so an auto-reply that also has a null sender
//     (Exchange out-of-office) is reported as an auto-reply, not as a bounce.
//  4. List: List-Id, List-Unsubscribe, List-Post (RFC 2369, RFC 2919), Precedence
//     bulk/list/junk.
func detectAuto(h *header, m *Message, report, machinePart string) (AutoKind, string) {
	if report != "" {
		return Bounce, "Content-Type: multipart/report; report-type=" + clip(report)
	}
	if machinePart != "" {
		return Bounce, machinePart + " part"
	}
	if at := strings.LastIndexByte(m.From.Address, '@'); at > 0 {
		switch strings.ToLower(m.From.Address[:at]) {
		case "mailer-daemon", "postmaster":
			return Bounce, "From: " + clip(m.From.Address)
		}
	}
	if h.has("auto-submitted") {
		v := strings.ToLower(strings.TrimSpace(string(h.get("auto-submitted"))))
		if i := strings.IndexAny(v, "; \t("); i >= 0 {
			v = v[:i]
		}
		if v != "no" {
			return AutoReply, "Auto-Submitted: " + clip(v)
		}
	}
	for _, name := range []string{"x-auto-response-suppress", "x-autoreply", "x-autorespond", "x-autoresponder"} {
		if h.has(name) {
			return AutoReply, canonical(name) + ": " + clip(string(h.get(name)))
		}
	}
	subj := strings.ToLower(m.Subject)
	for _, prefix := range []string{"automatic reply:", "自动回复:", "自动回复："} {
		if strings.HasPrefix(subj, prefix) {
			// The prefix only: the rest is the subject it answers, a staff
			// notification's with the applicant's name and article title, and the
			// reason is kept in clear with no case, and logged (found in review).
			return AutoReply, "Subject: " + prefix + " …"
		}
	}
	if m.NullSender {
		return Bounce, "Return-Path: <>"
	}
	for _, name := range []string{"list-id", "list-unsubscribe", "list-post"} {
		if h.has(name) {
			return List, canonical(name) + ": " + clip(string(h.get(name)))
		}
	}
	switch v := strings.ToLower(strings.TrimSpace(string(h.get("precedence")))); v {
	case "bulk", "list", "junk":
		return List, "Precedence: " + v
	}
	return Human, ""
}

// canonical turns "list-id" into "List-Id" for AutoReason.
func canonical(name string) string {
	parts := strings.Split(name, "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

// clip makes a header value safe and short for AutoReason.
func clip(s string) string {
	s, _ = decodeText([]byte(s))
	s = strings.TrimSpace(collapseSpace(s))
	if r := []rune(s); len(r) > 80 {
		s = string(r[:80])
	}
	return s
}
