package routing

import (
	"slices"
	"testing"
)

// A decision is remembered by its whole input: the same input gives the same
// decision (a copy the caller may change), and any field that differs is decided
// afresh.
func TestSeverityRemembersByWholeInput(t *testing.T) {
	c := testConfig()
	c.Severity.Rules = []SeverityRule{{Name: "law", Keywords: []string{"律师"}, Fields: []string{"body"}, Level: "major"}}
	c.Severity.RepeatThreshold = 3
	r, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	in := SeverityInput{Subject: "删帖申请", Body: "本律师受托"}
	d := r.Severity(in)
	if d.Level != Major || len(d.Reasons) != 1 {
		t.Fatalf("first decision: %+v", d)
	}
	d.Reasons[0] = "changed by the caller"
	again := r.Severity(in)
	if again.Level != Major || again.Reasons[0] == "changed by the caller" {
		t.Fatalf("the remembered decision was changed through the caller's copy: %+v", again)
	}
	for _, other := range []SeverityInput{
		{Subject: "删帖申请", Body: "本人受托"},
		{Subject: "删帖申请", Body: "本律师受托", SameLink: 3},
	} {
		got := r.Severity(other)
		bare := *r
		bare.texts = nil
		want := bare.Severity(other)
		if got.Level != want.Level || !slices.Equal(got.Reasons, want.Reasons) {
			t.Fatalf("%+v: got %+v, decided afresh %+v", other, got, want)
		}
	}
	if r.Severity(SeverityInput{Subject: "删帖申请", Body: "本人受托"}).Level != Ordinary {
		t.Fatal("a different body kept the remembered major decision")
	}
}

// Matches made ahead by Warm (on a parsing worker) give the decision made without
// any memo, for every shipped rule.
func TestWarmedMatchesDecideAlike(t *testing.T) {
	r, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	bare := *r
	bare.texts = nil
	for _, in := range []SeverityInput{
		{Subject: "律师函：要求删除", Body: "我方已向法院起诉。\n原文链接 http://news.example/a"},
		{Subject: "删帖申请", Body: "本公司暂不起诉，请删除。", Attachments: []string{"律师函.pdf"}},
		{Subject: "", Body: "", ApplicantOrg: "某某律师事务所"},
	} {
		r.Warm(in.Subject, in.Body)
		r.texts.mu.Lock()
		_, warmed := r.texts.m[textKey("body", in.Body)]
		r.texts.mu.Unlock()
		if !warmed {
			t.Fatalf("Warm left no matches for the body %q", in.Body)
		}
		got, want := r.Severity(in), bare.Severity(in)
		if got.Level != want.Level || !slices.Equal(got.Reasons, want.Reasons) {
			t.Errorf("%+v:\n warmed %+v\n   bare %+v", in, got, want)
		}
	}
}
