// SPDX-License-Identifier: MIT

// Package mailtest owns the mail servers that complaintd's tests talk to; it
// imports package testing and only tests may import it (the daemon binary
// must not link it: the `demo` subcommand uses internal/demo/memserver). It
// has two halves:
//
//   - The in-process servers of internal/demo/memserver, for tests: [MemIMAP]
//     (go-imap v2's imapserver over imapmemserver) and [SMTPSink] (a go-smtp
//     server that records every transaction), here with failure injection
//     ([SMTPSink.FailNext], [SMTPSink.FailNextAt], [SMTPSink.AcceptThenFail])
//     built on the sink's hooks, so there is one implementation of each.
//   - [StartStack], which launches a private Dovecot (IMAP, LMTP) and a
//     private Postfix (SMTP) for end-to-end tests.
//
// Beside them, [Cost] bounds the time and allocation of one fuzz input.
//
// Invariants:
//
//   - Every server listens on 127.0.0.1 only, on a port chosen at start-up,
//     so tests in parallel packages never share a server, a port or a
//     directory (the stack keeps all its state below t.TempDir()).
//   - A server is owned by whoever started it: Close (in-process servers) or
//     the test's cleanup (the stack) stops it and waits for its goroutines
//     and processes to end.
//   - The stack is reachable only from tests: it needs root (Postfix refuses
//     to start otherwise) and the dovecot/postfix packages. When they are
//     missing the test is skipped, unless the environment variable CI is
//     "true", where a missing stack is a failure: CI must exercise it.
//   - No package-level mutable state; nothing here sleeps for a fixed time:
//     readiness is polled with a deadline.
//
// Implementation notes for the stack (Dovecot 2.3, Postfix 3.7):
//
//   - Dovecot runs in the foreground (`dovecot -F -c FILE`) as a child of the
//     test process, stdio on a log file, so it is waited for and never left a
//     zombie. Mail is stored as the "mail" system user: Dovecot refuses uid 0
//     for mail processes, so the stack's directory is made traversable.
//   - Postfix runs as `postfix -c DIR start-fg` for the same reason (the
//     master is our child); it is stopped with `postfix -c DIR stop`.
//     Recipients are accepted for any domain when the local part names a
//     configured user, and handed to Dovecot over LMTP; Dovecot's
//     auth_username_format=%Ln maps "desk@any.domain" to user "desk".
//   - Each daemon's greeting carries a per-stack token: a readiness probe
//     that reaches somebody else's server on a recycled port is not mistaken
//     for ours.
package mailtest
