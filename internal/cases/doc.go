// SPDX-License-Identifier: MIT

// Package cases is the domain core of the desk: the case and its typed vocabulary —
// State, Action, document Kind (and the catalogue that describes every kind), Event,
// Severity, applicant types and content kinds — the one table of legal transitions,
// and the one deadline function. Everything else reads it; it reads nothing but the
// standard library and the business-day calendar.
//
// Invariants:
//   - Pure: no I/O, no clock (callers pass "now"), no package-level mutable state.
//   - Every state change goes through Transition, which answers from the single table
//     returned by Table; nothing else in the repository decides whether an action is
//     legal in a state.
//   - Every due date — the one promised in a reply, the one the scheduler reminds and
//     escalates on, the one stats counts breaches against — comes from Deadlines. A
//     major case has its own, shorter deadlines everywhere.
//   - What a document kind is called, what recognises it in a file name, what staff
//     may write to ask for it and whether it is sensitive is said once, in its KindInfo
//     (the built-in kinds of SPEC §2 plus the admins' own from the config).
//   - The string values of State, Action, Kind, EventType, Severity, ApplicantType and
//     ContentKind are part of the JSON interface (`cases show -json`) and never change.
//
// Waiting for the author (Civil Code arts. 1195–1196) is not a state: while a notice to
// the author is open the case keeps its state (pending_review, accepted, appealed, …)
// and carries the AwaitingAuthor flag, which pauses its running deadline (see
// RunningClock). A separate state would have to remember the state to return to, and
// staff must still be able to decide the case while the author is silent.
package cases
