// Package vault keeps attachment content encrypted at rest so that a case's documents can
// later be erased for good by destroying one small key file (PIPL retention).
//
// Layout under the attachments directory (all 0700 directories, 0600 files):
//
//	spool/<random>.part      the attachments of a mail being received, one after
//	                         another (a pack); encrypted with random data keys held only
//	                         in memory, so a crash leaves nothing readable behind
//	keys/<case>.keys         the case's keys (KEKs), one per class, sealed with the
//	                         master key (AES-256-GCM); keys/pool/ holds some made ahead,
//	                         keys/<case>[.sensitive].key those of earlier versions
//	<case>/<random>.pack     a mail's pack, linked into the case it joined; the case's
//	                         records locate each attachment in it (offset, length)
//	<case>/<sha256>          one attachment per file, as earlier versions kept them
//
// Each attachment has its own data key (DEK). The DEK, sealed with the case key, is
// stored by the caller (in bbolt) as the BlobRef. bbolt and the filesystem keep freed
// bytes, so deleting a record never erases anything; destroying the case key file
// (overwritten, synced, unlinked) makes every sealed DEK of the case, and therefore every
// attachment file of the case, unreadable. Plaintext never touches the disk.
//
// File format: "CPD1" magic, 8-byte random nonce prefix, then chunks of up to 64 KiB
// plaintext, each sealed with AES-256-GCM under nonce prefix||chunk index (4 bytes), with
// additional data marking the last chunk so truncation is detected. A pack is a
// sequence of such attachments, each with its own key and nonce prefix.
package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
)

const (
	magic      = "CPD1"
	chunkPlain = 64 << 10
	tagSize    = 16
	chunkSeal  = chunkPlain + tagSize
	headerSize = len(magic) + 8
	keySize    = 32
)

// ErrErased is returned when a case's key has been destroyed.
var ErrErased = errors.New("case key erased")

// Vault owns the attachments directory.
type Vault struct {
	dir       string
	master    cipher.AEAD
	lookupKey []byte // keys LookupHash (records.go)
	deskKey   []byte // seals the desk's own records (SealDesk)
	// lookupMACs keeps HMACs keyed with lookupKey: keying one hashes the key twice,
	// which was most of a LookupHash (several per mail, in the serial commit).
	lookupMACs sync.Pool

	mu    sync.Mutex
	spool map[string]*spoolEntry // spool ID → data key, while a message is in hand
	keks  map[string][]byte      // recently used case keys ("case/class"), bounded by keyCacheSize
	pool  []poolKey              // key files made ahead (keys.go)

	poolMaking int // key files being made by TopUpKeys

	// Packs released after their commit, finished (holes punched, pages dropped,
	// spool name removed) by one goroutine while retiring: off the caller's path,
	// since the caller is the store's single committer (spool.go, retire).
	retiring []*pack
	retirer  bool
	retired  *sync.Cond // broadcast when the retirer has nothing left

	// dirty: a file was kept or a case key made since the last Flush, so Flush has
	// something to make durable (a commit without new files skips the sync).
	dirty atomic.Bool
}

// spoolEntry is one attachment in the spool: a segment of a pack file.
type spoolEntry struct {
	pack   *pack
	dek    []byte
	size   int64 // plaintext
	off    int64 // where the segment begins in the pack
	length int64 // bytes of the segment on disk
	kept   bool  // linked into a case by Keep
}

// BlobRef is what the caller stores to find and decrypt one attachment.
type BlobRef struct {
	File      string `json:"file"`       // path relative to the attachments directory
	SealedKey string `json:"sealed_key"` // the DEK sealed with the case key of Class, base64
	Class     string `json:"class,omitempty"`
	Size      int64  `json:"size"`
	// Offset and Length locate the attachment inside a pack file (the attachments
	// of one mail share one); Length 0 means the whole file (one file per
	// attachment, as earlier versions wrote).
	Offset int64 `json:"offset,omitempty"`
	Length int64 `json:"length,omitempty"`
}

