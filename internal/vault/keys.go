package vault

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Case keys. A case's two keys (one per class) live in one small file,
// keys/<case>.keys: a magic, a random key-file ID, then one slot per class holding
// that class's key sealed with the master key (additional data: the ID and the
// class). Erasing a class zeroes its slot in place; erasing the last one removes the
// file. Earlier versions wrote one file per class (keys/<case>[.sensitive].key, sealed
// with the case ID as additional data); they are still read, and a case that has one
// gets its other key in the same form.
//
// Creating a file is what a new case costs the store most: on the machines we
// measured, a file creation takes from 20 µs to 0.8 ms and blocks while the file
// system commits its journal. So key files are made ahead, by the workers that parse
// mail, into keys/pool/; a new case takes one by renaming it to its name.

// Key classes: a case has one key per class, so that the sensitive documents (ID
// cards, licences, powers of attorney) can be erased while the rest of the case stays.
const (
	ClassGeneral   = ""
	ClassSensitive = "sensitive"
)

var classes = [...]string{ClassGeneral, ClassSensitive}

func validClass(class string) bool { return class == ClassGeneral || class == ClassSensitive }

func classSlot(class string) int {
	if class == ClassSensitive {
		return 1
	}
	return 0
}

const (
	keysMagic   = "CKY2"
	keysIDSize  = 16
	keySlotSize = 12 + keySize + 16 // nonce, sealed key, tag
	keysSize    = len(keysMagic) + keysIDSize + len(classes)*keySlotSize
	slotsAt     = len(keysMagic) + keysIDSize

	// keyPoolTarget is how many key files are kept ready: more than the new cases of
	// a commit group, so a burst of new complaints never waits for one.
	keyPoolTarget = 24

	// keyCacheSize bounds the case keys kept in memory: the cases of the mails in
	// hand (a mail with five scans would otherwise read its key file five times), and
	// the cases a listing or a scheduler pass reads, whose personal records are sealed
	// (records.go). An entry is a 32-byte key under its case number.
	keyCacheSize = 16 << 10
)

// poolKey is a key file made ahead, not yet given to a case.
type poolKey struct {
	path string
	keks [len(classes)][]byte
}

func keysAD(id []byte, class string) []byte {
	return []byte("keys/" + hex.EncodeToString(id) + "/" + class)
}

// newKeysFile makes a key file with fresh keys for both classes in keys/pool/.
func (v *Vault) newKeysFile() (poolKey, error) {
	id := randomBytes(keysIDSize)
	pk := poolKey{path: filepath.Join(v.dir, "keys", "pool", hex.EncodeToString(id)+".keys")}
	b := make([]byte, 0, keysSize)
	b = append(append(b, keysMagic...), id...)
	for i, class := range classes {
		pk.keks[i] = randomBytes(keySize)
		nonce := randomBytes(v.master.NonceSize())
		b = v.master.Seal(append(b, nonce...), nonce, pk.keks[i], keysAD(id, class))
	}
	// Not synced here: the Flush before the commit that first uses it covers it.
	if err := os.WriteFile(pk.path, b, 0o600); err != nil {
		os.Remove(pk.path)
		return poolKey{}, fmt.Errorf("write key file: %w", err)
	}
	return pk, nil
}

// readKeysFile unseals the key file at path; an erased slot is nil.
func (v *Vault) readKeysFile(path string) ([len(classes)][]byte, error) {
	var keks [len(classes)][]byte
	b, err := os.ReadFile(path)
	if err != nil {
		return keks, err
	}
	if len(b) != keysSize || string(b[:len(keysMagic)]) != keysMagic {
		return keks, fmt.Errorf("key file %s: damaged", filepath.Base(path))
	}
	id := b[len(keysMagic):slotsAt]
	ns := v.master.NonceSize()
	for i, class := range classes {
		slot := b[slotsAt+i*keySlotSize : slotsAt+(i+1)*keySlotSize]
		if allZeroBytes(slot) {
			continue // erased
		}
		kek, err := v.master.Open(nil, slot[:ns], slot[ns:], keysAD(id, class))
		if err != nil {
			return keks, fmt.Errorf("key file %s: %w", filepath.Base(path), errUnseal)
		}
		keks[i] = kek
	}
	return keks, nil
}

// errUnseal: a key does not open with the master key (another key, or damage).
var errUnseal = errors.New("cannot unseal (wrong master key?)")

func allZeroBytes(b []byte) bool { return len(bytes.Trim(b, "\x00")) == 0 }

