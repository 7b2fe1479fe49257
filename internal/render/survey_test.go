// SPDX-License-Identifier: MIT

package render

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/desk"
)

// optionLine is one line of the survey's scale: "- 5 分：非常满意" or "- 5: very satisfied".
var optionLine = regexp.MustCompile(`^- ([0-9])(?: 分)?[：:]\s*(.+)$`)

// exampleSep separates the examples on an indented line: two or more blanks, or
// full-width spaces.
var exampleSep = regexp.MustCompile(`(?:\s{2,}|　+)`)

// TestSurveyNamesOnlyAcceptedForms keeps the survey mail and desk.ParseScore in step:
// every score on the scale, every phrase next to it and every example the mail shows
// must be read by ParseScore as the mail says, or complainants who follow the
// instructions would not be counted.
func TestSurveyNamesOnlyAcceptedForms(t *testing.T) {
	s := loadDefaults(t)
	for _, locale := range []string{"zh-CN", "en"} {
		for name, d := range map[string]Data{"full": SampleDataIn(KindSurvey, locale), "minimal": MinimalSampleData(KindSurvey)} {
			r, err := s.Render(KindSurvey, locale, d)
			if err != nil {
				t.Fatalf("%s/%s: %v", locale, name, err)
			}
			if r.Locale != locale {
				t.Fatalf("%s/%s rendered from %s: the locale has no survey template", locale, name, r.Locale)
			}
			var scale []int
			var examples []string
			for _, line := range strings.Split(r.Text, "\n") {
				if m := optionLine.FindStringSubmatch(line); m != nil {
					want, _ := strconv.Atoi(m[1])
					scale = append(scale, want)
					for _, answer := range []string{m[1], m[2]} {
						if got, ok := desk.ParseScore(answer); !ok || got != want {
							t.Errorf("%s/%s: the scale gives %q as %d, ParseScore reads (%d, %v)", locale, name, answer, want, got, ok)
						}
					}
					continue
				}
				if strings.HasPrefix(line, "  ") {
					for _, ex := range exampleSep.Split(strings.TrimSpace(line), -1) {
						if ex != "" {
							examples = append(examples, ex)
						}
					}
				}
			}
			if !slices.Equal(scale, []int{5, 4, 3, 2, 1}) {
				t.Errorf("%s/%s: scale %v, want 5 to 1:\n%s", locale, name, scale, r.Text)
			}
			if len(examples) < 4 {
				t.Errorf("%s/%s: %d examples (%q), want the indented example lines:\n%s", locale, name, len(examples), examples, r.Text)
			}
			for _, ex := range examples {
				if _, ok := desk.ParseScore(ex); !ok {
					t.Errorf("%s/%s: example %q is not accepted by ParseScore", locale, name, ex)
				}
			}
			// A reply that pastes the survey without quote markers must not count as
			// a score: the greeting comes first.
			if got, ok := desk.ParseScore(r.Text); ok {
				t.Errorf("%s/%s: the survey text itself reads as score %d", locale, name, got)
			}
		}
	}
}

// The clarification's example answer is one desk reads as a score with a comment.
func TestSurveyClarifyExampleIsAccepted(t *testing.T) {
	s := loadDefaults(t)
	for _, locale := range []string{"zh-CN", "en"} {
		r, err := s.Render(KindSurveyClarify, locale, SampleDataIn(KindSurveyClarify, locale))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, line := range strings.Split(r.Text, "\n") {
			if strings.HasPrefix(line, "  ") {
				n++
				if _, comment, ok := desk.ParseSurveyAnswer(strings.TrimSpace(line)); !ok || comment == "" {
					t.Errorf("%s: example %q is not read as a score with a comment", locale, line)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: %d example lines, want 1:\n%s", locale, n, r.Text)
		}
	}
}
