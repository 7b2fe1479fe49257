// SPDX-License-Identifier: MIT

// Package render owns the reply templates: it loads a template directory,
// validates every template, renders mails and swaps in edited templates while
// the daemon runs.
//
// Invariants:
//   - A [Set] is immutable and fully validated: every kind exists in the
//     default locale, every template parses, and every part of every template
//     executed without error against two samples per kind (all optional data
//     filled, and all optional data empty), so a typo, an unknown field or a
//     nil-pointer mistake is caught at load, never while mailing.
//   - A broken directory is refused as a whole; [Reloader] keeps serving the
//     last good Set (SPEC §5: a broken edit never takes the desk down).
//   - Complainant and author templates cannot show staff-only data (tokens,
//     internal notes, staff addresses): Load renders them with marked sample
//     values and refuses a template whose output contains one.
//   - Rendering yields only a subject, a text part and an HTML part; a
//     template cannot add headers or recipients. The subject is one line
//     (CR/LF cannot reach a header), the text part is always present, and
//     complainant-provided text is escaped in the HTML part by html/template.
//
// File format: templates/<locale>/<kind>.tmpl holds {{define "subject"}},
// {{define "text"}} and optionally {{define "html"}}; templates/<locale>/_partials.tmpl
// holds shared blocks. Each file is parsed twice: with text/template for the
// subject and text parts, with html/template for the html part.
// templates/README.md documents the format for admins.
package render

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
	"time"
	"unicode"

	"github.com/complaintd/complaintd/internal/cases"
)

// PartialsFile is the per-locale file holding shared blocks (greeting,
// signature, case_summary, …). A locale without one uses the default locale's.
const PartialsFile = "_partials.tmpl"

// Rendered is one rendered mail: the parts only, never headers.
type Rendered struct {
	// Subject is a single line that starts with the case tag "[ID]" when the
	// data names a case (Render adds it unless the template wrote it).
	Subject string
	// Text is the plain-text part: \n line endings, wrapped, ending in \n.
	Text string
	// HTML is a complete HTML document, or "" when the template has no html part.
	HTML string
	// Locale is the locale of the template used (the default locale when the
	// requested one lacks the kind).
	Locale string
}

// Problem is one thing wrong with a template directory.
type Problem struct {
	File string // relative to the template directory, e.g. zh-CN/acknowledgement.tmpl
	Line int    // 0 when the problem concerns the whole file
	Msg  string
}

// String formats the problem as file:line: message.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	b.WriteString(": " + p.Msg)
	return b.String()
}

// LoadError lists every problem found by [Load], sorted by file and line.
type LoadError struct {
	Problems []Problem
}

// Error returns one problem per line.
func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Option adjusts [Load].
type Option func(*options)

type options struct {
	loc       *time.Location
	catalogue *cases.Catalogue
}

// WithCatalogue names the document kinds (the admins' own included). The default is
// the built-in kinds.
func WithCatalogue(c *cases.Catalogue) Option {
	return func(o *options) {
		if c != nil {
			o.catalogue = c
		}
	}
}

// WithLocation sets the time zone the date functions format in. The default
// is China Standard Time (UTC+8, no daylight saving), which needs no tzdata.
func WithLocation(loc *time.Location) Option {
	return func(o *options) {
		if loc != nil {
			o.loc = loc
		}
	}
}

// Set is a validated, immutable set of templates: every kind in the default
// locale, and any kinds present in other locales. It is safe for concurrent use.
type Set struct {
	defaultLocale string
	loc           *time.Location
	o             *options
	byLocale      map[string]map[string]*kindTemplate
}

// kindTemplate is one kind in one locale.
type kindTemplate struct {
	file   string
	locale string
	text   *texttemplate.Template // holds "subject" and "text"
	html   *htmltemplate.Template // holds "html"; nil when the file has none
}

