// SPDX-License-Identifier: MIT

// Package desk owns the pure decisions of the staff desk (SPEC §3, §4): the case states,
// the one table of legal transitions, the staff command language, the complainant's
// reply keywords (申诉 / 撤回) and the stripping of quoted text from replies.
//
// It does no I/O: it never touches the store, the clock or the network. Callers pass
// the current time where a rule depends on it (AppealAllowed) and decide facts the
// table cannot know (for example whether a case is complete).
//
// Invariants:
//   - Every state change goes through Transition, which answers from the single table
//     returned by Table; nothing else in the repository may decide whether an action is
//     legal in a state.
//   - Commands are read only from the text above the quoted part of a reply
//     (StripQuoted): a quoted notification that says "回复 受理 即可受理" never runs.
//   - Parsing never fails: bad input yields fewer commands and a problem list, never a
//     panic (fuzzed: FuzzParseCommands, FuzzStripQuoted).
//   - No package-level mutable state: the tables below are built by functions or are
//     read-only after initialisation.
//
// Waiting for the author (SPEC issue 4 §8, Civil Code arts. 1195–1196) is not a state:
// while a notice to the author is open the case keeps its state (pending_review,
// accepted, appealed, …) and carries the AwaitingAuthor flag, which pauses its running
// deadline (see RunningClock). A separate state would have to remember the state to
// return to, and staff must still be able to decide the case while the author is silent.
package desk
