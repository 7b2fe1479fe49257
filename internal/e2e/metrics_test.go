package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
)

// /metrics on the real stack: the counters by kind and the store's gauges follow a
// complaint; complaintd_smtp_up is 1 right after a restart although nothing was sent
// since (it used to stay 0 until the next reply), and both up gauges fall to 0 during
// an outage with nothing to send, with /healthz saying why, and come back after it.
func TestMetricsAcrossRestartAndOutage(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
	d := newDaemon(t, st, deskOptions{})
	d.start()
	d.waitUp()
	gauge := func(name string, want float64, timeout time.Duration) {
		t.Helper()
		waitFor(t, timeout, fmt.Sprintf("%s = %v", name, want), func() (bool, string) {
			v := d.metric(name)
			return v == want, fmt.Sprint(v)
		})
	}
	gauge("complaintd_imap_up", 1, 30*time.Second)
	gauge("complaintd_smtp_up", 1, 30*time.Second)
	for _, name := range []string{"complaintd_build_info", "go_goroutines", "process_resident_memory_bytes", "complaintd_last_imap_poll_timestamp_seconds"} {
		if v := d.metric(name); v <= 0 {
			t.Errorf("%s = %v", name, v)
		}
	}

	st.Deliver(t, complaint("王小明 <alice@people.test>", "m1@people.test", "王小明申请删除凤凰资讯稿件",
		"申请人姓名：王小明\n文章标题：《某地新闻》\n文章链接：https://news.ifeng.com/c/abc\n删除原因：内容失实。", nil),
		"alice@people.test", "desk@desk.test")
	st.WaitMessages(t, "alice", "INBOX", 1, 60*time.Second)
	gauge(`complaintd_replies_sent_total{kind="acknowledgement"}`, 1, 30*time.Second)
	if v := d.metric(`complaintd_replies_queued_total{kind="acknowledgement"}`); v != 1 {
		t.Errorf("acknowledgements queued: %v", v)
	}
	if v := d.metric(`complaintd_cases{department="",severity="ordinary",state="incomplete"}`); v != 1 {
		t.Errorf("incomplete cases: %v", v)
	}
	if v := d.metric("complaintd_last_smtp_send_timestamp_seconds"); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last send timestamp %v", v)
	}
	gauge("complaintd_outbox_depth", 0, 30*time.Second)

	// Restart: nothing is sent, yet SMTP is known to be up (the probe at start).
	d.stop()
	d.start()
	d.waitUp()
	gauge("complaintd_smtp_up", 1, 10*time.Second)
	gauge("complaintd_imap_up", 1, 30*time.Second)
	if v := d.metric("complaintd_last_smtp_send_timestamp_seconds"); v != 0 {
		t.Errorf("last send timestamp %v after a restart without sending: want 0", v)
	}

	// Outage with nothing to send: both fall to 0 (the SMTP probe runs every
	// smtp.retry_max, 2 s here, when that is below 30 s).
	st.StopPostfix(t)
	st.StopDovecot(t)
	gauge("complaintd_imap_up", 0, 30*time.Second)
	gauge("complaintd_smtp_up", 0, 20*time.Second)
	resp, err := http.Get("http://" + d.httpAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		OK      bool     `json:"ok"`
		Reasons []string `json:"reasons"`
	}
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	all := strings.Join(h.Reasons, "\n")
	if resp.StatusCode != 503 || h.OK || !strings.Contains(all, "imap: not connected") || !strings.Contains(all, "smtp: connect to") {
		t.Errorf("/healthz during the outage: %d %+v", resp.StatusCode, h)
	}
	st.StartPostfix(t)
	st.StartDovecot(t)
	gauge("complaintd_smtp_up", 1, 20*time.Second)
	gauge("complaintd_imap_up", 1, 150*time.Second)
}
