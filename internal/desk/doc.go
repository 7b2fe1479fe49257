// SPDX-License-Identifier: MIT

// Package desk reads what people write to the desk (SPEC §4): the staff command
// language, the complainant's reply keywords (申诉 / 撤回), satisfaction scores, and the
// stripping of quoted text from replies. The actions it finds, and whether they are
// legal, belong to the domain core (package cases); what they do is the executor's
// business (package intake).
//
// It does no I/O: it never touches the store, the clock or the network.
//
// Invariants:
//   - Commands are read only from the text above the quoted part of a reply
//     (StripQuoted): a quoted notification that says "回复 受理 即可受理" never runs.
//   - Parsing never fails: bad input yields fewer commands and a problem list, never a
//     panic (fuzzed: FuzzParseCommands, FuzzStripQuoted, FuzzParseScore).
//   - Every typed action's canonical keyword (cases.Action.Keyword) is one of the
//     spellings here, so that what error messages tell people to write works.
//   - No package-level mutable state: the tables below are built by functions.
package desk
