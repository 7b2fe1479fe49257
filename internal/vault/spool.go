package vault

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The attachments of one mail are spooled into one pack file, one after another,
// each a segment in the attachment file format with its own data key. A mail with
// three scans then costs the file system one new file instead of three: on the
// machines we measured, creating a file costs 20 µs to 0.8 ms of system time, more
// than writing a megabyte. Keep links the whole pack into the case (one link per
// mail) and the reference locates the segment. A segment nobody kept is punched out
// of a kept pack when the spool lets go of it, so duplicates cost no disk.

// pack is one spool file being filled with segments.
// Its fields after id and path are guarded by Vault.mu.
type pack struct {
	id       string
	path     string
	f        *os.File // open while the mail is parsed
	closed   bool     // the spool is done with it: no more segments
	end      int64    // bytes written and committed
	writing  bool     // a segment is being written (at end)
	live     int      // segments not yet released or discarded
	linked   map[string]bool
	released []*spoolEntry
}

// Spool receives the attachments of one mail. It implements mailmsg.Spool; Close it
// when the mail is parsed (the segments stay usable by their IDs).
type Spool struct {
	v     *Vault
	cur   *pack
	packs []*pack
}

// NewSpool starts the spool of one mail. Nothing touches the disk before the first
// Create.
func (v *Vault) NewSpool() *Spool { return &Spool{v: v} }

// Create starts one attachment: a new segment at the end of the mail's pack. While a
// segment is still being written (an attached message whose own attachments are
// spooled as it is read), the next one starts another pack.
func (s *Spool) Create() (*SpoolFile, error) {
	if s.cur == nil || s.cur.writing {
		id := base64.RawURLEncoding.EncodeToString(randomBytes(12))
		path := filepath.Join(s.v.dir, "spool", id+".part")
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create spool file: %w", err)
		}
		s.cur = &pack{id: id, path: path, f: f, linked: map[string]bool{}}
		s.packs = append(s.packs, s.cur)
	}
	p := s.cur
	s.v.mu.Lock()
	start := p.end
	s.v.mu.Unlock()
	dek := randomBytes(keySize)
	w, err := newSealWriter(p.f, dek)
	if err != nil {
		p.f.Truncate(start)
		p.f.Seek(start, io.SeekStart)
		return nil, err
	}
	id := base64.RawURLEncoding.EncodeToString(randomBytes(12))
	s.v.mu.Lock()
	p.writing = true
	p.live++
	s.v.spool[id] = &spoolEntry{pack: p, dek: dek, off: start}
	s.v.mu.Unlock()
	return &SpoolFile{v: s.v, id: id, pack: p, w: w}, nil
}

// Close closes the pack files; a pack without segments goes at once. The others'
// writeback starts now (without waiting for it): the mail's parser, on its own
// worker, starts writing its attachments to disk, so that the sync of the commit that
// keeps them finds less to write while the store's single committer waits.
func (s *Spool) Close() error {
	var errs []error
	for _, p := range s.packs {
		if p.f == nil {
			continue
		}
		startWriteback(p.f)
		errs = append(errs, p.f.Close())
		p.f = nil
		s.v.mu.Lock()
		p.closed = true
		empty := p.live == 0
		s.v.mu.Unlock()
		if empty {
			os.Remove(p.path)
		}
	}
	return errors.Join(errs...)
}

// Create spools one attachment on its own (a spool of one).
func (v *Vault) Create() (*SpoolFile, error) {
	s := v.NewSpool()
	f, err := s.Create()
	if err != nil {
		return nil, err
	}
	f.closeAfter = s
	return f, nil
}

// SpoolFile is one attachment being written to the spool. It implements
// mailmsg.SpoolFile.
type SpoolFile struct {
	v          *Vault
	id         string
	pack       *pack
	w          *sealWriter
	done       bool
	closeAfter *Spool // the spool of one that Vault.Create made
}

