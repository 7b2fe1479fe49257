package e2e

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
)

// One desk, one mailbox: a second daemon on the same configuration fails at once and
// names the holder (its pid and control socket) instead of waiting ten seconds and
// saying "timeout".
func TestSecondInstanceFailsAtOnce(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk"}})
	d := newDaemon(t, st, deskOptions{})
	d.start()
	d.waitUp()
	start := time.Now()
	out, err := exec.Command(binary, "run", "-config", d.cfgPath).CombinedOutput()
	took := time.Since(start)
	if err == nil {
		t.Fatalf("a second instance ran:\n%s", out)
	}
	text := string(out)
	if !strings.Contains(text, "in use by process "+strconv.Itoa(d.cmd.Process.Pid)) || !strings.Contains(text, "control socket") {
		t.Errorf("the refusal does not name the holder (pid %d, socket):\n%s", d.cmd.Process.Pid, text)
	}
	if took > 5*time.Second {
		t.Errorf("the second instance took %v to give up", took)
	}
	if _, err := os.Stat(d.dataDir + "/complaintd.db.pid"); err != nil {
		t.Errorf("the first instance's holder file: %v", err)
	}
}
