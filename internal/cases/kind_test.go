// SPDX-License-Identifier: MIT

package cases

import (
	"strings"
	"testing"
)

// Every state and every document kind, the admins' own included, is named in both
// locales, and the names differ between them (an untranslated label is a bug).
func TestEveryStateAndKindHasLabelsInBothLocales(t *testing.T) {
	for _, s := range States() {
		zh, en := StateLabel(s, "zh-CN"), StateLabel(s, "en")
		if zh == "" || en == "" || zh == en || zh == string(s) {
			t.Errorf("state %s: labels %q / %q", s, zh, en)
		}
	}
	cat, err := NewCatalogue([]KindInfo{{Code: "lawyer_licence", LabelZH: "律师执业证", LabelEN: "lawyer's licence", Keywords: []string{"律师执业证"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range append(cat.Codes(), Unclassified) {
		zh, en := cat.Label(k, "zh-CN"), cat.Label(k, "en")
		if zh == "" || en == "" || zh == en || zh == string(k) {
			t.Errorf("kind %s: labels %q / %q", k, zh, en)
		}
		if x := cat.Explain(k, "zh-CN"); x == "" || x == string(k) {
			t.Errorf("kind %s: no explanation", k)
		}
	}
	// SPEC §2's 8 document kinds, and the 律师函 (issue 14: a lawyer's letter was
	// "unclassified" although the same word makes the case major).
	if len(DefaultCatalogue().Kinds()) != 9 {
		t.Errorf("SPEC §2 has 8 document kinds and the desk knows 律师函: want 9, the built-in catalogue has %d", len(DefaultCatalogue().Kinds()))
	}
	if k, ok := DefaultCatalogue().Lookup(LawyerLetter); !ok || k.Sensitive || k.LabelZH != "律师函" || k.LabelEN != "lawyer's letter" {
		t.Errorf("lawyer_letter: %+v %v", k, ok)
	}
	if got := DefaultCatalogue().Explain(IDCard, "zh-CN"); got != "身份证复印件（正反面）：个人申请人本人、或单位经办人的身份证件" {
		t.Errorf("id_card explanation: %q", got)
	}
	if DefaultCatalogue().Label("nope", "en") != "nope" {
		t.Error("an unknown code is shown as itself")
	}
}

// An admin's kind is checked when the config is loaded, with every problem named.
func TestNewCatalogueRejectsBadKinds(t *testing.T) {
	_, err := NewCatalogue([]KindInfo{
		{Code: "id_card", LabelZH: "x", LabelEN: "y", Keywords: []string{"x"}},      // a built-in code
		{Code: "Bad Code", LabelZH: "x", LabelEN: "y", Keywords: []string{"x"}},     // not a code
		{Code: "no_labels", Keywords: []string{"x"}},                                // labels missing
		{Code: "no_keywords", LabelZH: "x", LabelEN: "y"},                           // nothing recognises it
		{Code: "unclassified", LabelZH: "x", LabelEN: "y", Keywords: []string{"x"}}, // reserved
	})
	if err == nil {
		t.Fatal("bad kinds accepted")
	}
	for _, want := range []string{`"id_card" is already`, `"Bad Code" must be`, "no_labels): label_zh and label_en", "no_keywords).keywords", `"unclassified" is already`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