// Open prepares dir (created 0700 if missing) with the given 32-byte master key.
// Leftover spool files of an earlier run are removed: their keys died with that process.
func Open(dir string, masterKey []byte) (*Vault, error) {
	if len(masterKey) != keySize {
		return nil, fmt.Errorf("master key must be %d bytes, got %d", keySize, len(masterKey))
	}
	aead, err := newAEAD(masterKey)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{dir, filepath.Join(dir, "spool"), filepath.Join(dir, "keys")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
	}
	if err := clearDir(filepath.Join(dir, "spool")); err != nil {
		return nil, err
	}
	lk := hmac.New(sha256.New, masterKey)
	lk.Write([]byte(lookupLabel))
	dk := hmac.New(sha256.New, masterKey)
	dk.Write([]byte(deskLabel))
	v := &Vault{dir: dir, master: aead, lookupKey: lk.Sum(nil), deskKey: dk.Sum(nil), spool: map[string]*spoolEntry{}, keks: map[string][]byte{}}
	v.retired = sync.NewCond(&v.mu)
	if err := v.loadKeyPool(); err != nil {
		return nil, err
	}
	return v, nil
}

func clearDir(d string) error {
	ents, err := os.ReadDir(d)
	if err != nil {
		return fmt.Errorf("read spool: %w", err)
	}
	for _, e := range ents {
		if err := os.Remove(filepath.Join(d, e.Name())); err != nil {
			return fmt.Errorf("clear spool: %w", err)
		}
	}
	return nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return aead, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand.Read never fails on supported platforms (Go 1.24+ documents it).
		panic(err)
	}
	return b
}

var caseIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// OpenBlob opens a kept attachment for reading.
func (v *Vault) OpenBlob(caseID string, ref BlobRef) (*Reader, error) {
	if !caseIDPattern.MatchString(caseID) || strings.Contains(ref.File, "..") || !validClass(ref.Class) {
		return nil, fmt.Errorf("open attachment: bad reference")
	}
	kek, err := v.caseKey(caseID, ref.Class, false)
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	sealed, err := base64.StdEncoding.DecodeString(ref.SealedKey)
	if err != nil || len(sealed) < aead.NonceSize() {
		return nil, fmt.Errorf("open attachment: bad sealed key")
	}
	dek, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(caseID+"/"+ref.Class))
	if err != nil {
		return nil, fmt.Errorf("open attachment key: %w", err)
	}
	return openReader(filepath.Join(v.dir, ref.File), dek, ref.Offset, ref.Length)
}

