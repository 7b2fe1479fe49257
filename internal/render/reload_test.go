// SPDX-License-Identifier: MIT

package render

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/complaintd/complaintd/templates"
)

// writeSubject rewrites the subject of zh-CN/accepted.tmpl in dir.
func writeSubject(t *testing.T, dir, subject string) {
	t.Helper()
	p := filepath.Join(dir, "zh-CN", "accepted.tmpl")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	start := strings.Index(src, `{{define "subject"}}`)
	end := start + strings.Index(src[start:], "{{end}}") + len("{{end}}")
	src = src[:start] + `{{define "subject"}}` + subject + `{{end}}` + src[end:]
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func subjectOf(t *testing.T, r *Reloader) string {
	t.Helper()
	out, err := r.Render(KindAccepted, "zh-CN", SampleData(KindAccepted))
	if err != nil {
		t.Fatal(err)
	}
	return out.Subject
}

// errRecorder collects OnError calls.
type errRecorder struct {
	mu   sync.Mutex
	errs []error
}

func (e *errRecorder) add(err error) { e.mu.Lock(); e.errs = append(e.errs, err); e.mu.Unlock() }
func (e *errRecorder) count() int    { e.mu.Lock(); defer e.mu.Unlock(); return len(e.errs) }

func TestReloaderKeepsLastGoodSet(t *testing.T) {
	dir := copyDefaults(t)
	r, err := NewReloader(dir, templates.FS(), "zh-CN", nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := &errRecorder{}
	r.OnError = rec.add
	if ok, _, _ := r.Status(); !ok {
		t.Fatal("fresh reloader not ok")
	}

	// A good edit is picked up.
	writeSubject(t, dir, "新主题一")
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := subjectOf(t, r); got != "[TS-2026-000123] 新主题一" {
		t.Fatalf("after good edit: subject %q", got)
	}

	// A broken edit is refused; the last good set keeps serving.
	writeSubject(t, dir, "{{.Case.Nope}}")
	err = r.Reload()
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("broken edit: got %v, want a *LoadError", err)
	}
	if got := subjectOf(t, r); got != "[TS-2026-000123] 新主题一" {
		t.Errorf("after broken edit: subject %q, want the last good one", got)
	}
	ok, lastErr, _ := r.Status()
	if ok || !strings.Contains(lastErr, `zh-CN/accepted.tmpl:2: unknown field "Nope"`) {
		t.Errorf("status ok=%v lastErr=%q", ok, lastErr)
	}
	if r.LastErrorAt().IsZero() {
		t.Error("no time for the last error")
	}

	// The same broken set is reported to admins once, a different one again.
	if err := r.Reload(); err == nil {
		t.Fatal("broken set reloaded")
	}
	if n := rec.count(); n != 1 {
		t.Errorf("OnError called %d times for one broken set, want 1", n)
	}
	writeSubject(t, dir, "{{.Case.Nope2}}")
	_ = r.Reload()
	if n := rec.count(); n != 2 {
		t.Errorf("OnError called %d times after a second distinct error, want 2", n)
	}

	// Fixing it clears the error.
	writeSubject(t, dir, "新主题二")
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if ok, lastErr, _ := r.Status(); !ok || lastErr != "" {
		t.Errorf("after fix: ok=%v lastErr=%q", ok, lastErr)
	}
	if got := subjectOf(t, r); got != "[TS-2026-000123] 新主题二" {
		t.Errorf("after fix: subject %q", got)
	}
}

func TestNewReloaderRefusesBrokenDir(t *testing.T) {
	dir := copyDefaults(t)
	writeSubject(t, dir, "{{if}}")
	if _, err := NewReloader(dir, templates.FS(), "zh-CN", nil); err == nil {
		t.Fatal("daemon would start with a broken template directory")
	}
	// No directory configured: the embedded defaults serve.
	r, err := NewReloader("", templates.FS(), "zh-CN", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := subjectOf(t, r); !strings.Contains(got, "已受理") {
		t.Errorf("embedded subject %q", got)
	}
}

func TestWatchPicksUpChanges(t *testing.T) {
	dir := copyDefaults(t)
	r, err := NewReloader(dir, templates.FS(), "zh-CN", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Watch(ctx, 5*time.Millisecond) }()
	defer func() { cancel(); <-done }()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for !cond() {
			select {
			case <-deadline:
				t.Fatalf("timed out waiting for %s", what)
			case <-tick.C:
			}
		}
	}
	// A different length guarantees a different size even on file systems
	// with coarse modification times.
	writeSubject(t, dir, "监视到的新主题")
	waitFor("the edit to be served", func() bool { return subjectOf(t, r) == "[TS-2026-000123] 监视到的新主题" })

	writeSubject(t, dir, "{{.Broken")
	waitFor("the broken edit to be reported", func() bool { ok, _, _ := r.Status(); return !ok })
	if got := subjectOf(t, r); got != "[TS-2026-000123] 监视到的新主题" {
		t.Errorf("broken edit replaced the good set: %q", got)
	}
}

// TestRenderDuringReload: rendering never sees a half-swapped set (run with -race).
func TestRenderDuringReload(t *testing.T) {
	dir := copyDefaults(t)
	r, err := NewReloader(dir, templates.FS(), "zh-CN", nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if _, err := r.Render(KindAcknowledgement, "en", SampleData(KindAcknowledgement)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 5 {
		if err := r.Reload(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}

// A start with a broken directory serves the kept set when there is one, else the
// embedded defaults, and says why in Status; a good directory is packed for keeping.
func TestStartReloaderFallsBack(t *testing.T) {
	dir := copyDefaults(t)
	writeSubject(t, dir, "上次的好模板")
	var kept []byte
	r, err := StartReloader(dir, templates.FS(), "zh-CN", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := r.Status(); !ok || r.Packed() == nil {
		t.Fatalf("a good directory: ok %v, packed %d bytes", ok, len(r.Packed()))
	}
	kept = r.Packed()
	var loaded []byte
	r.OnLoad = func(p []byte) { loaded = p }
	writeSubject(t, dir, "再改一次")
	if err := r.Reload(); err != nil || loaded == nil {
		t.Fatalf("reload: %v, OnLoad called: %v", err, loaded != nil)
	}

	writeSubject(t, dir, "{{.Case.Nope}}")
	if _, err := NewReloader(dir, templates.FS(), "zh-CN", nil); err == nil {
		t.Fatal("NewReloader accepted a broken directory")
	}
	r, err = StartReloader(dir, templates.FS(), "zh-CN", nil, kept)
	if err != nil {
		t.Fatalf("a broken directory stopped the start: %v", err)
	}
	ok, why, _ := r.Status()
	if ok || !strings.Contains(why, "the last good set kept in the store") || !strings.Contains(why, "Nope") {
		t.Errorf("status: ok %v, %q", ok, why)
	}
	if got := subjectOf(t, r); got != "[TS-2026-000123] 上次的好模板" {
		t.Errorf("served subject %q, want the kept set's", got)
	}

	// Nothing kept (or a kept set that no longer loads): the embedded defaults.
	for _, k := range [][]byte{nil, []byte("not a zip")} {
		r, err = StartReloader(dir, templates.FS(), "zh-CN", nil, k)
		if err != nil {
			t.Fatal(err)
		}
		embedded, _ := NewReloader("", templates.FS(), "zh-CN", nil)
		if ok, why, _ := r.Status(); ok || !strings.Contains(why, "embedded defaults") {
			t.Errorf("status: ok %v, %q", ok, why)
		}
		if got, want := subjectOf(t, r), subjectOf(t, embedded); got != want {
			t.Errorf("served subject %q, want the embedded %q", got, want)
		}
		if r.Packed() != nil {
			t.Error("the embedded defaults are packed")
		}
	}
}
