// SPDX-License-Identifier: MIT

// Package memserver runs the in-process mail servers of `complaintd demo` and
// of the tests: [IMAP] (go-imap v2's imapserver over imapmemserver) and
// [SMTPSink] (a go-smtp server that records every transaction). It imports no
// package testing, so the daemon binary can carry the demo without the test
// helpers; internal/mailtest builds its failure injection on the sink's
// hooks ([SinkOptions.Refuse], [SinkOptions.AfterStore]).
//
// Invariants:
//
//   - Every server listens on 127.0.0.1 only (unless told otherwise), on a
//     port chosen at start-up, so parallel tests never share a server.
//   - A server is owned by whoever started it: Close stops it and waits for
//     its goroutines.
//   - No package-level mutable state; nothing sleeps for a fixed time.
package memserver
