package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/store"
)

// slowWriter is a terminal or pipe that takes its time: `cases list | less` while the
// operator reads, or an export to a slow disk.
type slowWriter struct {
	bytes.Buffer
	perKB time.Duration
}

func (w *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(w.perKB * time.Duration(len(p)) / 1024)
	return w.Buffer.Write(p)
}

// putCases stores n plain cases TS-2026-000001… in d's store.
func putCases(t *testing.T, d *desk, n int) {
	t.Helper()
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	err := d.store.Update(func(tx *store.Tx) error {
		for i := 1; i <= n; i++ {
			c := &cases.Case{ID: fmt.Sprintf("TS-2026-%06d", i), State: cases.Incomplete, CreatedAt: at, UpdatedAt: at,
				Applicant: cases.Party{Name: "张三", Type: cases.Individual}, Locale: "zh-CN", Missing: []cases.Kind{}, Documents: []cases.Document{}}
			if err := tx.PutCase(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// serveControl serves d's control socket as the running daemon does.
func serveControl(t *testing.T, d *desk) {
	t.Helper()
	ln, err := listenUnix(d.cfg.HTTP.ControlSocket, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: d.controlHandler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// A streamed listing through the running daemon is not cut off by a deadline on the
// whole exchange: the CLI read the daemon's answer with a client whose Timeout (30 s)
// covers the body too, so `cases list -json | less`, or `cases export -csv` on a large
// desk or to a slow consumer, failed half-way with "Client.Timeout ... while reading
// body", while the same command with the daemon stopped printed every case. Only a
// daemon that does not answer at all is given up on.
func TestCaseListThroughDaemonIsNotCutOffBySlowReader(t *testing.T) {
	d, _, _, path := openFileDesk(t)
	defer d.store.Close()
	const n = 100
	putCases(t, d, n)
	serveControl(t, d)

	defer func(old time.Duration) { controlTimeout = old }(controlTimeout)
	controlTimeout = 300 * time.Millisecond // the 30 s of a real run, scaled down

	for _, args := range [][]string{{"cases", "list", "-json"}, {"cases", "export", "-csv"}} {
		// Either takes 0.7 s or more to print: the JSON is 75 kB; the CSV, 15 kB, is
		// written in blocks of 64 rows (one takes the reader 0.9 s).
		perKB := 10 * time.Millisecond
		if args[2] == "-csv" {
			perKB = 100 * time.Millisecond
		}
		out := &slowWriter{perKB: perKB}
		var errb bytes.Buffer
		code := Main(context.Background(), append(args, "-config", path), out, &errb)
		if code != 0 {
			t.Errorf("%v through the daemon to a slow reader: exit %d: %s", args, code, errb.String())
			continue
		}
		if args[2] == "-json" {
			var got []map[string]any
			if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != n {
				t.Errorf("%v: %d cases (%v), want %d", args, len(got), err, n)
			}
		} else if lines := bytes.Count(out.Bytes(), []byte("\r\n")); lines != n+1 {
			t.Errorf("%v: %d lines, want %d", args, lines, n+1)
		}
	}
}

// A flag after the case number counts wherever the case number stands: `cases show
// -config F ID -json` printed the text form with exit 0 (the flag package stops at the
// first word that is not a flag, and the flags after it were dropped unseen), so a
// script parsing the JSON broke, and `cases show -json ID -reveal` printed the masked
// case as if -reveal had not been given. A second word is refused, not ignored.
func TestFlagsAfterTheCaseNumberAreNotIgnored(t *testing.T) {
	d, _, _, path := openFileDesk(t)
	putCases(t, d, 2)
	d.store.Close() // the daemon is stopped: the CLI reads the store

	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"cases", "show", "-config", path, "TS-2026-000001", "-json"}, &out, &errb); code != 0 {
		t.Fatalf("cases show -config F ID -json: exit %d: %s", code, errb.String())
	}
	var c map[string]any
	if err := json.Unmarshal(out.Bytes(), &c); err != nil || c["id"] != "TS-2026-000001" {
		t.Errorf("cases show -config F ID -json printed no JSON (%v):\n%s", err, out.String())
	}

	for _, args := range [][]string{
		{"cases", "show", "-config", path, "TS-2026-000001", "TS-2026-000002", "-json"},
		{"cases", "list", "-config", path, "incomplete", "-json"},
		{"cases", "export", "-csv", "-config", path, "cases.csv"},
		{"stats", "-config", path, "30d", "-json"},
		{"quarantine", "list", "-config", path, "INBOX/1/2", "-json"},
		{"cases", "erase", "-config", path, "-reason", "本人申请删除", "TS-2026-000001", "TS-2026-000002"},
	} {
		out.Reset()
		errb.Reset()
		if code := Main(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2 (a word the command does not take)\n%s", args, code, out.String())
		}
	}
}

// fullDisk takes limit bytes and then fails every write as a full disk does.
type fullDisk struct {
	n, limit int
}

func (w *fullDisk) Write(p []byte) (int, error) {
	room := max(w.limit-w.n, 0)
	if room >= len(p) {
		w.n += len(p)
		return len(p), nil
	}
	w.n += room
	return room, syscall.ENOSPC
}

// Output that could not be written is an error: `cases list > report.txt` on a full
// disk, and the other printed (not JSON) forms, exited 0 with the output cut off,
// as if every case had been listed.
func TestOutputCutOffByAWriteErrorIsNotASuccess(t *testing.T) {
	d, _, _, path := openFileDesk(t)
	putCases(t, d, 3)
	d.store.Close() // the daemon is stopped: the CLI reads the store

	for _, args := range [][]string{
		{"cases", "list"},
		{"cases", "show", "TS-2026-000001"},
		{"stats"},
		{"quarantine", "list"},
		{"alerts"},
		{"version"},
	} {
		out := &fullDisk{limit: 10}
		var errb bytes.Buffer
		if code := Main(context.Background(), append(args, "-config", path), out, &errb); code == 0 {
			t.Errorf("%v: exit 0 although only %d bytes of the output were written", args, out.n)
		} else if !strings.Contains(errb.String(), "no space left") {
			t.Errorf("%v: exit %d, stderr %q: want the write error", args, code, errb.String())
		}
	}
}

// `config check` lists every problem of the file in one run (SPEC 6.1): a control
// socket path too long for a Unix socket was checked only once the rest of the file
// was good, so a file with another problem showed that one alone, and the next run
// the socket's.
func TestConfigCheckListsTheSocketPathWithTheOtherProblems(t *testing.T) {
	clearSecretsEnv(t)
	dir := t.TempDir()
	long := filepath.Join(dir, strings.Repeat("s", 120))
	path := writeConfig(t, fmt.Sprintf(`imap: {host: 127.0.0.1, port: 1, tls: ssl, username: desk, password: p}
smtp: {host: 127.0.0.1, port: 1, tls: none, from: desk@desk.test}
store: {path: %s/complaintd.db, master_key: "%s"}
staff: {addresses: [a@desk.test], admins: [admin@desk.test]}
http: {control_socket: %s}
`, dir, strings.Repeat("ab", 32), long))
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"config", "check", "-config", path}, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "imap.tls:") || !strings.Contains(out.String(), "http.control_socket:") {
		t.Errorf("config check: exit %d, want 1 with both problems:\n%s%s", code, out.String(), errb.String())
	}
}
