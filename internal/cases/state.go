// SPDX-License-Identifier: MIT

package cases

import "strings"

// State is a case state (SPEC §3). The string values are part of the JSON interface
// (`cases show -json` prints them) and must not change.
type State string

// Case states.
const (
	// Incomplete: documents are missing; the complainant was told what to send.
	Incomplete State = "incomplete"
	// PendingReview: complete, waiting for a staff decision; the review deadline runs.
	PendingReview State = "pending_review"
	// Accepted: staff accepted (受理); the processing deadline runs.
	Accepted State = "accepted"
	// Resolved: staff handled the request (已处理), e.g. the article was removed.
	Resolved State = "resolved"
	// Closed: finished (结案). Terminal, but staff may reopen.
	Closed State = "closed"
	// Rejected: staff rejected (驳回); the complainant may appeal within the window.
	Rejected State = "rejected"
	// Appealed: the complainant appealed a rejection; the case is reviewed again.
	Appealed State = "appealed"
	// Withdrawn: the complainant withdrew (撤回). Terminal, but staff may reopen.
	Withdrawn State = "withdrawn"
	// Expired: left incomplete too long; closed as unsuccessful (视为投诉未成功).
	// Terminal, but staff may reopen.
	Expired State = "expired"
)

// States returns every state in lifecycle order (a fresh slice).
func States() []State {
	return []State{Incomplete, PendingReview, Accepted, Resolved, Closed, Rejected, Appealed, Withdrawn, Expired}
}

// Valid reports whether s is one of the states above.
func (s State) Valid() bool {
	for _, v := range States() {
		if s == v {
			return true
		}
	}
	return false
}

// Terminal reports whether s ends the case: closed, withdrawn and expired. From a
// terminal state only Reopen changes the state (and Note / AuthorReplied may still be
// recorded, so that nothing said about a finished case is lost).
func (s State) Terminal() bool {
	return s == Closed || s == Withdrawn || s == Expired
}

// Clock names the deadline that runs for a case.
type Clock string

// Deadlines (SPEC §1.7, §1.8).
const (
	// ClockNone: no deadline runs (terminal, resolved, rejected, or paused).
	ClockNone Clock = ""
	// ClockReview: review within N business days of completeness (pending_review, appealed).
	ClockReview Clock = "review"
	// ClockProcessing: processing within M business days of acceptance.
	ClockProcessing Clock = "processing"
	// ClockExpiry: an incomplete case expires after K days.
	ClockExpiry Clock = "expiry"
)

// RunningClock reports which deadline runs for a case in state s. While the case waits
// for the author's counter-statement (awaitingAuthor), the review and processing
// deadlines are paused: the scheduler must not remind, escalate or count the time.
// The expiry clock of an incomplete case is not paused: it waits for the complainant,
// not for the author.
func RunningClock(s State, awaitingAuthor bool) Clock {
	switch s {
	case Incomplete:
		return ClockExpiry
	case PendingReview, Appealed:
		if awaitingAuthor {
			return ClockNone
		}
		return ClockReview
	case Accepted:
		if awaitingAuthor {
			return ClockNone
		}
		return ClockProcessing
	}
	return ClockNone
}

// AwaitingAuthorAfter returns the AwaitingAuthor flag after action a moved the case to
// state to. NotifyAuthor sets it; AuthorReplied clears it; so does any move to a state
// where nobody reviews any more (terminal, resolved, rejected), because there is then
// no deadline left to pause.
func AwaitingAuthorAfter(awaiting bool, a Action, to State) bool {
	switch {
	case a == AuthorReplied:
		return false
	case to.Terminal() || to == Resolved || to == Rejected:
		return false
	case a == NotifyAuthor:
		return true
	}
	return awaiting
}

// Locales understood by the label functions. Anything else falls back to English
// when it starts with "en", else to Chinese (the desk's default locale is zh-CN).
const (
	LocaleZH = "zh-CN"
	LocaleEN = "en"
)

func isEnglish(locale string) bool {
	return len(locale) >= 2 && strings.EqualFold(locale[:2], "en")
}

// StateLabel is the human label of s for locale ("zh-CN" default, "en…" English).
// An unknown state is returned as its raw value.
func StateLabel(s State, locale string) string {
	zh, en := "", ""
	switch s {
	case Incomplete:
		zh, en = "待补充材料", "awaiting documents"
	case PendingReview:
		zh, en = "待审核", "under review"
	case Accepted:
		zh, en = "已受理", "accepted"
	case Resolved:
		zh, en = "已处理", "resolved"
	case Closed:
		zh, en = "已结案", "closed"
	case Rejected:
		zh, en = "已驳回", "rejected"
	case Appealed:
		zh, en = "申诉中", "under appeal"
	case Withdrawn:
		zh, en = "已撤回", "withdrawn"
	case Expired:
		zh, en = "已过期（视为投诉未成功）", "expired (treated as unsuccessful)"
	default:
		return string(s)
	}
	if isEnglish(locale) {
		return en
	}
	return zh
}

// IsEnglish reports whether locale asks for English ("en", "en-US", …); every other
// locale gets Simplified Chinese, the desk's default.
func IsEnglish(locale string) bool { return isEnglish(locale) }
