// SPDX-License-Identifier: MIT

package mailtest

import "github.com/complaintd/complaintd/internal/demo/memserver"

// MemIMAP is the in-process IMAP server the demo uses too: users and
// messages in memory, plaintext LOGIN without TLS. See [memserver.IMAP].
type MemIMAP = memserver.IMAP

// NewMemIMAP starts an in-memory IMAP server listening on addr, or on
// 127.0.0.1 with a free port when addr is empty. It has no users until
// AddUser. Call Close to stop it.
func NewMemIMAP(addr string) (*MemIMAP, error) { return memserver.NewIMAP(addr) }
