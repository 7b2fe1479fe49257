package app

// smtpDeliveryProblem is the outbox's own view of the relay for /healthz, what the
// greeting probe cannot see: a server that greets but refuses MAIL FROM (a full
// queue), or a connection that keeps failing while replies wait. It stays until a
// reply is accepted again (or, for a connection failure, until the outbox's probe
// gets through). "" when the outbox can deliver.
func (d *desk) smtpDeliveryProblem() string {
	if d.sender == nil {
		return ""
	}
	if ok, why, _ := d.sender.Health(); !ok {
		return why
	}
	return ""
}
