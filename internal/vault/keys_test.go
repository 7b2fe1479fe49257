package vault

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func readBlob(t *testing.T, v *Vault, caseID string, ref BlobRef) ([]byte, error) {
	t.Helper()
	r, err := v.OpenBlob(caseID, ref)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func poolFiles(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "keys", "pool"))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// A new case takes a key file made ahead; it holds both classes; erasing one zeroes
// its slot, a later document of that class gets a new key, and erasing both removes
// the file.
func TestCaseKeysFromPoolAndErasure(t *testing.T) {
	dir := t.TempDir()
	v, err := Open(dir, testKey())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		v.TopUpKeys()
	}
	if n := poolFiles(t, dir); n != 3 {
		t.Fatalf("%d key files made ahead, want 3", n)
	}
	const id = "TS-2026-000020"
	idScan := []byte("居民身份证 110101199003074514")
	letter := []byte("事件说明函")
	sens := spoolAndKeepClass(t, v, id, ClassSensitive, idScan)
	gen := spoolAndKeepClass(t, v, id, ClassGeneral, letter)
	if n := poolFiles(t, dir); n != 2 {
		t.Fatalf("a new case should take one key file from the pool; %d left", n)
	}
	if st, err := os.Stat(filepath.Join(dir, "keys", id+".keys")); err != nil || st.Size() != int64(keysSize) || st.Mode().Perm() != 0o600 {
		t.Fatalf("case key file: %v %v", st, err)
	}
	// A restarted vault (no cache) reads both keys from the file.
	v2, err := Open(dir, testKey())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(v2.pool); n != 2 {
		t.Errorf("restart reuses %d key files made ahead, want 2", n)
	}
	for _, tc := range []struct {
		ref  BlobRef
		want []byte
	}{{sens, idScan}, {gen, letter}} {
		if got, err := readBlob(t, v2, id, tc.ref); err != nil || !bytes.Equal(got, tc.want) {
			t.Fatalf("after restart: %q, %v", got, err)
		}
	}
	if err := v2.EraseClass(id, ClassSensitive, sens); err != nil {
		t.Fatal(err)
	}
	if _, err := readBlob(t, v2, id, sens); !errors.Is(err, ErrErased) {
		t.Fatalf("erased class: %v, want ErrErased", err)
	}
	if got, err := readBlob(t, v2, id, gen); err != nil || !bytes.Equal(got, letter) {
		t.Fatalf("general class after erasing the sensitive one: %q, %v", got, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "keys", id+".keys"))
	if !allZeroBytes(b[slotsAt+keySlotSize:]) {
		t.Fatal("sensitive slot not zeroed")
	}
	// Retention erased the old scans; a follow-up brings a new one.
	again := []byte("补充的身份证扫描件")
	newSens := spoolAndKeepClass(t, v2, id, ClassSensitive, again)
	if got, err := readBlob(t, v2, id, newSens); err != nil || !bytes.Equal(got, again) {
		t.Fatalf("new sensitive document after erasure: %q, %v", got, err)
	}
	if _, err := readBlob(t, v2, id, sens); err == nil {
		t.Fatal("the erased document became readable with the new key")
	}
	if err := v2.Erase(id); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", id+".keys")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("key file after erasing the case: %v", err)
	}
}

