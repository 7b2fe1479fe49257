package policy

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
	"go.yaml.in/yaml/v3"
)

func loadYAML(t *testing.T) []DocumentRule {
	t.Helper()
	b, err := os.ReadFile("testdata/documents.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var rules []DocumentRule
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("decode documents.yaml: %v", err)
	}
	return rules
}

func have(codes ...cases.Kind) map[cases.Kind]bool {
	m := make(map[cases.Kind]bool)
	for _, c := range codes {
		m[c] = true
	}
	return m
}

// TestYAMLEqualsDefault keeps the config text (pasted into config.example.yaml) and the
// code defaults from drifting apart.
func TestYAMLEqualsDefault(t *testing.T) {
	got := loadYAML(t)
	if !reflect.DeepEqual(got, DefaultRules()) {
		t.Fatalf("documents.yaml differs from DefaultRules():\nyaml: %+v\ncode: %+v", got, DefaultRules())
	}
	if errs := Validate(got, nil); len(errs) > 0 {
		t.Fatalf("default rules invalid: %v", errs)
	}
}

// TestYAMLStrict proves a misspelt key is an error, not a silently ignored rule.
func TestYAMLStrict(t *testing.T) {
	dec := yaml.NewDecoder(strings.NewReader("- name: x\n  requires: [id_card]\n"))
	dec.KnownFields(true)
	var rules []DocumentRule
	if err := dec.Decode(&rules); err == nil {
		t.Fatal("unknown key accepted")
	}
}

// TestSpecTable reproduces SPEC §2's required-document list on both the code defaults
// and the YAML text.
func TestSpecTable(t *testing.T) {
	tests := []struct {
		why     string
		f       Facts
		missing []cases.Kind
	}{
		{"individual, unknown content: every request + id_card, reason_proof; unknown alone needs no withdrawal letter",
			Facts{ApplicantType: "individual", ContentKind: "unknown"},
			[]cases.Kind{"application_form", "explanation_letter", "id_card", "reason_proof"}},
		{"individual news article: withdrawal letter for news",
			Facts{ApplicantType: "individual", ContentKind: "news"},
			[]cases.Kind{"application_form", "explanation_letter", "id_card", "reason_proof", "withdrawal_letter"}},
		{"organisation self-media: licence, agent's ID, work id; self-media needs no withdrawal letter",
			Facts{ApplicantType: "organisation", ContentKind: "self_media"},
			[]cases.Kind{"application_form", "explanation_letter", "business_license", "id_card", "work_id"}},
		{"reposted blog: any reposted article needs the withdrawal letter",
			Facts{ApplicantType: "individual", ContentKind: "blog", Reposted: true},
			[]cases.Kind{"application_form", "explanation_letter", "id_card", "reason_proof", "withdrawal_letter"}},
		{"entrusted for an individual (lawyer for a person): principal's individual docs + power of attorney",
			Facts{ApplicantType: "individual", Entrusted: true, ContentKind: "comment"},
			[]cases.Kind{"application_form", "explanation_letter", "id_card", "reason_proof", "power_of_attorney"}},
		{"entrusted for an organisation: organisation docs + power of attorney + news letter",
			Facts{ApplicantType: "organisation", Entrusted: true, ContentKind: "news"},
			[]cases.Kind{"application_form", "explanation_letter", "business_license", "id_card", "work_id", "power_of_attorney", "withdrawal_letter"}},
		{"documents present are not missing; id_card required by one rule counted once",
			Facts{ApplicantType: "organisation", ContentKind: "news", Have: have("application_form", "id_card", "withdrawal_letter")},
			[]cases.Kind{"explanation_letter", "business_license", "work_id"}},
		{"complete individual request: nothing missing (nil)",
			Facts{ApplicantType: "individual", ContentKind: "unknown", Have: have("application_form", "explanation_letter", "id_card", "reason_proof")},
			nil},
		{"extra documents do not hurt",
			Facts{ApplicantType: "individual", ContentKind: "unknown", Have: have("application_form", "explanation_letter", "id_card", "reason_proof", "work_id", "power_of_attorney")},
			nil},
	}
	for name, rules := range map[string][]DocumentRule{"code": DefaultRules(), "yaml": loadYAML(t)} {
		for _, c := range tests {
			got := Missing(rules, c.f)
			if !reflect.DeepEqual(got, c.missing) {
				t.Errorf("%s: %s:\n got  %v\n want %v", name, c.why, got, c.missing)
			}
		}
	}
}

