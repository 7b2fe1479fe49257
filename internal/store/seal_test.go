// SPDX-License-Identifier: MIT

package store

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
)

// fakeSealer stands in for the vault: one AES-GCM key per case, which Erase forgets.
type fakeSealer struct{ keys map[string][]byte }

func (f *fakeSealer) aead(caseID string, create bool) cipher.AEAD {
	k, ok := f.keys[caseID]
	if !ok {
		if !create {
			return nil
		}
		k = make([]byte, 32)
		rand.Read(k)
		f.keys[caseID] = k
	}
	b, _ := aes.NewCipher(k)
	a, _ := cipher.NewGCM(b)
	return a
}

func (f *fakeSealer) SealRecord(caseID string, plain []byte) ([]byte, error) {
	a := f.aead(caseID, true)
	nonce := make([]byte, a.NonceSize())
	rand.Read(nonce)
	return a.Seal(nonce, nonce, plain, []byte(caseID)), nil
}

func (f *fakeSealer) OpenRecord(caseID string, sealed []byte) ([]byte, bool, error) {
	a := f.aead(caseID, false)
	if a == nil {
		return nil, true, nil
	}
	p, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], []byte(caseID))
	return p, false, err
}

func (f *fakeSealer) LookupHash(v string) string {
	s := sha256.Sum256([]byte("test/" + v))
	return hex.EncodeToString(s[:16])
}