// Erase destroys every key of the case and removes its attachment files.
func (v *Vault) Erase(caseID string) error {
	for _, class := range []string{ClassSensitive, ClassGeneral} {
		if err := v.EraseClass(caseID, class); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(filepath.Join(v.dir, caseID)); err != nil {
		return fmt.Errorf("remove case attachments: %w", err)
	}
	return nil
}

// EraseClass destroys the case's key of one class and removes what was sealed with
// it: the files of earlier versions (one per attachment) by name, and the segments
// of the given references (the caller's records of that class) from the pack files
// they share with other documents. Afterwards none of those attachments can be
// decrypted, wherever copies of their bytes survive (bbolt free pages, file system
// blocks, backups).
func (v *Vault) EraseClass(caseID, class string, refs ...BlobRef) error {
	if !caseIDPattern.MatchString(caseID) || !validClass(class) {
		return fmt.Errorf("erase: bad case %q or class %q", caseID, class)
	}
	if err := v.destroyKey(caseID, class); err != nil {
		return err
	}
	for _, ref := range refs {
		if err := v.shred(caseID, ref); err != nil {
			return err
		}
	}
	ents, err := os.ReadDir(filepath.Join(v.dir, caseID))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("list case attachments: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		_, suffix, hasSuffix := strings.Cut(name, ".")
		if (class == ClassGeneral && !hasSuffix) || (class != ClassGeneral && suffix == class) {
			if err := os.Remove(filepath.Join(v.dir, caseID, name)); err != nil {
				return fmt.Errorf("remove attachment: %w", err)
			}
		}
	}
	return nil
}

// shred removes one segment of a pack file: punched out where the file system can,
// overwritten with zeros elsewhere.
func (v *Vault) shred(caseID string, ref BlobRef) error {
	if ref.Length == 0 || ref.File == "" {
		return nil // a file of its own: removed by name
	}
	if !strings.HasPrefix(ref.File, caseID+string(filepath.Separator)) || strings.Contains(ref.File, "..") {
		return fmt.Errorf("erase: reference %q outside case %s", ref.File, caseID)
	}
	f, err := os.OpenFile(filepath.Join(v.dir, ref.File), os.O_WRONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("erase segment: %w", err)
	}
	defer f.Close()
	if punch(f, ref.Offset, ref.Length) != nil {
		if _, err := f.WriteAt(make([]byte, ref.Length), ref.Offset); err != nil {
			return fmt.Errorf("erase segment: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("erase segment: %w", err)
	}
	return nil
}

// Flush makes every file kept so far (and any new case key) durable. Call it before
// committing the references Keep returned.
func (v *Vault) Flush() error {
	if !v.dirty.Swap(false) {
		return nil
	}
	// One syncfs(2) for the whole commit. An fsync per pack and directory was
	// measured slower (issue 18: 3.1-3.4 s of system time per 600 mails against
	// 1.8-2.0 s); the packs' writeback began when their spool closed.
	if err := syncFS(v.dir); err != nil {
		v.dirty.Store(true)
		return fmt.Errorf("flush attachments: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}

// sealWriter encrypts a stream in chunks.
type sealWriter struct {
	w      io.Writer
	aead   cipher.AEAD
	prefix []byte
	bufs   *sealBuffers // the arrays of buf and out, back to the pool at Close; nil after
	buf    []byte
	out    []byte
	index  uint32
	total  int64
}

// sealBuffers are a sealWriter's two chunk buffers (128 KiB). Each attachment had
// its own: a fifth of all the bytes the daemon allocated during a backlog, which the
// collector then had to catch up with (issue 18).
type sealBuffers struct{ plain, sealed []byte }

var sealBufferPool = sync.Pool{New: func() any {
	return &sealBuffers{plain: make([]byte, 0, chunkPlain), sealed: make([]byte, 0, chunkSeal)}
}}

var errSealClosed = errors.New("seal writer closed")

func newSealWriter(w io.Writer, dek []byte) (*sealWriter, error) {
	aead, err := newAEAD(dek)
	if err != nil {
		return nil, err
	}
	prefix := randomBytes(8)
	if _, err := w.Write(append([]byte(magic), prefix...)); err != nil {
		return nil, fmt.Errorf("write header: %w", err)
	}
	b := sealBufferPool.Get().(*sealBuffers)
	return &sealWriter{w: w, aead: aead, prefix: prefix, bufs: b, buf: b.plain[:0], out: b.sealed[:0]}, nil
}

func (s *sealWriter) Write(p []byte) (int, error) {
	if s.bufs == nil {
		return 0, errSealClosed
	}
	n := 0
	for len(p) > 0 {
		if len(s.buf) == chunkPlain {
			if err := s.flush(false); err != nil {
				return n, err
			}
		}
		k := copy(s.buf[len(s.buf):chunkPlain], p)
		s.buf = s.buf[:len(s.buf)+k]
		p = p[k:]
		n += k
		s.total += int64(k)
	}
	return n, nil
}

func (s *sealWriter) flush(last bool) error {
	s.out = s.aead.Seal(s.out[:0], chunkNonce(s.prefix, s.index), s.buf, chunkAD(last))
	if _, err := s.w.Write(s.out); err != nil {
		return fmt.Errorf("write chunk: %w", err)
	}
	s.index++
	s.buf = s.buf[:0]
	return nil
}

// Close seals the final chunk (possibly empty, so an empty file is still authenticated).
func (s *sealWriter) Close() error {
	if s.bufs == nil {
		return errSealClosed
	}
	err := s.flush(true)
	s.release()
	return err
}

// release gives the buffers back (Close, or an abandoned segment); idempotent.
func (s *sealWriter) release() {
	if s.bufs == nil {
		return
	}
	// buf and out never outgrow their arrays: Write fills buf to chunkPlain at most,
	// and chunkSeal holds a sealed chunk.
	sealBufferPool.Put(s.bufs)
	s.bufs, s.buf, s.out = nil, nil, nil
}

func chunkNonce(prefix []byte, i uint32) []byte {
	n := make([]byte, 12)
	copy(n, prefix)
	binary.BigEndian.PutUint32(n[8:], i)
	return n
}

func chunkAD(last bool) []byte {
	if last {
		return []byte{1}
	}
	return []byte{0}
}

// Reader decrypts an attachment file; it supports random access (io.ReaderAt) and
// sequential reads (io.Reader).
type Reader struct {
	f      *os.File
	aead   cipher.AEAD
	prefix []byte
	base   int64 // where the first chunk begins in the file
	body   int64 // bytes of chunks
	size   int64 // plaintext size
	chunks int64

	cacheIdx int64
	cache    []byte
	off      int64 // for Read
}

// openReader opens the attachment at [off, off+length) of path; length 0 means the
// whole file.
func openReader(path string, dek []byte, off, length int64) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open attachment file: %w", err)
	}
	fail := func(why string) (*Reader, error) {
		f.Close()
		return nil, fmt.Errorf("attachment file %s: %s", filepath.Base(path), why)
	}
	if length == 0 {
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("stat attachment file: %w", err)
		}
		length = st.Size() - off
	}
	hdr := make([]byte, headerSize)
	if length < int64(headerSize) || off < 0 {
		return fail("truncated")
	}
	if _, err := f.ReadAt(hdr, off); err != nil || string(hdr[:4]) != magic {
		return fail("bad header")
	}
	aead, err := newAEAD(dek)
	if err != nil {
		f.Close()
		return nil, err
	}
	body := length - int64(headerSize)
	chunks := (body + chunkSeal - 1) / chunkSeal
	if chunks == 0 {
		return fail("truncated")
	}
	lastSeal := body - (chunks-1)*chunkSeal
	if lastSeal < tagSize {
		return fail("truncated")
	}
	size := (chunks-1)*chunkPlain + lastSeal - tagSize
	return &Reader{f: f, aead: aead, prefix: hdr[4:], base: off + int64(headerSize), body: body, size: size, chunks: chunks, cacheIdx: -1}, nil
}

// Size is the plaintext size.
func (r *Reader) Size() int64 { return r.size }

func (r *Reader) chunk(i int64) ([]byte, error) {
	if i == r.cacheIdx {
		return r.cache, nil
	}
	sealed := make([]byte, min(chunkSeal, r.body-i*chunkSeal))
	n, err := r.f.ReadAt(sealed, r.base+i*chunkSeal)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read chunk: %w", err)
	}
	r.cacheIdx = -1
	plain, err := r.aead.Open(r.cache[:0], chunkNonce(r.prefix, uint32(i)), sealed[:n], chunkAD(i == r.chunks-1))
	if err != nil {
		return nil, fmt.Errorf("decrypt chunk %d: %w", i, err)
	}
	r.cache, r.cacheIdx = plain, i
	return plain, nil
}

// ReadAt implements io.ReaderAt over the plaintext.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	n := 0
	for len(p) > 0 {
		if off >= r.size {
			return n, io.EOF
		}
		c, err := r.chunk(off / chunkPlain)
		if err != nil {
			return n, err
		}
		k := copy(p, c[off%chunkPlain:])
		p, off, n = p[k:], off+int64(k), n+k
	}
	return n, nil
}

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	n, err := r.ReadAt(p, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }
