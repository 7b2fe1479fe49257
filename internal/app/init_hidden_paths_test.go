package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The unit init writes has ProtectHome=yes: /home, /root and /run/user are empty and
// inaccessible to the service, ExecStartPre and ExecStart included. A desk written
// there (root's `complaintd init desk` from /root, a binary `go install`ed into
// /root/go/bin) made a unit that could never start: config check could not read its
// config, ExecStart could not find its binary. init refuses such paths, naming the
// setting, before it writes anything.
func TestInitRefusesPathsTheUnitHidesFromTheService(t *testing.T) {
	base := initOptions{mailbox: "tousu@desk.example", staff: []string{"a@desk.example"}, admins: []string{"ops@desk.example"},
		dir: "/etc/complaintd", state: "/var/lib/complaintd", binary: "/usr/local/bin/complaintd"}
	if err := base.complete(); err != nil {
		t.Fatalf("the documented paths are refused: %v", err)
	}
	for _, tc := range []struct {
		name string
		set  func(o *initOptions)
	}{
		{"DIR under /root", func(o *initOptions) { o.dir = "/root/desk" }},
		{"DIR under /home", func(o *initOptions) { o.dir = "/home/ops/complaintd" }},
		{"-binary under /root", func(o *initOptions) { o.binary = "/root/go/bin/complaintd" }},
		{"-state under /home", func(o *initOptions) { o.state = "/home/complaintd/data" }},
		{"-state under /run/user", func(o *initOptions) { o.state = "/run/user/0/complaintd" }},
	} {
		o := base
		tc.set(&o)
		err := o.complete()
		if err == nil {
			t.Errorf("%s: accepted; the unit's ProtectHome=yes hides it from the service, which cannot start", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), "ProtectHome") {
			t.Errorf("%s: refused without saying why: %v", tc.name, err)
		}
	}
	// /homework is not under /home.
	o := base
	o.state = "/homework/complaintd"
	if err := o.complete(); err != nil {
		t.Errorf("/homework refused as if it were under /home: %v", err)
	}

	// Through the command: nothing is written.
	t.Setenv("COMPLAINTD_IMAP_PASSWORD", "s3cret")
	dir := filepath.Join(t.TempDir(), "desk")
	var out, errb bytes.Buffer
	if code := Main(t.Context(), initArgs("-binary", "/root/go/bin/complaintd", dir), &out, &errb); code == 0 {
		t.Errorf("init -binary /root/go/bin/complaintd: exit 0")
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("a refused init left %d files in %s", len(es), dir)
	}
}
