// SPDX-License-Identifier: MIT

package render

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// copyDefaults writes the embedded default templates into a fresh directory.
func copyDefaults(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, templates.FS()); err != nil {
		t.Fatal(err)
	}
	return dir
}

// overlay copies every file under src into dir, replacing what is there.
func overlay(t *testing.T, dir, src string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func loadDefaults(t *testing.T) *Set {
	t.Helper()
	s, err := Load(templates.FS(), "zh-CN")
	if err != nil {
		t.Fatalf("embedded default templates: %v", err)
	}
	return s
}

// goldenText is the form a rendered mail takes in a golden file.
func goldenText(r Rendered) string {
	var b strings.Builder
	b.WriteString("Locale: " + r.Locale + "\nSubject: " + r.Subject + "\n\n----- text -----\n" + r.Text)
	if r.HTML != "" {
		b.WriteString("----- html -----\n" + r.HTML)
	}
	return b.String()
}

// TestGolden renders every kind in both locales with the full and the empty
// sample and compares with testdata/golden (go test -update rewrites them).
func TestGolden(t *testing.T) {
	s := loadDefaults(t)
	for _, locale := range []string{"zh-CN", "en"} {
		for _, kind := range Kinds() {
			for _, v := range []struct {
				suffix string
				data   Data
			}{
				{"", SampleDataIn(kind, locale)},
				{".minimal", MinimalSampleData(kind)},
			} {
				name := filepath.Join("testdata", "golden", locale, kind+v.suffix+".golden")
				t.Run(locale+"/"+kind+v.suffix, func(t *testing.T) {
					if !s.Has(kind, locale) {
						t.Fatalf("default set lacks %s in %s", kind, locale)
					}
					r, err := s.Render(kind, locale, v.data)
					if err != nil {
						t.Fatal(err)
					}
					if r.Locale != locale {
						t.Errorf("rendered in %s, want %s", r.Locale, locale)
					}
					got := goldenText(r)
					if *update {
						if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(name, []byte(got), 0o644); err != nil {
							t.Fatal(err)
						}
						return
					}
					want, err := os.ReadFile(name)
					if err != nil {
						t.Fatalf("%v (run go test -update to create it)", err)
					}
					if got != string(want) {
						t.Errorf("%s differs (run go test -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
					}
				})
			}
		}
	}
}

// TestBrokenSets overlays deliberately broken files on the defaults and
// checks that the whole set is refused with exactly these messages.
func TestBrokenSets(t *testing.T) {
	tests := []struct {
		name   string
		dirs   []string // overlays under testdata/broken
		remove []string // files deleted from the defaults
		want   string
	}{
		{
			name: "syntax error is reported with file and line",
			dirs: []string{"syntax"},
			want: `zh-CN/accepted.tmpl:6: unexpected "}": an action must be closed with "}}"`,
		},
		{
			name: "unknown field is caught at load, not while mailing",
			dirs: []string{"unknown_field"},
			want: `zh-CN/rejected.tmpl:5: unknown field "Nmae" in {{.Case.Applicant.Nmae}}`,
		},
		{
			name: "a template without its text part is refused",
			dirs: []string{"missing_part"},
			want: `en/accepted.tmpl: missing required part "text": add {{define "text"}}…{{end}}`,
		},
		{
			name: "unguarded optional data fails with the empty sample",
			dirs: []string{"nil_pointer"},
			want: `zh-CN/withdrawn.tmpl:5: {{.Case.Principal.Name}} fails when the data is empty: guard it with {{with}} or {{if}}`,
		},
		{
			name: "complainant mail may not show staff-only data",
			dirs: []string{"staff_leak"},
			want: "zh-CN/resolved.tmpl: complainant mail shows staff-only data (Case.Assignee)\n" +
				"zh-CN/resolved.tmpl: complainant mail shows staff-only data (Note)",
		},
		{
			name: "a misspelt file name is not silently ignored",
			dirs: []string{"unknown_kind"},
			want: `zh-CN/acknowledgment.tmpl: unknown template kind "acknowledgment" (known kinds: ` + strings.Join(Kinds(), ", ") + `)`,
		},
		{
			name: "text outside define blocks would never be sent",
			dirs: []string{"outside_define"},
			want: `en/withdrawn.tmpl:2: text outside {{define}} blocks is never sent`,
		},
		{
			name: "a broken partials file is reported once, not once per kind",
			dirs: []string{"partials_syntax"},
			want: `en/_partials.tmpl:4: unexpected "}": an action must be closed with "}}"`,
		},
		{
			name:   "every kind must exist in the default locale",
			remove: []string{"zh-CN/digest.tmpl"},
			want:   `zh-CN/digest.tmpl: missing: every kind must exist in the default locale zh-CN`,
		},
		{
			name: "all problems are reported together, sorted by file",
			dirs: []string{"unknown_field", "syntax", "missing_part"},
			want: `en/accepted.tmpl: missing required part "text": add {{define "text"}}…{{end}}` + "\n" +
				`zh-CN/accepted.tmpl:6: unexpected "}": an action must be closed with "}}"` + "\n" +
				`zh-CN/rejected.tmpl:5: unknown field "Nmae" in {{.Case.Applicant.Nmae}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyDefaults(t)
			for _, d := range tt.dirs {
				overlay(t, dir, filepath.Join("testdata", "broken", d))
			}
			for _, f := range tt.remove {
				if err := os.Remove(filepath.Join(dir, f)); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Load(os.DirFS(dir), "zh-CN")
			if err == nil {
				t.Fatal("broken set loaded")
			}
			if s != nil {
				t.Error("Load returned a set with an error")
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not a *LoadError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", err, tt.want)
			}
		})
	}
}

func TestMissingDefaultLocale(t *testing.T) {
	_, err := Load(templates.FS(), "fr")
	if err == nil || err.Error() != "fr: default locale directory is missing" {
		t.Fatalf("got %v", err)
	}
}

// TestLocaleFallback: a kind missing in en is rendered from zh-CN, and so is
// a locale the set does not have at all; both are normal, not errors.
func TestLocaleFallback(t *testing.T) {
	dir := copyDefaults(t)
	if err := os.Remove(filepath.Join(dir, "en", "accepted.tmpl")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "en", PartialsFile)); err != nil {
		t.Fatal(err) // en then uses the zh-CN partials
	}
	s, err := Load(os.DirFS(dir), "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ kind, locale, wantLocale, wantInSubject string }{
		{KindAccepted, "en", "zh-CN", "已受理"},
		{KindRejected, "en", "en", "Decision"},
		{KindRejected, "fr", "zh-CN", "审核结果"},
	}
	for _, tt := range tests {
		r, err := s.Render(tt.kind, tt.locale, SampleData(tt.kind))
		if err != nil {
			t.Fatal(err)
		}
		if r.Locale != tt.wantLocale || !strings.Contains(r.Subject, tt.wantInSubject) {
			t.Errorf("%s/%s: locale %s subject %q", tt.kind, tt.locale, r.Locale, r.Subject)
		}
	}
	if _, err := s.Render("no_such_kind", "zh-CN", Data{}); err == nil {
		t.Error("unknown kind rendered")
	}
}

// TestHTMLEscapesComplainantText: whatever a complainant writes reaches the
// HTML part escaped, and the plain-text part is always present.
func TestHTMLEscapesComplainantText(t *testing.T) {
	s := loadDefaults(t)
	const evil = `<script>alert(1)</script>`
	for _, locale := range []string{"zh-CN", "en"} {
		for _, kind := range []string{KindAcknowledgement, KindRejected, KindMoreNeeded} {
			d := SampleData(kind)
			d.Case.Applicant.Name = evil
			d.Case.Request.Title = evil
			d.Reason = `<img src=x onerror=alert(2)>`
			d.Items = []string{`<b>bold</b>`}
			r, err := s.Render(kind, locale, d)
			if err != nil {
				t.Fatal(err)
			}
			if r.HTML == "" {
				t.Fatalf("%s/%s: no html part", locale, kind)
			}
			for _, raw := range []string{"<script>", "<img", "<b>"} {
				if strings.Contains(r.HTML, raw) {
					t.Errorf("%s/%s: html contains unescaped %q", locale, kind, raw)
				}
			}
			if !strings.Contains(r.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("%s/%s: escaped name missing from html", locale, kind)
			}
			if !strings.Contains(r.Text, evil) {
				t.Errorf("%s/%s: text part should carry the name as written", locale, kind)
			}
		}
	}
}

// TestSubjectCannotCarryHeaders: line breaks in data never reach the
// subject, and the case tag is always there.
func TestSubjectCannotCarryHeaders(t *testing.T) {
	s := loadDefaults(t)
	d := SampleData(KindStaffNotification)
	d.Case.Applicant.Name = "张三\r\nBcc: victim@example.com\n"
	d.Case.Request.Title = "标题\x00\rX-Evil: 1"
	for _, locale := range []string{"zh-CN", "en"} {
		r, err := s.Render(KindStaffNotification, locale, d)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(r.Subject, "\r\n\x00") {
			t.Errorf("%s: subject %q has a line break or NUL", locale, r.Subject)
		}
		if !strings.HasPrefix(r.Subject, "[TS-2026-000123] ") {
			t.Errorf("%s: subject %q lacks the case tag", locale, r.Subject)
		}
	}
}

func TestCaseTagNotDoubled(t *testing.T) {
	tests := []struct{ subject, id, want string }{
		{"已受理", "TS-2026-000001", "[TS-2026-000001] 已受理"},
		{"Re: [TS-2026-000001] 已受理", "TS-2026-000001", "Re: [TS-2026-000001] 已受理"}, // template wrote it
		{"每日汇总", "", "每日汇总"},                                                       // no case, no tag
	}
	for _, tt := range tests {
		if got := withCaseTag(tt.subject, tt.id); got != tt.want {
			t.Errorf("withCaseTag(%q, %q) = %q, want %q", tt.subject, tt.id, got, tt.want)
		}
	}
}

// TestComplainantKindsShowNoStaffData checks the default templates directly
// (Load enforces the same for edited ones).
func TestComplainantKindsShowNoStaffData(t *testing.T) {
	s := loadDefaults(t)
	checked := 0
	for _, kind := range Kinds() {
		if a, _ := AudienceOf(kind); a == Staff || a == Admin {
			continue
		}
		for _, locale := range []string{"zh-CN", "en"} {
			d := SampleDataIn(kind, locale)
			r, err := s.Render(kind, locale, d)
			if err != nil {
				t.Fatal(err)
			}
			all := r.Subject + r.Text + r.HTML
			for _, f := range staffOnly(d) {
				if f.value != "" && strings.Contains(all, f.value) {
					t.Errorf("%s/%s shows %s", locale, kind, f.name)
				}
			}
			checked++
		}
	}
	if checked != 30 {
		t.Errorf("checked %d complainant/author templates, want 30 (15 kinds × 2 locales)", checked)
	}
	// The check itself must be able to fail: staff mail does show these values.
	r, err := s.Render(KindStaffConfirmation, "zh-CN", SampleData(KindStaffConfirmation))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, SampleData(KindStaffConfirmation).Note) {
		t.Error("staff confirmation should show the note; the leak check would be vacuous")
	}
}

func TestRenderDoesNotModifyData(t *testing.T) {
	s := loadDefaults(t)
	d := SampleData(KindAcknowledgement)
	if _, err := s.Render(KindAcknowledgement, "en", d); err != nil {
		t.Fatal(err)
	}
	if d.Case.Documents[0].KindLabel != "" || d.Case.Missing[0].Label != "" || d.Case.Principal.TypeLabel != "" {
		t.Error("Render filled labels in the caller's data")
	}
}

func TestLabelsFollowTemplateLocale(t *testing.T) {
	s := loadDefaults(t)
	d := SampleData(KindAcknowledgement)
	zh, err := s.Render(KindAcknowledgement, "zh-CN", d)
	if err != nil {
		t.Fatal(err)
	}
	en, err := s.Render(KindAcknowledgement, "en", d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(zh.Text, "营业执照：营业执照.jpg") || !strings.Contains(en.Text, "business licence: 营业执照.jpg") {
		t.Errorf("document labels not localised:\n%s\n%s", zh.Text, en.Text)
	}
	// A label the caller set wins over the built-in one.
	d.Case.Documents[2].KindLabel = "营业执照（副本）"
	zh, err = s.Render(KindAcknowledgement, "zh-CN", d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(zh.Text, "营业执照（副本）：营业执照.jpg") {
		t.Error("caller's label was replaced")
	}
}

func TestChooseLocale(t *testing.T) {
	tests := []struct {
		why, text, subject, want string
	}{
		{"English-only mail gets English", "Please remove the article at https://news.example.com/a/1, it is false.", "Takedown request", "en"},
		{"any Chinese character keeps the default", "Please remove 这篇文章.", "Takedown", "zh-CN"},
		{"Chinese subject with English body keeps the default", "see attachment", "张三申请删除凤凰资讯稿件", "zh-CN"},
		{"nothing to judge by keeps the default", "", "", "zh-CN"},
		{"only a case number and a URL say nothing", "[TS-2026-000001] https://x.cn/1 2026", "", "zh-CN"},
		{"Cyrillic is not English", "Пожалуйста, удалите статью", "Удалить", "zh-CN"},
		{"Japanese kana keeps the default", "記事を削除してください", "", "zh-CN"},
	}
	for _, tt := range tests {
		if got := ChooseLocale(tt.text, tt.subject, "zh-CN"); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.why, got, tt.want)
		}
	}
}

func TestFuncs(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KB"}, {245760, "240.0 KB"}, {1572864, "1.5 MB"}, {3 << 30, "3.0 GB"}}
	for _, tt := range tests {
		if got := humanBytes(tt.n); got != tt.want {
			t.Errorf("humanBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := humanDuration(53*3600e9+120e9, false); got != "2天5小时2分钟" {
		t.Errorf("zh duration %q", got)
	}
	if got := humanDuration(53*3600e9, true); got != "2d 5h" {
		t.Errorf("en duration %q", got)
	}
	if got := indent(2, "a\n\nb\n"); got != "  a\n\n  b" {
		t.Errorf("indent %q", got)
	}
}

// TestReadmeDocumentsEveryKind keeps templates/README.md in step with the kinds.
func TestReadmeDocumentsEveryKind(t *testing.T) {
	b, err := fs.ReadFile(templates.FS(), "README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range Kinds() {
		if !strings.Contains(string(b), "| `"+kind+"` |") {
			t.Errorf("README.md has no row for %s", kind)
		}
	}
}

// The weekly report's HTML escapes what it shows (a department is named in the
// config, a title by the complainant) and shows its chart by cid, which html/template
// would otherwise replace with #ZgotmplZ; an identifier that could break out of the
// attribute is refused rather than written.
func TestWeeklyReportHTMLEscapesAndShowsChart(t *testing.T) {
	s := loadDefaults(t)
	d := SampleData(KindWeeklyReport)
	d.Report.ByDepartment = []NameCount{{Name: `<script>alert(1)</script>`, Count: 2}}
	d.Report.Breaches = []Summary{{ID: "TS-2026-000110", Title: `"><img src=x onerror=alert(1)>`}}
	for _, locale := range []string{"zh-CN", "en"} {
		r, err := s.Render(KindWeeklyReport, locale, d)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(r.HTML, "<script>") || strings.Contains(r.HTML, "<img src=x") {
			t.Errorf("%s: unescaped text in the HTML:\n%s", locale, r.HTML)
		}
		if !strings.Contains(r.HTML, `<img src="cid:chart-state.2026-w10@desk.example.com"`) {
			t.Errorf("%s: the chart is not shown by cid:\n%s", locale, r.HTML)
		}
	}
	d.Report.Charts = []Chart{{CID: `x" onload="alert(1)@y`}}
	if _, err := s.Render(KindWeeklyReport, "zh-CN", d); err == nil {
		t.Error("a content id with a quote was written into the HTML")
	}
}
