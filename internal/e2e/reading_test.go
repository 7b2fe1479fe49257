package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailtest"
)

// expected is the part of internal/classify/testdata/gen/*.expected.json this test checks.
type expected struct {
	ApplicantType cases.ApplicantType `json:"applicant_type"`
	ApplicantName string              `json:"applicant_name"`
	ContentKind   cases.ContentKind   `json:"content_kind"`
	Documents     []struct {
		Filename string     `json:"filename"`
		Kind     cases.Kind `json:"kind"`
	} `json:"documents"`
	Missing []cases.Kind `json:"missing"`
}

var fromRe = regexp.MustCompile(`(?m)^From:.*<([^>]+)>`)

// Reading Chinese mail on the real stack: mails of the generated corpus in the styles
// of Foxmail (GBK), Big5 clients and NetEase (a zip with GBK entry names) and a .docx
// form go through Postfix and Dovecot, and the daemon's cases carry the expected
// applicant, content kind, documents and missing list.
func TestChineseMailOnRealStack(t *testing.T) {
	t.Parallel()
	st := mailtest.StartStack(t, mailtest.StackOptions{Users: []string{"desk"}})
	d := newDaemon(t, st, deskOptions{})
	d.start()
	dir := filepath.Join("..", "classify", "testdata", "gen")
	names := []string{"01-foxmail-individual-news-complete", "07-big5-individual-news", "09-163-zip-gbk-names", "10-126-docx-form"}
	want := map[string]expected{}
	for _, n := range names {
		raw, err := os.ReadFile(filepath.Join(dir, n+".eml"))
		if err != nil {
			t.Fatal(err)
		}
		var e expected
		b, err := os.ReadFile(filepath.Join(dir, n+".expected.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		want[e.ApplicantName] = e
		from := "someone@people.test"
		if m := fromRe.FindSubmatch(raw); m != nil {
			from = string(m[1])
		}
		st.Deliver(t, raw, from, "desk@desk.test")
	}
	var cs []cases.Case
	waitFor(t, 60*time.Second, "four cases", func() (bool, string) {
		cs = nil
		out, err := d.tryCLI("cases", "list", "-json")
		if err != nil {
			return false, err.Error() // not up yet
		}
		json.Unmarshal(out, &cs)
		return len(cs) == len(names), ""
	})
	for _, c := range cs {
		e, ok := want[c.Applicant.Name]
		if !ok {
			t.Errorf("case %s: applicant %q matches no expected mail", c.ID, c.Applicant.Name)
			continue
		}
		if c.Applicant.Type != e.ApplicantType || c.Request.ContentKind != e.ContentKind {
			t.Errorf("%s: type %s kind %s, want %s %s", e.ApplicantName, c.Applicant.Type, c.Request.ContentKind, e.ApplicantType, e.ContentKind)
		}
		got := map[string]cases.Kind{}
		for _, doc := range c.Documents {
			got[doc.Filename] = doc.Kind
		}
		for _, doc := range e.Documents {
			if got[doc.Filename] != doc.Kind {
				t.Errorf("%s: %s classified %q, want %q", e.ApplicantName, doc.Filename, got[doc.Filename], doc.Kind)
			}
		}
		wm := slices.Clone(e.Missing)
		slices.Sort(wm)
		gm := slices.Clone(c.Missing)
		slices.Sort(gm)
		if !slices.Equal(gm, wm) {
			t.Errorf("%s: missing %v, want %v", e.ApplicantName, c.Missing, e.Missing)
		}
	}
}
