//go:build linux

package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHelperControlClient asks the control socket named by its environment for "/"
// and prints the answer (not a test by itself).
func TestHelperControlClient(t *testing.T) {
	sock := os.Getenv("COMPLAINTD_TEST_CONTROL_SOCKET")
	if sock == "" {
		t.Skip("helper process only")
	}
	c := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	resp, err := c.Get("http://control/")
	if err != nil {
		fmt.Println("refused:", err)
		os.Exit(0)
	}
	b, _ := io.ReadAll(resp.Body)
	fmt.Println("answered:", string(b))
	os.Exit(0)
}

// The control socket reveals and erases personal data. Its mode (0600) keeps other
// users out, but not in the moment between its creation and the chmod (a connection
// made then stays open), nor once someone loosens the mode: the daemon now also asks
// the kernel who connected (SO_PEERCRED) and serves its own user and root only.
func TestControlSocketServesItsOwnUserOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	dir, err := os.MkdirTemp("", "ctl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	sock := filepath.Join(dir, "complaintd.sock")
	ln, err := listenUnix(sock, nil)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(sock, 0o666) // the mode loosened (or the moment before the chmod)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "personal data") })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	// The test binary, where another user may run it.
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "client.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	ask := func(cred *syscall.Credential) string {
		t.Helper()
		cmd := exec.Command(bin, "-test.run=^TestHelperControlClient$")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "COMPLAINTD_TEST_CONTROL_SOCKET="+sock)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("client: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := ask(nil); !strings.Contains(out, "answered: personal data") {
		t.Fatalf("the daemon's own user is not served: %s", out)
	}
	if out := ask(&syscall.Credential{Uid: 65534, Gid: 65534}); !strings.Contains(out, "refused") {
		t.Errorf("another user (nobody) is served: %s", out)
	}
}
