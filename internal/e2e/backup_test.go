package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailtest"
)

// The backup drill on the real stack: a backup while the daemon runs, stop, wipe the
// data directory, restore, start. The same cases come back, the case numbers go on,
// no acknowledgement is sent twice and the documents still decrypt.
func TestBackupRestoreDrill(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "bob", "carol"}})
	d := newDaemon(t, st, deskOptions{})
	d.start()
	d.waitUp()
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "drill-1@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	st.Deliver(t, complaint("某某 <bob@people.test>", "drill-2@people.test", "申请人乙申请删除凤凰资讯稿件", "删除原因：不实。", nil),
		"bob@people.test", "desk@desk.test")
	nth(t, st, "alice", 1)
	nth(t, st, "bob", 1)
	waitFor(t, 60*time.Second, "the outbox to drain", func() (bool, string) {
		v := d.metric("complaintd_outbox_depth")
		return v == 0, ""
	})
	listCases := func() []cases.Case {
		t.Helper()
		var cs []cases.Case
		if err := json.Unmarshal(d.cli("cases", "list", "-json"), &cs); err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(cs, func(a, b cases.Case) int { return strings.Compare(a.ID, b.ID) })
		return cs
	}
	before := listCases()
	if len(before) != 2 {
		t.Fatalf("%d cases before the backup, want 2", len(before))
	}

	// The backup, while the daemon runs (through its control socket).
	archive := filepath.Join(t.TempDir(), "complaintd-backup.tar.gz")
	out := string(d.cli("backup", "-o", archive))
	if !strings.Contains(out, "from the running daemon") || !strings.Contains(out, "not in this archive") {
		t.Errorf("backup said:\n%s", out)
	}
	if fi, err := os.Stat(archive); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the archive: %v, mode %v", err, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(archive)
	if strings.Contains(string(b), strings.Repeat("ab", 32)) {
		t.Error("the archive holds the master key")
	}
	if _, err := d.tryCLI("backup", "-o", archive); err == nil {
		t.Error("a second backup overwrote the archive")
	}

	// Stop, wipe, restore, start.
	d.stop()
	d.removeData()
	if _, err := os.Stat(filepath.Join(d.dataDir, "complaintd.db")); err == nil {
		t.Fatal("the wipe left the store")
	}
	out = string(d.cli("restore", "-i", archive))
	if !strings.Contains(out, "2 cases") {
		t.Errorf("restore said:\n%s", out)
	}
	if _, err := d.tryCLI("restore", "-i", archive); err == nil {
		t.Error("a second restore over the restored data succeeded")
	}
	d.start()
	d.waitUp()
	// New mail after the restore: read, numbered after the restored cases, answered.
	st.Deliver(t, complaint("某某 <carol@people.test>", "drill-3@people.test", "申请人丙申请删除凤凰资讯稿件", "删除原因：不实。", nil),
		"carol@people.test", "desk@desk.test")
	nth(t, st, "carol", 1)
	waitFor(t, 60*time.Second, "the outbox to drain", func() (bool, string) { return d.metric("complaintd_outbox_depth") == 0, "" })

	after := listCases()
	if len(after) != 3 {
		t.Fatalf("%d cases after the restore and one new mail, want 3", len(after))
	}
	for i, c := range before {
		a := after[i]
		if a.ID != c.ID || a.State != c.State || len(a.Documents) != len(c.Documents) || !a.CreatedAt.Equal(c.CreatedAt) {
			t.Errorf("case %s: after the restore %s %s %d documents, before %s %s %d documents", c.ID, a.ID, a.State, len(a.Documents), c.ID, c.State, len(c.Documents))
		}
	}
	if after[2].ID <= before[1].ID {
		t.Errorf("the new case %s does not follow the restored ones", after[2].ID)
	}
	// The documents decrypt. Postfix may deliver the two mails in either order, so
	// the complete complaint's case is found by its applicant, not by its number.
	i := slices.IndexFunc(before, func(c cases.Case) bool { return c.Subject.Name == "赵六" })
	if i < 0 {
		t.Fatalf("no case of 赵六 among %d", len(before))
	}
	withForm := before[i]
	docs := t.TempDir() + "/docs"
	d.cli("cases", "documents", withForm.ID, "-out", docs)
	entries, _ := os.ReadDir(docs)
	if len(entries) != len(withForm.Documents) || len(entries) == 0 {
		t.Errorf("%d documents exported, the case has %d", len(entries), len(withForm.Documents))
	}
	form := ""
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(docs, e.Name()))
		if strings.HasSuffix(e.Name(), "删帖申请表.pdf") {
			form = string(b)
		}
	}
	if !strings.Contains(form, "%PDF form drill-1@people.test") {
		t.Errorf("the application form does not decrypt to what was sent: %q", form)
	}
	d.stop()
	// No reply twice: one acknowledgement each, and the staff notification once.
	for user, want := range map[string]int{"alice": 1, "bob": 1, "carol": 1} {
		if n := len(st.WaitMessages(t, user, "INBOX", 0, time.Second)); n != want {
			t.Errorf("%s got %d mails, want %d", user, n, want)
		}
	}
}

