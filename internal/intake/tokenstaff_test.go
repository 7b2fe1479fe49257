package intake_test

import (
	"testing"

	"github.com/complaintd/complaintd/internal/intake"
)

// A staff token is bound to a case and a notification, not to the address it was sent
// to, and it is accepted with any From on the staff list. So it goes to staff only:
// a notification to an address not on staff.addresses (a team list on staff.notify,
// a reviewer, a supervisor, an alias target) carries none. Before, it did, and whoever
// read that mailbox could write From: <any staff member> to its Reply-To and run
// every command (found in review).
func TestNotificationTokenGoesToStaffOnly(t *testing.T) {
	const team = "team-list@desk.example.cn" // notified, not on staff.addresses
	d := newDesk(t, withStaff(func(s *intake.StaffOptions) { s.Notify = []string{staffA, team} }))
	m := d.mark()
	d.send(completeComplaint("张三|zhang@example.cn", "nonstaff-open@example.cn").bytes())
	mails := d.mails(m)
	if n := one(t, mails, "staff_notification", team); tokenOf(n) != "" {
		t.Errorf("the notification to %s, not staff, carries a token (Reply-To %s)", team, replyAddr(n))
	}
	if n := one(t, mails, "staff_notification", staffA); tokenOf(n) == "" {
		t.Errorf("the notification to %s, staff, carries no token", staffA)
	}
}
