package routing

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestGateNeverHidesAMatch: a text the pattern matches always opens its gate, for the
// default rules and for patterns of every shape, over texts made of the rules' own
// words in any case (the long s and the Kelvin sign, which (?i) takes for s and k,
// included), full-width forms, Chinese and noise.
func TestGateNeverHidesAMatch(t *testing.T) {
	exprs := []string{
		`律[师師]函|lawyer'?s letter|cease and desist`,
		`(?:abc|abd)+x?`, `sue\b`, `\bsk(y|i)`, `a{2,}b|c{0,3}dd`, `(?:x|y)z|[pq]r`, `.*`, `a?`, `[a-z]+`, `\d{3}`, `K`, `ſ`,
	}
	for _, c := range DefaultSeverityRules() {
		exprs = append(exprs, c.Pattern, c.Exclude)
	}
	words := []string{"律师函", "律師函", "lawyer's letter", "LAWYERS LETTER", "cease and desist", "起诉", "訴訟", "lawsuit", "SUE", "ſue",
		"法院", "判决", "court", "Judgement", "公安", "报警", "police", "网信", "12377", "未成年", "未满18岁", "小学生", "underage", "minors",
		"minor child", "局", "委员会", ".gov.cn", "曝光", "记者", "journalist", "REPORTER", "abd", "ABC", "x", "skY", "\u212a", "K", "k",
		"aab", "dd", "pr", "yz", "123", "您好", "申请删除", "凤凰", " ", "\n", "\xff", "：", "ｃｏｕｒｔ"}
	rng := rand.New(rand.NewPCG(7, 7))
	texts := make([]string, 3000)
	for i := range texts {
		var b strings.Builder
		for range rng.IntN(8) {
			w := words[rng.IntN(len(words))]
			if rng.IntN(4) == 0 {
				w = strings.ToUpper(w)
			}
			b.WriteString(w)
		}
		texts[i] = fold(b.String())
	}
	gated := 0
	for _, e := range exprs {
		if e == "" {
			continue
		}
		expr := "(?i)" + e
		re := regexp.MustCompile(expr)
		lits, ok := gateLiterals(expr)
		if !ok {
			continue
		}
		gated++
		for _, tx := range texts {
			if re.MatchString(tx) && !gateOpen(caseFold(tx), lits) {
				t.Fatalf("pattern %q matches %q, but its gate %q stays closed", e, tx, lits)
			}
		}
	}
	if gated < len(DefaultSeverityRules()) {
		t.Errorf("only %d patterns have a gate", gated)
	}
	for _, e := range []string{`.*`, `a?`, `[a-z]+`, `\d{3}`, `x|y?`} {
		if lits, ok := gateLiterals("(?i)" + e); ok {
			t.Errorf("pattern %q has the gate %q, but matches without any of it", e, lits)
		}
	}
}

// TestGateClosesOnOrdinaryMail: every default rule has a gate, and an ordinary
// complaint's body opens few of them (the point of the gates).
func TestGateClosesOnOrdinaryMail(t *testing.T) {
	r, err := New(Config{Severity: SeverityConfig{Rules: DefaultSeverityRules(), RepeatWindowDays: 30, RepeatThreshold: 3}})
	if err != nil {
		t.Fatal(err)
	}
	body := caseFold(foldField("body", "您好：\r\n\r\n本人申请删除以下稿件，材料见附件。\r\n\r\n申请人姓名：张三\r\n联系邮箱：alice+7@people.test\r\n"+
		"文章标题：《某某公司涉嫌虚假宣传7》\r\n文章链接：https://news.ifeng.com/c/bench7\r\n删除原因：内容失实\r\n\r\n张三\r\n"))
	open := 0
	for _, ru := range r.rules {
		if ru.gate == nil {
			t.Errorf("rule %s has no gate", ru.name)
			continue
		}
		if gateOpen(body, ru.gate) {
			open++
		}
	}
	if open > 2 {
		t.Errorf("%d of %d gates open on an ordinary complaint", open, len(r.rules))
	}
}

// BenchmarkRulesOnOrdinaryBody runs the default rules over an ordinary complaint's
// body as the text memo does: every pattern ("regexp"), against the gates first
// ("gated").
func BenchmarkRulesOnOrdinaryBody(b *testing.B) {
	r, err := New(Config{Severity: SeverityConfig{Rules: DefaultSeverityRules(), RepeatWindowDays: 30, RepeatThreshold: 3}})
	if err != nil {
		b.Fatal(err)
	}
	body := foldField("body", strings.Repeat("您好：\r\n\r\n本人申请删除以下稿件，材料见附件。\r\n\r\n申请人姓名：张三\r\n联系邮箱：alice+7@people.test\r\n"+
		"文章标题：《某某公司涉嫌虚假宣传7》\r\n文章链接：https://news.ifeng.com/c/bench7\r\n删除原因：内容失实，侵犯公司名誉。\r\n\r\n张三\r\n", 2))
	b.Run("regexp", func(b *testing.B) {
		for b.Loop() {
			for _, ru := range r.rules {
				ru.match(body)
			}
		}
	})
	b.Run("gated", func(b *testing.B) {
		for b.Loop() {
			cf := caseFold(body)
			for _, ru := range r.rules {
				if gateOpen(cf, ru.gate) {
					ru.match(body)
				}
			}
		}
	})
}
