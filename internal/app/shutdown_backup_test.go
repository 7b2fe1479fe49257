package app

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// SIGTERM while a backup is being streamed to a client that reads slowly (or is
// stopped: Ctrl-Z, a full disk, a stuck NFS mount) did not stop the daemon: run waited
// in store.Close for the backup's read transaction, which serveBackup keeps open for as
// long as the client takes (http.Server.Shutdown gives up after 5 s but does not end
// the handler), until systemd killed it (found in review). Now the connection is cut
// after the grace.
func TestSIGTERMDoesNotWaitForAStalledBackupClient(t *testing.T) {
	d, cfg, _, _ := openFileDesk(t)
	// One case's pack of 16 MiB (incompressible, as sealed packs are): more than the
	// socket buffers hold.
	big := make([]byte, 16<<20)
	rand.Read(big)
	os.MkdirAll(filepath.Join(cfg.Store.AttachmentsDir, "TS-2026-000001"), 0o700)
	os.WriteFile(filepath.Join(cfg.Store.AttachmentsDir, "TS-2026-000001", "p.pack"), big, 0o600)

	ctx, sigterm := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.run(ctx, make(chan struct{})) }()
	var resp *http.Response
	var err error
	for i := 0; i < 100; i++ {
		if resp, err = controlClient(cfg.HTTP.ControlSocket, 0).Get("http://complaintd/backup"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.CopyN(io.Discard, resp.Body, 4096) // the client reads a little, then stalls
	sigterm()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		resp.Body.Close() // let it go, so the test ends
		<-done
		t.Fatal("SIGTERM: the daemon did not stop within 15 s while a backup client stalled")
	}
}

// The same desk stops at once on SIGTERM when no backup is in progress.
func TestSIGTERMStopsPromptly(t *testing.T) {
	d, _, _, _ := openFileDesk(t)
	ctx, sigterm := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.run(ctx, make(chan struct{})) }()
	time.Sleep(500 * time.Millisecond)
	sigterm()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("no stop within 15 s")
	}
}
