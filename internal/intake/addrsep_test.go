package intake_test

import (
	"bytes"
	"testing"
)

// A From address holding U+2028 (LINE SEPARATOR) was taken as the complainant's
// address and reached the To header of the acknowledgement raw (found in review).
func TestLineSeparatorInAddressIsNotSent(t *testing.T) {
	d := newDesk(t)
	m := d.mark()
	d.send(plainComplaint("王五|wang\u2028wu@example.cn", "ls1@example.cn", "王五申请删除凤凰博客文章").bytes())
	for _, s := range d.mails(m) {
		head, _, _ := bytes.Cut(s.raw, []byte("\r\n\r\n"))
		if bytes.Contains(head, []byte("\u2028")) {
			t.Errorf("%s mail carries U+2028 in its header:\n%s", s.kind, head)
		}
	}
}
