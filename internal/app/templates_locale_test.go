package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/complaintd/complaintd/internal/render"
	"github.com/complaintd/complaintd/templates"
)

// `templates check` checked every set against the default locale zh-CN, whatever
// templates.locale said; the daemon loads the set with templates.locale as its default
// locale, in which every kind must exist. A set whose en directory lacked a kind
// passed the check and was refused by the daemon running with locale en (a SIGHUP
// refused whole, a start served a fallback).
func TestTemplatesCheckUsesTheConfiguredDefaultLocale(t *testing.T) {
	clearSecretsEnv(t)
	dir := copyTemplates(t)
	if err := os.Remove(filepath.Join(dir, "en", "survey.tmpl")); err != nil {
		t.Fatal(err)
	}
	cfgDir := t.TempDir()
	path := filepath.Join(cfgDir, "config.yaml")
	os.WriteFile(path, []byte(reloadConfig(cfgDir, "a@desk.test")+"templates: {dir: "+dir+", locale: en}\n"), 0o600)
	if _, err := render.NewReloader(dir, templates.FS(), "en", nil); err == nil {
		t.Fatal("the daemon's loader accepts the set; the test's premise is wrong")
	}
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"templates", "check", "-config", path}, &out, &errOut); code != 1 {
		t.Errorf("templates check -config (locale en) exit %d, want 1: %s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	if code := Main(context.Background(), []string{"templates", "check", "-dir", dir, "-locale", "en"}, &out, &errOut); code != 1 {
		t.Errorf("templates check -locale en exit %d, want 1: %s%s", code, out.String(), errOut.String())
	}
}
