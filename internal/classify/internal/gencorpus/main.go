// Command gencorpus writes the generated complaint-mail corpus of package classify:
// testdata/gen/NN-name.eml and NN-name.expected.json, one pair per scenario. The mails
// imitate real clients (Foxmail, QQ Mail, NetEase 163/126, Outlook zh-CN, Apple Mail,
// iPhone, Big5 clients in Taiwan/Hong Kong); the expectations are written by hand in
// scenarios.go from what a careful desk clerk would decide, except the missing list,
// which is the default policy applied to those hand-written facts.
//
// Run from internal/classify: go run ./internal/gencorpus [-out testdata/gen]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/policy"
)

var fixedDate = time.Date(2026, 3, 2, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))

// Expected is the essentials a classification must reproduce; the corpus test reads it.
type Expected struct {
	Subject         string     `json:"subject"` // for humans reading the file
	Style           string     `json:"style"`
	Why             string     `json:"why"` // what the mail is there to test
	SubjectConforms bool       `json:"subject_conforms"`
	ApplicantType   string     `json:"applicant_type"`
	ApplicantName   string     `json:"applicant_name"`
	ApplicantOrg    string     `json:"applicant_org"`
	ApplicantEmail  string     `json:"applicant_email,omitempty"`
	Principal       *Principal `json:"principal,omitempty"`
	ContentKind     string     `json:"content_kind"`
	Reposted        bool       `json:"reposted"`
	IDValid         *bool      `json:"id_valid,omitempty"`
	URLValid        *bool      `json:"url_valid,omitempty"`
	Title           string     `json:"title,omitempty"`
	Documents       []ExpDoc   `json:"documents"`
	Missing         []string   `json:"missing"`
}

// Principal is the expected principal of an entrusted request.
type Principal struct {
	Name string `json:"name"`
	Org  string `json:"org"`
	Type string `json:"type"`
}

// ExpDoc is one expected document.
type ExpDoc struct {
	Filename  string `json:"filename"`
	Container string `json:"container,omitempty"`
	Kind      string `json:"kind"`
}

func main() {
	out := flag.String("out", "testdata/gen", "output directory")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(out, "*"))
	for _, f := range old {
		os.Remove(f)
	}
	scs := scenarios()
	for i, sc := range scs {
		base := fmt.Sprintf("%02d-%s", i+1, sc.Name)
		raw := render(sc, i+1)
		if err := os.WriteFile(filepath.Join(out, base+".eml"), raw, 0o644); err != nil {
			return err
		}
		exp := expected(sc)
		b, err := json.MarshalIndent(exp, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, base+".expected.json"), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %d mails to %s\n", len(scs), out)
	return nil
}

// expected builds the expectation of a scenario; the missing list is the default policy
// on the scenario's hand-written facts.
func expected(sc Scenario) Expected {
	e := sc.Want
	e.Subject, e.Style, e.Why = sc.Subject, sc.Style, sc.Why
	facts := policy.Facts{ApplicantType: cases.ApplicantType(e.ApplicantType), ContentKind: cases.ContentKind(e.ContentKind), Reposted: e.Reposted, Have: map[cases.Kind]bool{}}
	if e.ApplicantType == "entrusted" {
		facts.Entrusted = true
		facts.ApplicantType = cases.ApplicantType(e.Principal.Type)
	}
	e.Documents = nil
	for _, a := range sc.Atts {
		e.Documents = append(e.Documents, ExpDoc{Filename: a.Name, Kind: a.Kind})
		if a.Kind != "unclassified" {
			facts.Have[cases.Kind(a.Kind)] = true
		}
		for _, z := range a.Zip {
			e.Documents = append(e.Documents, ExpDoc{Filename: z.Name, Container: a.Name, Kind: z.Kind})
			if z.Kind != "unclassified" {
				facts.Have[cases.Kind(z.Kind)] = true
			}
		}
	}
	if e.Documents == nil {
		e.Documents = []ExpDoc{}
	}
	e.Missing = []string{}
	for _, k := range policy.Missing(policy.DefaultRules(), facts) {
		e.Missing = append(e.Missing, string(k))
	}
	return e
}

// Att is one attachment of a scenario, with its expected kind.
type Att struct {
	Name   string
	Kind   string
	Data   []byte // default: fake content by extension
	Inline bool
	Zip    []ZipEnt // for .zip attachments: the entries, in order
	Eml    string   // for embedded messages: the raw inner message
	Docx   *Docx
}

// ZipEnt is one archive entry with its expected kind.
type ZipEnt struct {
	Name string
	GBK  bool
	Kind string
	Docx *Docx
	Data []byte
}

// Docx is the text of a generated Word document.
type Docx struct {
	Paras []string
	Rows  []string
}

// Scenario is one generated mail.
type Scenario struct {
	Name     string
	Style    string // foxmail qq 163 126 outlook apple iphone big5
	Why      string
	Subject  string
	FromName string
	From     string
	Body     string
	Quote    string // quoted original appended in the client's style
	Atts     []Att
	Want     Expected
}

func (a Att) content() []byte {
	switch {
	case a.Data != nil:
		return a.Data
	case a.Docx != nil:
		return buildDocx(a.Docx.Paras, a.Docx.Rows)
	case len(a.Zip) > 0:
		var es []zipEntry
		for _, z := range a.Zip {
			d := z.Data
			if z.Docx != nil {
				d = buildDocx(z.Docx.Paras, z.Docx.Rows)
			} else if d == nil {
				d = fakeFor(z.Name)
			}
			es = append(es, zipEntry{name: z.Name, gbk: z.GBK, data: d})
		}
		return buildZip(es...)
	}
	return fakeFor(a.Name)
}

func fakeFor(name string) []byte {
	if strings.HasSuffix(strings.ToLower(name), ".pdf") {
		return fakePDF(name)
	}
	return fakeJPEG(name)
}

func contentType(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".pdf":
		return "application/pdf"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".docx":
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case ".doc":
		return "application/msword"
	case ".zip":
		return "application/x-zip-compressed"
	case ".rar":
		return "application/x-rar-compressed"
	case ".eml":
		return "message/rfc822"
	}
	return "application/octet-stream"
}

func tp(b bool) *bool { return &b }