// Stores written by earlier versions (one key file per class, one file per
// attachment) stay readable, and such a case gets its missing key in the same form.
func TestLegacyKeyFiles(t *testing.T) {
	dir := t.TempDir()
	v, err := Open(dir, testKey())
	if err != nil {
		t.Fatal(err)
	}
	v.TopUpKeys()
	const id = "TS-2025-000001"
	kek, err := v.createLegacyKey(id, ClassGeneral)
	if err != nil {
		t.Fatal(err)
	}
	// An attachment as the old Keep left it: <case>/<sha256>, the whole file.
	content := []byte("旧版本保存的附件")
	f, _ := v.Create()
	f.Write(content)
	sid, _ := f.Commit()
	v.mu.Lock()
	e := v.spool[sid]
	v.mu.Unlock()
	sum := sha256.Sum256(content)
	os.MkdirAll(filepath.Join(dir, id), 0o700)
	old := filepath.Join(id, hex.EncodeToString(sum[:]))
	raw, _ := os.ReadFile(e.pack.path)
	os.WriteFile(filepath.Join(dir, old), raw[e.off:e.off+e.length], 0o600)
	aead, _ := newAEAD(kek)
	nonce := randomBytes(aead.NonceSize())
	ref := BlobRef{File: old, SealedKey: encodeSealed(aead.Seal(nonce, nonce, e.dek, []byte(id+"/")))}
	v.Discard(sid)

	v2, _ := Open(dir, testKey())
	if got, err := readBlob(t, v2, id, ref); err != nil || !bytes.Equal(got, content) {
		t.Fatalf("legacy attachment: %q, %v", got, err)
	}
	spoolAndKeepClass(t, v2, id, ClassSensitive, []byte("新的敏感附件"))
	if _, err := os.Stat(filepath.Join(dir, "keys", id+".sensitive.key")); err != nil {
		t.Fatalf("legacy case should get a legacy sensitive key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys", id+".keys")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a legacy case got a key file of the new form as well")
	}
	if n := poolFiles(t, dir); n != 1 {
		t.Fatalf("the pool was used for a legacy case: %d left", n)
	}
}

// A key file half written when the process died is not used; one sealed with
// another master key stops the vault from opening rather than being deleted.
func TestKeyPoolDamage(t *testing.T) {
	dir := t.TempDir()
	v, _ := Open(dir, testKey())
	v.TopUpKeys()
	os.WriteFile(filepath.Join(dir, "keys", "pool", "00ff.keys"), []byte("CKY2 short"), 0o600)
	v2, err := Open(dir, testKey())
	if err != nil {
		t.Fatal(err)
	}
	if len(v2.pool) != 1 || poolFiles(t, dir) != 1 {
		t.Fatalf("damaged key file kept: pool %d, files %d", len(v2.pool), poolFiles(t, dir))
	}
	if _, err := Open(dir, bytes.Repeat([]byte{9}, 32)); err == nil {
		t.Fatal("opened with the wrong master key")
	}
	if poolFiles(t, dir) != 1 {
		t.Fatal("a key file of another master key was deleted")
	}
}

func encodeSealed(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// A pool key file that is also a case's key file (a crash lost its removal from the
// pool) is not handed to a second case.
func TestPoolFileOfACaseIsNotReused(t *testing.T) {
	dir := t.TempDir()
	v, err := Open(dir, testKey())
	if err != nil {
		t.Fatal(err)
	}
	v.TopUpKeys()
	pool := filepath.Join(dir, "keys", "pool")
	ents, err := os.ReadDir(pool)
	if err != nil || len(ents) != 1 {
		t.Fatalf("pool: %v %v", ents, err)
	}
	poolFile := filepath.Join(pool, ents[0].Name())
	const id = "TS-2026-000031"
	ref := spoolAndKeep(t, v, id, []byte("营业执照"))
	if err := v.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	// A crash lost the pool name's removal: the key file is back in the pool.
	if err := os.Link(filepath.Join(dir, "keys", id+".keys"), poolFile); err != nil {
		t.Fatal(err)
	}
	v2, err := Open(dir, testKey())
	if err != nil {
		t.Fatal(err)
	}
	if len(v2.pool) != 0 {
		t.Fatalf("a case's key file was taken back into the pool: %d", len(v2.pool))
	}
	if _, err := os.Stat(poolFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the stale pool name stays: %v", err)
	}
	if b, err := readBlob(t, v2, id, ref); err != nil || string(b) != "营业执照" {
		t.Fatalf("the case's document after reopening: %q %v", b, err)
	}
}
