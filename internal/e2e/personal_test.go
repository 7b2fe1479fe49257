// SPDX-License-Identifier: MIT

package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailtest"
	"github.com/complaintd/complaintd/internal/store"
	"github.com/emersion/go-message"
)

const (
	piiIDNo  = "310101198001010018"
	piiPhone = "13700001111"
	// A Coremail-style Message-ID that holds the sender's address.
	piiMsgID = "AAkALgB1.lawfirm@people.test"
)

// Issue 14 on the real stack: a complaint whose principal line carries an ID number
// and a phone. Every mail, `cases show`, the CSV and the log show them masked; the
// data directory holds neither in clear; -reveal and the document export are
// recorded; `cases erase` leaves nothing readable, not even in a copy of the store
// taken before; retention erases a withdrawn case retention_days after it closed.
func TestPersonalDataMaskedSealedErasable(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "lawfirm", "alice", "editor", "boss"}})
	d := newDaemon(t, st, deskOptions{})
	cfg, _ := os.ReadFile(d.cfgPath)
	os.WriteFile(d.cfgPath, []byte(strings.Replace(string(cfg), "policy:\n", "", 1)+"policy:\n  retention_days: 30\nrouting:\n  leadership: [boss@desk.test]\n"), 0o600)
	setClock := d.driveClock("2026-12-01T10:00:00+08:00")
	d.start()

	body := "委托人：王五，身份证号 " + piiIDNo + "，电话 " + piiPhone + "\n文章标题：《某某报道》\n文章链接：https://ent.ifeng.com/c/pii\n删除原因：报道失实，电话" + piiPhone + "被公开。\n\n北京某某律师事务所"
	st.Deliver(t, complaint("北京某某律师事务所 <lawfirm@people.test>", piiMsgID, "北京某某律师事务所代王五申请删除凤凰娱乐稿件", body,
		map[string]string{"王五身份证.jpg": "JPEG-SCAN-MARKER", "律师函.pdf": "%PDF lawyer"}), "lawfirm@people.test", "desk@desk.test")
	ack, _ := nth(t, st, "lawfirm", 1)
	id := tagRe.FindStringSubmatch(decodedSubject(ack.Header.Get("Subject")))[1]
	nth(t, st, "boss", 1) // a 律师函 makes it major: the leadership is told at once, with the parties

	full := []string{piiIDNo, piiPhone}
	for _, user := range []string{"lawfirm", "boss"} {
		for i, raw := range st.WaitMessages(t, user, "INBOX", 1, 0) {
			text := decodedMail(t, raw)
			for _, v := range full {
				if strings.Contains(text, v) {
					t.Errorf("mail %d to %s shows %s in full:\n%s", i+1, user, v, text)
				}
			}
		}
	}
	show := string(d.cli("cases", "show", id, "-json"))
	if !strings.Contains(show, "3101**********0018") {
		t.Errorf("cases show does not show the ID number masked:\n%s", show)
	}
	csv := string(d.cli("cases", "export", "-csv"))
	for _, out := range []struct{ name, text string }{{"cases show", show}, {"cases export", csv}, {"the log", string(mustRead(t, d.logPath))}} {
		for _, v := range full {
			if strings.Contains(out.text, v) {
				t.Errorf("%s holds %q in clear", out.name, v)
			}
		}
	}
	// The log names mails by a hash of their Message-ID when it may hold an address.
	if strings.Contains(string(mustRead(t, d.logPath)), piiMsgID) {
		t.Errorf("the log holds the Message-ID %q, which holds the sender's address", piiMsgID)
	}
	assertNotInDir(t, d.dataDir, piiIDNo, piiPhone, "JPEG-SCAN-MARKER")

	// The deliberate ways to see it all are recorded.
	if revealed := string(d.cli("cases", "show", id, "-json", "-reveal")); !strings.Contains(revealed, piiIDNo) {
		t.Errorf("-reveal does not show the ID number:\n%s", revealed)
	}
	out := t.TempDir() + "/docs"
	d.cli("cases", "documents", id, "-out", out)
	found := false
	filepath.WalkDir(out, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			b, _ := os.ReadFile(p)
			info, _ := e.Info()
			found = found || bytes.Equal(b, []byte("JPEG-SCAN-MARKER"))
			if info.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", p, info.Mode().Perm())
			}
		}
		return nil
	})
	if !found {
		t.Error("cases documents did not write the decrypted scan")
	}
	c := caseOf(t, d, id)
	if n := countEvents(c, cases.EventRevealed) + countEvents(c, cases.EventDocumentsExported); n != 2 {
		t.Errorf("reveal and export recorded %d times, want 2: %+v", n, c.Events)
	}

	// A copy of the store taken before the erasure (a backup).
	d.stop()
	backup := t.TempDir() + "/complaintd.db"
	if err := os.WriteFile(backup, mustRead(t, d.dataDir+"/complaintd.db"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.start()
	d.waitUp()
	d.cli("cases", "erase", id, "-reason", "本人申请删除（PIPL 第47条）")
	c = caseOf(t, d, id)
	if c.ErasedAt == nil || c.Principal != nil && c.Principal.Name != "" || c.Applicant.Name != "" || c.Request.Reason != "" || countEvents(c, cases.EventErased) != 1 {
		t.Errorf("after erase: %+v", c)
	}
	if _, err := d.tryCLI("cases", "documents", id, "-out", t.TempDir()+"/again"); err != nil {
		t.Errorf("documents of an erased case: %v", err)
	}
	d.stop()
	assertNotInDir(t, d.dataDir, piiIDNo, piiPhone, "JPEG-SCAN-MARKER")
	// The copy from before, read with today's keys: the case is gone from it too.
	bs, err := store.OpenReadOnly(backup, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	v := openVault(t, d)
	bs.SetSealer(v)
	bs.View(func(tx *store.Tx) error {
		old, err := tx.Case(id)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(old)
		for _, s := range append(full, "王五") {
			if strings.Contains(string(b), s) {
				t.Errorf("the backup still decrypts %q for the erased case", s)
			}
		}
		return nil
	})
	bs.Close()

	// Retention: a withdrawn case is erased retention_days after its closing.
	d.start()
	d.waitUp()
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "pii2@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	aliceAck, _ := nth(t, st, "alice", 1)
	id2 := tagRe.FindStringSubmatch(decodedSubject(aliceAck.Header.Get("Subject")))[1]
	setClock("2026-12-02T10:00:00+08:00")
	st.Deliver(t, replyTo(aliceAck, "赵六 <alice@people.test>", "撤回"), "alice@people.test", "desk@desk.test")
	waitFor(t, 30*time.Second, "the withdrawal", func() (bool, string) {
		c := caseOf(t, d, id2)
		return c.State == cases.Withdrawn, string(c.State)
	})
	setClock("2026-12-30T10:00:00+08:00") // 28 days (29 if the withdrawal was read before the clock moved): kept
	time.Sleep(3 * time.Second)           // the scheduler reads the clock file at least once a second
	if c := caseOf(t, d, id2); c.ErasedAt != nil {
		t.Fatalf("erased before retention_days had passed")
	}
	setClock("2027-01-02T10:00:00+08:00") // past 03:30 on the 31st day after the closing
	waitFor(t, 30*time.Second, "retention to erase the withdrawn case", func() (bool, string) {
		c := caseOf(t, d, id2)
		return c.ErasedAt != nil, string(c.State)
	})
	if c := caseOf(t, d, id2); c.Applicant.Name != "" || c.Applicant.IDNo != "" || c.State != cases.Withdrawn {
		t.Errorf("after retention: %+v", c.Applicant)
	}
	// The originals of both erased cases, left in the INBOX (processed: flag), are
	// deleted from the mailbox too: by `cases erase`, and by retention.
	waitFor(t, 30*time.Second, "the erased cases' mails deleted from the mailbox", func() (bool, string) {
		return !mailboxHolds(st, "desk", piiMsgID) && !mailboxHolds(st, "desk", "pii2@people.test"), ""
	})
}

func countEvents(c cases.Case, typ cases.EventType) int {
	n := 0
	for _, e := range c.Events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// decodedMail is a mail as a person reads it: every header decoded, every text part
// decoded from its transfer encoding and charset.
func decodedMail(t *testing.T, raw []byte) string {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		t.Fatalf("parse mail: %v", err)
	}
	var b strings.Builder
	dec := new(mime.WordDecoder)
	e.Walk(func(_ []int, p *message.Entity, err error) error {
		if err != nil {
			return nil
		}
		fields := p.Header.Fields()
		for fields.Next() {
			v, derr := dec.DecodeHeader(fields.Value())
			if derr != nil {
				v = fields.Value()
			}
			b.WriteString(fields.Key() + ": " + v + "\n")
		}
		if typ, _, _ := p.Header.ContentType(); strings.HasPrefix(typ, "text/") {
			body, _ := io.ReadAll(p.Body)
			b.Write(body)
		}
		return nil
	})
	return b.String()
}

// assertNotInDir fails for every file under dir holding one of the values in clear.
func assertNotInDir(t *testing.T, dir string, values ...string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasSuffix(p, ".yaml") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for _, v := range values {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("%s holds %q in clear", p, v)
			}
		}
		return nil
	})
}

