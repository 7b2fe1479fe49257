package pii

import (
	"strings"
	"testing"
)

// Every failed send's error names its recipient (go-mail's SendError: "…, affected
// recipient(s): <addr>"); dispatch logs it and keeps it as the entry's last_error (a
// clear field) through RedactAddresses. Internationalised addresses, which intake
// accepts as reply addresses, stayed whole (found in review). Plain ones, and text
// around them, keep working.
func TestRedactAddressesInternational(t *testing.T) {
	for _, addr := range []string{"张三@example.cn", "wangwu@例子.中国"} {
		out := RedactAddresses("failed to send mail: 550 5.1.1 <" + addr + ">: Recipient address rejected, affected recipient(s): " + addr)
		if strings.Contains(out, addr) {
			t.Errorf("%q → %q: the address is still there", addr, out)
		}
	}
	if got := RedactAddresses("550 <wangwu@example.cn> rejected"); strings.Contains(got, "wangwu") || !strings.HasPrefix(got, "550 <") {
		t.Errorf("plain address: %q", got)
	}
	if got := RedactAddresses("no address here: 250 2.0.0 Ok"); got != "no address here: 250 2.0.0 Ok" {
		t.Errorf("text without an address changed: %q", got)
	}
}
