// Package store keeps complaintd's state in one bbolt file: cases, their append-only
// event logs, registered messages, the mailbox checkpoint, quarantine records, the reply
// outbox and the auto-reply rate counters.
//
// Invariants:
//   - Any change that must not be half-done (a case change, the checkpoint that says the
//     mail behind it is processed, and the replies it causes) happens in one Update.
//   - Events are only ever appended.
//   - Records are JSON so that an operator can read them with bbolt tools and so that
//     new fields need no migration.
//   - It persists the domain model of package cases and nothing else: no rule of the
//     desk is decided here.
//   - Attachment bytes are not here (package vault); only their metadata and sealed keys.
package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	bolt "go.etcd.io/bbolt"
	boltErrors "go.etcd.io/bbolt/errors"
)

// ErrNotFound is returned for a missing case or entry.
var ErrNotFound = errors.New("not found")

var (
	bMeta       = []byte("meta")
	bCases      = []byte("cases")
	bEvents     = []byte("events")
	bMessages   = []byte("messages")
	bMsgIDs     = []byte("message_ids")
	bDigests    = []byte("digests")
	bCheckpoint = []byte("checkpoint")
	bQuarantine = []byte("quarantine")
	bOutbox     = []byte("outbox")
	bAutoReply  = []byte("auto_reply")
	bAlerts     = []byte("alerts")
	bPending    = []byte("outbox_pending") // seq → the entry's head (pendingHead; empty before issue 18): the entries still to send
	bFailed     = []byte("outbox_failed")  // seq → nothing: the entries given up on
	allBuckets  = [][]byte{bMeta, bCases, bEvents, bMessages, bMsgIDs, bDigests, bCheckpoint, bQuarantine, bOutbox, bAutoReply, bAlerts, bPending, bFailed, bFacts}
)

// Message is a registered mail.
type Message struct {
	Key         string    `json:"key"` // content digest
	MessageID   string    `json:"message_id"`
	Mailbox     string    `json:"mailbox"`
	UIDValidity uint32    `json:"uidvalidity"`
	UID         uint32    `json:"uid"`
	Case        string    `json:"case,omitempty"`
	From        string    `json:"from"`
	Subject     string    `json:"subject"`
	Date        time.Time `json:"date"`
	ReceivedAt  time.Time `json:"received_at"`
	Role        string    `json:"role"`    // complainant | staff | author | noise | security
	Outcome     string    `json:"outcome"` // what the desk did with it
	Text        string    `json:"text,omitempty"`
	Problems    []string  `json:"problems,omitempty"`
}

// Checkpoint is how far a mailbox has been processed. UIDs above LastUID are new;
// Retry holds UIDs at or below it that failed and are waiting for another attempt.
type Checkpoint struct {
	UIDValidity uint32            `json:"uidvalidity"`
	LastUID     uint32            `json:"last_uid"`
	Retry       map[uint32]int    `json:"retry,omitempty"`   // UID → failed attempts
	Started     map[uint32]int    `json:"started,omitempty"` // UID → attempts begun (crash-safe counting)
	Updated     time.Time         `json:"updated"`
	Extra       map[string]string `json:"extra,omitempty"`
	// AdoptThrough: the mail of this epoch up to this UID was in the mailbox when the
	// store first read it with imap.start: new, and is recorded without replies.
	AdoptThrough uint32 `json:"adopt_through,omitempty"`
}

// Quarantined records a mail that could not be processed.
type Quarantined struct {
	Mailbox     string    `json:"mailbox"`
	UIDValidity uint32    `json:"uidvalidity"`
	UID         uint32    `json:"uid"`
	MessageID   string    `json:"message_id,omitempty"`
	Reason      string    `json:"reason"`
	Attempts    int       `json:"attempts"`
	At          time.Time `json:"at"`
	Moved       bool      `json:"moved"` // moved to the quarantine folder (else flagged in place)
	// Fault is whose fault it was: FaultMail or FaultEnvironment; "" in records written
	// before faults were told apart.
	Fault string `json:"fault,omitempty"`
	// Where the mail sits in the quarantine folder once moved (that folder's
	// UIDVALIDITY and the mail's UID there); zero when the server did not say.
	Folder         string `json:"folder,omitempty"`
	FolderValidity uint32 `json:"folder_uidvalidity,omitempty"`
	FolderUID      uint32 `json:"folder_uid,omitempty"`
	// RetryRequested is when an operator asked for another attempt (zero: not asked).
	RetryRequested time.Time `json:"retry_requested,omitzero"`
}

// Whose fault a quarantined mail is.
const (
	FaultMail        = "mail"        // unreadable beyond limits, over budget, a recurring crash
	FaultEnvironment = "environment" // the store, the disk, a connection: retried once it clears
)

// Outbox entry states.
const (
	OutboxPending = "pending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
)