// loadKeyPool takes the key files a previous run made ahead and left unused; a
// damaged one (the process died writing it) is removed.
func (v *Vault) loadKeyPool() error {
	dir := filepath.Join(v.dir, "keys", "pool")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read key pool: %w", err)
	}
	for _, e := range ents {
		path := filepath.Join(dir, e.Name())
		if linkedElsewhere(path) {
			// Given to a case by a run that died before the pool's name was gone
			// for good: that case owns these keys.
			os.Remove(path)
			continue
		}
		keks, err := v.readKeysFile(path)
		if err != nil || keks[0] == nil || keks[1] == nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if errors.Is(err, errUnseal) {
				return err // sealed under another master key: not ours to delete
			}
			os.Remove(path)
			continue
		}
		v.pool = append(v.pool, poolKey{path: path, keks: keks})
	}
	return nil
}

// TopUpKeys makes one key file ahead when fewer than keyPoolTarget are ready. The
// intake workers call it (through NewSpool) so that the store's single committer
// never creates files for keys. Best effort: a failure only means a case will make
// its key itself.
func (v *Vault) TopUpKeys() {
	v.mu.Lock()
	need := len(v.pool)+v.poolMaking < keyPoolTarget
	if need {
		v.poolMaking++
	}
	v.mu.Unlock()
	if !need {
		return
	}
	pk, err := v.newKeysFile()
	v.mu.Lock()
	v.poolMaking--
	if err == nil {
		v.pool = append(v.pool, pk)
	}
	v.mu.Unlock()
}

func (v *Vault) keysPath(caseID string) string {
	return filepath.Join(v.dir, "keys", caseID+".keys")
}

// legacyKeyPath is where earlier versions kept one class's key.
func (v *Vault) legacyKeyPath(caseID, class string) string {
	if class == ClassGeneral {
		return filepath.Join(v.dir, "keys", caseID+".key")
	}
	return filepath.Join(v.dir, "keys", caseID+"."+class+".key")
}

// caseKey returns the case's key of one class, creating the case's keys when create
// is set and it has none.
func (v *Vault) caseKey(caseID, class string, create bool) ([]byte, error) {
	id := caseID + "/" + class
	v.mu.Lock()
	kek, ok := v.keks[id]
	v.mu.Unlock()
	if ok {
		return kek, nil
	}
	keks, err := v.loadCaseKeys(caseID, create)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.keks) >= keyCacheSize {
		clear(v.keks)
	}
	for i, c := range classes {
		if keks[i] != nil {
			v.keks[caseID+"/"+c] = keks[i]
		}
	}
	if keks[classSlot(class)] == nil {
		return nil, fmt.Errorf("case %s: %w", caseID, ErrErased)
	}
	return keks[classSlot(class)], nil
}

// loadCaseKeys reads the case's keys in whichever form it has them.
func (v *Vault) loadCaseKeys(caseID string, create bool) ([len(classes)][]byte, error) {
	keks, err := v.readKeysFile(v.keysPath(caseID))
	if err == nil {
		if create && (keks[0] == nil || keks[1] == nil) {
			return v.refillKeys(caseID, keks)
		}
		return keks, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return keks, err
	}
	legacy := false
	for i, class := range classes {
		kek, err := v.readLegacyKey(caseID, class)
		switch {
		case err == nil:
			keks[i], legacy = kek, true
		case !errors.Is(err, os.ErrNotExist):
			return keks, err
		}
	}
	if !create || (keks[0] != nil && keks[1] != nil) {
		return keks, nil
	}
	if legacy {
		// Keep one form per case: the missing class gets a file of the old form.
		for i, class := range classes {
			if keks[i] == nil {
				if keks[i], err = v.createLegacyKey(caseID, class); err != nil {
					return keks, err
				}
			}
		}
		return keks, nil
	}
	return v.createCaseKeys(caseID)
}

// createCaseKeys gives the case a key file from the pool (a rename), or a new one.
func (v *Vault) createCaseKeys(caseID string) ([len(classes)][]byte, error) {
	v.dirty.Store(true)
	v.mu.Lock()
	var pk poolKey
	ok := len(v.pool) > 0
	if ok {
		pk = v.pool[len(v.pool)-1]
		v.pool = v.pool[:len(v.pool)-1]
	}
	v.mu.Unlock()
	if !ok {
		var err error
		if pk, err = v.newKeysFile(); err != nil {
			return pk.keks, err
		}
	}
	// A link, not a rename: if the name is taken (a rolled-back attempt of this
	// case already gave it keys), those keys stand and this file goes back.
	final := v.keysPath(caseID)
	err := os.Link(pk.path, final)
	switch {
	case err == nil:
		os.Remove(pk.path)
		return pk.keks, nil
	case errors.Is(err, os.ErrExist):
		v.mu.Lock()
		v.pool = append(v.pool, pk)
		v.mu.Unlock()
		return v.readKeysFile(final)
	default:
		os.Remove(pk.path)
		return pk.keks, fmt.Errorf("install case keys: %w", err)
	}
}

