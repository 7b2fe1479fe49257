package app

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The mail flows one way (mailbox → message → decision → case → reply) and the packages
// read the same way (GUIDE.md). This test keeps the direction honest: each package may
// depend only on the internal packages listed for it, and each third-party library
// enters through its one package.
func TestPackageLayering(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	allowed := map[string][]string{
		"mailmsg":    {},
		"policy":     {},
		"desk":       {},
		"staffauth":  {},
		"vault":      {},
		"calendar":   {},
		"metrics":    {},
		"render":     {},
		"outbox":     {},
		"imapsource": {},
		"classify":   {"mailmsg", "policy"},
		"config":     {"policy"},
		"routing":    {"config", "policy"},
		"store":      {"classify", "mailmsg", "policy"},
		"stats":      {"store", "desk", "classify", "mailmsg", "policy"},
		"dispatch":   {"metrics", "outbox", "store", "classify", "mailmsg", "policy"},
		"schedule":   {"calendar", "desk", "outbox", "render", "store", "stats", "vault", "classify", "mailmsg", "policy"},
		"intake": {"calendar", "classify", "config", "desk", "imapsource", "mailmsg", "metrics", "outbox", "policy",
			"render", "routing", "staffauth", "store", "vault"},
		"caseprint":       {"store", "classify", "mailmsg", "policy"},
		"demo/memserver":  {},
		"demo/samplemail": {},
		// The demo drives the daemon it is given (app wires it in) and reads the
		// store it leaves; it must not reach the pipeline's packages itself.
		"demo": {"caseprint", "config", "demo/memserver", "demo/samplemail", "store", "classify", "mailmsg", "policy"},
	}
	// Third-party libraries and the one package each may enter through (plus app,
	// which wires everything, and mailtest, the test servers). The demo reaches
	// the mail server libraries through demo/memserver only.
	libraries := map[string][]string{
		"github.com/emersion/go-imap/v2": {"imapsource", "mailtest", "demo/memserver"},
		"github.com/wneessen/go-mail":    {"outbox"},
		"go.etcd.io/bbolt":               {"store"},
		"github.com/robfig/cron/v3":      {"schedule"},
		"go.yaml.in/yaml/v3":             {"config"},
		"github.com/emersion/go-smtp":    {"mailtest", "demo/memserver"},
	}
	for pkg, ok := range allowed {
		out, err := exec.Command("go", "list", "-deps", "../"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if name, found := strings.CutPrefix(dep, "github.com/complaintd/complaintd/internal/"); found {
				if name != pkg && !slices.Contains(ok, name) {
					t.Errorf("internal/%s depends on internal/%s, which the layering does not allow", pkg, name)
				}
				continue
			}
			for lib, through := range libraries {
				if (dep == lib || strings.HasPrefix(dep, lib+"/")) && !slices.Contains(through, pkg) && !directlyVia(t, pkg, lib, through) {
					t.Errorf("internal/%s reaches %s other than through %v", pkg, lib, through)
				}
			}
		}
	}
}

// directlyVia reports whether pkg reaches lib only through one of the allowed
// packages: it does when pkg does not import lib itself.
func directlyVia(t *testing.T, pkg, lib string, through []string) bool {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, "../"+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	for _, imp := range strings.Fields(string(out)) {
		if imp == lib || strings.HasPrefix(imp, lib+"/") {
			return false
		}
	}
	return true
}

// The daemon binary carries the demo but no test code: package testing and
// internal/mailtest (which imports it, and launches Dovecot and Postfix) are
// for tests only. The demo's servers live in internal/demo/memserver.
func TestDaemonLinksNoTestCode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	// A test runs in its package's directory: internal/app.
	out, err := exec.Command("go", "list", "-deps", "../../cmd/complaintd").Output()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/complaintd: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "testing" || dep == "github.com/complaintd/complaintd/internal/mailtest" {
			t.Errorf("cmd/complaintd links %s", dep)
		}
	}
}
