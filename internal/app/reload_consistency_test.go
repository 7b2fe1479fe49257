package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/store"
)

// takedownWithAttachments is a complainant's mail with one attachment per name.
func takedownWithAttachments(id string, names ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: zhang@example.cn\r\nTo: desk@desk.test\r\nSubject: =?UTF-8?B?%s?=\r\nMessage-ID: <%s@example.cn>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0800\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BB\r\n\r\n",
		base64.StdEncoding.EncodeToString([]byte("张三申请删除凤凰资讯稿件")), id)
	b.WriteString("--BB\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n申请删除文章。\r\n")
	for _, n := range names {
		fmt.Fprintf(&b, "--BB\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename*=UTF-8''%s\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
			urlEscape(n), base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 "+n)))
	}
	b.WriteString("--BB--\r\n")
	return b.Bytes()
}

func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.') {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// A mail read while one configuration served and committed after a SIGHUP swapped in
// another was classified with the old document catalogue and checked against the new
// rules: a reload that adds a document kind and requires it told the complainant who
// had sent that very document that it was missing.
func TestMailPreparedBeforeAReloadIsCheckedWithOneGeneration(t *testing.T) {
	d, _, dir, path := openFileDesk(t)
	defer d.store.Close()
	d.cfgPath = path
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := d.startGeneration(ctx, d.current())
	defer func() { stop() }()

	in := liveIntake{d}
	raw := takedownWithAttachments("m1", "申请表.pdf", "说明函.pdf", "身份证.pdf", "证明.pdf", "媒体许可证.pdf")
	pr, err := in.Prepare(ctx, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}

	// The new file knows the media permit and requires it of every request.
	os.WriteFile(path, []byte(reloadConfig(dir, "a@desk.test")+`policy:
  document_kinds:
    - {code: media_permit, label_zh: 媒体许可证, label_en: media permit, keywords: [媒体许可证]}
  documents:
    - {name: every_request, require: [application_form, explanation_letter, media_permit]}
    - {name: individual, when: [{applicant: individual}], require: [id_card, reason_proof]}
`), 0o600)
	old := d.current()
	stop = d.reload(ctx, stop)
	if d.current() == old {
		t.Fatal("the new configuration was refused")
	}

	box := inbound.Stream{Channel: inbound.IMAP, Name: "INBOX"}
	outs, err := in.CommitGroup([]inbound.Source{{Stream: box, Epoch: 1, Seq: 1}}, []*intake.Prepared{pr})
	if err != nil {
		t.Fatal(err)
	}
	var c *cases.Case
	if err := d.store.View(func(tx *store.Tx) error { c, err = tx.Case(outs[0].Case); return err }); err != nil {
		t.Fatal(err)
	}
	var kinds []cases.Kind
	for _, doc := range c.Documents {
		kinds = append(kinds, doc.Kind)
	}
	if slices.Contains(c.Missing, "media_permit") {
		t.Errorf("the media permit that was sent is listed missing: documents %v, missing %v", kinds, c.Missing)
	}
}

// The store is built once at start, and a reload keeps its running values; but the
// staff token key's default path, next to the store, was resolved from the new file's
// store.path. A SIGHUP with store.path changed (a move being prepared, applied "at a
// restart" as the log said) generated a fresh token key next to the new path and
// verified with it at once: every staff token mailed so far stopped working.
func TestReloadWithAnotherStorePathKeepsTheStaffTokenKey(t *testing.T) {
	d, cfg, dir, path := openFileDesk(t)
	defer d.store.Close()
	d.cfgPath = path
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := d.startGeneration(ctx, d.current())
	defer func() { stop() }()
	before, err := tokenKey(cfg.Staff.Auth.TokenKeyFile, d.log)
	if err != nil {
		t.Fatal(err)
	}

	moved := filepath.Join(dir, "moved")
	text := strings.Replace(reloadConfig(dir, "a@desk.test, b@desk.test"), dir+"/complaintd.db", moved+"/complaintd.db", 1)
	os.WriteFile(path, []byte(text), 0o600)
	old := d.current()
	stop = d.reload(ctx, stop)
	if d.current() == old {
		t.Fatal("the new configuration was refused")
	}
	after, err := tokenKey(d.current().cfg.Staff.Auth.TokenKeyFile, d.log)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("the staff tokens are verified with another key after the reload (%s, was %s)",
			d.current().cfg.Staff.Auth.TokenKeyFile, cfg.Staff.Auth.TokenKeyFile)
	}
}