// With a sealer, nothing personal is in the file in clear — case fields, event notes,
// message texts, replies waiting, look-up keys — and all of it reads back; once the
// case's key is gone it reads back empty, with the anonymous facts intact.
func TestPersonalDataSealedAtRest(t *testing.T) {
	path := t.TempDir() + "/db"
	s, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	seal := &fakeSealer{keys: map[string][]byte{}}
	s.SetSealer(seal)
	const id, idNo, phone, addr, msgID = "TS-2026-000001", "310101198001010018", "13700001111", "wangwu@example.cn", "abc.wangwu@example.cn"
	c := &cases.Case{ID: id, State: cases.PendingReview, Complainant: addr, ComplainantFrom: addr,
		Applicant: cases.Party{Name: "王五", IDNo: idNo, Phone: phone, Type: cases.Individual, IDValid: true},
		Request:   cases.Request{Reason: "身份证号" + idNo, URL: "https://news.example.cn/1"},
		Documents: []cases.Document{{Kind: "id_card", Filename: "王五" + idNo + ".jpg"}}, Threads: []string{msgID}, LastInbound: msgID}
	mail, _ := json.Marshal(map[string]string{"text": "尊敬的王五"})
	err = s.Update(func(tx *Tx) error {
		if err := tx.PutCase(c); err != nil {
			return err
		}
		if err := tx.AppendEvent(id, cases.Event{Type: cases.EventOf(cases.Note), Actor: "staff@example.cn", Note: "电话 " + phone}); err != nil {
			return err
		}
		if err := tx.PutMessage(&Message{Key: "d1", MessageID: msgID, Case: id, From: addr, Subject: "王五申请删除", Text: idNo}); err != nil {
			return err
		}
		if err := tx.IndexCase("from", addr, id, time.Now()); err != nil {
			return err
		}
		if err := tx.RecordAutoReply(addr, time.Now(), time.Now().Add(-time.Hour)); err != nil {
			return err
		}
		return tx.Enqueue(&OutboxEntry{Case: id, Kind: "ack", Mail: mail, MessageID: "r1@desk", To: []string{addr}})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, _ := os.ReadFile(path)
	for _, v := range []string{idNo, phone, addr, "wangwu", "王五"} {
		if bytes.Contains(raw, []byte(v)) {
			t.Errorf("%q is in the store file in clear", v)
		}
	}

	s, _ = Open(path, time.Second)
	defer s.Close()
	s.SetSealer(seal)
	s.View(func(tx *Tx) error {
		got, err := tx.Case(id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Applicant.IDNo != idNo || got.Documents[0].Filename == "" || got.Events[0].Note != "电话 "+phone || got.Events[0].Actor != "staff@example.cn" {
			t.Errorf("sealed fields do not read back: %+v", got)
		}
		if cid, ok := tx.CaseByMessageID("<R1@desk>"); !ok || cid != id {
			t.Error("the case is not found by its Message-ID")
		}
		if !tx.KnownMessageID(msgID) || len(tx.IndexedCases("from", addr)) != 1 {
			t.Error("look-ups by hash fail")
		}
		if ts, _ := tx.AutoReplies(addr, time.Now().Add(-time.Hour)); len(ts) != 1 {
			t.Error("auto-reply counter lost")
		}
		m, _ := tx.Message("d1")
		e, _ := tx.OutboxEntry(1)
		if m.Text != idNo || m.From != addr || string(e.Mail) != string(mail) || e.To[0] != addr {
			t.Errorf("message or reply does not read back: %+v %+v", m, e)
		}
		return nil
	})

	delete(seal.keys, id) // what vault.Erase does
	s.View(func(tx *Tx) error {
		got, err := tx.Case(id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Applicant.IDNo != "" || got.Applicant.Name != "" || got.Events[0].Note != "" || got.Documents[0].Filename != "" {
			t.Errorf("erased case still shows personal data: %+v", got)
		}
		if got.State != cases.PendingReview || got.Applicant.Type != cases.Individual || got.Documents[0].Kind != "id_card" || got.Request.URL == "" {
			t.Errorf("anonymous facts lost: %+v", got)
		}
		if e, _ := tx.OutboxEntry(1); !e.Erased || e.Mail != nil {
			t.Errorf("a reply of an erased case must say so: %+v", e)
		}
		return nil
	})
}

// Records written before sealing existed are still found by their clear keys.
func TestLookupsFindRecordsFiledInClear(t *testing.T) {
	s, _ := Open(t.TempDir()+"/db", time.Second)
	defer s.Close()
	s.Update(func(tx *Tx) error {
		tx.IndexCase("from", "a@example.cn", "TS-2026-000001", time.Now())
		tx.LinkMessageID("m1@example.cn", "TS-2026-000001")
		return nil
	})
	s.SetSealer(&fakeSealer{keys: map[string][]byte{}})
	s.Update(func(tx *Tx) error {
		tx.IndexCase("from", "a@example.cn", "TS-2026-000002", time.Now())
		return nil
	})
	s.View(func(tx *Tx) error {
		if got := tx.IndexedCases("from", "a@example.cn"); len(got) != 2 {
			t.Errorf("want both the clear and the hashed entry, got %v", got)
		}
		if id, ok := tx.CaseByMessageID("m1@example.cn"); !ok || id != "TS-2026-000001" {
			t.Error("a Message-ID filed in clear is not found")
		}
		return nil
	})
}

// A file written in clear by an earlier version is migrated: every record re-sealed,
// look-up keys hashed, the file compacted so its free pages no longer hold the clear
// bytes; the records read back the same and are found by the same look-ups.
func TestMigrateSealsAStoreWrittenInClear(t *testing.T) {
	path := t.TempDir() + "/db"
	s, _ := Open(path, time.Second)
	const id, idNo, addr = "TS-2026-000001", "310101198001010018", "wangwu@example.cn"
	s.Update(func(tx *Tx) error {
		tx.PutCase(&cases.Case{ID: id, Complainant: addr, Applicant: cases.Party{Name: "王五", IDNo: idNo}})
		tx.AppendEvent(id, cases.Event{Type: cases.EventOf(cases.Note), Actor: addr, Note: idNo})
		tx.PutMessage(&Message{Key: "d1", MessageID: "m1." + addr, Case: id, From: addr, Text: idNo})
		tx.PutMessage(&Message{Key: "d2", MessageID: "m2." + addr, From: addr, Text: idNo}) // noise: no case
		tx.IndexCase("from", addr, id, time.Now())
		tx.RecordAutoReply(addr, time.Now(), time.Now().Add(-time.Hour))
		return tx.Enqueue(&OutboxEntry{Case: id, Kind: "ack", Mail: json.RawMessage(`{"text":"` + idNo + `"}`), To: []string{addr}, MessageID: "r1@desk"})
	})
	if v, _ := s.Schema(); v != schemaClear {
		t.Fatalf("a file without a version is version %d, want 1", v)
	}
	seal := &fakeSealer{keys: map[string][]byte{}}
	s.SetSealer(seal)
	rep, err := s.Migrate()
	if err != nil || rep.To != SchemaVersion || !rep.Compacted || rep.Rewritten < 7 {
		t.Fatalf("migrate: %+v %v", rep, err)
	}
	if rep, _ := s.Migrate(); rep.Rewritten != 0 {
		t.Errorf("a second migration rewrote %d records", rep.Rewritten)
	}
	s.View(func(tx *Tx) error {
		c, err := tx.Case(id)
		if err != nil || c.Applicant.IDNo != idNo || c.Events[0].Note != idNo {
			t.Errorf("case after migration: %+v %v", c, err)
		}
		if got, ok := tx.CaseByMessageID("r1@desk"); !ok || got != id || !tx.KnownMessageID("m1."+addr) || len(tx.IndexedCases("from", addr)) != 1 {
			t.Error("look-ups lost in the migration")
		}
		if ts, _ := tx.AutoReplies(addr, time.Now().Add(-time.Hour)); len(ts) != 1 {
			t.Error("auto-reply counter lost")
		}
		return nil
	})
	s.Close()
	raw, _ := os.ReadFile(path)
	for _, v := range []string{idNo, addr, "王五"} {
		if bytes.Contains(raw, []byte(v)) {
			t.Errorf("%q still in the file after the migration (free pages?)", v)
		}
	}
	s, err = Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.Schema(); v != SchemaVersion {
		t.Errorf("schema after reopening: %d", v)
	}
}
