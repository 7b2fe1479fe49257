// SPDX-License-Identifier: MIT

package cases

import (
	"fmt"
	"strings"
	"time"
)

// Action is something that happens to a case: a staff command, a complainant's
// reply, or a system event. The string values are event types in the audit log and
// part of the JSON interface.
type Action string

// Actions. "Keeps the state" means the table maps the state to itself: the action is
// legal there and is recorded as an event, but the state does not change.
const (
	// Complete: the document check found nothing missing (system; caller decides).
	Complete Action = "complete"
	// Accept: 受理 (staff).
	Accept Action = "accept"
	// Reject: 驳回 <理由> (staff).
	Reject Action = "reject"
	// NeedMore: 补充 <items> (staff): ask the complainant for more.
	NeedMore Action = "need_more"
	// Resolve: 已处理 <说明> (staff).
	Resolve Action = "resolve"
	// Assign: 转交 <staff> (staff); keeps the state.
	Assign Action = "assign"
	// Note: 备注 <text> (staff); internal, never shown to the complainant; keeps the state.
	Note Action = "note"
	// Close: 结案 (staff, or the scheduler once a rejection's appeal window has passed).
	Close Action = "close"
	// Reopen: 重开 (staff).
	Reopen Action = "reopen"
	// Appeal: 申诉 (complainant); the caller checks the window with AppealAllowed.
	Appeal Action = "appeal"
	// Withdraw: 撤回 (complainant).
	Withdraw Action = "withdraw"
	// Expire: incomplete for too long (scheduler).
	Expire Action = "expire"
	// DocumentsReceived: the complainant sent more documents (system); keeps the state.
	DocumentsReceived Action = "documents_received"
	// Escalate: 升级 (staff or scheduler after a missed deadline); keeps the state.
	Escalate Action = "escalate"
	// Downgrade: 降级 (staff); keeps the state.
	Downgrade Action = "downgrade"
	// NotifyAuthor: 通知作者 <address> (staff); sets AwaitingAuthor; keeps the state.
	NotifyAuthor Action = "notify_author"
	// AuthorReplied: the author's counter-statement arrived (system); clears
	// AwaitingAuthor; keeps the state.
	AuthorReplied Action = "author_replied"
)

// Actions returns every action (a fresh slice).
func Actions() []Action {
	return []Action{Complete, Accept, Reject, NeedMore, Resolve, Assign, Note, Close, Reopen,
		Appeal, Withdraw, Expire, DocumentsReceived, Escalate, Downgrade, NotifyAuthor, AuthorReplied}
}

// Rule is one row of the transition table: in state From, action Action leads to To.
// To == From for actions that are recorded without changing the state.
type Rule struct {
	From   State  `json:"from"`
	Action Action `json:"action"`
	To     State  `json:"to"`
}