// TestRequiredAttribution: each code appears once, attributed to the first rule naming it
// (staff see why a document is asked for).
func TestRequiredAttribution(t *testing.T) {
	got := Required(DefaultRules(), Facts{ApplicantType: "organisation", Entrusted: true, ContentKind: "news"})
	want := []Requirement{
		{"application_form", "every_request"}, {"explanation_letter", "every_request"},
		{"business_license", "organisation"}, {"id_card", "organisation"}, {"work_id", "organisation"},
		{"power_of_attorney", "entrusted"}, {"withdrawal_letter", "news_or_reposted"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

// TestConditionAND: fields within one condition must all match; conditions are ORed.
func TestConditionAND(t *testing.T) {
	rules := []DocumentRule{{Name: "org_news", When: []Condition{{Applicant: "organisation", ContentKind: []cases.ContentKind{"news"}}}, Require: []cases.Kind{"work_id"}}}
	if m := Missing(rules, Facts{ApplicantType: "organisation", ContentKind: "blog"}); m != nil {
		t.Errorf("organisation+blog matched an organisation+news condition: %v", m)
	}
	if m := Missing(rules, Facts{ApplicantType: "organisation", ContentKind: "news"}); len(m) != 1 {
		t.Errorf("organisation+news not matched: %v", m)
	}
}

// TestDefaultRulesFresh: callers may modify the returned slice without changing defaults.
func TestDefaultRulesFresh(t *testing.T) {
	a := DefaultRules()
	a[0].Require[0] = "x"
	*a[3].When[0].Entrusted = false
	b := DefaultRules()
	if b[0].Require[0] != "application_form" || !*b[3].When[0].Entrusted {
		t.Fatal("DefaultRules shares state between calls")
	}
}

func TestValidate(t *testing.T) {
	f := false
	cases := []struct {
		why   string
		rules []DocumentRule
		want  []string // substrings, one per expected error
	}{
		{"defaults are valid", DefaultRules(), nil},
		{"unknown code is caught with the rule's name", []DocumentRule{{Name: "r", Require: []cases.Kind{"passport"}}}, []string{`rule 0 ("r"): unknown document kind "passport"`}},
		{"empty require makes a useless rule", []DocumentRule{{Name: "r"}}, []string{"require is empty"}},
		{"entrusted is not an effective applicant type", []DocumentRule{{Name: "r", When: []Condition{{Applicant: "entrusted"}}, Require: []cases.Kind{"id_card"}}}, []string{"use entrusted: true"}},
		{"misspelt applicant type", []DocumentRule{{Name: "r", When: []Condition{{Applicant: "organization"}}, Require: []cases.Kind{"id_card"}}}, []string{`unknown applicant type "organization"`}},
		{"unknown content kind", []DocumentRule{{Name: "r", When: []Condition{{ContentKind: []cases.ContentKind{"video"}}}, Require: []cases.Kind{"id_card"}}}, []string{`unknown content kind "video"`}},
		{"empty condition would silently match everything", []DocumentRule{{Name: "r", When: []Condition{{}}, Require: []cases.Kind{"id_card"}}}, []string{"condition sets nothing"}},
		{"all problems reported, with index; duplicate names", []DocumentRule{{Name: "a", Require: []cases.Kind{"id_card"}}, {Name: "a", When: []Condition{{Entrusted: &f}}, Require: []cases.Kind{"bogus"}}},
			[]string{`rule 1 ("a"): name already used by rule 0`, `rule 1 ("a"): unknown document kind "bogus"`}},
	}
	for _, c := range cases {
		errs := Validate(c.rules, nil)
		if len(errs) != len(c.want) {
			t.Errorf("%s: got %d errors %v, want %d", c.why, len(errs), errs, len(c.want))
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(errs[i].Error(), w) {
				t.Errorf("%s: error %d = %q, want it to contain %q", c.why, i, errs[i], w)
			}
		}
	}
}