// Load reads and validates every template under fsys (laid out as
// <locale>/<kind>.tmpl). It returns a *LoadError listing every problem when
// anything is wrong; a Set is returned only when nothing is.
func Load(fsys fs.FS, defaultLocale string, opts ...Option) (*Set, error) {
	o := options{loc: time.FixedZone("CST", 8*3600), catalogue: cases.DefaultCatalogue()}
	for _, opt := range opts {
		opt(&o)
	}
	l := loader{fsys: fsys, defaultLocale: defaultLocale, loc: o.loc, o: &o}
	set := l.load()
	if len(l.problems) > 0 {
		slices.SortFunc(l.problems, func(a, b Problem) int {
			if c := strings.Compare(a.File, b.File); c != 0 {
				return c
			}
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return strings.Compare(a.Msg, b.Msg)
		})
		return nil, &LoadError{Problems: slices.Compact(l.problems)}
	}
	return set, nil
}

type loader struct {
	fsys          fs.FS
	defaultLocale string
	loc           *time.Location
	o             *options
	problems      []Problem
}

func (l *loader) addf(file string, line int, format string, args ...any) {
	l.problems = append(l.problems, Problem{File: file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// partials is a locale's parsed partials file, ready to be cloned.
type partials struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

func (l *loader) load() *Set {
	entries, err := fs.ReadDir(l.fsys, ".")
	if err != nil {
		l.addf(".", 0, "read template directory: %v", err)
		return nil
	}
	var locales []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(e.Name(), "_") {
			locales = append(locales, e.Name())
		}
	}
	if !slices.Contains(locales, l.defaultLocale) {
		l.addf(l.defaultLocale, 0, "default locale directory is missing")
		return nil
	}
	// The default locale's partials go first: other locales fall back to them.
	slices.SortFunc(locales, func(a, b string) int {
		switch {
		case a == l.defaultLocale:
			return -1
		case b == l.defaultLocale:
			return 1
		}
		return strings.Compare(a, b)
	})
	set := &Set{defaultLocale: l.defaultLocale, loc: l.loc, o: l.o, byLocale: map[string]map[string]*kindTemplate{}}
	var defaultPartials *partials
	for _, locale := range locales {
		p, ok := l.loadPartials(locale, defaultPartials)
		if locale == l.defaultLocale {
			defaultPartials = p
		}
		if !ok {
			continue // the kinds would only repeat the partials' problem
		}
		kinds := l.loadLocale(locale, p)
		set.byLocale[locale] = kinds
	}
	// Validate whatever parsed, so one run reports every problem.
	for _, locale := range locales {
		for kind, kt := range set.byLocale[locale] {
			l.validate(set, kind, kt)
		}
	}
	return set
}

// funcs returns the template functions for a locale.
func (l *loader) funcs(locale string) map[string]any {
	en := strings.HasPrefix(strings.ToLower(locale), "en")
	loc := l.loc
	return map[string]any{
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(loc).Format("2006-01-02 15:04")
		},
		"day": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(loc).Format("2006-01-02")
		},
		"bytes":    humanBytes,
		"duration": func(d time.Duration) string { return humanDuration(d, en) },
		"inc":      func(i int) int { return i + 1 },
		"percent":  func(share float64) string { return strconv.FormatFloat(share*100, 'f', 1, 64) + "%" },
		"cid":      cidURL,
		"indent":   indent,
		"join":     func(items []string, sep string) string { return strings.Join(items, sep) },
	}
}

func (l *loader) loadPartials(locale string, fallback *partials) (*partials, bool) {
	file := path.Join(locale, PartialsFile)
	src, err := fs.ReadFile(l.fsys, file)
	if errors.Is(err, fs.ErrNotExist) && fallback != nil {
		return fallback, true
	}
	if errors.Is(err, fs.ErrNotExist) {
		// A default locale without partials is allowed: parse an empty file
		// so every locale has partials to clone.
		src, err = nil, nil
	}
	if err != nil {
		l.addf(file, 0, "read: %v", err)
		return nil, false
	}
	funcs := l.funcs(locale)
	t, err := texttemplate.New(file).Funcs(funcs).Option("missingkey=error").Parse(string(src))
	if err != nil {
		l.parseProblem(file, err)
		return nil, false
	}
	if !l.onlyDefines(file, string(src), t.Lookup(file)) {
		return nil, false
	}
	h, err := htmltemplate.New(file).Funcs(funcs).Option("missingkey=error").Parse(string(src))
	if err != nil {
		l.parseProblem(file, err)
		return nil, false
	}
	return &partials{text: t, html: h}, true
}

