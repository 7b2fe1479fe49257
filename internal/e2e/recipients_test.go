package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
)

// On the real stack: one admin address that Postfix refuses for good (550 user
// unknown: someone who left) beside one that exists. The alert still reaches the
// admin who exists. Before, the mail went to both or to neither, and every alert,
// digest and weekly report to the admins failed for good.
func TestDeadAdminKeepsAlertsOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "admin"}})
	tpl := copyTemplates(t)
	ack := filepath.Join(tpl, "zh-CN", "acknowledgement.tmpl")
	good, _ := os.ReadFile(ack)
	if err := os.WriteFile(ack, []byte(strings.Replace(string(good), `{{define "text"}}`, `{{define "text"}}{{.Case.NoSuchField}}`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	d := newDaemon(t, st, deskOptions{})
	cfg, _ := os.ReadFile(d.cfgPath)
	text := strings.Replace(string(cfg), "templates:\n", "templates:\n  dir: "+tpl+"\n", 1)
	text = strings.Replace(text, "staff:\n  addresses: [editor@desk.test]\n", "staff:\n  addresses: [editor@desk.test]\n  admins: [left@desk.test, admin@desk.test]\n", 1)
	os.WriteFile(d.cfgPath, []byte(text), 0o600)
	d.start()
	d.waitUp()
	waitFor(t, 60*time.Second, "the template alert at the admin who exists", func() (bool, string) {
		for _, raw := range st.WaitMessages(t, "admin", "INBOX", 0, time.Second) {
			if strings.Contains(decodedSubject(parseMail(t, raw).Header.Get("Subject")), "模板") {
				return true, ""
			}
		}
		return false, ""
	})
	if log := string(mustRead(t, d.logPath)); !strings.Contains(log, "recipient refused for good") || strings.Contains(log, "left@desk.test") {
		t.Error("the log does not say (with the address hashed) that one recipient was refused")
	}
}