// Table returns the legal transitions, one Rule per legal (state, action) pair, in a
// stable order (by action, then by state in lifecycle order). It is the only source of
// truth: Transition answers from it, `complaintd` prints it, tests iterate it.
//
//	action              from                                                    to
//	complete            incomplete                                              pending_review
//	accept              pending_review, appealed                                accepted
//	reject              incomplete, pending_review, accepted, appealed          rejected
//	need_more           incomplete, pending_review, appealed                    incomplete
//	resolve             accepted                                                resolved
//	close               every non-terminal state                                closed
//	reopen              resolved, closed, rejected, withdrawn, expired          pending_review
//	appeal              rejected                                                appealed
//	withdraw            every non-terminal state                                withdrawn
//	expire              incomplete                                              expired
//	documents_received  every non-terminal state                                (unchanged)
//	assign, escalate,
//	downgrade,
//	notify_author       every non-terminal state                                (unchanged)
//	note, author_replied every state, terminal ones included                    (unchanged)
//
// The non-terminal states are incomplete, pending_review, accepted, resolved, rejected
// and appealed. Reasons behind the less obvious rows:
//   - complete and documents_received are separate: Transition cannot know whether the
//     new documents complete the case, so the caller records documents_received and then,
//     if the policy finds nothing missing, applies complete.
//   - reject is allowed from incomplete (an obviously unfounded request need not wait
//     for documents) and from accepted (processing may show the request is unfounded).
//   - need_more from incomplete keeps it incomplete: staff add items the check missed.
//   - close from rejected ends the right to appeal; the scheduler closes a rejected case
//     only after the appeal window (AppealAllowed) has passed.
//   - note and author_replied stay legal in terminal states so that nothing said about a
//     finished case is refused; they never change the state.
func Table() []Rule {
	nonTerminal := []State{Incomplete, PendingReview, Accepted, Resolved, Rejected, Appealed}
	var rules []Rule
	add := func(a Action, to State, from ...State) {
		for _, f := range from {
			t := to
			if t == "" {
				t = f
			}
			rules = append(rules, Rule{From: f, Action: a, To: t})
		}
	}
	const same State = "" // add: keep the state
	add(Complete, PendingReview, Incomplete)
	add(Accept, Accepted, PendingReview, Appealed)
	add(Reject, Rejected, Incomplete, PendingReview, Accepted, Appealed)
	add(NeedMore, Incomplete, Incomplete, PendingReview, Appealed)
	add(Resolve, Resolved, Accepted)
	add(Close, Closed, nonTerminal...)
	add(Reopen, PendingReview, Resolved, Closed, Rejected, Withdrawn, Expired)
	add(Appeal, Appealed, Rejected)
	add(Withdraw, Withdrawn, nonTerminal...)
	add(Expire, Expired, Incomplete)
	add(DocumentsReceived, same, nonTerminal...)
	add(Assign, same, nonTerminal...)
	add(Escalate, same, nonTerminal...)
	add(Downgrade, same, nonTerminal...)
	add(NotifyAuthor, same, nonTerminal...)
	add(Note, same, States()...)
	add(AuthorReplied, same, States()...)
	return rules
}

// Allowed returns the actions legal in state s, in the order of Actions.
func Allowed(s State) []Action {
	legal := map[Action]bool{}
	for _, r := range Table() {
		if r.From == s {
			legal[r.Action] = true
		}
	}
	var out []Action
	for _, a := range Actions() {
		if legal[a] {
			out = append(out, a)
		}
	}
	return out
}

// Transition returns the state a case in state from reaches through action a, or a
// *TransitionError naming from and the actions legal there. It never changes anything:
// the caller records the event (actor, time, reason) and stores the new state.
func Transition(from State, a Action) (State, error) {
	for _, r := range Table() {
		if r.From == from && r.Action == a {
			return r.To, nil
		}
	}
	return from, &TransitionError{From: from, Action: a, Allowed: Allowed(from)}
}

// TransitionError is an illegal (state, action) pair. Its Message is what the staff
// member (or complainant) is told.
type TransitionError struct {
	From    State    // the case's current state
	Action  Action   // the refused action
	Allowed []Action // the actions legal in From (system ones included)
}

// Error implements error (English, for logs).
func (e *TransitionError) Error() string {
	return fmt.Sprintf("action %q not allowed in state %q", e.Action, e.From)
}

// Message explains the refusal in locale ("zh-CN" default, "en…" English): the current
// state, the refused action, and the commands that can be sent in that state. System
// actions (complete, expire, documents_received, author_replied) are not listed because
// nobody can type them.
func (e *TransitionError) Message(locale string) string {
	return e.message(locale, func(Action) bool { return true })
}

// StaffMessage is Message for a staff member: it lists only staff commands (not the
// complainant's 申诉 / 撤回).
func (e *TransitionError) StaffMessage(locale string) string {
	return e.message(locale, func(a Action) bool { return !complainantAction(a) })
}

// ComplainantMessage is Message for a complainant: it lists only what a complainant
// can write (申诉 / 撤回), never the staff commands.
func (e *TransitionError) ComplainantMessage(locale string) string {
	return e.message(locale, complainantAction)
}

func complainantAction(a Action) bool { return a == Appeal || a == Withdraw }

