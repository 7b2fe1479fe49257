package app

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/store"
)

// `cases show -json` / `cases list -json` (no -reveal) masked ID numbers and phones
// in documents[].filename, but printed the same file names in clear where else the
// case quotes them (found in review): documents[].container (the archive an entry came from,
// classify.go: Container: container) and why[] ("field …: from attached form <file
// name>", classify.go). A name like 张三身份证110101199003074258.zip was shown masked
// in one field and in full in the next, unrecorded.
func TestShowMasksFileNamesWhereverTheyAreQuoted(t *testing.T) {
	const idNo = "110101199003074258"
	const phone = "13712341111"
	st, err := store.Open(filepath.Join(t.TempDir(), "db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	form := "申请表-张三-" + idNo + ".docx"
	zip := "张三" + phone + "材料.zip"
	c := &cases.Case{ID: "TS-2026-000001", State: cases.Incomplete, CreatedAt: time.Now(),
		Applicant: cases.Party{Name: "张三", IDNo: idNo, Phone: phone, IDValid: true},
		Why:       []string{"field name: from attached form " + form},
		Documents: []cases.Document{
			{Kind: cases.ApplicationForm, Filename: form, Why: "name contains 申请表"},
			{Kind: cases.IDCard, Filename: "身份证.jpg", Container: zip, Why: "name contains 身份证"},
		},
	}
	if err := st.Update(func(tx *store.Tx) error { return tx.PutCase(c) }); err != nil {
		t.Fatal(err)
	}
	shown, err := showCase(st, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(shown)
	if strings.Contains(shown.Documents[0].Filename, idNo) || shown.Applicant.IDNo == idNo {
		t.Fatal("the filename / id_number are not masked at all: the test is wrong")
	}
	for _, v := range []string{idNo, phone} {
		if strings.Contains(string(b), v) {
			t.Errorf("cases show -json (masked) prints %s in clear:\n%s", v, b)
		}
	}
}
