// Package policy decides which documents a takedown request needs (SPEC §2) from rules
// that admins keep in the config file, lists what is missing, and holds the shared
// wording that explains each document kind to complainants.
//
// Invariants:
//   - Pure: no I/O, no package-level mutable state. Rules are data; DefaultRules returns
//     a fresh copy each call so callers may modify it.
//   - policy does not import classify (the desk converts a classification into Facts);
//     the vocabulary (document kinds, applicant types, content kinds) is the domain
//     core's, package cases; which document kinds exist is the catalogue's business.
//   - Missing lists each code once, in the order the rules name it, so replies are stable.
package policy

import "github.com/complaintd/complaintd/internal/cases"

// DocumentRule requires documents when any of its conditions holds.
// A rule with no condition applies to every request.
type DocumentRule struct {
	// Name identifies the rule in errors and in the staff view ("individual", ...).
	Name string `yaml:"name" json:"name"`
	// When lists alternative conditions; the rule applies when any one holds.
	// Empty: the rule applies to every request.
	When []Condition `yaml:"when,omitempty" json:"when,omitempty"`
	// Require lists document kind codes (SPEC §2 table, or the admins' own) the rule demands.
	Require []cases.Kind `yaml:"require" json:"require"`
}

// Condition holds when every field that is set matches.
type Condition struct {
	// Applicant is the effective applicant type: for an entrusted request, the
	// principal's type (individual or organisation).
	Applicant cases.ApplicantType `yaml:"applicant,omitempty" json:"applicant,omitempty"`
	// Entrusted matches requests made on someone else's behalf (委托).
	Entrusted *bool `yaml:"entrusted,omitempty" json:"entrusted,omitempty"`
	// ContentKind matches any of the listed content kinds.
	ContentKind []cases.ContentKind `yaml:"content_kind,omitempty" json:"content_kind,omitempty"`
	// Reposted matches articles the portal reposted from another site (转载).
	Reposted *bool `yaml:"reposted,omitempty" json:"reposted,omitempty"`
}

// Facts is what the policy needs to know about one request. The desk builds it from a
// classification (classify.Facts).
type Facts struct {
	// ApplicantType is the effective type: individual or organisation; for an
	// entrusted request, the principal's type.
	ApplicantType cases.ApplicantType
	// Entrusted is true when someone applies on another's behalf (委托).
	Entrusted   bool
	ContentKind cases.ContentKind
	// Reposted is true only when the portal itself reposted the article.
	Reposted bool
	// Have holds the document kinds present among the attachments. Nil means none.
	Have map[cases.Kind]bool
}

// Requirement is one required document and the rule that asked for it.
type Requirement struct {
	Code cases.Kind `json:"code"`
	Rule string     `json:"rule"`
}

// matches reports whether c holds for f.
func (c Condition) matches(f Facts) bool {
	if c.Applicant != "" && c.Applicant != f.ApplicantType {
		return false
	}
	if c.Entrusted != nil && *c.Entrusted != f.Entrusted {
		return false
	}
	if c.Reposted != nil && *c.Reposted != f.Reposted {
		return false
	}
	if len(c.ContentKind) > 0 {
		found := false
		for _, k := range c.ContentKind {
			if k == f.ContentKind {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Applies reports whether the rule applies to f.
func (r DocumentRule) Applies(f Facts) bool {
	if len(r.When) == 0 {
		return true
	}
	for _, c := range r.When {
		if c.matches(f) {
			return true
		}
	}
	return false
}

// Required lists the documents the rules demand for f, each code once (attributed to
// the first rule that names it), in rule order.
func Required(rules []DocumentRule, f Facts) []Requirement {
	var out []Requirement
	seen := make(map[cases.Kind]bool)
	for _, r := range rules {
		if !r.Applies(f) {
			continue
		}
		for _, code := range r.Require {
			if seen[code] {
				continue
			}
			seen[code] = true
			out = append(out, Requirement{Code: code, Rule: r.Name})
		}
	}
	return out
}

// Missing lists the codes Required demands that f.Have lacks, each once, in rule order.
// It returns nil when nothing is missing.
func Missing(rules []DocumentRule, f Facts) []cases.Kind {
	var out []cases.Kind
	for _, req := range Required(rules, f) {
		if !f.Have[req.Code] {
			out = append(out, req.Code)
		}
	}
	return out
}

func ptr(b bool) *bool { return &b }

// DefaultRules returns the default document policy of SPEC §2:
//   - every request: application_form, explanation_letter
//   - individual applicant (or individual principal): id_card, reason_proof
//   - organisation applicant (or organisation principal): business_license, id_card, work_id
//   - entrusted application: power_of_attorney (plus the principal's documents above)
//   - a news article, or one the portal reposted: withdrawal_letter
//
// testdata/documents.yaml holds the same rules as the config text; a test keeps them equal.
func DefaultRules() []DocumentRule {
	return []DocumentRule{
		{Name: "every_request", Require: []cases.Kind{cases.ApplicationForm, cases.ExplanationLetter}},
		{Name: "individual", When: []Condition{{Applicant: cases.Individual}}, Require: []cases.Kind{cases.IDCard, cases.ReasonProof}},
		{Name: "organisation", When: []Condition{{Applicant: cases.Organisation}}, Require: []cases.Kind{cases.BusinessLicense, cases.IDCard, cases.WorkID}},
		{Name: "entrusted", When: []Condition{{Entrusted: ptr(true)}}, Require: []cases.Kind{cases.PowerOfAttorney}},
		{Name: "news_or_reposted", When: []Condition{{ContentKind: []cases.ContentKind{cases.News}}, {Reposted: ptr(true)}}, Require: []cases.Kind{cases.WithdrawalLetter}},
	}
}
