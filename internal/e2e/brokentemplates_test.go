package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
)

// A broken template on disk never stops a start. A fresh desk whose directory is
// broken starts with the embedded set; once a good set has loaded it is kept in the
// store, and a restart after a bad edit answers with that last good set. Each time
// the admins are alerted and /healthz says why.
func TestBrokenTemplatesNeverStopAStart(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "bob", "carol", "admin"}})
	tpl := copyTemplates(t)
	ack := filepath.Join(tpl, "zh-CN", "acknowledgement.tmpl")
	good, _ := os.ReadFile(ack)
	breakIt := func() {
		t.Helper()
		broken := strings.Replace(string(good), `{{define "text"}}`, `{{define "text"}}{{.Case.NoSuchField}}`, 1)
		if err := os.WriteFile(ack, []byte(broken), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d := newDaemon(t, st, deskOptions{})
	cfg, _ := os.ReadFile(d.cfgPath)
	text := strings.Replace(string(cfg), "templates:\n", "templates:\n  dir: "+tpl+"\n", 1)
	text = strings.Replace(text, "staff:\n  addresses: [editor@desk.test]\n", "staff:\n  addresses: [editor@desk.test]\n  admins: [admin@desk.test]\n", 1)
	os.WriteFile(d.cfgPath, []byte(text), 0o600)
	send := func(user, id string) string {
		t.Helper()
		st.Deliver(t, complaint("某某 <"+user+"@people.test>", id+"@people.test", "申请人"+user+"申请删除凤凰资讯稿件", "删除原因：不实。", nil),
			user+"@people.test", "desk@desk.test")
		_, body := nth(t, st, user, 1)
		return body
	}
	templateAlerts := func() int {
		n := 0
		for _, raw := range st.WaitMessages(t, "admin", "INBOX", 0, time.Second) {
			if strings.Contains(decodedSubject(parseMail(t, raw).Header.Get("Subject")), "模板") {
				n++
			}
		}
		return n
	}

	// 1. A fresh desk, a broken directory: it starts, with the embedded set.
	breakIt()
	d.start()
	d.waitUp()
	if h := d.healthzBody(); !strings.Contains(h, "serving the embedded defaults") || !strings.Contains(h, "NoSuchField") {
		t.Errorf("/healthz does not say why: %s", h)
	}
	if body := send("alice", "bt-1"); strings.Contains(body, "NoSuchField") || strings.Contains(body, "改好的模板") || !strings.Contains(body, "TS-") {
		t.Errorf("the first acknowledgement is not the embedded one:\n%s", body)
	}
	waitFor(t, 60*time.Second, "the admins' template alert", func() (bool, string) { return templateAlerts() == 1, "" })

	// 2. The fix loads while it runs, and is kept in the store.
	os.WriteFile(ack, []byte(strings.Replace(string(good), `{{define "text"}}`, "{{define \"text\"}}改好的模板\n", 1)), 0o600)
	waitFor(t, 30*time.Second, "the fixed set to load", func() (bool, string) { return d.logCount("templates loaded") > 0, "" })
	if body := send("bob", "bt-2"); !strings.Contains(body, "改好的模板") {
		t.Errorf("the acknowledgement after the fix is not the fixed set:\n%s", body)
	}
	if h := d.healthzBody(); !strings.Contains(h, `"templates":"ok"`) {
		t.Errorf("/healthz after the fix: %s", h)
	}
	d.stop()

	// 3. A bad edit, then a restart: it starts, with the last good set from the store.
	breakIt()
	d.start()
	d.waitUp()
	select {
	case <-d.exited:
		t.Fatal("the daemon exited at start with a broken template")
	default:
	}
	if h := d.healthzBody(); !strings.Contains(h, "the last good set kept in the store") || !strings.Contains(h, "NoSuchField") {
		t.Errorf("/healthz does not say why: %s", h)
	}
	if body := send("carol", "bt-3"); !strings.Contains(body, "改好的模板") {
		t.Errorf("the acknowledgement after the restart is not the last good set:\n%s", body)
	}
	waitFor(t, 60*time.Second, "the second template alert", func() (bool, string) { return templateAlerts() == 2, "" })
}
