// SPDX-License-Identifier: MIT

package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/complaintd/complaintd/internal/cases"
)

// Sealer keeps personal information out of the file in clear (PIPL; package vault
// implements it). What a case holds about people — its cases.Personal, the actor and
// note of its events, the texts and addresses of its mails, the replies waiting to be
// sent — is sealed with the case's own key, so destroying that key erases all of it,
// in this file, in its free pages and in every backup. Values the store finds records
// by (addresses, ID numbers, Message-IDs) are kept as keyed hashes.
type Sealer interface {
	// SealRecord seals plain with the case's key, creating the key if the case has
	// none (the caller makes it durable before the commit, as for attachments).
	SealRecord(caseID string, plain []byte) ([]byte, error)
	// OpenRecord opens a sealed record; erased reports that its key was destroyed.
	OpenRecord(caseID string, sealed []byte) (plain []byte, erased bool, err error)
	// LookupHash is a keyed one-way hash of a look-up value.
	LookupHash(value string) string
}

// SetSealer makes the store seal personal information from now on (the daemon and the
// CLI set it right after Open). Without one, records are written in clear: tests of
// the rules that do not care.
func (s *Store) SetSealer(x Sealer) { s.sealer = x }

// storedEvent is an event as kept: who and what was said, sealed.
type storedEvent struct {
	cases.Event
	Sealed []byte `json:"sealed,omitempty"`
}

type eventPersonal struct {
	Actor string `json:"actor,omitempty"`
	Note  string `json:"note,omitempty"`
}

// seal seals v as JSON for caseID; nil when there is no sealer.
func (t *Tx) seal(caseID string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	sealed, err := t.sealer.SealRecord(caseID, b)
	if err != nil {
		return nil, fmt.Errorf("seal personal data of %s: %w", caseID, err)
	}
	return sealed, nil
}

// open opens what seal sealed into v; erased reports a destroyed key (v untouched).
func (t *Tx) open(caseID string, sealed []byte, v any) (erased bool, err error) {
	if t.sealer == nil {
		return false, fmt.Errorf("case %s: personal data is sealed and no key was given (store.master_key)", caseID)
	}
	plain, erased, err := t.sealer.OpenRecord(caseID, sealed)
	if err != nil || erased {
		return erased, err
	}
	return false, json.Unmarshal(plain, v)
}

// encodeCase is the record of a case: personal information sealed apart.
func (t *Tx) encodeCase(c *cases.Case) ([]byte, error) {
	cp := *c
	cp.Events, cp.Related = nil, nil
	sc := storedCase{}
	if t.sealer != nil {
		// An erased case holds nothing personal: sealing nothing would only give it
		// a new key.
		if p := cp.SplitPersonal(); !p.Empty() {
			var err error
			if sc.Sealed, err = t.seal(c.ID, p); err != nil {
				return nil, err
			}
		}
	}
	sc.Case = cp
	return json.Marshal(sc)
}

// lookup is the key the store files a look-up value under.
func (t *Tx) lookup(v string) string {
	if t.sealer == nil || v == "" {
		return v
	}
	return "h:" + t.sealer.LookupHash(v)
}

// lookups are the keys to try for v: its hash, then the value itself as versions
// before the sealing filed it.
func (t *Tx) lookups(v string) []string {
	if t.sealer == nil || v == "" {
		return []string{v}
	}
	return []string{t.lookup(v), v}
}

// storedMessage is a registered mail as kept: for a mail of a case, its sender,
// subject, text and Message-ID are sealed with the case's key; a mail of no case
// (noise, staff, refused) keeps only keyed hashes of its sender and Message-ID.
type storedMessage struct {
	Message
	Sealed []byte `json:"sealed,omitempty"`
}

type messagePersonal struct {
	MessageID string   `json:"message_id,omitempty"`
	From      string   `json:"from,omitempty"`
	Subject   string   `json:"subject,omitempty"`
	Text      string   `json:"text,omitempty"`
	Outcome   string   `json:"outcome,omitempty"`
	Problems  []string `json:"problems,omitempty"`
}

