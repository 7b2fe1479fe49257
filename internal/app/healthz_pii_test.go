package app

import (
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/store"
)

// /healthz is unauthenticated and lists the open alerts. Alerts are written to hold
// no personal numbers, but one did (intake quoted a refused command as written, found
// in review; this is that alert's text, older stores may hold such alerts still):
// /healthz masks ID and phone numbers too, not only addresses.
func TestHealthzMasksNumbersInAlerts(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	d := testDesk(t, now, fakeSMTP(t))
	d.metrics.IMAPUp.Store(true)
	const phone, idNo = "13912345678", "44030619851127301X"
	msg := `non-staff sender opened the mail with the staff command "已处理：没有处理！文章还在。\n请回电 ` + phone + `，身份证号 ` + idNo + `" (case TS-2026-000001)`
	if err := d.store.Update(func(tx *store.Tx) error {
		return tx.AddAlert(store.Alert{At: now, Kind: "security", Message: msg})
	}); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, d.healthHandler(), "/healthz")
	if strings.Contains(body, phone) || strings.Contains(body, idNo) {
		t.Errorf("/healthz (unauthenticated) shows personal numbers:\n%s", body)
	}
}