// Write encrypts p into the spool.
func (s *SpoolFile) Write(p []byte) (int, error) { return s.w.Write(p) }

// Commit seals the last chunk. The content stays in the spool until Keep, Release
// or Discard.
func (s *SpoolFile) Commit() (string, error) {
	if s.done {
		return "", errors.New("spool file already finished")
	}
	s.done = true
	p := s.pack
	err := s.w.Close()
	var end int64
	if err == nil {
		end, err = p.f.Seek(0, io.SeekCurrent)
	}
	if err == nil && s.closeAfter != nil {
		err = s.closeAfter.Close()
	}
	if err != nil {
		s.abort()
		return "", fmt.Errorf("finish spool file: %w", err)
	}
	s.v.mu.Lock()
	e := s.v.spool[s.id]
	e.size, e.length = s.w.total, end-e.off
	p.end, p.writing = end, false
	s.v.mu.Unlock()
	return s.id, nil
}

// Abort drops the partial attachment.
func (s *SpoolFile) Abort() {
	if s.done {
		return
	}
	s.done = true
	s.abort()
}

func (s *SpoolFile) abort() {
	s.w.release()
	p := s.pack
	s.v.mu.Lock()
	start := p.end
	p.writing = false
	s.v.mu.Unlock()
	if p.f != nil {
		// Cut the partial segment off, so the next one starts where it began.
		p.f.Truncate(start)
		p.f.Seek(start, io.SeekStart)
	}
	s.v.Discard(s.id)
	if s.closeAfter != nil {
		s.closeAfter.Close()
	}
}

// forget removes a segment from the spool and reports whether the pack is done with:
// closed, and this was its last segment.
func (v *Vault) forget(id string, released bool) (*spoolEntry, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e := v.spool[id]
	if e == nil {
		return nil, false
	}
	delete(v.spool, id)
	e.pack.live--
	if released {
		e.pack.released = append(e.pack.released, e)
	}
	return e, e.pack.live == 0 && e.pack.closed
}

// Discard forgets an attachment nobody will keep. When its pack has no segment left,
// the spool name is removed (a pack linked into a case by a transaction that then
// failed stays there, unreferenced and unreadable without the key never stored).
// Unknown IDs are ignored.
func (v *Vault) Discard(id string) {
	if e, done := v.forget(id, false); done {
		v.finishPack(e.pack)
	}
}

// Release forgets an attachment after the references to its pack were committed.
// With the pack's last segment, the segments nobody kept are punched out of a kept
// pack, its pages are dropped from the page cache (attachments are written once and
// read rarely; on the machines we measured, buffered writes cost several times more
// CPU once gigabytes of page cache are in use) and the spool name is removed: soon
// after, not before Release returns (Idle waits for it).
func (v *Vault) Release(id string) {
	if e, done := v.forget(id, true); done {
		v.retire(e.pack)
	}
}

// retire has the pack finished by the retiring goroutine, started when there is
// none. The caller is the store's single committer, whose time bounds the intake
// rate: in a 2,000-mail backlog the finishing cost it 0.33 s of waiting in fadvise
// (runtime trace), besides an unlink per mail (issue 18). Its work is only
// tidying: a pack left unfinished by a crash costs the disk its unkept segments,
// and Open clears the spool.
func (v *Vault) retire(p *pack) {
	v.mu.Lock()
	v.retiring = append(v.retiring, p)
	start := !v.retirer
	v.retirer = true
	v.mu.Unlock()
	if start {
		go v.retireAll()
	}
}

func (v *Vault) retireAll() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for len(v.retiring) > 0 {
		p := v.retiring[0]
		v.retiring[0] = nil
		v.retiring = v.retiring[1:]
		v.mu.Unlock()
		v.finishPack(p)
		v.mu.Lock()
	}
	v.retiring = nil
	v.retirer = false
	v.retired.Broadcast()
}

