package mailmsg

import (
	"bytes"
	"testing"
)

// Big5 (and GBK) trail bytes include 0x5C, the backslash: 功 is A5 5C, 許 B3 5C, 珮 AF 5C.
// A raw 8-bit display name ending in such a character, in quotes, ends in `\"`: read as
// a quoted-pair, the closing quote vanished, the address was taken from the rest as
// "<chen@example.com.tw>" (which the outbox refuses: the complainant got no reply) and
// the next mailbox of a list was swallowed.
func TestBig5DisplayNameEndingInBackslashTrailByteKeepsTheAddress(t *testing.T) {
	const (
		chenJianGong = "\xb3\xaf\xab\xd8\xa5\x5c" // 陳建功 in Big5
		linMeiPei    = "\xaa\x4c\xac\xfc\xaf\x5c" // 林美珮 in Big5
	)
	raw := "From: \"" + chenJianGong + "\" <chen@example.com.tw>\r\n" +
		"To: \"" + linMeiPei + "\" <lin@example.com.tw>, desk <desk@example.org>\r\n" +
		"Subject: x\r\n\r\nbody\r\n"
	m, err := Parse(bytes.NewReader([]byte(raw)), &MemSpool{}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Address{Name: "陳建功", Address: "chen@example.com.tw"}); m.From != want {
		t.Errorf("From = %+v, want %+v", m.From, want)
	}
	want := []Address{{Name: "林美珮", Address: "lin@example.com.tw"}, {Name: "desk", Address: "desk@example.org"}}
	if len(m.To) != len(want) {
		t.Fatalf("To = %+v, want %+v", m.To, want)
	}
	for i := range want {
		if m.To[i] != want[i] {
			t.Errorf("To[%d] = %+v, want %+v", i, m.To[i], want[i])
		}
	}
	// A real quoted-pair after a UTF-8 character is still one.
	if got := parseAddressList([]byte(`"张\"三\\" <z@example.cn>`)); len(got) != 1 || got[0] != (Address{Name: `张"三\`, Address: "z@example.cn"}) {
		t.Errorf("UTF-8 name with quoted-pairs = %+v", got)
	}
}

// The same trail byte at the end of a quoted file name ended the value at the next quote.
func TestBig5FileNameEndingInBackslashTrailByte(t *testing.T) {
	mv := parseMediaValue([]byte("attachment; filename=\"\xa6\xa8\xa5\x5c\"; size=3"))
	if got := mv.params["filename"]; got != "成功" {
		t.Errorf("filename = %q, want 成功", got)
	}
	if got := mv.params["size"]; got != "3" {
		t.Errorf("size = %q, want 3", got)
	}
}
