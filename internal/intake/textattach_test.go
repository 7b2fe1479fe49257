package intake_test

import "testing"

// A complainant's .txt (or .html/.csv/.xml) file made the staff notification
// unsendable (found in review): staff.go takes the attachment's Content-Type from mime.TypeByExtension,
// which gives "text/plain; charset=utf-8", and outbox.Compose refused any media type
// with parameters as ErrInvalidMail, a permanent failure.
func TestTextAttachmentReachesStaff(t *testing.T) {
	d := newDesk(t, withStaff(nil))
	m := d.mark()
	mail := completeComplaint("张三|txt@example.cn", "txt1@example.cn")
	mail.files = append(mail.files, file{"补充说明.txt", "text/plain", []byte("补充说明：稿件发布于2026年1月。")})
	d.send(mail.bytes())
	n := one(t, d.mails(m), "staff_notification", staffA)
	if _, ok := n.atts["补充说明.txt"]; !ok {
		t.Errorf("staff notification lacks the complainant's .txt file; attachments %v", keys(n.atts))
	}
}
