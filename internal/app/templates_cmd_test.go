package app

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/templates"
)

func copyTemplates(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(templates.FS(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templates.FS(), p)
		if err != nil {
			return err
		}
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o700)
		return os.WriteFile(filepath.Join(dir, p), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// `templates check` is what an admin runs before saving: exit 0 on a good set, and on
// a broken one exit 1 with file:line and the problem, for every broken file at once.
func TestTemplatesCheckCommand(t *testing.T) {
	dir := copyTemplates(t)
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"templates", "check", "-dir", dir}, &out, &errOut); code != 0 {
		t.Fatalf("good set: exit %d: %s", code, errOut.String())
	}
	ack := filepath.Join(dir, "zh-CN", "acknowledgement.tmpl")
	b, _ := os.ReadFile(ack)
	os.WriteFile(ack, []byte(strings.Replace(string(b), `{{define "text"}}`, "{{define \"text\"}}{{.Case.NoSuchField}}", 1)), 0o600)
	rej := filepath.Join(dir, "en", "rejected.tmpl")
	b, _ = os.ReadFile(rej)
	os.WriteFile(rej, []byte(strings.Replace(string(b), "{{end}}", "{{end", 1)), 0o600)
	out.Reset()
	errOut.Reset()
	if code := Main(context.Background(), []string{"templates", "check", "-dir", dir}, &out, &errOut); code != 1 {
		t.Fatalf("broken set: exit %d, want 1", code)
	}
	msg := errOut.String()
	for _, want := range []string{"zh-CN/acknowledgement.tmpl:", "NoSuchField", "en/rejected.tmpl:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("check output lacks %q:\n%s", want, msg)
		}
	}
}

// `templates preview` prints the reply as its reader sees it (decoded subject and
// text); -raw prints the complete MIME message: the Chinese subject encoded, the case
// tag readable, a plain-text part.
func TestTemplatesPreviewCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"templates", "preview", "acknowledgement"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	text := out.String()
	for _, want := range []string{"Subject: [TS-", "已收到", "To: 张三 <zhangsan@example.cn>"} {
		if !strings.Contains(text, want) {
			t.Errorf("preview lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "=?UTF-8?") || strings.Contains(text, "Content-Transfer-Encoding") {
		t.Errorf("the default preview shows MIME encoding:\n%s", text)
	}
	out.Reset()
	if code := Main(context.Background(), []string{"templates", "preview", "acknowledgement", "-raw"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	raw := out.String()
	for _, want := range []string{"Subject: [TS-", "=?UTF-8?B?", "Content-Type: text/plain; charset=UTF-8", "Auto-Submitted: auto-replied", "Message-ID: <"} {
		if !strings.Contains(raw, want) {
			t.Errorf("raw preview lacks %q", want)
		}
	}
}

// With -config, preview and check use the config's templates.dir, as the daemon does.
func TestTemplatesPreviewHonoursConfig(t *testing.T) {
	dir := t.TempDir()
	tdir := filepath.Join(dir, "templates")
	if err := os.CopyFS(tdir, templates.FS()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(tdir, "zh-CN", "acknowledgement.tmpl")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const marker = "本台特别提示：周末不办公"
	if err := os.WriteFile(path, bytes.Replace(b, []byte("已收到"), []byte(marker+" 已收到"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("templates:\n  dir: "+tdir+"\n"), 0o600)
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"templates", "preview", "acknowledgement", "-config", cfg}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), marker) {
		t.Errorf("preview -config ignored templates.dir:\n%s", out.String())
	}
}
