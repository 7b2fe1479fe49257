package e2e

// The soak (issue 17): not a CI step. Run it with
//
//	go test -v -run TestSoak ./internal/e2e -soak [-soak.for 10m] [-soak.mails 300]
//
// For its duration the daemon reads a growing backlog (complaints, and follow-ups,
// half of them delivered before the mail they answer) through an IMAP link that
// drops now and then and is sometimes down for seconds, on a disk that fills and
// frees (the store fault hook), with Postfix stopped for a fifth of the run (SMTP
// refused), SIGKILLed at random moments and restarted, with CPU hogs beside it. Then
// the chaos stops, the daemon finishes, and the test prints what it found: lost mails,
// duplicate cases, duplicate acknowledgements, the quarantine's content. It fails on
// any loss, duplicate, or mail quarantined for a fault that was not its own.

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
)

var (
	soak      = flag.Bool("soak", false, "run TestSoak (long; not a CI step)")
	soakFor   = flag.Duration("soak.for", 10*time.Minute, "how long TestSoak keeps the chaos up")
	soakMails = flag.Int("soak.mails", 300, "complaints TestSoak delivers (plus a tenth as many follow-ups)")
)

func TestSoak(t *testing.T) {
	if !*soak {
		t.Skip("the soak runs only with -soak (go test -v -run TestSoak ./internal/e2e -soak)")
	}
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk", "alice"}})
	proxy := startLinkProxy(t, st.IMAPAddr)
	// Replies outlive the SMTP outage (the harness's retry_max is 2 s: its 20 attempts
	// would be spent in a minute; production's retry_max of 1 h lasts a day).
	d := newDaemon(t, st, deskOptions{imapAddr: proxy.ln.Addr().String(), extraSMTP: "  max_attempts: 100000"})
	full := filepath.Join(t.TempDir(), "full")
	d.env = append(d.env, "COMPLAINTD_TEST_STORE_FULL="+full)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 23))

	// CPU hogs beside the daemon, one per core.
	hogDone := make(chan struct{})
	var hogs sync.WaitGroup
	for range runtime.NumCPU() {
		hogs.Go(func() {
			for x := 0; ; x++ {
				if x%(1<<20) == 0 {
					select {
					case <-hogDone:
						return
					default:
					}
				}
			}
		})
	}
	stopHogs := sync.OnceFunc(func() { close(hogDone); hogs.Wait() })
	defer stopHogs()

	// The mail: originals, and a follow-up for every tenth (the even ones delivered
	// before their original), in waves over the first 70% of the run.
	n := *soakMails
	type delivery struct {
		raw []byte
		id  string
	}
	var mails []delivery
	original := func(i int) delivery {
		id := numbered("soak", i) + "@people.test"
		return delivery{complaint(fmt.Sprintf("申请人%d <alice@people.test>", i), id, fmt.Sprintf("申请人%d申请删除凤凰资讯稿件", i),
			"申请人姓名：某某\n文章标题：某文\n删除原因：不实。", map[string]string{"删帖申请表.pdf": fmt.Sprintf("%%PDF form %d %s", i, strings.Repeat("x", 32<<10))}), id}
	}
	followUp := func(i int) delivery {
		orig := numbered("soak", i) + "@people.test"
		id := numbered("soak-fu", i) + "@people.test"
		raw := complaint(fmt.Sprintf("申请人%d <alice@people.test>", i), id, fmt.Sprintf("Re: 申请人%d申请删除凤凰资讯稿件", i),
			"补充材料：身份证复印件见附件。", map[string]string{fmt.Sprintf("身份证复印件%d.jpg", i): "JPEG"})
		raw = []byte(strings.Replace(string(raw), "MIME-Version", "In-Reply-To: <"+orig+">\r\nReferences: <"+orig+">\r\nMIME-Version", 1))
		return delivery{raw, id}
	}
	followed := map[string]string{} // follow-up Message-ID → its original's
	for i := range n {
		if i%10 == 0 && i%20 == 0 {
			mails = append(mails, followUp(i))
		}
		mails = append(mails, original(i))
		if i%10 == 0 && i%20 != 0 {
			mails = append(mails, followUp(i))
		}
		if i%10 == 0 {
			followed[numbered("soak-fu", i)+"@people.test"] = numbered("soak", i) + "@people.test"
		}
	}

	var kills, cuts, outages, fills, smtpStops int
	start := time.Now()
	end := start.Add(*soakFor)
	delivered := 0
	smtpDownFrom := start.Add(*soakFor * 2 / 5)
	smtpDownTo := smtpDownFrom.Add(*soakFor / 5)
	smtpDown := false
	nextKill := time.Now().Add(3*time.Second + time.Duration(rng.Int64N(int64(12*time.Second))))
	nextCut := time.Now().Add(2 * time.Second)
	var fullUntil, nextFill time.Time
	nextFill = start.Add(10 * time.Second)
	var linkUpAt time.Time
	d.start()
	for now := time.Now(); now.Before(end); now = time.Now() {
		// Deliver the next wave, so that the backlog is in by 70% of the run.
		due := min(len(mails), int(float64(len(mails))*float64(now.Sub(start))/float64(*soakFor*7/10))+1)
		for ; delivered < due; delivered++ {
			st.AppendRaw(t, "desk", "INBOX", mails[delivered].raw)
		}
		switch {
		case d.cmd == nil:
			d.start()
			nextKill = now.Add(3*time.Second + time.Duration(rng.Int64N(int64(12*time.Second))))
		case now.After(nextKill):
			d.kill()
			kills++
		}
		if !linkUpAt.IsZero() && now.After(linkUpAt) {
			proxy.setDown(false)
			linkUpAt = time.Time{}
		}
		if now.After(nextCut) && linkUpAt.IsZero() {
			if rng.IntN(5) == 0 {
				proxy.setDown(true)
				linkUpAt = now.Add(5*time.Second + time.Duration(rng.Int64N(int64(10*time.Second))))
				outages++
			} else {
				proxy.cut()
				cuts++
			}
			nextCut = now.Add(2*time.Second + time.Duration(rng.Int64N(int64(8*time.Second))))
		}
		if fullUntil.IsZero() && now.After(nextFill) {
			os.WriteFile(full, nil, 0o600)
			fills++
			fullUntil = now.Add(5*time.Second + time.Duration(rng.Int64N(int64(15*time.Second))))
		} else if !fullUntil.IsZero() && now.After(fullUntil) {
			os.Remove(full)
			fullUntil = time.Time{}
			nextFill = now.Add(20*time.Second + time.Duration(rng.Int64N(int64(40*time.Second))))
		}
		if !smtpDown && now.After(smtpDownFrom) && now.Before(smtpDownTo) {
			st.StopPostfix(t)
			smtpDown, smtpStops = true, smtpStops+1
		} else if smtpDown && now.After(smtpDownTo) {
			st.StartPostfix(t)
			smtpDown = false
		}
		time.Sleep(250 * time.Millisecond) // the chaos scheduler's tick, by design
	}
	// The chaos ends: space, link and SMTP back, hogs gone, one clean run to finish.
	for ; delivered < len(mails); delivered++ {
		st.AppendRaw(t, "desk", "INBOX", mails[delivered].raw)
	}
	os.Remove(full)
	proxy.setDown(false)
	if smtpDown {
		st.StartPostfix(t)
	}
	stopHogs()
	if d.cmd == nil {
		d.start()
	}
	d.waitUp()
	finishStart := time.Now()
	waitFor(t, 10*time.Minute, "the daemon to finish the backlog and the outbox", func() (bool, string) {
		q, err := d.quarantineList()
		if err != nil {
			return false, err.Error()
		}
		out, err := d.tryCLI("cases", "list", "-json")
		if err != nil {
			return false, err.Error()
		}
		var cs []struct {
			Events []struct {
				Type string `json:"type"`
			} `json:"events"`
		}
		if err := json.Unmarshal(out, &cs); err != nil {
			return false, err.Error()
		}
		received := 0
		for _, c := range cs {
			for _, e := range c.Events {
				if e.Type == "message_received" {
					received++
				}
			}
		}
		depth := d.metric("complaintd_outbox_depth")
		return received+len(q) >= len(mails) && depth == 0, fmt.Sprintf("%d of %d mails in %d cases, %d quarantined, outbox %v", received, len(mails), len(cs), len(q), depth)
	})
	finished := time.Since(finishStart)
	qrows, _ := d.quarantineList()
	d.stop()
	f := readFacts(t, d)

	// Lost and duplicate registrations.
	registered := map[string]int{}
	caseOf := map[string]string{}
	for _, m := range f.messages {
		registered[m.MessageID]++
		caseOf[m.MessageID] = m.Case
	}
	lost, dupRegs := 0, 0
	for _, m := range mails {
		switch k := registered[m.id]; {
		case k == 0:
			lost++
		case k > 1:
			dupRegs++
		}
	}
	lost -= len(qrows) // a quarantined mail is kept, not lost (its fault is judged below)
	// Duplicate cases: more cases than originals, or a follow-up in a case of its own.
	dupCases := max(0, len(f.cases)-n)
	split := 0
	for fu, orig := range followed {
		if caseOf[fu] != "" && caseOf[fu] != caseOf[orig] {
			split++
		}
	}
	// Acknowledgements: one per case in the store; in the mailbox, one distinct
	// Message-ID per acknowledgement (a copy with the same Message-ID is a resend
	// after a kill inside the SMTP exchange or a full disk before the sent mark).
	acksPerCase := map[string]int{}
	ackIDs := map[string]bool{}
	toAlice, gaveUp := 0, 0
	for _, e := range f.outbox {
		if e.State != "sent" {
			gaveUp++
			continue
		}
		if e.Kind == "acknowledgement" {
			acksPerCase[e.Case]++
			ackIDs[e.MessageID] = true
		}
		for _, to := range e.To {
			if strings.Contains(to, "alice@people.test") {
				toAlice++
			}
		}
	}
	dupAcks := 0
	for _, k := range acksPerCase {
		if k > 1 {
			dupAcks++
		}
	}
	replies := st.WaitMessages(t, "alice", "INBOX", toAlice, 3*time.Minute)
	copies := map[string]int{}
	for _, raw := range replies {
		m := parseMail(t, raw)
		copies[strings.Trim(m.Header.Get("Message-ID"), "<> ")]++
	}
	resentAcks, missingAcks := 0, 0
	for id := range ackIDs {
		switch k := copies[id]; {
		case k == 0:
			missingAcks++
		case k > 1:
			resentAcks += k - 1
		}
	}
	notMailsFault := 0
	var qlines []string
	for _, q := range qrows {
		qlines = append(qlines, fmt.Sprintf("%s %s: %s", q.ID, q.Fault, q.Reason))
		if q.Fault != "mail" {
			notMailsFault++
		}
	}
	sort.Strings(qlines)
	t.Logf("soak: %v of chaos, %d mails (%d complaints, %d follow-ups), %d kills, %d link cuts, %d link outages, %d disk-full episodes, %d SMTP outage(s) of %v, CPU hogs: %d; finished %v after the chaos",
		*soakFor, len(mails), n, len(followed), kills, cuts, outages, fills, smtpStops, (*soakFor / 5).Round(time.Second), runtime.NumCPU(), finished.Round(time.Second))
	t.Logf("soak: lost %d, duplicate registrations %d, cases %d (duplicate cases %d, follow-ups in a case apart from their original %d), duplicate acknowledgements %d (resent copies with the same Message-ID %d, acknowledgements not received %d), replies not sent %d, quarantined %d (not the mail's fault %d)",
		lost, dupRegs, len(f.cases), dupCases, split, dupAcks, resentAcks, missingAcks, gaveUp, len(qrows), notMailsFault)
	for _, l := range qlines {
		t.Logf("soak: quarantine: %s", l)
	}
	if lost > 0 || dupRegs > 0 || dupCases > 0 || split > 0 || dupAcks > 0 || missingAcks > 0 || gaveUp > 0 || notMailsFault > 0 {
		t.Errorf("soak found faults (above)")
	}
}
