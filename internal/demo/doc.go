// Package demo is `complaintd demo`: an in-process IMAP server and SMTP sink
// (internal/demo/memserver), sample mails (seeded: a complete complaint, an
// incomplete one, a GBK Foxmail mail and a bounce; then the complainant's
// follow-up and the editor's 受理), the scripted walk-through around the real
// daemon, and the printout of what happened. It imports no package testing,
// so the daemon binary carries it without the test helpers.
//
// The daemon itself is injected ([Options.Daemon]): it is wired in
// internal/app, which imports this package.
package demo
