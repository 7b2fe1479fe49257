package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

type fakeStore struct{ data []byte }

func (f fakeStore) Snapshot(fn func(int64, func(io.Writer) error) error) error {
	return fn(int64(len(f.data)), func(w io.Writer) error { _, err := w.Write(f.data); return err })
}

func write(t *testing.T, p, content string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o700)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Write → Verify → Restore gives the same files back (the spool left out), 0600 in
// 0700 directories; a damaged archive, a second restore over the data and an entry
// outside the target are refused.
func TestWriteVerifyRestore(t *testing.T) {
	src := t.TempDir()
	att := filepath.Join(src, "attachments")
	write(t, filepath.Join(att, "TS-2026-000001", "a.pack"), "sealed pack")
	write(t, filepath.Join(att, "keys", "TS-2026-000001.keys"), "sealed keys")
	write(t, filepath.Join(att, "keys", "pool", "x.keys"), "pool key")
	write(t, filepath.Join(att, "spool", "y.part"), "being received")
	write(t, filepath.Join(src, "staff-token.key"), "token key")
	var buf bytes.Buffer
	m, err := Write(&buf, Source{Store: fakeStore{[]byte("bbolt file")}, AttachmentsDir: att, TokenKeyFile: filepath.Join(src, "staff-token.key"),
		Version: "test", Schema: 2, MasterKey: "/etc/complaintd/master.key", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 4 || !slices.ContainsFunc(m.Files, func(f File) bool { return f.Name == StoreName }) || !strings.Contains(m.MasterKey, "not in this archive") {
		t.Fatalf("manifest: %+v", m)
	}
	if _, err := Verify(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatalf("verify: %v", err)
	}
	dst := t.TempDir()
	tgt := Target{StorePath: filepath.Join(dst, "data", "complaintd.db"), AttachmentsDir: filepath.Join(dst, "data", "attachments"),
		TokenKeyFile: filepath.Join(dst, "data", "staff-token.key")}
	if _, err := Restore(bytes.NewReader(buf.Bytes()), tgt); err != nil {
		t.Fatalf("restore: %v", err)
	}
	for p, want := range map[string]string{
		tgt.StorePath: "bbolt file", tgt.TokenKeyFile: "token key",
		filepath.Join(tgt.AttachmentsDir, "TS-2026-000001", "a.pack"):    "sealed pack",
		filepath.Join(tgt.AttachmentsDir, "keys", "TS-2026-000001.keys"): "sealed keys",
	} {
		b, err := os.ReadFile(p)
		if err != nil || string(b) != want {
			t.Errorf("%s: %q, %v", p, b, err)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", p, fi.Mode().Perm())
		}
	}
	if fi, _ := os.Stat(filepath.Join(tgt.AttachmentsDir, "keys")); fi.Mode().Perm() != 0o700 {
		t.Errorf("keys dir mode %v", fi.Mode().Perm())
	}
	for _, p := range []string{"spool", "keys/pool"} {
		if _, err := os.Stat(filepath.Join(tgt.AttachmentsDir, p)); err == nil {
			t.Errorf("%s was restored", p)
		}
	}
	if _, err := Restore(bytes.NewReader(buf.Bytes()), tgt); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a restore over restored data: %v", err)
	}

	// Damage: one file's bytes differ from the manifest.
	damaged := rewrite(t, buf.Bytes(), func(name string, b []byte) []byte {
		if name == StoreName {
			return []byte("bbolt fil!")
		}
		return b
	})
	if _, err := Verify(bytes.NewReader(damaged)); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("verify of a damaged archive: %v", err)
	}
	tgt2 := Target{StorePath: filepath.Join(t.TempDir(), "complaintd.db"), AttachmentsDir: filepath.Join(t.TempDir(), "att")}
	if _, err := Restore(bytes.NewReader(damaged), tgt2); err == nil {
		t.Error("a damaged archive was restored")
	} else if _, serr := os.Stat(tgt2.StorePath); serr == nil {
		t.Error("the failed restore left the store file")
	}
	// Truncated: no manifest.
	if _, err := Verify(bytes.NewReader(buf.Bytes()[:buf.Len()/2])); err == nil {
		t.Error("verify of a truncated archive passed")
	}
	// An entry that climbs out of the target.
	evil := rewrite(t, buf.Bytes(), func(name string, b []byte) []byte { return b }, "attachments/../../evil")
	if _, err := Restore(bytes.NewReader(evil), Target{StorePath: filepath.Join(t.TempDir(), "db"), AttachmentsDir: t.TempDir()}); err == nil {
		t.Error("an entry outside the target was accepted")
	}
}

// rewrite copies an archive, changing contents with f, adding an entry named extra
// first.
func rewrite(t *testing.T, archive []byte, f func(string, []byte) []byte, extra ...string) []byte {
	t.Helper()
	gr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gr)
	var out bytes.Buffer
	gw := gzip.NewWriter(&out)
	tw := tar.NewWriter(gw)
	for _, name := range extra {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: 1, Typeflag: tar.TypeReg})
		tw.Write([]byte("x"))
	}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		b = f(h.Name, b)
		h.Size = int64(len(b))
		tw.WriteHeader(h)
		tw.Write(b)
	}
	tw.Close()
	gw.Close()
	return out.Bytes()
}
