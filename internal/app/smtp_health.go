package app

import (
	"context"
	"time"
)

// smtpDelivers is /healthz's SMTP check. It speaks SMTP rather than opening a TCP
// connection (a Postfix that refused all mail passed that check): RSET on a session
// the outbox keeps, or greeting and EHLO on a new one; and it is false while the
// outbox's own attempts show the relay failing (a refused connection, AUTH or
// MAIL FROM), until a reply is accepted again.
func (d *desk) smtpDelivers() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = d.sender.Probe(ctx) // its result is part of Health
	ok, _, _ := d.sender.Health()
	return ok
}
