package app

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/store"
)

// `cases documents ID -out DIR` through the running daemon reported success when the
// export failed between two documents. The handler (personal.go, POST
// /cases/{id}/documents) left the tar "unterminated" on an error, but an archive cut
// at an entry boundary reads as a clean io.EOF in archive/tar, so the CLI printed "N
// documents written" and exited 0 with documents missing (found in review). (Without a daemon the same
// failure is an error.)
func TestDocumentsExportFailureIsReported(t *testing.T) {
	d, cfg, _, path := openFileDesk(t)
	defer d.store.Close()
	const id = "TS-2026-000001"
	f, err := d.vault.Create()
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("scan of the signed form"))
	spoolID, err := f.Commit()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := d.vault.Keep(id, "", spoolID)
	if err != nil {
		t.Fatal(err)
	}
	d.vault.Flush()
	good := cases.Document{Kind: cases.ApplicationForm, Filename: "申请表.pdf", Size: ref.Size, File: ref.File, SealedKey: ref.SealedKey, KeyClass: ref.Class, Offset: ref.Offset, Length: ref.Length}
	bad := good // its pack is unreadable (lost, damaged)
	bad.Kind, bad.Filename, bad.File = cases.IDCard, "身份证.jpg", filepath.Join(id, "gone.pack")
	err = d.store.Update(func(tx *store.Tx) error {
		return tx.PutCase(&cases.Case{ID: id, State: cases.Incomplete, CreatedAt: time.Now(), Documents: []cases.Document{good, bad}})
	})
	if err != nil {
		t.Fatal(err)
	}
	d.vault.Release(spoolID)

	ln, err := listenUnix(cfg.HTTP.ControlSocket, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: d.controlHandler()}
	go srv.Serve(ln)
	defer srv.Close()

	out := filepath.Join(t.TempDir(), "docs")
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"cases", "documents", id, "-out", out, "-config", path}, &stdout, &stderr)
	if code == 0 {
		t.Errorf("exit 0 although the second document could not be exported: %s", strings.TrimSpace(stdout.String()))
	}
}
