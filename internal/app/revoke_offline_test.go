package app

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/store"
)

// `staff revoke-tokens -case ID` with the daemon stopped opens the store without the
// vault (store.Open, no sealer) and read the case whole (tx.Case): any real case — its
// personal data is sealed — failed with "personal data is sealed and no key was
// given" (found in review). The offline path works only for cases without personal data (the
// existing test writes one without a sealer).
func TestRevokeTokensOfARealCaseWithoutDaemon(t *testing.T) {
	d, _, _, path := openFileDesk(t)
	err := d.store.Update(func(tx *store.Tx) error {
		return tx.PutCase(&cases.Case{ID: "TS-2026-000001", State: cases.Incomplete, CreatedAt: time.Now(),
			Applicant: cases.Party{Name: "张三", Email: "zhangsan@example.cn"}, Complainant: "zhangsan@example.cn"})
	})
	if err != nil {
		t.Fatal(err)
	}
	d.store.Close() // the daemon is stopped
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"staff", "revoke-tokens", "-case", "TS-2026-000001", "-config", path}, &out, &errb); code != 0 {
		t.Errorf("revoke-tokens -case without a daemon: exit %d: %s%s", code, out.String(), errb.String())
	}
}
