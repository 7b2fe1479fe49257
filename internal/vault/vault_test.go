package vault

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func testKey() []byte { return bytes.Repeat([]byte{7}, 32) }

func spoolAndKeep(t *testing.T, v *Vault, caseID string, content []byte) BlobRef {
	return spoolAndKeepClass(t, v, caseID, ClassGeneral, content)
}

func spoolAndKeepClass(t *testing.T, v *Vault, caseID, class string, content []byte) BlobRef {
	t.Helper()
	f, err := v.Create()
	if err != nil {
		t.Fatal(err)
	}
	// Write in odd-sized pieces so chunk boundaries fall inside writes.
	for p := content; len(p) > 0; {
		n := min(len(p), 7777)
		if _, err := f.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	id, err := f.Commit()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := v.Keep(caseID, class, id)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// Sizes around the chunk boundary catch off-by-one errors in the chunk arithmetic.
func TestRoundTripSizes(t *testing.T) {
	v, err := Open(t.TempDir(), testKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{0, 1, chunkPlain - 1, chunkPlain, chunkPlain + 1, 3*chunkPlain + 17} {
		content := make([]byte, size)
		for i := range content {
			content[i] = byte(i*31 + size)
		}
		ref := spoolAndKeep(t, v, "TS-2026-000001", content)
		r, err := v.OpenBlob("TS-2026-000001", ref)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("size %d: round trip differs (err %v, got %d bytes)", size, err, len(got))
		}
		if ref.Size != int64(size) || r.Size() != int64(size) {
			t.Fatalf("size %d: ref size %d reader size %d", size, ref.Size, r.Size())
		}
	}
}

// A zip directory is read from the end of the file: random access must work on the
// spool before the case is known.
func TestSpoolRandomAccess(t *testing.T) {
	v, _ := Open(t.TempDir(), testKey())
	content := bytes.Repeat([]byte("0123456789"), 20000)
	f, _ := v.Create()
	f.Write(content)
	id, err := f.Commit()
	if err != nil {
		t.Fatal(err)
	}
	r, size, err := v.OpenSpool(id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if size != int64(len(content)) {
		t.Fatalf("size %d", size)
	}
	buf := make([]byte, 100)
	if _, err := r.ReadAt(buf, chunkPlain-50); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, content[chunkPlain-50:chunkPlain+50]) {
		t.Fatal("ReadAt across a chunk boundary differs")
	}
}

// The retention promise: after Erase nothing under the directory holds the plaintext,
// and nothing can decrypt what might survive elsewhere.
func TestEraseLeavesNoPlaintext(t *testing.T) {
	dir := t.TempDir()
	v, _ := Open(dir, testKey())
	secret := []byte("身份证号 110101199003074514 张三 正反面扫描")
	ref := spoolAndKeep(t, v, "TS-2026-000002", bytes.Repeat(secret, 100))
	other := spoolAndKeep(t, v, "TS-2026-000003", []byte("other case"))
	if containsUnder(t, dir, secret) {
		t.Fatal("plaintext found on disk before erase: encryption at rest is broken")
	}
	if err := v.Erase("TS-2026-000002"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.OpenBlob("TS-2026-000002", ref); !errors.Is(err, ErrErased) {
		t.Fatalf("open after erase: %v, want ErrErased", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", "TS-2026-000002.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("case key still present")
	}
	if r, err := v.OpenBlob("TS-2026-000003", other); err != nil {
		t.Fatalf("other case damaged by erase: %v", err)
	} else {
		r.Close()
	}
}

// A tampered or truncated file must fail loudly, never return wrong bytes.
func TestTamperDetected(t *testing.T) {
	dir := t.TempDir()
	v, _ := Open(dir, testKey())
	ref := spoolAndKeep(t, v, "TS-2026-000004", bytes.Repeat([]byte("x"), 2*chunkPlain))
	path := filepath.Join(dir, ref.File)
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-tagSize-10], 0o600) // drop the final chunk's tail
	r, err := v.OpenBlob("TS-2026-000004", ref)
	if err == nil {
		_, err = io.ReadAll(r)
		r.Close()
	}
	if err == nil {
		t.Fatal("truncated file read without error")
	}
}

func TestWrongMasterKey(t *testing.T) {
	dir := t.TempDir()
	v, _ := Open(dir, testKey())
	ref := spoolAndKeep(t, v, "TS-2026-000005", []byte("abc"))
	v2, err := Open(dir, bytes.Repeat([]byte{8}, 32))
	if err != nil {
		return // refused at once: fine
	}
	if _, err := v2.OpenBlob("TS-2026-000005", ref); err == nil {
		t.Fatal("opened with the wrong master key")
	}
}

func TestOpenClearsStaleSpool(t *testing.T) {
	dir := t.TempDir()
	v, _ := Open(dir, testKey())
	f, _ := v.Create()
	f.Write([]byte("left behind by a crash"))
	f.Commit()
	if _, err := Open(dir, testKey()); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "spool"))
	if len(ents) != 0 {
		t.Fatalf("%d stale spool files survive a restart", len(ents))
	}
}

