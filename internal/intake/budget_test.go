package intake_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/demo/samplemail"
	"github.com/complaintd/complaintd/internal/inbound"
	"github.com/complaintd/complaintd/internal/intake"
	"github.com/complaintd/complaintd/internal/store"
)

// formDocx is a .docx titled 删帖申请表 whose document.xml inflates to pad more bytes.
func formDocx(t testing.TB, pad int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("word/document.xml")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>删帖申请表</w:t></w:r></w:p><!--%s--></w:body></w:document>`,
		strings.Repeat(" ", pad))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// stallAfter is a raw mail whose reading stalls once, past offset at, for longer than
// the message budget: what a parse that is too expensive looks like from the inside.
type stallAfter struct {
	r       io.Reader
	n, at   int
	stall   time.Duration
	stalled bool
}

func (s *stallAfter) Read(p []byte) (int, error) {
	if len(p) > 1024 {
		p = p[:1024]
	}
	if s.n > s.at && !s.stalled {
		s.stalled = true
		<-time.After(s.stall) // simulated cost, not a wait for an event
	}
	n, err := s.r.Read(p)
	s.n += n
	return n, err
}

func budgetSource(seq uint32) inbound.Source {
	return inbound.Source{Stream: inbound.Stream{Channel: inbound.IMAP, Name: "INBOX"}, Epoch: 1, Seq: seq}
}

// TestMailOverTimeBudgetIsRegistered: a mail whose reading outlasts the message budget
// (six forms of 1M elements in an archive: seconds of XML) is registered anyway, with
// what was read in time; its case says what was not read, and Prepare returns soon
// after the budget (issue 13, 3).
func TestMailOverTimeBudgetIsRegistered(t *testing.T) {
	const budget = 300 * time.Millisecond
	p, st, _ := newBareProcessor(t, func(o *intake.Options) { o.MessageBudget = budget })
	m := plainComplaint("王五|wangwu@example.cn", "<budget-1@example.cn>", "王五申请删除博文")
	for _, f := range samplemail.HeavyArchives(1, 6) {
		m.files = append(m.files, file{f.Name, f.ContentType, f.Content})
	}
	start := time.Now()
	pr, err := p.Prepare(context.Background(), bytes.NewReader(m.bytes()))
	took := time.Since(start)
	if err != nil {
		t.Fatalf("Prepare over budget: %v (want a prepared mail)", err)
	}
	if took > 10*budget+5*time.Second {
		t.Errorf("Prepare took %v with a budget of %v", took, budget)
	}
	out, err := p.Commit(budgetSource(1), pr)
	if err != nil || out.Case == "" {
		t.Fatalf("commit: %+v %v: want a case", out, err)
	}
	st.View(func(tx *store.Tx) error {
		c, err := tx.Case(out.Case)
		if err != nil {
			t.Fatal(err)
		}
		stopped := 0
		for _, d := range c.Documents {
			if strings.Contains(d.Why, "time budget") {
				stopped++
			}
		}
		if stopped == 0 || len(c.Documents) != 7 {
			t.Errorf("%d of %d documents say the time budget stopped them; want the archive and its 6 forms listed, some cut off: %+v", stopped, len(c.Documents), c.Documents)
		}
		if !strings.Contains(strings.Join(c.Why, "\n"), "time budget") {
			t.Errorf("case why %q does not say the budget stopped reading", c.Why)
		}
		return nil
	})
}

// TestSlowSourceIsNotOverBudget: the budget counts the work on a mail, not the wait for
// its bytes: a mail whose source stalls for longer than the budget (a big mail from a
// slow IMAP link) is read whole, every file kept.
func TestSlowSourceIsNotOverBudget(t *testing.T) {
	// The work itself must fit well within the budget even under -race on a busy
	// 2-core machine: at 300 ms the sealing of the 1.2 MB scan alone overran it
	// there (CI, session 9), which is the test's failure, not the product's.
	const budget = time.Second
	p, st, _ := newBareProcessor(t, func(o *intake.Options) { o.MessageBudget = budget })
	m := plainComplaint("王五|wangwu@example.cn", "<slow-1@example.cn>", "王五申请删除博文")
	m.files = []file{
		{"说明.pdf", "application/pdf", []byte("%PDF-1.4 explanation")},
		{"身份证复印件.pdf", "application/pdf", bytes.Repeat([]byte("扫描件"), 200<<10)},
		{"判决书.pdf", "application/pdf", []byte("%PDF-1.4 judgement")},
	}
	raw := m.bytes()
	pr, err := p.Prepare(context.Background(), &stallAfter{r: bytes.NewReader(raw), at: len(raw) / 2, stall: 3 * budget})
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Commit(budgetSource(1), pr)
	if err != nil || out.Case == "" {
		t.Fatalf("commit: %+v %v", out, err)
	}
	st.View(func(tx *store.Tx) error {
		c, err := tx.Case(out.Case)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Documents) != 3 {
			t.Errorf("%d documents kept, want 3: %+v", len(c.Documents), c.Documents)
		}
		for _, d := range c.Documents {
			if strings.Contains(d.Why, "budget") {
				t.Errorf("%s cut off by the budget while its source was slow: %q", d.Filename, d.Why)
			}
		}
		return tx.EachMessage(func(m *store.Message) error {
			if strings.Contains(strings.Join(m.Problems, "\n"), "budget") {
				t.Errorf("message problems %q: a slow source counted against the budget", m.Problems)
			}
			return nil
		})
	})
}

// TestMailOverInflateBudgetIsRegistered: the decompression budget is per mail, wired
// from Options.MaxInflateBytes: past it the forms left are listed by name and the case
// says why.
func TestMailOverInflateBudgetIsRegistered(t *testing.T) {
	p, st, _ := newBareProcessor(t, func(o *intake.Options) { o.MaxInflateBytes = 3 << 19 })
	form := formDocx(t, 1<<20)
	m := plainComplaint("王五|wangwu@example.cn", "<budget-2@example.cn>", "王五申请删除博文")
	for i := range 4 {
		m.files = append(m.files, file{fmt.Sprintf("附件%d.docx", i), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", form})
	}
	pr, err := p.Prepare(context.Background(), bytes.NewReader(m.bytes()))
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Commit(budgetSource(1), pr)
	if err != nil || out.Case == "" {
		t.Fatalf("commit: %+v %v", out, err)
	}
	st.View(func(tx *store.Tx) error {
		c, err := tx.Case(out.Case)
		if err != nil {
			t.Fatal(err)
		}
		read, stopped := 0, 0
		for _, d := range c.Documents {
			if d.Kind == cases.ApplicationForm {
				read++
			}
			if strings.Contains(d.Why, "decompression budget") {
				stopped++
			}
		}
		if read != 1 || stopped != 3 {
			t.Errorf("%d forms read, %d stopped: want 1 and 3 (%+v)", read, stopped, c.Documents)
		}
		if !strings.Contains(strings.Join(c.Why, "\n"), "decompression budget") {
			t.Errorf("case why %q does not say the budget stopped reading", c.Why)
		}
		return nil
	})
}