// On the real stack: after `cases erase`, the complainant answers an old mail of the
// case (its tag in the subject). The mail is new mail: it opens a case of its own,
// and the erased case stays erased: no key file comes back, and no event names the
// sender. Before, the reply appended an event with the sender as actor to the erased
// case, sealing it made new keys, and the complainant was readable again (found in
// review).
func TestReplyToAnErasedCaseLeavesItErasedOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice", "editor"}})
	d := newDaemon(t, st, deskOptions{})
	d.start()
	st.Deliver(t, completeComplaint("赵六 <alice@people.test>", "erased1@people.test", "赵六申请删除凤凰资讯稿件"), "alice@people.test", "desk@desk.test")
	ack, _ := nth(t, st, "alice", 1)
	id := tagRe.FindStringSubmatch(decodedSubject(ack.Header.Get("Subject")))[1]
	d.cli("cases", "erase", id, "-reason", "本人申请删除")
	keys := filepath.Join(d.dataDir, "attachments", "keys", id+".keys")
	if _, err := os.Stat(keys); err == nil {
		t.Fatalf("setup: %s still there after the erasure", keys)
	}
	reply := complaint("赵六 <alice@people.test>", "erased2@people.test", "Re: ["+id+"] 已收到您的删帖申请", "请问处理得怎么样了？", nil)
	st.Deliver(t, reply, "alice@people.test", "desk@desk.test")
	second, _ := nth(t, st, "alice", 2) // the reply is new mail, answered as such
	if tag := tagRe.FindStringSubmatch(decodedSubject(second.Header.Get("Subject"))); tag == nil || tag[1] == id {
		t.Errorf("the reply to the erased case was answered as %q", decodedSubject(second.Header.Get("Subject")))
	}
	if _, err := os.Stat(keys); err == nil {
		t.Errorf("the erased case %s has a key file again", id)
	}
	raw := d.cli("cases", "show", id, "-json")
	if strings.Contains(string(raw), "alice@people.test") || strings.Contains(string(raw), "alice") {
		t.Errorf("the erased case names its complainant again:\n%s", raw)
	}
}
