// SPDX-License-Identifier: MIT

package mailtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pollInterval is how often readiness and shutdown are re-checked. It is the
// granularity of a deadline-bounded poll, not a wait for something to happen.
const pollInterval = 20 * time.Millisecond

// daemon is one foreground server process started by the stack. Its stdio
// goes to a file, never a pipe: Dovecot keeps stderr open for its lifetime,
// so a pipe would make Wait block until the server ends.
type daemon struct {
	name    string
	cmd     *exec.Cmd
	logs    []string      // files whose tail explains a failure
	done    chan struct{} // closed once Wait has returned
	waitErr error         // valid after done is closed
}

// startDaemon starts path with args in its own process group, appending its
// stdio to stdioLog.
func startDaemon(name, stdioLog string, logs []string, path string, args ...string) (*daemon, error) {
	f, err := os.OpenFile(stdioLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	defer f.Close() // the child holds its own copy of the descriptor
	cmd := exec.Command(path, args...)
	cmd.Stdin = nil // /dev/null
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	d := &daemon{name: name, cmd: cmd, logs: append([]string{stdioLog}, logs...), done: make(chan struct{})}
	go func() {
		d.waitErr = cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

// exited reports whether the process has ended.
func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to end, until ctx is done.
func (d *daemon) wait(ctx context.Context) error {
	select {
	case <-d.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for %s to exit: %w", d.name, ctx.Err())
	}
}

// kill ends the process and its process group at once and waits for it.
func (d *daemon) kill() {
	if !d.exited() {
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-d.done
}

// logTail returns the last lines of the daemon's log files, for errors.
func (d *daemon) logTail() string {
	return logTails(d.logs...)
}

// logTails returns the last 30 lines of each existing file, headed by its name.
func logTails(paths ...string) string {
	var b strings.Builder
	for _, p := range paths {
		lines, err := tailLines(p, 30)
		if err != nil || len(lines) == 0 {
			continue
		}
		fmt.Fprintf(&b, "--- %s (last %d lines)\n", p, len(lines))
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	if b.Len() == 0 {
		return "(no log output)"
	}
	return b.String()
}

func tailLines(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Logs of a test stack are small; the last 64 KiB hold the lines we want.
	if st, err := f.Stat(); err == nil && st.Size() > 64<<10 {
		if _, err := f.Seek(st.Size()-64<<10, io.SeekStart); err != nil {
			return nil, err
		}
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return lines, sc.Err()
}

// errPortTaken means another process answered on a port we meant to use.
var errPortTaken = errors.New("port answered by a server that is not ours")

// waitGreeting polls addr until a server greets with a line containing
// token. It fails early when d exits, or when a foreign server answers.
func waitGreeting(ctx context.Context, d *daemon, addr, token string) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var last error
	for {
		if d != nil && d.exited() {
			return fmt.Errorf("%s exited before %s was ready (%v)", d.name, addr, d.waitErr)
		}
		line, err := readGreeting(ctx, addr)
		if err == nil {
			if strings.Contains(line, token) {
				return nil
			}
			return fmt.Errorf("%s greets %q: %w", addr, line, errPortTaken)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w (last attempt: %v)", addr, ctx.Err(), last)
		case <-tick.C:
		}
	}
}

func readGreeting(ctx context.Context, addr string) (string, error) {
	dctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var dialer net.Dialer
	conn, err := dialer.DialContext(dctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if err := conn.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("read greeting: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// waitPortClosed polls until nothing accepts connections on addr, so a
// restart can bind it again (a lingering child may still hold the socket).
func waitPortClosed(ctx context.Context, addr string) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return nil
		}
		conn.Close()
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s to close: %w", addr, ctx.Err())
		case <-tick.C:
		}
	}
}

// freePorts returns n distinct ports that were free on 127.0.0.1 a moment
// ago. Another process may take one before the daemon binds it; the daemon
// then fails to start (or a greeting check catches it) and the caller picks
// again.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// processGone reports whether pid no longer runs (absent or a zombie: the
// stack's daemons re-parent their children to init, which may not reap).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] == 'Z'
	}
	return false
}

// groupOthersGone reports whether every process of the process group pgid other
// than its leader, and other than processes named one of spare, has ended
// (zombies count as ended).
func groupOthersGone(pgid int, spare ...string) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == pgid {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // ended meanwhile
		}
		// "pid (comm) state ppid pgrp ...": the fields after the parenthesised name.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 || f[0] == "Z" {
			continue
		}
		if j := strings.IndexByte(string(stat), '('); j >= 0 && slices.Contains(spare, string(stat[j+1:i])) {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			return false
		}
	}
	return true
}