// OutboxEntry is one reply waiting for, or done with, SMTP hand-off.
type OutboxEntry struct {
	Seq       uint64          `json:"seq"`
	Case      string          `json:"case,omitempty"`
	Kind      string          `json:"kind"` // template kind
	Mail      json.RawMessage `json:"mail"` // outbox.Mail, rendered; its Message-ID is fixed
	MessageID string          `json:"message_id"`
	To        []string        `json:"to"`
	State     string          `json:"state"`
	Attempts  int             `json:"attempts"`
	NextAt    time.Time       `json:"next_at"`
	LastError string          `json:"last_error,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	SentAt    time.Time       `json:"sent_at"`
	// Erased: the case was erased before this reply was sent; Mail and To are gone.
	Erased bool `json:"-"`

	// sealed is the personal part as read (decodeOutbox), with copies of the Mail
	// and To it opened to: the entry rewritten with them unchanged (the dispatcher
	// records each attempt) keeps these bytes instead of sealing the mail anew.
	sealed     []byte
	sealedMail json.RawMessage
	sealedTo   []string
}

// Alert is something an operator must see (UIDVALIDITY change, broken templates...).
type Alert struct {
	ID      uint64    `json:"-"` // its key, filled on read; what `alerts ack ID` names
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
	// AckedAt is when an operator acknowledged it (`complaintd alerts ack`); an
	// acknowledged alert is kept for the record but no longer shown.
	AckedAt *time.Time `json:"acked_at,omitempty"`
}

// Store is the open database.
type Store struct {
	db     *bolt.DB
	mapped *mappedGauge // when to give back the file's mapped pages (release_linux.go)
	holder string       // the holder file this process wrote; "" for readers
	sealer Sealer       // seals personal information (seal.go); nil: in clear
	fault  func() error

	// stopWatch ends watchMapping, which closes watchDone; both nil without a gauge.
	stopWatch, watchDone chan struct{}
}

// FaultError is a failure of the store itself (bbolt, the disk under it: no space,
// an I/O error), not of the records a transaction asked for. It is the environment's
// fault, never the fault of the mail being registered.
type FaultError struct {
	Op  string // begin | commit | injected
	Err error
}

func (e *FaultError) Error() string { return "store " + e.Op + ": " + e.Err.Error() }
func (e *FaultError) Unwrap() error { return e.Err }

// SetFault makes every later Update fail with a *FaultError wrapping what fault
// returns, while it returns an error (tests, and the daemon's test hook, use it to
// play a full disk). Call it before the store is shared.
func (s *Store) SetFault(fault func() error) { s.fault = fault }

// initialMmapSize is the mapping bbolt makes of the file at the open. Growing the
// file past the mapping remaps it, which waits for every read transaction to end: an
// online backup streamed to a slow client stalled intake and the outbox for its whole
// length (found in review). Address space only: the pages are the file's.
const initialMmapSize = 1 << 30

// openMapped opens the file with the initialMmapSize mapping, or with bbolt's own,
// which grows with the file, where the address space is limited (ulimit -v, systemd's
// LimitAS=): the large mapping failed there with ENOMEM, under limits of 2 GB, and the
// desk that ran before could not start (found in review).
func openMapped(path string, lockTimeout time.Duration) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, InitialMmapSize: initialMmapSize})
	if errors.Is(err, syscall.ENOMEM) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	}
	return db, err
}

// Open opens or creates the database file (0600; its directory 0700). One desk, one
// store: when another live process holds the file (its pid is in the holder file next
// to it), Open fails at once with *InUseError; otherwise it waits at most lockTimeout
// for the lock (a holder that is just exiting).
func Open(path string, lockTimeout time.Duration) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create store dir: %w", err)
	}
	db, err := openMapped(path, min(lockTimeout, 200*time.Millisecond))
	if errors.Is(err, boltErrors.ErrTimeout) {
		if h, ok := liveHolder(path); ok {
			return nil, &InUseError{Path: path, Holder: h}
		}
		db, err = openMapped(path, lockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		// The buckets added since (bReplyTimes) are made too, but a read-only open
		// does not require them: a file an older version wrote is still read.
		for _, b := range slices.Concat(allBuckets, [][]byte{bReplyTimes}) {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("init store: %w", err)
	}
	// Best effort: the holder file only makes the refusal of a second instance clear.
	os.WriteFile(holderPath(path), []byte(fmt.Sprintf("%d %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339))), 0o600)
	return newStore(db, holderPath(path)), nil
}

// Holder is the process that holds a store.
type Holder struct {
	PID   int
	Since string // RFC 3339, when it opened the store
}

// InUseError is a store another live process holds.
type InUseError struct {
	Path   string
	Holder Holder
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("store %s is in use by process %d (since %s): one desk, one store", e.Path, e.Holder.PID, e.Holder.Since)
}

func holderPath(path string) string { return path + ".pid" }

// liveHolder reads the holder file and reports whether its process is alive.
func liveHolder(path string) (Holder, bool) {
	b, err := os.ReadFile(holderPath(path))
	if err != nil {
		return Holder{}, false
	}
	var h Holder
	if _, err := fmt.Sscanf(string(b), "%d %s", &h.PID, &h.Since); err != nil || h.PID <= 0 {
		return Holder{}, false
	}
	return h, processAlive(h.PID)
}

// ErrNotInitialised is a store file without its buckets: what a daemon killed during
// its very first start leaves. Starting the daemon once initialises it.
var ErrNotInitialised = errors.New("store not initialised (the daemon never completed its first start; start it once)")

// OpenReadOnly opens the file for reading only (the CLI when no daemon runs). A file
// without its buckets is refused with ErrNotInitialised, never read into a panic.
func OpenReadOnly(path string, lockTimeout time.Duration) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if tx.Bucket(b) == nil {
				return ErrNotInitialised
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return newStore(db, ""), nil
}

func newStore(db *bolt.DB, holder string) *Store {
	s := &Store{db: db, holder: holder, mapped: newMappedGauge()}
	s.startWatching()
	return s
}

func (s *Store) startWatching() {
	if s.mapped != nil && s.stopWatch == nil {
		s.stopWatch, s.watchDone = make(chan struct{}), make(chan struct{})
		go s.watchMapping()
	}
}

// watchEvery is how often watchMapping measures the mapping.
const watchEvery = 25 * time.Millisecond

// watchMapping gives back the file's mapped pages whenever they have grown by
// releaseGrowth, whichever transaction mapped them. The checks at the end of each
// transaction and within long reads come too late for a long write: bbolt reads the
// values of every leaf it rewrites when it commits, and while a group commit of 64
// mails or the record of a batch of sent replies ran, the process mapped up to 20 MiB
// (10,000-mail backlog, issue 18; measured process-wide, so concurrent reads count
// too). A read transaction may release while a write
// transaction runs: only the writer remaps the file, and not without the mapping
// lock every reader holds. The wait is a real-time sampling period, not a business
// time, so it takes no clock.
func (s *Store) watchMapping() {
	defer close(s.watchDone)
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	for {
		select {
		case <-s.stopWatch:
			return
		case <-tick.C:
			if s.mapped.grown() {
				s.db.View(func(tx *bolt.Tx) error { s.mapped.release(s.db, tx); return nil })
			}
		}
	}
}

func (s *Store) stopWatching() {
	if s.stopWatch != nil {
		close(s.stopWatch)
		<-s.watchDone
		s.stopWatch = nil
	}
}

// Close closes the file (and removes the holder file this process wrote).
func (s *Store) Close() error {
	if s.holder != "" {
		os.Remove(s.holder)
	}
	s.stopWatching()
	s.mapped.close()
	return s.db.Close()
}

// Tx is one read or read-write transaction.
type Tx struct {
	tx     *bolt.Tx
	sealer Sealer
	mapped *mappedGauge
	// unchecked counts the records and bytes read since the mapping was last
	// measured (see read).
	uncheckedRecords, uncheckedBytes int
}

// releaseGrowth is how far the file's pages mapped by this process may grow before
// they are given back. Every page a transaction reads stays mapped, and counted in
// the daemon's RSS, until the kernel needs the memory; and a page read maps its
// cached neighbours with it (the kernel's fault-around: 64 KiB for one 4 KiB page),
// so the B-tree descents of a backlog, on pages that copy-on-write moves at every
// commit, map several MiB a second. Given back once a second, the mapping still
// reached 17 MiB at 2,000 mails and 51 MiB at 10,000 (issue 18); given back after
// every transaction, the CPU per mail went from 7.3 to 10.2 ms in page faults and
// madvise (one run). Measured instead (after each transaction, within long reads,
// and by watchMapping), it is released when it has grown this much: 7-10 MiB at
// the peak at 2,000 mails, 15-21 MiB at 10,000, for 0.9% and 1.8% of the CPU
// profile. The rest of the peak is bursts faster than any watch: a commit maps
// several MiB in a millisecond.
const releaseGrowth = 4 << 20

// read notes that a record of len(v) bytes was read from the file's mapping. A
// long read transaction (the deadlines job reads every open case whole, the reports
// every case, the metrics every case's facts) would otherwise keep every page it
// walked mapped until it ends: 84 MiB for 3,000 cases of 28 KB
// (TestLongReadKeepsTheMappingSmall). So it measures the mapping every few records.
// Only a read transaction releases: it holds bbolt's mapping lock, so the mapping
// cannot move under the madvise, and the values already handed out stay valid (a
// released page faults back in from the page cache, unchanged).
func (t *Tx) read(v []byte) {
	if t.tx.Writable() {
		return
	}
	t.uncheckedRecords++
	if t.uncheckedBytes += len(v); t.uncheckedRecords < 64 && t.uncheckedBytes < 1<<20 {
		return
	}
	t.uncheckedRecords, t.uncheckedBytes = 0, 0
	if t.mapped.grown() {
		t.mapped.release(t.tx.DB(), t.tx)
	}
}

// Update runs fn in one read-write transaction: all of it is committed, or nothing.
// An error of bbolt itself (it could not begin or commit: the disk is full or failing)
// is a *FaultError; fn's own error is returned as it is.
func (s *Store) Update(fn func(*Tx) error) error {
	if s.fault != nil {
		if err := s.fault(); err != nil {
			return &FaultError{Op: "injected", Err: err}
		}
	}
	var fnErr error
	err := s.db.Update(func(tx *bolt.Tx) error {
		fnErr = fn(&Tx{tx: tx, sealer: s.sealer, mapped: s.mapped})
		return fnErr
	})
	if err != nil && fnErr == nil { // bbolt returns fn's error as it is; any other is its own
		return &FaultError{Op: "commit", Err: err}
	}
	if err == nil && s.mapped.grown() {
		// The release needs a read transaction (see read); a write transaction has
		// none of bbolt's mapping lock.
		s.db.View(func(tx *bolt.Tx) error { s.mapped.release(s.db, tx); return nil })
	}
	return err
}

// View runs fn in a read-only transaction; it never blocks writers.
func (s *Store) View(fn func(*Tx) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		err := fn(&Tx{tx: tx, sealer: s.sealer, mapped: s.mapped})
		if s.mapped.grown() {
			s.mapped.release(s.db, tx)
		}
		return err
	})
}

func (t *Tx) get(bucket []byte, key string, v any) error {
	b := t.tx.Bucket(bucket).Get([]byte(key))
	if b == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s/%s: %w", bucket, key, err)
	}
	return nil
}

func (t *Tx) put(bucket []byte, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", bucket, key, err)
	}
	return t.tx.Bucket(bucket).Put([]byte(key), b)
}

// NextCaseID allocates the next case number `<PREFIX>-<YYYY>-<6 digits>` for year.
// The counter is per prefix and year and lives in this transaction: a rollback returns
// the number.
func (t *Tx) NextCaseID(prefix string, year int) (string, error) {
	key := []byte(fmt.Sprintf("case_seq/%s/%d", prefix, year))
	meta := t.tx.Bucket(bMeta)
	var n uint64
	if v := meta.Get(key); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	if n > 999999 {
		return "", fmt.Errorf("case numbers for %s-%d exhausted", prefix, year)
	}
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], n)
	if err := meta.Put(key, v[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%d-%06d", prefix, year, n), nil
}

// Case reads a case with its events and related cases.
func (t *Tx) Case(id string) (*cases.Case, error) { return t.readCase(id, true) }

// CaseWithoutRelated reads a case with its events, leaving Related empty: for the
// jobs that walk every open case and never show the related ones. Related costs a
// read of every case about the same article, so a walk over a wave of N complaints
// about one article costs N² (2,000 such cases: 0.54 s per walk with it, 0.03 s without;
// BenchmarkOpenCasesOfAWave).
func (t *Tx) CaseWithoutRelated(id string) (*cases.Case, error) { return t.readCase(id, false) }

func (t *Tx) readCase(id string, related bool) (*cases.Case, error) {
	v := t.tx.Bucket(bCases).Get([]byte(id))
	if v == nil {
		return nil, ErrNotFound
	}
	c, err := t.decodeCase(v)
	if err != nil {
		return nil, fmt.Errorf("decode case %s: %w", id, err)
	}
	if related {
		for _, e := range t.IndexedCases("link", c.LinkKey) {
			if e.Case != c.ID {
				c.Related = append(c.Related, e.Case)
			}
		}
	}
	evs, err := t.Events(id)
	if err != nil {
		return nil, err
	}
	c.Events = evs
	return c, nil
}

// PutCase writes a case (its Events field is not stored; use AppendEvent).
func (t *Tx) PutCase(c *cases.Case) error {
	v, err := t.encodeCase(c)
	if err != nil {
		return fmt.Errorf("encode case %s: %w", c.ID, err)
	}
	if err := t.tx.Bucket(bCases).Put([]byte(c.ID), v); err != nil {
		return err
	}
	return t.caseFacts(c)
}

// AppendEvent adds an event to the case's log; its actor and note are sealed with
// the case's key.
func (t *Tx) AppendEvent(caseID string, e cases.Event) error { return t.appendEvent(caseID, e, true) }

// AppendEventClear adds an event whose actor and note stay in clear: the record of an
// erasure, which must outlive the key it destroyed. They must hold nothing personal.
func (t *Tx) AppendEventClear(caseID string, e cases.Event) error {
	return t.appendEvent(caseID, e, false)
}

func (t *Tx) appendEvent(caseID string, e cases.Event, seal bool) error {
	b, err := t.tx.Bucket(bEvents).CreateBucketIfNotExists([]byte(caseID))
	if err != nil {
		return fmt.Errorf("event log %s: %w", caseID, err)
	}
	seq, _ := b.NextSequence()
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	se := storedEvent{Event: e}
	if seal && t.sealer != nil && (e.Actor != "" || e.Note != "") {
		if se.Sealed, err = t.seal(caseID, eventPersonal{Actor: e.Actor, Note: e.Note}); err != nil {
			return err
		}
		se.Actor, se.Note = "", ""
	}
	v, err := json.Marshal(se)
	if err != nil {
		return err
	}
	if err := b.Put(k[:], v); err != nil {
		return err
	}
	return t.eventFacts(caseID, e)
}

// Events reads a case's log in order.
func (t *Tx) Events(caseID string) ([]cases.Event, error) { return t.events(caseID, true) }

// events reads a case's log; without personal, the sealed actors and notes stay
// unread (empty), but for the kind of mail of a reply_sent event.
func (t *Tx) events(caseID string, personal bool) ([]cases.Event, error) {
	b := t.tx.Bucket(bEvents).Bucket([]byte(caseID))
	if b == nil {
		return nil, nil
	}
	var out []cases.Event
	err := b.ForEach(func(_, v []byte) error {
		t.read(v)
		var se storedEvent
		if err := json.Unmarshal(v, &se); err != nil {
			return err
		}
		switch {
		case se.Sealed != nil && personal:
			var p eventPersonal
			if _, err := t.open(caseID, se.Sealed, &p); err != nil {
				return err
			}
			se.Actor, se.Note = p.Actor, p.Note
		case se.Sealed != nil && se.Type == cases.EventReplySent && t.sealer != nil:
			// Written sealed before the dispatcher wrote it in clear: its note is the
			// kind of mail sent ("staff_notification"), which the facts need to tell an
			// acknowledgement from a mail to staff (cases.AcknowledgesComplainant). An
			// erased case's key is gone (the note stays empty); a record that cannot be
			// opened is read as before, without it: the facts must not stop at it.
			var p eventPersonal
			if erased, err := t.open(caseID, se.Sealed, &p); err == nil && !erased {
				se.Note = p.Note
			}
		}
		out = append(out, se.Event)
		return nil
	})
	return out, err
}

// EachCase calls fn for every case in case-number order, without events unless
// withEvents. Returning a non-nil error stops the walk.
func (t *Tx) EachCase(withEvents bool, fn func(*cases.Case) error) error {
	return t.tx.Bucket(bCases).ForEach(func(k, v []byte) error {
		c, err := t.decodeCase(v)
		if err != nil {
			return fmt.Errorf("decode case %s: %w", k, err)
		}
		if withEvents {
			evs, err := t.Events(c.ID)
			if err != nil {
				return err
			}
			c.Events = evs
		}
		return fn(c)
	})
}

// EachReadableCase is EachCase for walks that one damaged case must not stop (the
// digest, the weekly report): a case that cannot be read goes to unreadable, and the
// walk goes on.
func (t *Tx) EachReadableCase(withEvents bool, fn func(*cases.Case) error, unreadable func(id string, err error)) error {
	return t.tx.Bucket(bCases).ForEach(func(k, v []byte) error {
		c, err := t.decodeCase(v)
		if err == nil && withEvents {
			c.Events, err = t.Events(c.ID)
		}
		if err != nil {
			unreadable(string(k), err)
			return nil
		}
		return fn(c)
	})
}

// CaseByMessageID finds the case a Message-ID (inbound or one of our replies) belongs to.
func (t *Tx) CaseByMessageID(msgID string) (string, bool) {
	if msgID == "" {
		return "", false
	}
	for _, k := range t.lookups(normID(msgID)) {
		if v := t.tx.Bucket(bMsgIDs).Get([]byte(k)); v != nil {
			return string(v), true
		}
	}
	return "", false
}

// LinkMessageID records that msgID belongs to caseID ("" marks a known message that
// belongs to no case, e.g. noise, so a second delivery is still recognised).
func (t *Tx) LinkMessageID(msgID, caseID string) error {
	if msgID == "" {
		return nil
	}
	return t.tx.Bucket(bMsgIDs).Put([]byte(t.lookup(normID(msgID))), []byte(caseID))
}

// pendingLink is a follow-up's claim on a mail not yet registered: the case the
// follow-up is in, and (keyed hash of) its sender, who alone may join the mail to it.
type pendingLink struct {
	Case string    `json:"case"`
	From string    `json:"from"`
	At   time.Time `json:"at"`
}

// PutPendingLink records that the case caseID, opened by a follow-up from from, answers
// ref (a Message-ID, or "tag:" and a case number) not yet registered. The first claim
// on ref stays.
func (t *Tx) PutPendingLink(ref, caseID, from string, at time.Time) error {
	if ref == "" {
		return nil
	}
	k := []byte("pending/" + t.lookup(normID(ref)))
	if t.tx.Bucket(bMsgIDs).Get(k) != nil {
		return nil
	}
	v, err := json.Marshal(pendingLink{Case: caseID, From: t.lookup(strings.ToLower(from)), At: at})
	if err != nil {
		return err
	}
	return t.tx.Bucket(bMsgIDs).Put(k, v)
}

// TakePendingLink returns the case that claimed ref (PutPendingLink) when from is the
// sender who claimed it, and forgets the claim. ok is false when there is none, or
// another sender made it (left in place).
func (t *Tx) TakePendingLink(ref, from string) (caseID string, ok bool, err error) {
	if ref == "" {
		return "", false, nil
	}
	k := []byte("pending/" + t.lookup(normID(ref)))
	v := t.tx.Bucket(bMsgIDs).Get(k)
	if v == nil {
		return "", false, nil
	}
	var l pendingLink
	if err := json.Unmarshal(v, &l); err != nil {
		return "", false, fmt.Errorf("decode pending link: %w", err)
	}
	if l.From != t.lookup(strings.ToLower(from)) {
		return "", false, nil
	}
	return l.Case, true, t.tx.Bucket(bMsgIDs).Delete(k)
}

// KnownMessageID reports whether a mail with this Message-ID was registered.
func (t *Tx) KnownMessageID(msgID string) bool {
	if msgID == "" {
		return false
	}
	for _, k := range t.lookups(normID(msgID)) {
		if t.tx.Bucket(bMsgIDs).Get([]byte("in/"+k)) != nil {
			return true
		}
	}
	return false
}

// KnownDigest reports whether a mail with this content digest was registered.
func (t *Tx) KnownDigest(digest string) bool {
	return t.tx.Bucket(bDigests).Get([]byte(digest)) != nil
}

// PutMessage registers a processed mail under both idempotency keys.
func (t *Tx) PutMessage(m *Message) error {
	v, err := t.encodeMessage(m)
	if err != nil {
		return err
	}
	if err := t.tx.Bucket(bMessages).Put([]byte(m.Key), v); err != nil {
		return err
	}
	if err := t.tx.Bucket(bDigests).Put([]byte(m.Key), []byte(m.Case)); err != nil {
		return err
	}
	if m.MessageID != "" {
		if err := t.tx.Bucket(bMsgIDs).Put([]byte("in/"+t.lookup(normID(m.MessageID))), []byte(m.Key)); err != nil {
			return err
		}
	}
	return nil
}

// Message reads a registered mail by its digest key.
func (t *Tx) Message(key string) (*Message, error) {
	v := t.tx.Bucket(bMessages).Get([]byte(key))
	if v == nil {
		return nil, ErrNotFound
	}
	return t.decodeMessage(v)
}

// EachMessage walks registered mails.
func (t *Tx) EachMessage(fn func(*Message) error) error {
	return t.tx.Bucket(bMessages).ForEach(func(_, v []byte) error {
		m, err := t.decodeMessage(v)
		if err != nil {
			return err
		}
		return fn(m)
	})
}

// EachMessageOf walks the registered mails of one case. The digests bucket holds
// each mail's case number beside its key (PutMessage), so only the case's own
// records are read and opened: an erasure lists its mails in its write transaction,
// and decoding every mail of the store there took over a second with 100,000 mails
// (found in review).
func (t *Tx) EachMessageOf(caseID string, fn func(*Message) error) error {
	msgs := t.tx.Bucket(bMessages)
	return t.tx.Bucket(bDigests).ForEach(func(k, c []byte) error {
		if string(c) != caseID {
			return nil
		}
		v := msgs.Get(k)
		if v == nil {
			return nil
		}
		m, err := t.decodeMessage(v)
		if err != nil {
			return err
		}
		return fn(m)
	})
}

// ForgetSenders removes from the mails of a case the keyed hash of their sender that
// versions before 2026-12 kept in clear beside the case number (newer records keep
// the sender sealed only). Erasure calls it: the hash would still tie the
// complainant's address to the erased case for whoever holds the master key and a
// guess. The records are edited as JSON, not decoded and encoded again: encoding a
// mail of a case seals it, which would give an erased case new keys.
func (t *Tx) ForgetSenders(caseID string) error {
	msgs := t.tx.Bucket(bMessages)
	var keys [][]byte
	err := t.tx.Bucket(bDigests).ForEach(func(k, c []byte) error {
		if string(c) == caseID {
			keys = append(keys, slices.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		v := msgs.Get(k)
		if v == nil {
			continue
		}
		var rec map[string]json.RawMessage
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode message: %w", err)
		}
		if from, ok := rec["from"]; !ok || string(from) == `""` {
			continue
		}
		rec["from"] = json.RawMessage(`""`)
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if err := msgs.Put(k, b); err != nil {
			return err
		}
	}
	return nil
}

func normID(id string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(id), "<>"))
}

// Checkpoint reads a mailbox's checkpoint (zero value when none).
func (t *Tx) Checkpoint(mailbox string) (Checkpoint, error) {
	var c Checkpoint
	err := t.get(bCheckpoint, mailbox, &c)
	if errors.Is(err, ErrNotFound) {
		return Checkpoint{}, nil
	}
	return c, err
}

// PutCheckpoint writes a mailbox's checkpoint.
func (t *Tx) PutCheckpoint(mailbox string, c Checkpoint) error {
	return t.put(bCheckpoint, mailbox, c)
}

// PutQuarantined records a quarantined mail.
func (t *Tx) PutQuarantined(q Quarantined) error {
	return t.put(bQuarantine, quarantineKey(q.Mailbox, q.UIDValidity, q.UID), q)
}

// QuarantineRecord reads the quarantine record of one mail (ErrNotFound when none).
func (t *Tx) QuarantineRecord(mailbox string, uidValidity, uid uint32) (Quarantined, error) {
	var q Quarantined
	err := t.get(bQuarantine, quarantineKey(mailbox, uidValidity, uid), &q)
	return q, err
}

func quarantineKey(mailbox string, uidValidity, uid uint32) string {
	return fmt.Sprintf("%s/%d/%010d", mailbox, uidValidity, uid)
}

// DeleteQuarantined forgets the quarantine record of one mail (released for another
// attempt). A missing record is no error.
func (t *Tx) DeleteQuarantined(mailbox string, uidValidity, uid uint32) error {
	return t.tx.Bucket(bQuarantine).Delete([]byte(quarantineKey(mailbox, uidValidity, uid)))
}

// Quarantined lists quarantine records.
func (t *Tx) Quarantined() ([]Quarantined, error) {
	var out []Quarantined
	err := t.tx.Bucket(bQuarantine).ForEach(func(_, v []byte) error {
		var q Quarantined
		if err := json.Unmarshal(v, &q); err != nil {
			return err
		}
		out = append(out, q)
		return nil
	})
	return out, err
}

// Enqueue adds a reply to the outbox and links its Message-ID to the case, so that a
// reply to our reply finds the case.
func (t *Tx) Enqueue(e *OutboxEntry) error {
	b := t.tx.Bucket(bOutbox)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	e.Seq = seq
	if e.State == "" {
		e.State = OutboxPending
	}
	if e.Case != "" {
		if err := t.LinkMessageID(e.MessageID, e.Case); err != nil {
			return err
		}
	}
	return t.putOutbox(e)
}

func (t *Tx) putOutbox(e *OutboxEntry) error {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], e.Seq)
	v, err := t.encodeOutbox(e)
	if err != nil {
		return err
	}
	if err := t.tx.Bucket(bOutbox).Put(k[:], v); err != nil {
		return err
	}
	if e.State == OutboxFailed {
		if err := t.tx.Bucket(bFailed).Put(k[:], nil); err != nil {
			return err
		}
	}
	if e.State == OutboxPending {
		head, err := pendingHead(e)
		if err != nil {
			return err
		}
		return t.tx.Bucket(bPending).Put(k[:], head)
	}
	return t.tx.Bucket(bPending).Delete(k[:])
}

// pendingHead is what the pending index holds for an entry: its clear fields, as
// outboxHead reads them from the entry itself. The planner and OutboxStats read the
// index alone, so a pass over a long outbox maps a few small pages instead of one
// page of every pending entry's rendered mail (at 10,000 pending replies that was
// over 100 MiB of the daemon's RSS, and a JSON scan per entry; issue 18).
func pendingHead(e *OutboxEntry) ([]byte, error) {
	head := *e
	head.Mail = nil
	if head.Case != "" {
		head.To = nil // sealed with the case's key in the entry
	}
	b, err := json.Marshal(&head)
	if err != nil {
		return nil, fmt.Errorf("encode outbox head: %w", err)
	}
	return b, nil
}

// pendingEntryHead reads the head of the pending entry k from the index value v, or
// from the entry itself when v is empty (written before the index held heads).
func (t *Tx) pendingEntryHead(k, v []byte) (*OutboxEntry, error) {
	if len(v) > 0 {
		var e OutboxEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, fmt.Errorf("decode outbox head: %w", err)
		}
		e.Mail = nil // "null" in the head
		return &e, nil
	}
	ev := t.tx.Bucket(bOutbox).Get(k)
	if ev == nil {
		return nil, ErrNotFound
	}
	return outboxHead(ev)
}

// EachPending walks the entries still to send, in order, without touching the
// (growing) history of sent ones.
func (t *Tx) EachPending(fn func(*OutboxEntry) error) error {
	return t.tx.Bucket(bPending).ForEach(func(k, _ []byte) error {
		e, err := t.OutboxEntry(binary.BigEndian.Uint64(k))
		if err != nil {
			return err
		}
		return fn(e)
	})
}

// EachPendingHead walks the entries still to send like EachPending, reading only
// their clear fields and never unsealing: Mail is nil, and so is To for a case's
// reply. A planner that only needs when and for whom each reply is due reads a few
// hundred bytes per entry instead of decrypting and decoding every rendered mail
// (and mapping all their pages) on each pass (issue 18).
func (t *Tx) EachPendingHead(fn func(*OutboxEntry) error) error {
	return t.tx.Bucket(bPending).ForEach(func(k, v []byte) error {
		e, err := t.pendingEntryHead(k, v)
		if err != nil {
			return err
		}
		return fn(e)
	})
}

// outboxHead decodes a stored outbox entry up to its sealed part, which comes last
// (storedOutbox) and is never read.
func outboxHead(v []byte) (*OutboxEntry, error) {
	dec := json.NewDecoder(bytes.NewReader(v))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("decode outbox entry: not an object (%v)", err)
	}
	clear := []byte{'{'}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("decode outbox entry: %w", err)
		}
		key, _ := tok.(string)
		if key == "sealed" {
			break
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("decode outbox entry: %w", err)
		}
		if key == "mail" {
			continue // the rendered mail: not wanted here, even in clear
		}
		if len(clear) > 1 {
			clear = append(clear, ',')
		}
		name, _ := json.Marshal(key)
		clear = append(append(append(clear, name...), ':'), raw...)
	}
	clear = append(clear, '}')
	var e OutboxEntry
	if err := json.Unmarshal(clear, &e); err != nil {
		return nil, fmt.Errorf("decode outbox entry: %w", err)
	}
	if e.Case != "" {
		e.To = nil // sealed when the store seals; the same for every caller
	}
	return &e, nil
}

// PendingCount is the outbox depth.
func (t *Tx) PendingCount() int { return t.tx.Bucket(bPending).Stats().KeyN }

// PutOutbox rewrites an entry (after an attempt).
func (t *Tx) PutOutbox(e *OutboxEntry) error { return t.putOutbox(e) }

// OutboxEntry reads one entry.
func (t *Tx) OutboxEntry(seq uint64) (*OutboxEntry, error) {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	v := t.tx.Bucket(bOutbox).Get(k[:])
	if v == nil {
		return nil, ErrNotFound
	}
	return t.decodeOutbox(v)
}

// EachOutbox walks the outbox in order.
func (t *Tx) EachOutbox(fn func(*OutboxEntry) error) error {
	return t.tx.Bucket(bOutbox).ForEach(func(_, v []byte) error {
		e, err := t.decodeOutbox(v)
		if err != nil {
			return err
		}
		return fn(e)
	})
}

// OutboxStats counts pending and failed entries and finds the oldest pending one. It
// reads only the two small indexes, never the growing history of sent mail (it runs
// on every /healthz and /metrics scrape), and of each pending entry only its
// created_at: decoding and unsealing the whole rendered mail of every pending reply
// took a quarter of the daemon's CPU during a backlog (issue 18).
func (t *Tx) OutboxStats() (byState map[string]int, oldestPending time.Time, err error) {
	byState = map[string]int{}
	out := t.tx.Bucket(bOutbox)
	err = t.tx.Bucket(bPending).ForEach(func(k, head []byte) error {
		v := head
		if len(v) == 0 {
			if v = out.Get(k); v == nil {
				return ErrNotFound
			}
		}
		created, err := outboxCreatedAt(v)
		if err != nil {
			return err
		}
		byState[OutboxPending]++
		if oldestPending.IsZero() || created.Before(oldestPending) {
			oldestPending = created
		}
		return nil
	})
	if b := t.tx.Bucket(bFailed); b != nil {
		byState[OutboxFailed] = b.Stats().KeyN
	}
	return
}

// outboxCreatedAt reads the created_at of a stored outbox entry, stopping there: the
// clear fields come first (storedOutbox), the sealed mail after them is never read.
func outboxCreatedAt(v []byte) (time.Time, error) {
	var at time.Time
	dec := json.NewDecoder(bytes.NewReader(v))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return at, fmt.Errorf("decode outbox entry: not an object (%v)", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return at, fmt.Errorf("decode outbox entry: %w", err)
		}
		if tok == "created_at" {
			if err := dec.Decode(&at); err != nil {
				return at, fmt.Errorf("decode outbox entry: %w", err)
			}
			return at, nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return at, fmt.Errorf("decode outbox entry: %w", err)
		}
	}
	return at, nil
}

// AddAlert records an operator alert.
func (t *Tx) AddAlert(a Alert) error {
	b := t.tx.Bucket(bAlerts)
	seq, _ := b.NextSequence()
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	v, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return b.Put(k[:], v)
}

// Alerts lists operator alerts, oldest first.
func (t *Tx) Alerts() ([]Alert, error) {
	var out []Alert
	err := t.tx.Bucket(bAlerts).ForEach(func(_, v []byte) error {
		var a Alert
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	return out, err
}