func (l *loader) loadLocale(locale string, p *partials) map[string]*kindTemplate {
	out := map[string]*kindTemplate{}
	entries, err := fs.ReadDir(l.fsys, locale)
	if err != nil {
		l.addf(locale, 0, "read: %v", err)
		return out
	}
	known := Kinds()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".tmpl") || name == PartialsFile {
			continue // editor backups and notes are not templates
		}
		file := path.Join(locale, name)
		kind := strings.TrimSuffix(name, ".tmpl")
		if !slices.Contains(known, kind) {
			l.addf(file, 0, "unknown template kind %q (known kinds: %s)", kind, strings.Join(known, ", "))
			continue
		}
		if kt := l.loadKind(locale, file, p); kt != nil {
			out[kind] = kt
		}
	}
	if locale == l.defaultLocale {
		for _, kind := range known {
			if _, ok := out[kind]; !ok && !l.hasProblem(path.Join(locale, kind+".tmpl")) {
				l.addf(path.Join(locale, kind+".tmpl"), 0, "missing: every kind must exist in the default locale %s", locale)
			}
		}
	}
	return out
}

func (l *loader) hasProblem(file string) bool {
	return slices.ContainsFunc(l.problems, func(p Problem) bool { return p.File == file })
}

func (l *loader) loadKind(locale, file string, p *partials) *kindTemplate {
	src, err := fs.ReadFile(l.fsys, file)
	if err != nil {
		l.addf(file, 0, "read: %v", err)
		return nil
	}
	// Each kind gets its own copy of the partials, so a kind may redefine a
	// partial for itself without touching the others.
	t, err := p.text.Clone()
	if err == nil {
		_, err = t.New(file).Parse(string(src))
	}
	if err != nil {
		l.parseProblem(file, err)
		return nil
	}
	ok := l.onlyDefines(file, string(src), t.Lookup(file))
	for _, part := range []string{"subject", "text"} {
		if t.Lookup(part) == nil {
			l.addf(file, 0, `missing required part %q: add {{define %q}}…{{end}}`, part, part)
			ok = false
		}
	}
	if !ok {
		return nil
	}
	kt := &kindTemplate{file: file, locale: locale, text: t}
	if t.Lookup("html") == nil {
		return kt
	}
	h, err := p.html.Clone()
	if err == nil {
		_, err = h.New(file).Parse(string(src))
	}
	if err != nil {
		l.parseProblem(file, err)
		return nil
	}
	kt.html = h
	return kt
}

// onlyDefines reports a problem for anything but blanks and comments outside
// {{define}} blocks: such text would silently never be sent.
func (l *loader) onlyDefines(file, src string, t *texttemplate.Template) bool {
	if t == nil || t.Tree == nil || t.Tree.Root == nil {
		return true
	}
	for _, n := range t.Tree.Root.Nodes {
		off := int(n.Position())
		if tn, ok := n.(*parse.TextNode); ok {
			trimmed := strings.TrimLeftFunc(string(tn.Text), unicode.IsSpace)
			if trimmed == "" {
				continue
			}
			off += len(tn.Text) - len(trimmed) // report the line the text starts on
		}
		if n.Type() == parse.NodeComment {
			continue
		}
		line := 1 + strings.Count(src[:min(max(off, 0), len(src))], "\n")
		l.addf(file, line, "text outside {{define}} blocks is never sent")
		return false
	}
	return true
}

func (l *loader) parseProblem(file string, err error) {
	l.problems = append(l.problems, problemFrom(file, err.Error()))
}

// errLocation matches the location text/template and html/template put in
// their errors: "template: FILE:LINE:COL: rest" or "html/template:FILE:LINE:COL: rest".
var errLocation = regexp.MustCompile(`^(?:html/)?template: ?(.+?\.tmpl):(\d+)(?::(\d+))?: ?(.*)$`)

// execDetail matches the detail of an execution error.
var execDetail = regexp.MustCompile(`^executing "([^"]*)" at <(.*)>: (.*)$`)

