package classify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailmsg"
	"github.com/complaintd/complaintd/internal/policy"
)

// spoolOpener adapts mailmsg.MemSpool to Opener.
type spoolOpener struct{ s *mailmsg.MemSpool }

func (o spoolOpener) Open(id string) (ReaderAtCloser, int64, error) {
	r, err := o.s.Open(id)
	if err != nil {
		return nil, 0, err
	}
	return nopCloser{r}, r.Size(), nil
}

// corpusExpected mirrors gencorpus.Expected (the generator is a main package).
type corpusExpected struct {
	Subject         string              `json:"subject"`
	Style           string              `json:"style"`
	Why             string              `json:"why"`
	SubjectConforms bool                `json:"subject_conforms"`
	ApplicantType   cases.ApplicantType `json:"applicant_type"`
	ApplicantName   string              `json:"applicant_name"`
	ApplicantOrg    string              `json:"applicant_org"`
	ApplicantEmail  string              `json:"applicant_email"`
	Principal       *struct {
		Name string              `json:"name"`
		Org  string              `json:"org"`
		Type cases.ApplicantType `json:"type"`
	} `json:"principal"`
	ContentKind cases.ContentKind `json:"content_kind"`
	Reposted    bool              `json:"reposted"`
	IDValid     *bool             `json:"id_valid"`
	URLValid    *bool             `json:"url_valid"`
	Title       string            `json:"title"`
	Documents   []struct {
		Filename  string     `json:"filename"`
		Container string     `json:"container"`
		Kind      cases.Kind `json:"kind"`
	} `json:"documents"`
	Missing []cases.Kind `json:"missing"`
}

type tally struct{ ok, n int }

func (t *tally) add(ok bool) {
	t.n++
	if ok {
		t.ok++
	}
}

func (t tally) String() string {
	if t.n == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%d/%d (%.1f%%)", t.ok, t.n, 100*float64(t.ok)/float64(t.n))
}

// TestCorpus parses every generated mail with mailmsg.Parse, classifies it and compares
// with its hand-written expectation; it logs per-rule accuracy. Regenerate the corpus
// with `go run ./internal/gencorpus` from this directory.
func TestCorpus(t *testing.T) {
	emls, err := filepath.Glob("testdata/gen/*.eml")
	if err != nil {
		t.Fatal(err)
	}
	if len(emls) < 40 {
		t.Fatalf("corpus has %d mails, want at least 40", len(emls))
	}
	rules := policy.DefaultRules()
	acc := map[string]*tally{}
	for _, k := range []string{"subject_conforms", "applicant_type", "applicant_name", "applicant_org", "applicant_email", "principal", "content_kind", "reposted", "id_valid", "url_valid", "title", "document_kind", "document_list", "missing"} {
		acc[k] = &tally{}
	}
	for _, path := range emls {
		name := strings.TrimSuffix(filepath.Base(path), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			jb, err := os.ReadFile(strings.TrimSuffix(path, ".eml") + ".expected.json")
			if err != nil {
				t.Fatal(err)
			}
			var want corpusExpected
			if err := json.Unmarshal(jb, &want); err != nil {
				t.Fatal(err)
			}
			spool := &mailmsg.MemSpool{}
			msg, err := mailmsg.Parse(bytes.NewReader(raw), spool, mailmsg.Limits{})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			got := Classify(msg, spoolOpener{spool}, Options{})
			check := func(rule string, ok bool, format string, args ...any) {
				acc[rule].add(ok)
				if !ok {
					t.Errorf("%s (%s): "+format, append([]any{rule, want.Why}, args...)...)
				}
			}
			check("subject_conforms", got.Subject.Conforms == want.SubjectConforms, "got %v want %v", got.Subject.Conforms, want.SubjectConforms)
			check("applicant_type", got.Applicant.Type == want.ApplicantType, "got %q want %q", got.Applicant.Type, want.ApplicantType)
			check("applicant_name", got.Applicant.Name == want.ApplicantName, "got %q want %q", got.Applicant.Name, want.ApplicantName)
			check("applicant_org", got.Applicant.Org == want.ApplicantOrg, "got %q want %q", got.Applicant.Org, want.ApplicantOrg)
			if want.ApplicantEmail != "" {
				check("applicant_email", got.Applicant.Email == want.ApplicantEmail, "got %q want %q", got.Applicant.Email, want.ApplicantEmail)
			}
			if want.Principal != nil || got.Principal != nil {
				ok := want.Principal != nil && got.Principal != nil && got.Principal.Name == want.Principal.Name && got.Principal.Org == want.Principal.Org && got.Principal.Type == want.Principal.Type
				check("principal", ok, "got %+v want %+v", got.Principal, want.Principal)
			}
			check("content_kind", got.Request.ContentKind == want.ContentKind, "got %q want %q (why %v)", got.Request.ContentKind, want.ContentKind, got.Why)
			check("reposted", got.Request.Reposted == want.Reposted, "got %v want %v", got.Request.Reposted, want.Reposted)
			if want.IDValid != nil {
				check("id_valid", got.Applicant.IDValid == *want.IDValid, "got %v want %v", got.Applicant.IDValid, *want.IDValid)
			}
			if want.URLValid != nil {
				check("url_valid", got.Request.URLValid == *want.URLValid, "got %v want %v (url %q)", got.Request.URLValid, *want.URLValid, got.Request.URL)
			}
			if want.Title != "" {
				check("title", got.Request.Title == want.Title, "got %q want %q", got.Request.Title, want.Title)
			}
			gotKinds := map[string]cases.Kind{}
			var gotNames, wantNames []string
			for _, d := range got.Documents {
				gotKinds[d.Container+"/"+d.Filename] = d.Kind
				gotNames = append(gotNames, d.Container+"/"+d.Filename)
			}
			for _, d := range want.Documents {
				key := d.Container + "/" + d.Filename
				wantNames = append(wantNames, key)
				k, ok := gotKinds[key]
				check("document_kind", ok && k == d.Kind, "%s: got %q (present %v) want %q", key, k, ok, d.Kind)
			}
			sort.Strings(gotNames)
			sort.Strings(wantNames)
			check("document_list", reflect.DeepEqual(gotNames, wantNames), "got %q want %q", gotNames, wantNames)
			missing := policy.Missing(rules, Facts(got))
			if missing == nil {
				missing = []cases.Kind{}
			}
			check("missing", reflect.DeepEqual(missing, want.Missing), "got %v want %v", missing, want.Missing)
		})
	}
	for _, k := range []string{"subject_conforms", "applicant_type", "applicant_name", "applicant_org", "applicant_email", "principal", "content_kind", "reposted", "id_valid", "url_valid", "title", "document_kind", "document_list", "missing"} {
		t.Logf("accuracy %-17s %s", k, acc[k])
	}
}
