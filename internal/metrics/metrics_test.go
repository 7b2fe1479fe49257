package metrics

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// The exposition carries counts and the lag, and nothing else: no addresses, no case
// numbers. The lag is processing time minus the mail's date.
func TestWritePrometheus(t *testing.T) {
	var m Metrics
	m.Processed.Add(3)
	m.LastMessageDate.Store(1000)
	m.LastProcessedAt.Store(1042)
	var b bytes.Buffer
	m.WritePrometheus(&b, 2, 1, time.Unix(1042, 0))
	out := b.String()
	for _, want := range []string{"complaintd_mails_processed_total 3\n", "complaintd_outbox_depth 2\n", "complaintd_quarantine 1\n", "complaintd_ingest_lag_seconds 42\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "@") || strings.Contains(out, "TS-") {
		t.Error("personal data or case numbers in /metrics")
	}
}