var (
	unknownField = regexp.MustCompile(`^can't evaluate field (\w+) in type \S+$`)
	nilPointer   = regexp.MustCompile(`^nil pointer evaluating \S+$`)
	badChar      = regexp.MustCompile(`^bad character U\+[0-9A-F]+ '(.+)'$`)
)

// problemFrom turns a template error message into a Problem with the file,
// line and column it names and a message written for admins.
func problemFrom(file, msg string) Problem {
	p := Problem{File: file, Msg: msg}
	m := errLocation.FindStringSubmatch(strings.SplitN(msg, "\n", 2)[0])
	if m == nil {
		return p
	}
	// The column text/template reports is a byte offset into the line, which
	// no editor shows for Chinese text; the expression quoted in the message
	// locates the problem within the line instead.
	p.File = m[1]
	p.Line, _ = strconv.Atoi(m[2])
	p.Msg = m[4]
	if b := badChar.FindStringSubmatch(p.Msg); b != nil {
		p.Msg = fmt.Sprintf("unexpected %q: an action must be closed with \"}}\"", b[1])
		if b[1] != "}" {
			p.Msg = fmt.Sprintf("unexpected %q in an action", b[1])
		}
	}
	if e := execDetail.FindStringSubmatch(p.Msg); e != nil {
		expr, detail := e[2], e[3]
		switch {
		case unknownField.MatchString(detail):
			p.Msg = fmt.Sprintf("unknown field %q in {{%s}}", unknownField.FindStringSubmatch(detail)[1], expr)
		case nilPointer.MatchString(detail):
			p.Msg = fmt.Sprintf("{{%s}} fails when the data is empty: guard it with {{with}} or {{if}}", expr)
		default:
			p.Msg = fmt.Sprintf("in {{%s}}: %s", expr, detail)
		}
	}
	return p
}

// validate executes every part of kt with both samples of its kind and checks
// that complainant and author mail shows no staff-only data.
func (l *loader) validate(s *Set, kind string, kt *kindTemplate) {
	aud, _ := AudienceOf(kind)
	for _, sample := range []Data{SampleData(kind), MinimalSampleData(kind)} {
		r, raw, err := s.execute(kt, sample)
		if err != nil {
			var pe problemError
			if errors.As(err, &pe) {
				l.problems = append(l.problems, pe.p)
			} else {
				l.addf(kt.file, 0, "%v", err)
			}
			continue
		}
		if r.Subject == "" {
			l.addf(kt.file, 0, "subject is empty with the sample data")
		}
		if strings.TrimSpace(r.Text) == "" {
			l.addf(kt.file, 0, "text part is empty with the sample data")
		}
		if aud == Complainant || aud == Author {
			// The raw output: wrapping could split a value and hide it.
			all := raw
			for _, f := range staffOnly(sample) {
				if f.value != "" && strings.Contains(all, f.value) {
					l.addf(kt.file, 0, "%s mail shows staff-only data (%s)", aud, f.name)
				}
			}
		}
	}
}

// problemError carries a Problem through an error return.
type problemError struct{ p Problem }

func (e problemError) Error() string { return e.p.String() }

// Render renders kind in locale with d. A kind missing in locale is rendered
// from the default locale. Empty label fields of d are filled in the locale
// of the template used; d itself is not modified.
func (s *Set) Render(kind, locale string, d Data) (Rendered, error) {
	kt := s.byLocale[locale][kind]
	if kt == nil {
		kt = s.byLocale[s.defaultLocale][kind]
	}
	if kt == nil {
		return Rendered{}, fmt.Errorf("render %q: unknown template kind", kind)
	}
	r, _, err := s.execute(kt, d)
	if err != nil {
		return Rendered{}, fmt.Errorf("render %q: %w", kind, err)
	}
	return r, nil
}

