package policy

import (
	"fmt"

	"github.com/complaintd/complaintd/internal/cases"
)

// Validate checks rules once, at start-up, and returns every problem (nil when none):
// an empty require list, a document code the catalogue does not know, an applicant
// type other than individual/organisation, an unknown content kind, a condition that
// sets nothing. Each error names the rule by index and name. With a nil catalogue, the
// built-in kinds are known. Callers that want one error use errors.Join.
func Validate(rules []DocumentRule, cat *cases.Catalogue) []error {
	if cat == nil {
		cat = cases.DefaultCatalogue()
	}
	knownKinds := cat.Codes()
	kinds := make(map[cases.ContentKind]bool)
	for _, k := range cases.ContentKinds() {
		kinds[k] = true
	}
	var errs []error
	names := make(map[string]int)
	for i, r := range rules {
		where := fmt.Sprintf("rule %d (%q)", i, r.Name)
		if r.Name == "" {
			errs = append(errs, fmt.Errorf("%s: name is empty", where))
		} else if j, dup := names[r.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: name already used by rule %d", where, j))
		} else {
			names[r.Name] = i
		}
		if len(r.Require) == 0 {
			errs = append(errs, fmt.Errorf("%s: require is empty", where))
		}
		for _, code := range r.Require {
			if !cat.Known(code) {
				errs = append(errs, fmt.Errorf("%s: unknown document kind %q (known: %v)", where, code, knownKinds))
			}
		}
		for j, c := range r.When {
			cw := fmt.Sprintf("%s: when[%d]", where, j)
			if c.Applicant == "" && c.Entrusted == nil && c.Reposted == nil && len(c.ContentKind) == 0 {
				errs = append(errs, fmt.Errorf("%s: condition sets nothing (omit when to match every request)", cw))
			}
			switch c.Applicant {
			case "", cases.Individual, cases.Organisation:
			case cases.Entrusted:
				errs = append(errs, fmt.Errorf("%s: applicant %q: use entrusted: true; applicant is the principal's type", cw, c.Applicant))
			default:
				errs = append(errs, fmt.Errorf("%s: unknown applicant type %q (individual or organisation)", cw, c.Applicant))
			}
			for _, k := range c.ContentKind {
				if !kinds[k] {
					errs = append(errs, fmt.Errorf("%s: unknown content kind %q (known: %v)", cw, k, cases.ContentKinds()))
				}
			}
		}
	}
	return errs
}
