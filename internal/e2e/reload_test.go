package e2e

import (
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/templates"
)

// copyTemplates copies the embedded templates into a new directory and returns it.
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
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o700); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// markAcknowledgement puts marker at the start of the zh-CN acknowledgement's text.
func markAcknowledgement(t *testing.T, dir, marker string) {
	t.Helper()
	p := filepath.Join(dir, "zh-CN", "acknowledgement.tmpl")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), `{{define "text"}}`, "{{define \"text\"}}"+marker+"\n", 1)
	if edited == string(b) {
		t.Fatal("no text part in acknowledgement.tmpl")
	}
	if err := os.WriteFile(p, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
}

// logCount counts the lines of the daemon's log holding s.
func (d *daemon) logCount(s string) int {
	b, _ := os.ReadFile(d.logPath)
	return strings.Count(string(b), s)
}

// hup sends SIGHUP and waits for the log line of its outcome (the n-th of its kind).
func (d *daemon) hup(outcome string) {
	d.t.Helper()
	n := d.logCount(outcome)
	sent := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		d.t.Fatal(err)
	}
	waitFor(d.t, 30*time.Second, "SIGHUP: "+outcome, func() (bool, string) { return d.logCount(outcome) > n, "" })
	// The figure: from the signal to the daemon's log line (its own timestamp).
	b, _ := os.ReadFile(d.logPath)
	lines := strings.Split(string(b), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], outcome) {
			if ts, ok := strings.CutPrefix(strings.Fields(lines[i])[0], "time="); ok {
				if at, err := time.Parse(time.RFC3339Nano, ts); err == nil {
					d.t.Logf("SIGHUP -> %q in %v", outcome, at.Sub(sent).Round(time.Millisecond))
				}
			}
			break
		}
	}
}

func (d *daemon) healthzBody() string {
	resp, err := http.Get("http://" + d.httpAddr + "/healthz")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

const reloadRouting = `routing:
  default_department: 资讯
  departments:
    - name: 资讯
      channels: [凤凰资讯, 资讯]
      staff: [news@desk.test]
`

// SIGHUP reloads the whole configuration on the running daemon: a new staff member,
// a new department and another template directory take effect for the next mail.
// Then a broken file and SIGHUP: refused with its problems (log, alert mail,
// /healthz), the running configuration stays and the daemon keeps working.
func TestReloadWholeConfigOnSIGHUP(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "bob", "carol", "news", "fin", "admin"}})
	d := newDaemon(t, st, deskOptions{})
	base, _ := os.ReadFile(d.cfgPath)
	staff := func(list string) string {
		return strings.Replace(string(base), "staff:\n  addresses: [editor@desk.test]\n",
			"staff:\n  addresses: ["+list+"]\n  admins: [admin@desk.test]\n", 1)
	}
	write := func(text string) {
		if err := os.WriteFile(d.cfgPath, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(staff("news@desk.test") + reloadRouting)
	d.start()
	d.waitUp()

	finance := func(from, name, id string) []byte {
		return completeComplaint(name+" <"+from+">", id, name+"申请删除凤凰财经稿件")
	}
	// Before: 财经 is unknown, so the default department (资讯) gets the case.
	st.Deliver(t, finance("alice@people.test", "钱七", "reload-1@people.test"), "alice@people.test", "desk@desk.test")
	note, _ := nth(t, st, "news", 1)
	first := tagRe.FindStringSubmatch(decodedSubject(note.Header.Get("Subject")))[1]
	if c := caseOf(t, d, first); c.Department != "资讯" {
		t.Fatalf("before the reload the case went to %q", c.Department)
	}
	if _, ack := nth(t, st, "alice", 1); strings.Contains(ack, "重载后的模板") {
		t.Fatal("marker before the reload")
	}

	// The edit: fin joins the staff, 财经 becomes a department of its own, and the
	// templates come from a directory with a marked acknowledgement.
	tpl := copyTemplates(t)
	markAcknowledgement(t, tpl, "重载后的模板")
	good := strings.Replace(staff("news@desk.test, fin@desk.test")+reloadRouting+`    - name: 财经
      channels: [凤凰财经, 财经]
      staff: [fin@desk.test]
`, "templates:\n", "templates:\n  dir: "+tpl+"\n", 1)
	write(good)
	d.hup("configuration reloaded")
	st.Deliver(t, finance("bob@people.test", "孙八", "reload-2@people.test"), "bob@people.test", "desk@desk.test")
	finNote, _ := nth(t, st, "fin", 1)
	second := tagRe.FindStringSubmatch(decodedSubject(finNote.Header.Get("Subject")))[1]
	if c := caseOf(t, d, second); c.Department != "财经" {
		t.Errorf("after the reload the 财经 case went to %q", c.Department)
	}
	if _, ack := nth(t, st, "bob", 1); !strings.Contains(ack, "重载后的模板") {
		t.Errorf("the acknowledgement after the reload is not from the new template directory:\n%s", ack)
	}

	// A broken file: a department whose staff is not staff, and an unknown key.
	broken := strings.Replace(good, "staff: [fin@desk.test]", "staff: [ghost@desk.test]", 1) + "polciy: {}\n"
	write(broken)
	d.hup("configuration refused")
	b, _ := os.ReadFile(d.logPath)
	for _, want := range []string{"ghost@desk.test", "polciy"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the refusal in the log does not name %q", want)
		}
	}
	// (The alert is recorded just after the log line.)
	waitFor(t, 30*time.Second, "/healthz to show the refused configuration", func() (bool, string) {
		h := d.healthzBody()
		return strings.Contains(h, "config: SIGHUP"), h
	})
	// The running configuration stays: 财经 still goes to fin, with the marked template.
	st.Deliver(t, finance("carol@people.test", "周九", "reload-3@people.test"), "carol@people.test", "desk@desk.test")
	finNote, _ = nth(t, st, "fin", 2)
	third := tagRe.FindStringSubmatch(decodedSubject(finNote.Header.Get("Subject")))[1]
	if c := caseOf(t, d, third); c.Department != "财经" {
		t.Errorf("after the refused reload the 财经 case went to %q", c.Department)
	}
	if _, ack := nth(t, st, "carol", 1); !strings.Contains(ack, "重载后的模板") {
		t.Errorf("after the refused reload the acknowledgement is not the running template:\n%s", ack)
	}
	// The admins are told once, with the problems.
	waitFor(t, 60*time.Second, "the admins' alert about the refused file", func() (bool, string) {
		for _, raw := range st.WaitMessages(t, "admin", "INBOX", 0, time.Second) {
			m := parseMail(t, raw)
			if strings.Contains(decodedSubject(m.Header.Get("Subject")), "配置") {
				text := bodyText(t, raw)
				return strings.Contains(text, "polciy") && strings.Contains(text, "ghost@desk.test"), text
			}
		}
		return false, "no alert"
	})
	if n := len(st.WaitMessages(t, "news", "INBOX", 0, time.Second)); n != 1 {
		t.Errorf("the news desk got %d notifications, want 1 (the first case only)", n)
	}
}