// execute renders kt with d; raw is the output of all parts before
// normalisation, for checks that wrapping could defeat.
func (s *Set) execute(kt *kindTemplate, d Data) (r Rendered, raw string, err error) {
	d = s.o.fillLabels(d, kt.locale)
	var subj, text, html bytes.Buffer
	if err := kt.text.ExecuteTemplate(&subj, "subject", d); err != nil {
		return Rendered{}, "", problemError{problemFrom(kt.file, err.Error())}
	}
	if err := kt.text.ExecuteTemplate(&text, "text", d); err != nil {
		return Rendered{}, "", problemError{problemFrom(kt.file, err.Error())}
	}
	r = Rendered{Subject: withCaseTag(oneLine(subj.String()), d.Case.ID), Text: normalizeText(text.String()), Locale: kt.locale}
	if kt.html != nil {
		if err := kt.html.ExecuteTemplate(&html, "html", d); err != nil {
			return Rendered{}, "", problemError{problemFrom(kt.file, err.Error())}
		}
		r.HTML = htmlDocument(kt.locale, html.String())
	}
	return r, subj.String() + "\n" + text.String() + "\n" + html.String(), nil
}

// oneLine collapses all whitespace, line breaks included, to single spaces
// and drops control characters, so a subject can never carry a header.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// withCaseTag puts "[ID] " in front of the subject unless the template
// already wrote the tag, so every mail about a case carries it (SPEC §6)
// whatever an admin does to a template.
func withCaseTag(subject, id string) string {
	if id == "" || strings.Contains(subject, "["+id+"]") {
		return subject
	}
	return strings.TrimSpace("[" + id + "] " + subject)
}

// htmlDocument wraps the html part in a minimal document; templates write
// only the body, so they cannot change the head or the charset.
func htmlDocument(locale, body string) string {
	// Blank lines left by template conditionals mean nothing in HTML; drop
	// them so the part stays readable (templates use no <pre>).
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		if l = strings.TrimRightFunc(l, unicode.IsSpace); strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return "<!DOCTYPE html>\n<html lang=\"" + htmltemplate.HTMLEscapeString(locale) + "\">\n<head>\n<meta charset=\"utf-8\">\n</head>\n<body>\n" +
		strings.Join(lines, "\n") + "\n</body>\n</html>\n"
}

// DefaultLocale returns the locale used when a kind is missing in another.
func (s *Set) DefaultLocale() string { return s.defaultLocale }

// Locales returns the locales of the set, sorted.
func (s *Set) Locales() []string {
	out := make([]string, 0, len(s.byLocale))
	for l := range s.byLocale {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// Has reports whether locale has its own template for kind (no fallback).
func (s *Set) Has(kind, locale string) bool {
	return s.byLocale[locale][kind] != nil
}

// humanBytes formats a size as 512 B, 12.3 KB, 4.5 MB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 3; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + string("KMGT"[exp]) + "B"
}

// humanDuration formats d in days, hours and minutes (2天3小时 / 2d 3h).
func humanDuration(d time.Duration, en bool) string {
	if d < 0 {
		d = -d
	}
	d = d.Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	units := [3]string{"天", "小时", "分钟"}
	sep := ""
	if en {
		units = [3]string{"d", "h", "m"}
		sep = " "
	}
	var parts []string
	for i, v := range [3]int{days, hours, mins} {
		if v > 0 {
			parts = append(parts, strconv.Itoa(v)+units[i])
		}
	}
	if len(parts) == 0 {
		return "0" + units[2]
	}
	return strings.Join(parts, sep)
}

// indent prefixes every line of s with n spaces; indented lines of the text
// part are never wrapped, so multi-line values keep their shape.
func indent(n int, s string) string {
	pad := strings.Repeat(" ", max(n, 0))
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return strings.Join(lines, "\n")
}

// cidURL is the src of an inline image (RFC 2392: "cid:" and the Content-ID,
// %-escaped). html/template lets only http, https and mailto URLs through; this one
// is built from a checked identifier, so it is marked safe. An identifier that is
// not a plain left@right is refused: it could only come from a broken caller.
func cidURL(id string) (htmltemplate.URL, error) {
	left, right, ok := strings.Cut(id, "@")
	if !ok || left == "" || right == "" || strings.Contains(right, "@") {
		return "", fmt.Errorf("content id %q: want left@right", id)
	}
	for _, r := range id {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`"'<>\%&?#`, r) {
			return "", fmt.Errorf("content id %q: character %q", id, r)
		}
	}
	return htmltemplate.URL("cid:" + id), nil
}