// refillKeys gives an erased class of the case a new key (retention erased its
// documents; a later mail brings new ones), in the slot the old key was zeroed in.
func (v *Vault) refillKeys(caseID string, keks [len(classes)][]byte) ([len(classes)][]byte, error) {
	v.dirty.Store(true)
	path := v.keysPath(caseID)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return keks, fmt.Errorf("open case keys: %w", err)
	}
	defer f.Close()
	id := make([]byte, keysIDSize)
	if _, err := f.ReadAt(id, int64(len(keysMagic))); err != nil {
		return keks, fmt.Errorf("read case keys: %w", err)
	}
	for i, class := range classes {
		if keks[i] != nil {
			continue
		}
		kek := randomBytes(keySize)
		nonce := randomBytes(v.master.NonceSize())
		slot := v.master.Seal(nonce, nonce, kek, keysAD(id, class))
		if _, err := f.WriteAt(slot, int64(slotsAt+i*keySlotSize)); err != nil {
			return keks, fmt.Errorf("write case key: %w", err)
		}
		keks[i] = kek
	}
	return keks, nil // made durable by the caller's Flush
}

func (v *Vault) readLegacyKey(caseID, class string) ([]byte, error) {
	b, err := os.ReadFile(v.legacyKeyPath(caseID, class))
	if err != nil {
		return nil, err
	}
	ns := v.master.NonceSize()
	if len(b) < ns {
		return nil, fmt.Errorf("case key %s: truncated", caseID)
	}
	kek, err := v.master.Open(nil, b[:ns], b[ns:], []byte(caseID+"/"+class))
	if err != nil {
		return nil, fmt.Errorf("unseal case key %s (wrong master key?): %w", caseID, err)
	}
	return kek, nil
}

func (v *Vault) createLegacyKey(caseID, class string) ([]byte, error) {
	v.dirty.Store(true)
	kek := randomBytes(keySize)
	nonce := randomBytes(v.master.NonceSize())
	sealed := v.master.Seal(nonce, nonce, kek, []byte(caseID+"/"+class))
	path := v.legacyKeyPath(caseID, class)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, sealed, 0o600); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("write case key: %w", err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return v.readLegacyKey(caseID, class)
		}
		return nil, fmt.Errorf("install case key: %w", err)
	}
	return kek, nil // made durable by the caller's Flush, with the files it seals
}

// destroyKey erases the case's key of one class for good: its slot is zeroed in
// place (on ext4 and xfs in their default modes the block is rewritten, so the
// sealed key does not linger on disk) and synced; the file goes with the last slot.
func (v *Vault) destroyKey(caseID, class string) error {
	v.mu.Lock()
	delete(v.keks, caseID+"/"+class)
	v.mu.Unlock()
	keysDir := filepath.Join(v.dir, "keys")
	path := v.keysPath(caseID)
	if f, err := os.OpenFile(path, os.O_RDWR, 0); err == nil {
		i := classSlot(class)
		_, werr := f.WriteAt(make([]byte, keySlotSize), int64(slotsAt+i*keySlotSize))
		serr := f.Sync()
		b := make([]byte, keysSize)
		_, rerr := f.ReadAt(b, 0)
		f.Close()
		if werr != nil || serr != nil {
			return fmt.Errorf("erase case key: %w", errors.Join(werr, serr))
		}
		if rerr == nil && allZeroBytes(b[slotsAt:]) {
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("remove case keys: %w", err)
			}
			if err := syncDir(keysDir); err != nil {
				return err
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("open case keys: %w", err)
	}
	path = v.legacyKeyPath(caseID, class)
	if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
		st, _ := f.Stat()
		n := int64(64)
		if st != nil && st.Size() > n {
			n = st.Size()
		}
		_, werr := f.WriteAt(randomBytes(int(n)), 0)
		serr := f.Sync()
		f.Close()
		if werr != nil || serr != nil {
			return fmt.Errorf("overwrite case key: %w", errors.Join(werr, serr))
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("open case key: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove case key: %w", err)
	}
	return syncDir(keysDir)
}
