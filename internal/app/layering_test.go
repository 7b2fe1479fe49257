package app

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/complaintd/complaintd/"

// layering is the intended package graph (README "Where a change goes"): for each
// package, the internal packages it may depend on, directly or not. The mail flows one
// way — source → message → facts → decision → one transaction → reply — and the
// domain core (cases) is read by everyone and reads nothing of ours but the calendar.
func layering() map[string][]string {
	core := []string{"cases", "calendar", "hanzi", "pii"}
	with := func(extra ...string) []string { return append(slices.Clone(core), extra...) }
	wiring := with("backup", "caseprint", "chart", "clock", "classify", "config", "demo", "demo/memserver", "demo/samplemail", "desk", "dispatch",
		"imapsource", "inbound", "intake", "mailer", "mailmsg", "metrics", "outbox", "policy", "privacy", "render", "routing",
		"schedule", "staffauth", "stats", "store", "vault")
	return map[string][]string{
		// Leaves: one job each, their one library at most.
		"mailmsg": {}, "staffauth": {}, "vault": {}, "calendar": {}, "hanzi": {}, "pii": {}, "metrics": {}, "outbox": {"pii"},
		// The reports' charts: numbers in, PNG out; the plotting library's one door.
		"chart": {},
		// Backups: the store's snapshot and the vault's files in one archive, through
		// an interface it declares.
		"backup": {},
		// The channel-neutral vocabulary between the sources of mail and intake, and the
		// IMAP source: it hands mail to intake through an interface it declares, and
		// keeps no records of its own (no store).
		"inbound":    {},
		"clock":      {},
		"imapsource": {"inbound", "mailmsg", "metrics"},
		// The domain core and the pure rules around it.
		"cases":    {"calendar", "pii"},
		"policy":   core,
		"desk":     core,
		"render":   core,
		"classify": with("mailmsg", "policy"),
		"routing":  core,
		"config":   with("policy", "routing"),
		// Persistence of the core's model, and what reads it.
		"store":  core,
		"stats":  with("store"),
		"mailer": with("metrics", "outbox", "render", "store"),
		// The flow and the triggers.
		"dispatch": with("metrics", "outbox", "store"),
		"schedule": with("chart", "mailer", "metrics", "outbox", "privacy", "render", "store", "stats", "vault"),
		// Erasure, reveal and export of personal information: the store and the vault.
		"privacy": with("store", "vault"),
		"intake": with("classify", "desk", "inbound", "mailer", "mailmsg", "metrics", "outbox", "policy",
			"render", "routing", "staffauth", "store", "vault"),
		// What people read: the CLI's case printing, the demo. The demo drives the
		// daemon it is given (app wires it in) and reads the store it leaves; it does
		// not reach the pipeline's packages itself.
		"caseprint":       with("store"),
		"demo/memserver":  {},
		"demo/samplemail": {},
		"demo":            with("caseprint", "config", "demo/memserver", "demo/samplemail", "policy", "routing", "store"),
		// Wiring: everything but the test helpers.
		"app":            wiring,
		"cmd/complaintd": append(slices.Clone(wiring), "app"),
	}
}

// libraries names, for each third-party library, the one package it enters through
// (app and cmd may link it through those; mailtest is the test servers).
func libraries() map[string][]string {
	return map[string][]string{
		"github.com/emersion/go-imap/v2":      {"imapsource", "mailtest", "demo/memserver"},
		"github.com/wneessen/go-mail":         {"outbox"},
		"go.etcd.io/bbolt":                    {"store"},
		"github.com/robfig/cron/v3":           {"schedule"},
		"go.yaml.in/yaml/v3":                  {"config"},
		"github.com/emersion/go-smtp":         {"mailtest", "demo/memserver"},
		"github.com/go-analyze/charts":        {"chart"},
		"github.com/emersion/go-msgauth":      {"staffauth"}, // our own DKIM verification of staff mail
		"github.com/prometheus/client_golang": {"metrics"},
	}
}

// pkgInfo is what go list says of one package.
type pkgInfo struct {
	deps    []string // every dependency, transitively
	imports []string // direct imports
}

// TestPackageLayering keeps the direction honest: each package depends only on the
// internal packages the layering allows, and each third-party library is imported
// only by its one package. A package missing from the layering fails too: a new
// package must say where it stands.
func TestPackageLayering(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps=false", "-f", `{{.ImportPath}}|{{join .Deps " "}}|{{join .Imports " "}}`,
		module+"internal/...", module+"cmd/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	graph := map[string]pkgInfo{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		name := strings.TrimPrefix(strings.TrimPrefix(parts[0], module), "internal/")
		graph[name] = pkgInfo{deps: strings.Fields(parts[1]), imports: strings.Fields(parts[2])}
	}
	for _, v := range violations(graph, layering(), libraries()) {
		t.Error(v)
	}
}

// violations lists every edge of graph the layering or the library rule forbids.
// Test-only packages (e2e, mailtest, the corpus generator) are not checked.
func violations(graph map[string]pkgInfo, allowed, libs map[string][]string) []string {
	var out []string
	disp := func(p string) string {
		if strings.HasPrefix(p, "cmd/") {
			return p
		}
		return "internal/" + p
	}
	exempt := func(p string) bool {
		return p == "e2e" || p == "mailtest" || strings.Contains(p, "/internal/") || strings.HasPrefix(p, "classify/internal")
	}
	for pkg, info := range graph {
		if exempt(pkg) {
			continue
		}
		ok, known := allowed[pkg]
		if !known {
			out = append(out, disp(pkg)+" is not in the layering: say which packages it may use")
			continue
		}
		for _, dep := range info.deps {
			if name, found := strings.CutPrefix(dep, module+"internal/"); found {
				if name != pkg && !slices.Contains(ok, name) {
					out = append(out, disp(pkg)+" depends on internal/"+name+", which the layering does not allow")
				}
			}
		}
		for _, imp := range info.imports {
			for lib, through := range libs {
				if (imp == lib || strings.HasPrefix(imp, lib+"/")) && !slices.Contains(through, pkg) {
					out = append(out, disp(pkg)+" imports "+lib+", which enters only through "+strings.Join(through, ", "))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// The checker itself fails on what it must refuse: a core package reaching the store,
// a library imported outside its package, a package nobody placed.
func TestLayeringCheckerRefusesForbiddenImports(t *testing.T) {
	graph := map[string]pkgInfo{
		"cases":    {deps: []string{module + "internal/calendar", module + "internal/store"}},
		"classify": {deps: []string{module + "internal/cases"}, imports: []string{"go.etcd.io/bbolt"}},
		"newpkg":   {},
		"store":    {deps: []string{module + "internal/cases"}, imports: []string{"go.etcd.io/bbolt"}},
	}
	got := violations(graph, layering(), libraries())
	want := []string{
		"internal/cases depends on internal/store, which the layering does not allow",
		"internal/classify imports go.etcd.io/bbolt, which enters only through store",
		"internal/newpkg is not in the layering: say which packages it may use",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The daemon binary links neither the testing package nor the test servers: the demo's
// in-process servers live in a package that imports no testing.
func TestBinaryLinksNoTestCode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", module+"cmd/complaintd").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "testing" || dep == module+"internal/mailtest" || strings.HasPrefix(dep, "testing/") {
			t.Errorf("cmd/complaintd links %s", dep)
		}
	}
}