func (e *TransitionError) message(locale string, show func(Action) bool) string {
	en := isEnglish(locale)
	var cmds []string
	for _, a := range e.Allowed {
		if k := a.Keyword(locale); k != "" && show(a) {
			cmds = append(cmds, k)
		}
	}
	if en {
		msg := fmt.Sprintf("The case is %s; %q is not allowed in that state.", StateLabel(e.From, locale), ActionLabel(e.Action, locale))
		if !e.From.Valid() {
			msg = fmt.Sprintf("Unknown case state %q; %q is not allowed.", string(e.From), ActionLabel(e.Action, locale))
		}
		if len(cmds) == 0 {
			return msg + " No command can be sent in that state."
		}
		return msg + " Commands allowed now: " + strings.Join(cmds, ", ") + "."
	}
	msg := fmt.Sprintf("案件当前状态为「%s」，不能执行「%s」。", StateLabel(e.From, locale), ActionLabel(e.Action, locale))
	if !e.From.Valid() {
		msg = fmt.Sprintf("案件状态「%s」未知，不能执行「%s」。", string(e.From), ActionLabel(e.Action, locale))
	}
	if len(cmds) == 0 {
		return msg + "此状态下没有可用的命令。"
	}
	return msg + "此状态下可用的命令：" + strings.Join(cmds, "、") + "。"
}

// AppealAllowed reports whether an appeal arriving at now is within window of the
// rejection at rejectedAt. The window is inclusive at its end; an appeal dated before
// the rejection (clock skew) is allowed; a non-positive window allows no appeal.
func AppealAllowed(rejectedAt, now time.Time, window time.Duration) bool {
	if window <= 0 {
		return false
	}
	return !now.After(rejectedAt.Add(window))
}

// ActionLabel is the human label of a for locale ("zh-CN" default, "en…" English).
// An unknown action is returned as its raw value.
func ActionLabel(a Action, locale string) string {
	zh, en := "", ""
	switch a {
	case Complete:
		zh, en = "材料齐全", "documents complete"
	case Accept:
		zh, en = "受理", "accept"
	case Reject:
		zh, en = "驳回", "reject"
	case NeedMore:
		zh, en = "要求补充材料", "ask for more documents"
	case Resolve:
		zh, en = "已处理", "resolve"
	case Assign:
		zh, en = "转交", "assign"
	case Note:
		zh, en = "备注", "note"
	case Close:
		zh, en = "结案", "close"
	case Reopen:
		zh, en = "重开", "reopen"
	case Appeal:
		zh, en = "申诉", "appeal"
	case Withdraw:
		zh, en = "撤回", "withdraw"
	case Expire:
		zh, en = "过期", "expire"
	case DocumentsReceived:
		zh, en = "收到材料", "documents received"
	case Escalate:
		zh, en = "升级", "escalate"
	case Downgrade:
		zh, en = "降级", "downgrade"
	case NotifyAuthor:
		zh, en = "通知作者", "notify author"
	case AuthorReplied:
		zh, en = "作者申辩", "author replied"
	default:
		return string(a)
	}
	if isEnglish(locale) {
		return en
	}
	return zh
}

// Keyword is the word a person types to trigger a in locale (the canonical spelling
// shown in help and error messages), or "" for system actions nobody can type. The
// parser in package desk accepts more spellings; a test there keeps each canonical
// word among them.
func (a Action) Keyword(locale string) string {
	zh, en := a.keywords()
	if isEnglish(locale) {
		return en
	}
	return zh
}

// keywords are the typed actions' canonical words, Chinese and English.
func (a Action) keywords() (zh, en string) {
	switch a {
	case Accept:
		return "受理", "accept"
	case Reject:
		return "驳回", "reject"
	case NeedMore:
		return "补充", "need"
	case Resolve:
		return "已处理", "resolve"
	case Assign:
		return "转交", "assign"
	case Note:
		return "备注", "note"
	case Close:
		return "结案", "close"
	case Reopen:
		return "重开", "reopen"
	case Escalate:
		return "升级", "escalate"
	case Downgrade:
		return "降级", "downgrade"
	case NotifyAuthor:
		return "通知作者", "notify-author"
	case Appeal:
		return "申诉", "appeal"
	case Withdraw:
		return "撤回", "withdraw"
	}
	return "", ""
}

// Typed reports whether a person can write a (a staff command or a complainant's
// reply keyword), as opposed to a system action.
func (a Action) Typed() bool { zh, _ := a.keywords(); return zh != "" }

// ByComplainant reports whether a is written by the complainant (申诉, 撤回).
func (a Action) ByComplainant() bool { return complainantAction(a) }
