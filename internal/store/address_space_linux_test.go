package store

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// vmSize is the process's address space in bytes (VmSize of /proc/self/status).
func vmSize(t *testing.T) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmSize:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Skip("no VmSize")
	return 0
}

// A host or unit that limits the address space (ulimit -v, systemd's LimitAS=) left
// the daemon enough for its store before the 1 GiB mapping made at the open; with
// it, Open failed with "cannot allocate memory" under limits of 2 GB, and the desk
// could not start at all. The store is opened in a child process whose address
// space allows the process as it is and 256 MiB more.
func TestStoreOpensUnderAnAddressSpaceLimit(t *testing.T) {
	if os.Getenv("STORE_RLIMIT_CHILD") == "1" {
		limit := vmSize(t) + 256<<20
		if err := unix.Setrlimit(unix.RLIMIT_AS, &unix.Rlimit{Cur: limit, Max: limit}); err != nil {
			t.Skip("setrlimit:", err)
		}
		st, err := Open(filepath.Join(t.TempDir(), "d.db"), time.Second)
		if err != nil {
			t.Fatalf("open under an address space limit: %v", err)
		}
		defer st.Close()
		if err := st.Update(func(tx *Tx) error { return tx.AddAlert(Alert{At: time.Now(), Kind: "k", Message: "m"}) }); err != nil {
			t.Fatalf("write under an address space limit: %v", err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestStoreOpensUnderAnAddressSpaceLimit$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "STORE_RLIMIT_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Skipf("child skipped:\n%s", out)
	}
}
