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
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "admin"}})
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
	text := strings.Replace(string(cfg), "templates:\n", "templates:\n  dir: "+dir+"\n", 1)
	text = strings.Replace(text, "staff:\n  addresses: [editor@desk.test]\n", "staff:\n  addresses: [editor@desk.test]\n  admins: [admin@desk.test]\n", 1)
	os.WriteFile(d.cfgPath, []byte(text), 0o600)
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
	// The admins are mailed once about the broken set, with file and line.
	alertMail, alert := nth(t, st, "admin", 1)
	if s := decodedSubject(alertMail.Header.Get("Subject")); !strings.Contains(s, "模板") {
		t.Errorf("the first admin mail is not the template alert: %q", s)
	}
	if !strings.Contains(alert, "acknowledgement.tmpl:") || !strings.Contains(alert, "NoSuchField") {
		t.Errorf("admin alert does not name the file, line and problem:\n%s", alert)
	}
	send(4) // more replies, still from the last good set, and no second alert
	d.stop()
	// (The same complainant writing four times also makes the later cases major, so
	// the admins, who are the leadership here, get those too: count only alerts.)
	alerts := 0
	for _, m := range st.WaitMessages(t, "admin", "INBOX", 0, time.Second) {
		if strings.Contains(decodedSubject(parseMail(t, m).Header.Get("Subject")), "模板") {
			alerts++
		}
	}
	if alerts != 1 {
		t.Errorf("admins got %d alerts about one broken set, want 1", alerts)
	}
	found := false
	for _, a := range readFacts(t, d).alerts {
		found = found || (a.Kind == "templates" && strings.Contains(a.Message, "acknowledgement.tmpl"))
	}
	if !found {
		t.Error("the broken template set left no alert naming the file")
	}
}
