package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/templates"
)

// An admin edits a template while the daemon runs: the next reply uses it. Then the
// admin breaks it: replies go on with the last good version, and the error is visible.
func TestTemplateEditWhileRunning(t *testing.T) {
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
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
	d := newDaemon(t, st, deskOptions{})
	cfg, _ := os.ReadFile(d.cfgPath)
	os.WriteFile(d.cfgPath, []byte(strings.Replace(string(cfg), "templates:\n", "templates:\n  dir: "+dir+"\n", 1)), 0o600)
	d.start()

	ackPath := filepath.Join(dir, "zh-CN", "acknowledgement.tmpl")
	orig, err := os.ReadFile(ackPath)
	if err != nil {
		t.Fatal(err)
	}
	send := func(i int) string {
		st.Deliver(t, complaint("某某 <alice@people.test>", fmt.Sprintf("tpl-%d@people.test", i), fmt.Sprintf("申请人%d申请删除凤凰资讯稿件", i), "删除原因：不实。", nil),
			"alice@people.test", "desk@desk.test")
		replies := st.WaitMessages(t, "alice", "INBOX", i, 60*time.Second)
		return bodyText(t, replies[i-1])
	}
	if text := send(1); strings.Contains(text, "模板已修改") {
		t.Fatal("marker present before the edit")
	}

	// A good edit: a marker line at the start of the text part.
	edited := strings.Replace(string(orig), `{{define "text"}}`, "{{define \"text\"}}模板已修改\n", 1)
	if edited == string(orig) {
		t.Fatal("could not find the text part in acknowledgement.tmpl")
	}
	os.WriteFile(ackPath, []byte(edited), 0o600)
	waitFor(t, 30*time.Second, "the edit to load", func() (bool, string) {
		b, _ := os.ReadFile(d.logPath)
		return strings.Contains(string(b), "templates loaded"), ""
	})
	if text := send(2); !strings.Contains(text, "模板已修改") {
		t.Errorf("reply after the edit does not use it:\n%s", text)
	}

	// A broken edit: an unknown field. The last good set keeps serving.
	os.WriteFile(ackPath, []byte(strings.Replace(edited, "模板已修改", "模板已修改{{.Case.NoSuchField}}", 1)), 0o600)
	waitFor(t, 30*time.Second, "the broken edit to be refused", func() (bool, string) {
		b, _ := os.ReadFile(d.logPath)
		return strings.Contains(string(b), "NoSuchField"), ""
	})
	if text := send(3); !strings.Contains(text, "模板已修改") || strings.Contains(text, "NoSuchField") {
		t.Errorf("reply after the broken edit is not the last good version:\n%s", text)
	}
	d.stop()
	found := false
	for _, a := range readFacts(t, d).alerts {
		found = found || (a.Kind == "templates" && strings.Contains(a.Message, "acknowledgement.tmpl"))
	}
	if !found {
		t.Error("the broken template set left no alert naming the file")
	}
}