func (t *Tx) encodeMessage(m *Message) ([]byte, error) {
	sm := storedMessage{Message: *m}
	if t.sealer != nil {
		if m.Case != "" {
			var err error
			sm.Sealed, err = t.seal(m.Case, messagePersonal{MessageID: m.MessageID, From: m.From, Subject: m.Subject,
				Text: m.Text, Outcome: m.Outcome, Problems: m.Problems})
			if err != nil {
				return nil, err
			}
			sm.Outcome, sm.Problems = "", nil
		}
		sm.MessageID, sm.From, sm.Subject, sm.Text = t.lookup(normID(m.MessageID)), t.lookup(strings.ToLower(m.From)), "", ""
		if m.Case != "" {
			// The sender is in the sealed part; a keyed hash of it beside the case
			// number, in clear, would tie the address to the case after its erasure
			// (found in review). Nothing reads it: a mail of no case keeps its own.
			sm.From = ""
		}
	}
	return json.Marshal(sm)
}

func (t *Tx) decodeMessage(v []byte) (*Message, error) {
	t.read(v)
	var sm storedMessage
	if err := json.Unmarshal(v, &sm); err != nil {
		return nil, fmt.Errorf("decode message: %w", err)
	}
	if sm.Sealed != nil {
		var p messagePersonal
		erased, err := t.open(sm.Case, sm.Sealed, &p)
		if err != nil {
			return nil, err
		}
		if !erased {
			sm.MessageID, sm.From, sm.Subject, sm.Text, sm.Outcome, sm.Problems = p.MessageID, p.From, p.Subject, p.Text, p.Outcome, p.Problems
		}
	}
	return &sm.Message, nil
}

// storedOutbox is a reply as kept: the rendered mail and its recipients sealed with
// the case's key until it is sent (and after, for the record); alerts to the admins,
// which belong to no case, carry no personal information and stay in clear.
type storedOutbox struct {
	OutboxEntry
	Sealed []byte `json:"sealed,omitempty"`
}

type outboxPersonal struct {
	Mail json.RawMessage `json:"mail,omitempty"`
	To   []string        `json:"to,omitempty"`
}

// ErrErasedReply is returned for a reply whose case was erased before it was sent:
// it can never be sent.
var ErrErasedReply = errors.New("the case was erased: the reply can no longer be read")

func (t *Tx) encodeOutbox(e *OutboxEntry) ([]byte, error) {
	so := storedOutbox{OutboxEntry: *e}
	if t.sealer != nil && e.Case != "" && (e.Mail != nil || e.To != nil) {
		if e.sealed != nil && bytes.Equal(e.Mail, e.sealedMail) && slices.Equal(e.To, e.sealedTo) {
			// The same ciphertext again: sealing the rendered mail anew took most
			// of the dispatcher's record of a sent reply (issue 18). Should the case
			// have been erased since it was read, these bytes stay unreadable.
			so.Sealed = e.sealed
		} else {
			var err error
			if so.Sealed, err = t.seal(e.Case, outboxPersonal{Mail: e.Mail, To: e.To}); err != nil {
				return nil, err
			}
		}
		so.Mail, so.To = nil, nil
	}
	return json.Marshal(so)
}

func (t *Tx) decodeOutbox(v []byte) (*OutboxEntry, error) {
	t.read(v)
	var so storedOutbox
	if err := json.Unmarshal(v, &so); err != nil {
		return nil, fmt.Errorf("decode outbox entry: %w", err)
	}
	if so.Sealed != nil {
		so.Mail, so.To = nil, nil // "null" in the clear part
		var p outboxPersonal
		erased, err := t.open(so.Case, so.Sealed, &p)
		if err != nil {
			return nil, err
		}
		if erased {
			so.Erased = true
		} else {
			so.Mail, so.To = p.Mail, p.To
			so.sealed, so.sealedMail, so.sealedTo = so.Sealed, bytes.Clone(p.Mail), slices.Clone(p.To)
		}
	}
	return &so.OutboxEntry, nil
}
