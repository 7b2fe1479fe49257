package privacy

import "testing"

// Exported documents are named after the complainant's files: no path separator, no
// control character, and no bidirectional control that would show "报告\u202Efdp.exe"
// as "报告exe.pdf" in a file manager.
func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{
		"报告\u202efdp.exe": "报告fdp.exe",
		"../etc/passwd":   ".._etc_passwd",
		"a\x00b\nc":       "a_b_c",
		"":                "document",
		"..":              "document",
	} {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
}