// Idle waits until every released pack is finished: its spool name gone.
func (v *Vault) Idle() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for v.retirer {
		v.retired.Wait()
	}
}

// finishPack removes the spool name of a pack whose segments are all released or
// discarded; if the released ones include kept segments, the pack lives on in the
// case, without the segments nobody kept and out of the page cache.
func (v *Vault) finishPack(p *pack) {
	v.mu.Lock()
	var holes [][2]int64
	kept := false
	for _, r := range p.released {
		if r.kept {
			kept = true
		} else {
			holes = append(holes, [2]int64{r.off, r.length})
		}
	}
	v.mu.Unlock()
	if kept {
		settle(p.path, holes)
	}
	os.Remove(p.path)
}

// OpenSpool gives random access to a spooled attachment's plaintext (for reading a
// .zip directory or a .docx form before the case is known).
func (v *Vault) OpenSpool(id string) (*Reader, int64, error) {
	v.mu.Lock()
	e := v.spool[id]
	var path string
	var off, length int64
	if e != nil {
		path, off, length = e.pack.path, e.off, e.length
	}
	v.mu.Unlock()
	if e == nil || length == 0 {
		return nil, 0, fmt.Errorf("spool file %q: %w", id, os.ErrNotExist)
	}
	r, err := openReader(path, e.dek, off, length)
	if err != nil {
		return nil, 0, err
	}
	return r, r.size, nil
}

// Keep links the spooled attachment's pack into the case's directory (once per pack)
// and returns the reference the caller must store; Release the spool once the
// reference is committed, Discard it if abandoned. Nothing is synced here: call Flush
// once before committing the references. The case key is created on first use. If
// the caller commits nothing afterwards (crash, rollback), the pack is an
// unreferenced orphan, unreadable without the sealed keys that were never stored.
func (v *Vault) Keep(caseID, class, spoolID string) (BlobRef, error) {
	if !caseIDPattern.MatchString(caseID) || !validClass(class) {
		return BlobRef{}, fmt.Errorf("keep attachment: bad case %q or class %q", caseID, class)
	}
	v.mu.Lock()
	e := v.spool[spoolID]
	v.mu.Unlock()
	if e == nil || e.length == 0 {
		return BlobRef{}, fmt.Errorf("keep attachment: spool file %q: %w", spoolID, os.ErrNotExist)
	}
	kek, err := v.caseKey(caseID, class, true)
	if err != nil {
		return BlobRef{}, err
	}
	aead, err := newAEAD(kek)
	if err != nil {
		return BlobRef{}, err
	}
	nonce := randomBytes(aead.NonceSize())
	sealed := aead.Seal(nonce, nonce, e.dek, []byte(caseID+"/"+class))
	// Pack names are random: a file already at the target is this pack, linked by
	// an attempt of this commit that was rolled back.
	rel := filepath.Join(caseID, e.pack.id+".pack")
	if !e.pack.linked[caseID] {
		if err := os.MkdirAll(filepath.Join(v.dir, caseID), 0o700); err != nil {
			return BlobRef{}, fmt.Errorf("create case dir: %w", err)
		}
		// Dirty before the link: a Flush must not miss it. A pack linked already
		// (by a pass of this commit that rolled back, whose Flush made it durable)
		// leaves nothing to sync: a second pass costs no second sync.
		v.dirty.Store(true)
		if err := os.Link(e.pack.path, filepath.Join(v.dir, rel)); err != nil && !errors.Is(err, os.ErrExist) {
			return BlobRef{}, fmt.Errorf("link attachment into case: %w", err)
		}
		v.mu.Lock()
		e.pack.linked[caseID] = true
		v.mu.Unlock()
	}
	v.mu.Lock()
	e.kept = true
	v.mu.Unlock()
	return BlobRef{File: rel, SealedKey: base64.StdEncoding.EncodeToString(sealed), Class: class, Size: e.size,
		Offset: e.off, Length: e.length}, nil
}
