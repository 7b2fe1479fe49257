package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/demo/samplemail"
	"github.com/complaintd/complaintd/internal/mailtest"
)

// procCPU is the user+system CPU time a process has used (/proc/PID/stat, in clock
// ticks of 1/100 s, the Linux USER_HZ).
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // f[0] is field 3 (state)
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// procKB reads a "VmRSS"/"VmHWM" line of /proc/PID/status, in KiB.
func procKB(t *testing.T, pid int, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return -1
}

// The bombs of issue 13 on the real stack, each followed by a normal complaint: each
// costs the daemon a bounded amount of CPU, is registered (as a case listing what was
// not read, or as a duplicate), and the complaint behind it is registered within
// seconds (it was 88 s late). With COMPLAINTD_E2E_NO_BUDGET=1 the budgets are lifted,
// to measure what they save.
func TestBombsCostSecondsOnRealStack(t *testing.T) {
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor"}})
	limits := "  limits:\n    message_budget: 2s\n"
	if os.Getenv("COMPLAINTD_E2E_NO_BUDGET") != "" {
		limits = "  limits:\n    message_budget: 10m\n    max_inflate_bytes: 1099511627776\n"
	}
	d := newDaemon(t, st, deskOptions{extraIMAP: limits})
	d.start()
	d.waitUp()
	pid := d.cmd.Process.Pid

	archives := samplemail.HeavyArchives(6, 8)
	nested := samplemail.NestedDocx()
	complaintBody := "申请人姓名：赵六\n文章标题：《某地某事》\n文章链接：https://news.ifeng.com/c/bomb\n删除原因：报道失实。"
	mk := func(id string, body string, files ...samplemail.File) []byte {
		return samplemail.Mail{From: "赵六|alice@people.test", To: "desk@desk.test", Subject: "赵六申请删除凤凰资讯稿件", MessageID: id,
			Body: body, Files: files, Date: time.Now()}.Bytes()
	}
	zipBomb := mk("zipbomb@people.test", complaintBody, samplemail.File{Name: "材料.zip", ContentType: "application/zip", Content: samplemail.OverlappingZip(samplemail.FormDocx(), 200)})
	bombs := []struct {
		name string
		raw  []byte
		why  string // in the bomb's case, what says it was bounded; "" for a duplicate
	}{
		{"zip of 200 overlapping entries", zipBomb, "overlapping entries"},
		{"six archives of eight 1M-element forms", mk("inflate@people.test", complaintBody, archives...), "budget"},
		{"docx of 8 MiB of nested elements", mk("nested@people.test", complaintBody,
			samplemail.File{Name: "表格.docx", ContentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Content: nested}), "docx unreadable"},
		{"a 400 KB one-word line in a field", mk("longword@people.test",
			"申请人姓名：赵六\n文章标题：《"+strings.Repeat("字", 400<<10/3)+"》\n文章链接：https://news.ifeng.com/c/bomb\n删除原因：报道失实。"), ""},
		{"the zip bomb delivered again", zipBomb, ""},
	}
	processed := 0.0
	for i, b := range bombs {
		cpu0, start := procCPU(t, pid), time.Now()
		st.AppendRaw(t, "desk", "INBOX", b.raw)
		st.AppendRaw(t, "desk", "INBOX", mk(fmt.Sprintf("behind%d@people.test", i), complaintBody))
		processed += 2
		waitFor(t, 3*time.Minute, "the complaint behind "+b.name, func() (bool, string) {
			v := d.metric("complaintd_mails_processed_total")
			return v == processed, fmt.Sprint(v)
		})
		took, cpu := time.Since(start), procCPU(t, pid)-cpu0
		t.Logf("%s (%d KB): next complaint registered after %v, daemon CPU %v, peak RSS %d MB, RSS now %d MB",
			b.name, len(b.raw)>>10, took.Round(10*time.Millisecond), cpu, procKB(t, pid, "VmHWM")>>10, procKB(t, pid, "VmRSS")>>10)
		if took > 15*time.Second {
			t.Errorf("%s: the complaint behind it was registered after %v (bound 15s; 88s before issue 13, 24s without the budget)", b.name, took)
		}
		if cpu > 10*time.Second {
			t.Errorf("%s: cost the daemon %v of CPU (bound 10s; 20s without the budget)", b.name, cpu)
		}
		if b.why != "" {
			c := caseOf(t, d, fmt.Sprintf("TS-2026-%06d", 2*i+1))
			all := strings.Join(c.Why, "\n")
			for _, doc := range c.Documents {
				all += "\n" + doc.Why
			}
			if !strings.Contains(all, b.why) {
				t.Errorf("%s: its case does not say %q:\n%s", b.name, b.why, all)
			}
		}
	}
	if v := d.metric("complaintd_mails_duplicate_total"); v != 1 {
		t.Errorf("%v duplicates, want the zip bomb delivered again", v)
	}
	if v := d.metric("complaintd_mails_quarantined_total"); v != 0 {
		t.Errorf("%v mails quarantined: every bomb must be registered", v)
	}
	if hwm := procKB(t, pid, "VmHWM"); hwm > 1<<20 {
		t.Errorf("peak RSS %d MB (bound 1 GB; eight nested-docx mails took 1.5 GB before issue 13)", hwm>>10)
	}
}