// A backup taken while mail is being registered is consistent: restored elsewhere,
// every case it holds reads, and every document of every case decrypts (no record
// without its file or key). The figures: the archive's size and the time it took.
func TestBackupWhileMailArrives(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
	d := newDaemon(t, st, deskOptions{})
	d.start()
	d.waitUp()
	const n = 30
	go func() {
		for i := range n {
			st.Deliver(t, completeComplaint("赵六 <alice@people.test>", fmt.Sprintf("busy-%d@people.test", i), "赵六申请删除凤凰资讯稿件"),
				"alice@people.test", "desk@desk.test")
		}
	}()
	waitFor(t, 60*time.Second, "the first cases", func() (bool, string) { return d.metric("complaintd_mails_processed_total") >= 3, "" })
	archive := filepath.Join(t.TempDir(), "busy.tar.gz")
	begin := time.Now()
	d.cli("backup", "-o", archive)
	took := time.Since(begin)
	during := d.metric("complaintd_mails_processed_total")
	fi, _ := os.Stat(archive)
	t.Logf("backup while registering mail: %d bytes in %v (%v mails registered when it ended)", fi.Size(), took.Round(time.Millisecond), during)

	// Restore into a second data directory with the same key, and read everything.
	dir2 := t.TempDir()
	cfg, _ := os.ReadFile(d.cfgPath)
	cfg2 := filepath.Join(dir2, "config.yaml")
	os.WriteFile(cfg2, []byte(strings.Replace(string(cfg), "path: "+d.dataDir+"/complaintd.db", "path: "+dir2+"/complaintd.db", 1)), 0o600)
	other := &daemon{t: t, cfgPath: cfg2, dataDir: dir2}
	other.cli("restore", "-i", archive)
	var cs []cases.Case
	if err := json.Unmarshal(other.cli("cases", "list", "-json"), &cs); err != nil {
		t.Fatal(err)
	}
	if len(cs) == 0 {
		t.Fatal("the restored store holds no case")
	}
	for _, c := range cs {
		out := filepath.Join(t.TempDir(), c.ID)
		other.cli("cases", "documents", c.ID, "-out", out)
		entries, _ := os.ReadDir(out)
		if len(entries) != len(c.Documents) || len(entries) != 5 {
			t.Errorf("case %s: %d documents decrypted, it lists %d", c.ID, len(entries), len(c.Documents))
		}
	}
	t.Logf("restored %d cases, every document decrypts", len(cs))
	waitFor(t, 120*time.Second, "every mail registered", func() (bool, string) {
		v := d.metric("complaintd_mails_processed_total")
		return v >= n, fmt.Sprint(v)
	})
	// A backup of the whole desk at rest, for the figure.
	archive2 := filepath.Join(t.TempDir(), "rest.tar.gz")
	begin = time.Now()
	d.cli("backup", "-o", archive2)
	fi, _ = os.Stat(archive2)
	t.Logf("backup of %d cases with %d documents at rest: %d bytes in %v", n, 5*n, fi.Size(), time.Since(begin).Round(time.Millisecond))
}