func containsUnder(t *testing.T, dir string, needle []byte) bool {
	t.Helper()
	found := false
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, needle) {
			found = true
		}
		return nil
	})
	return found
}

// Retention erases the sensitive documents of a case (ID cards, licences) and keeps
// the rest: the classes have separate keys.
func TestEraseClassKeepsTheRest(t *testing.T) {
	dir := t.TempDir()
	v, _ := Open(dir, testKey())
	idScan := []byte("居民身份证 110101199003074514 正面")
	letter := []byte("事件说明函：内容")
	sens := spoolAndKeepClass(t, v, "TS-2026-000009", ClassSensitive, idScan)
	gen := spoolAndKeepClass(t, v, "TS-2026-000009", ClassGeneral, letter)
	if err := v.EraseClass("TS-2026-000009", ClassSensitive, sens); err != nil {
		t.Fatal(err)
	}
	if _, err := v.OpenBlob("TS-2026-000009", sens); err == nil {
		t.Fatal("sensitive document still readable after EraseClass")
	}
	r, err := v.OpenBlob("TS-2026-000009", gen)
	if err != nil {
		t.Fatalf("general document lost: %v", err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, letter) {
		t.Fatal("general document damaged")
	}
	if b, err := os.ReadFile(filepath.Join(dir, sens.File)); err == nil && !allZero(b[sens.Offset:sens.Offset+sens.Length]) {
		t.Fatal("sensitive segment still on disk")
	}
	if containsUnder(t, dir, idScan) {
		t.Fatal("plaintext of the ID scan under the data directory")
	}
}

// Release after a commit removes the spool name only: the case's link keeps the
// content, readable after its pages were dropped from the cache.
func TestReleaseKeepsTheCaseCopy(t *testing.T) {
	dir := t.TempDir()
	v, err := Open(dir, testKey())
	if err != nil {
		t.Fatal(err)
	}
	content := bytes.Repeat([]byte("身份证扫描件"), 40000)
	f, err := v.Create()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(content); err != nil {
		t.Fatal(err)
	}
	id, err := f.Commit()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := v.Keep("TS-2026-000009", ClassSensitive, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Flush(); err != nil {
		t.Fatal(err)
	}
	v.Release(id)
	v.Idle()
	if ents, _ := os.ReadDir(filepath.Join(dir, "spool")); len(ents) != 0 {
		t.Fatalf("spool not empty after release: %v", ents)
	}
	if _, _, err := v.OpenSpool(id); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenSpool after release: %v", err)
	}
	r, err := v.OpenBlob("TS-2026-000009", ref)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("kept copy after release: err %v, %d of %d bytes", err, len(got), len(content))
	}
	v.Release(id) // a second release of a forgotten ID is harmless
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// The attachments of one mail share one pack file: kept ones are readable from the
// case, one not kept is punched out, an aborted one leaves nothing, and an
// attachment started while another is still being written goes to a second pack.
func TestSpoolPacksOneMail(t *testing.T) {
	dir := t.TempDir()
	v, err := Open(dir, testKey())
	if err != nil {
		t.Fatal(err)
	}
	s := v.NewSpool()
	write := func(content []byte) string {
		t.Helper()
		f, err := s.Create()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(content); err != nil {
			t.Fatal(err)
		}
		id, err := f.Commit()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	idCard := bytes.Repeat([]byte("身份证"), 30000)
	form := bytes.Repeat([]byte("申请表"), 50000)
	dup := bytes.Repeat([]byte("重复的附件"), 20000)
	a := write(idCard)
	aborted, _ := s.Create()
	aborted.Write([]byte("too large, given up"))
	aborted.Abort()
	b := write(form)
	c := write(dup)
	// An attached message: its own attachment is spooled while it is written.
	outer, _ := s.Create()
	outer.Write([]byte("From: x\r\n\r\nforwarded"))
	inner := write([]byte("inner scan"))
	outerID, err := outer.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "spool")); len(ents) != 2 {
		t.Fatalf("spool holds %d files, want 2 packs", len(ents))
	}
	if r, size, err := v.OpenSpool(b); err != nil || size != int64(len(form)) {
		t.Fatalf("OpenSpool: size %d, %v", size, err)
	} else {
		got, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Equal(got, form) {
			t.Fatal("spooled form differs")
		}
	}
	const id = "TS-2026-000010"
	keep := func(spoolID, class string, content []byte) BlobRef {
		ref, err := v.Keep(id, class, spoolID)
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	refA := keep(a, ClassSensitive, idCard)
	refB := keep(b, ClassGeneral, form)
	if refA.File != refB.File || refA.Offset == refB.Offset {
		t.Fatalf("one mail, one pack: %+v %+v", refA, refB)
	}
	if err := v.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, sid := range []string{a, b, c, outerID, inner} {
		v.Release(sid)
	}
	v.Idle()
	if ents, _ := os.ReadDir(filepath.Join(dir, "spool")); len(ents) != 0 {
		t.Fatalf("spool not empty after release: %v", ents)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, id)); len(ents) != 1 {
		t.Fatalf("case holds %d files, want the one pack", len(ents))
	}
	for _, tc := range []struct {
		ref  BlobRef
		want []byte
	}{{refA, idCard}, {refB, form}} {
		r, err := v.OpenBlob(id, tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Equal(got, tc.want) {
			t.Fatalf("kept attachment at %d differs", tc.ref.Offset)
		}
	}
	if containsUnder(t, dir, dup[:64]) {
		t.Fatal("plaintext under the data directory")
	}
	raw, _ := os.ReadFile(filepath.Join(dir, refA.File))
	if end := refB.Offset + refB.Length; int64(len(raw)) > end && !allZero(raw[end:]) {
		t.Fatal("the attachment nobody kept was not punched out of the pack")
	}
}

// A personal record opens with its case key, reports erased (not an error) once the
// key is destroyed, and stays erased when a later mail gives the case a new key.
func TestRecordSealedWithCaseKey(t *testing.T) {
	v, err := Open(t.TempDir(), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := v.SealRecord("TS-2026-000001", []byte("310101198001010018"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("310101198001010018")) {
		t.Fatal("the sealed record holds the value in clear")
	}
	plain, erased, err := v.OpenRecord("TS-2026-000001", sealed)
	if err != nil || erased || string(plain) != "310101198001010018" {
		t.Fatalf("open: %q %v %v", plain, erased, err)
	}
	if _, err := v.SealRecord("TS-2026-000002", nil); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := v.OpenRecord("TS-2026-000002", sealed); p != nil {
		t.Fatal("a record must not open as another case's")
	}
	if err := v.Erase("TS-2026-000001"); err != nil {
		t.Fatal(err)
	}
	if _, erased, err := v.OpenRecord("TS-2026-000001", sealed); err != nil || !erased {
		t.Fatalf("after erasure: erased=%v err=%v", erased, err)
	}
	if _, err := v.SealRecord("TS-2026-000001", []byte("new")); err != nil {
		t.Fatal(err)
	}
	if _, erased, err := v.OpenRecord("TS-2026-000001", sealed); err != nil || !erased {
		t.Fatalf("old record under the new key: erased=%v err=%v", erased, err)
	}
	if v.LookupHash("a@example.cn") == v.LookupHash("b@example.cn") || len(v.LookupHash("x")) != 32 {
		t.Fatal("LookupHash must tell values apart and be 128 bits hex")
	}
}
