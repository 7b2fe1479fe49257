// Package classify reads one parsed complaint mail and says what it is: the subject
// convention, the applicant (individual, organisation, or entrusted with a principal),
// the form fields, the content kind, whether the portal reposted the article, and the
// kind of every attached document (SPEC §2 and its policy details).
//
// Invariants:
//   - Pure and deterministic: the only input besides the Message is attachment content
//     read through an Opener; there is no package-level mutable state.
//   - Never panics on hostile input; every archive read is bounded (entry count, total
//     declared size, XML bytes). Zip entries are listed, never extracted; only the
//     document.xml of a .docx is read, through a size cap.
//   - One message costs a bounded amount (issue 13, 3): the bytes inflated from all
//     its archives and .docx files together are capped (Options.MaxInflateBytes), and
//     ClassifyContext stops reading content when its context ends. Past either budget
//     the remaining files are classified by name and say that their content was not
//     read (Document.Why, Result.Why); the result is still complete.
//   - Only attachments are documents: a document named in the body does not count.
//   - A name that says nothing is cases.Unclassified, never a guess; every decision is
//     explained in Result.Why or Document.Why.
//   - Personal data (ID and phone numbers, attachment content) is returned to the
//     caller, never logged (this package does not log).
package classify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailmsg"
	"github.com/complaintd/complaintd/internal/policy"
)

// ReaderAtCloser is random access to one attachment's content.
type ReaderAtCloser interface {
	io.ReaderAt
	io.Closer
}

// Opener gives access to attachment content by spool ID, with its size.
type Opener interface {
	Open(spoolID string) (ReaderAtCloser, int64, error)
}

// Options tunes Classify. The zero value is usable: every zero field takes its default.
type Options struct {
	// MaxInspectBytes: .docx and .zip attachments larger than this are classified by
	// name only. Zero means 20 MiB.
	MaxInspectBytes int64
	// MaxZipEntries bounds the files listed from one archive. Zero means 200.
	MaxZipEntries int
	// MaxZipTotalBytes bounds the declared uncompressed size of the entries listed from
	// one archive; listing stops beyond it. Zero means 1 GiB.
	MaxZipTotalBytes int64
	// MaxDocxXMLBytes bounds the XML read from one .docx. Zero means 8 MiB.
	MaxDocxXMLBytes int64
	// MaxInflateBytes bounds the bytes inflated for one message, summed over every
	// archive and .docx it carries. Zero means 64 MiB.
	MaxInflateBytes int64
	// Catalogue holds the document kinds and their file-name keywords. Nil: the
	// built-in kinds.
	Catalogue *cases.Catalogue

	names *namer // Catalogue's keywords, folded once
}

// WithDefaults fills every zero field and prepares the catalogue's keywords: a caller
// that classifies many mails calls it once and passes the result.
func (o Options) WithDefaults() Options {
	if o.Catalogue == nil {
		o.Catalogue = cases.DefaultCatalogue()
	}
	if o.names == nil {
		o.names = newNamer(o.Catalogue)
	}
	if o.MaxInspectBytes <= 0 {
		o.MaxInspectBytes = 20 << 20
	}
	if o.MaxZipEntries <= 0 {
		o.MaxZipEntries = 200
	}
	if o.MaxZipTotalBytes <= 0 {
		o.MaxZipTotalBytes = 1 << 30
	}
	if o.MaxDocxXMLBytes <= 0 {
		o.MaxDocxXMLBytes = 8 << 20
	}
	if o.MaxInflateBytes <= 0 {
		o.MaxInflateBytes = DefaultMaxInflateBytes
	}
	return o
}

// DefaultMaxInflateBytes is Options.MaxInflateBytes when zero: a few real forms inflate
// to a few MiB; the 200-entry bomb of issue 13 would inflate to gigabytes.
const DefaultMaxInflateBytes = 64 << 20

// Classify classifies one message with no time budget; see ClassifyContext.
func Classify(msg *mailmsg.Message, content Opener, opts Options) Result {
	return ClassifyContext(context.Background(), msg, content, opts)
}

// ClassifyContext classifies one message. content may be nil: then documents are
// classified by name only. Fields come from the body first; an attached filled .docx
// form fills the gaps (the body is what the applicant wrote last, the form may be a
// stale copy). When ctx ends, or the message's decompression budget is spent, no more
// content is read: the files left are classified by name and say so.
func ClassifyContext(ctx context.Context, msg *mailmsg.Message, content Opener, opts Options) Result {
	opts = opts.WithDefaults()
	var res Result
	if msg == nil {
		res.Applicant.Type = cases.Individual
		res.Request.ContentKind = cases.Unknown
		return res
	}
	sp := parseSubject(msg.Subject)
	res.Subject = sp.Subject

	primary, quoted := splitQuoted(msg.Text, isForward(msg.Subject))
	body := ParseFields(primary)
	vals := body.Values
	if len(quoted) > 0 {
		for k, v := range ParseFields(quoted).Values {
			if vals[k] == "" {
				vals[k] = v
			}
		}
	}

	bud := newBudget(ctx, opts.MaxInflateBytes)
	docs, docxFields := classifyAttachments(msg.Attachments, content, opts, bud)
	res.Documents = docs
	if bud.stopped != "" {
		res.Why = append(res.Why, "content: "+bud.stopped+"; files after it are classified by name only")
	}
	for _, df := range docxFields {
		for _, k := range slices.Sorted(maps.Keys(df.Values)) {
			if vals[k] == "" {
				vals[k] = df.Values[k]
				res.Why = append(res.Why, "field "+k+": from attached form "+df.from)
			}
		}
	}

	applicant(&res, msg, vals, primary, body, sp)
	fillRequest(&res, vals, primary, sp)
	contentKind(&res, msg.Subject, vals, primary, body)
	reposted(&res, vals, primary)
	return res
}

// isForward reports a forwarded message, whose form sits below the forward marker.
func isForward(subject string) bool {
	f := strings.TrimSpace(fold(subject))
	for _, p := range []string{"fw:", "fwd:", "转发:", "转寄:"} {
		if strings.HasPrefix(f, p) {
			return true
		}
	}
	return false
}

// quoteMarkers start the quoted original in QQ/Foxmail, Outlook and other clients.
var quoteMarkers = []string{"------------------ 原始邮件 ------------------", "-----原始邮件-----", "----- 原始邮件 -----", "-----original message-----", "----- original message -----"}

// splitQuoted splits body text at the first quote marker of common clients (QQ/Foxmail
// 原始邮件 rules, Outlook 发件人:/From: blocks, "On … wrote:", "在…写道：", ">" lines).
// For a forward everything is primary: the forwarded text is what the applicant sends.
func splitQuoted(text string, forward bool) (primary, quoted string) {
	if forward {
		return stripQuotePrefix(text), ""
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		f := strings.TrimSpace(fold(l))
		hit := strings.HasPrefix(f, ">")
		for _, m := range quoteMarkers {
			if strings.HasPrefix(f, m) {
				hit = true
			}
		}
		if (strings.HasPrefix(f, "发件人:") || strings.HasPrefix(f, "寄件者:") || strings.HasPrefix(f, "from:")) && i+1 < len(lines) {
			n := strings.TrimSpace(fold(lines[i+1]))
			if strings.HasPrefix(n, "发送时间:") || strings.HasPrefix(n, "sent:") || strings.HasPrefix(n, "date:") || strings.HasPrefix(n, "日期:") || strings.HasPrefix(n, "时间:") || strings.HasPrefix(n, "寄件日期:") || strings.HasPrefix(n, "to:") || strings.HasPrefix(n, "收件人:") {
				hit = true
			}
		}
		if (strings.HasPrefix(f, "在") && strings.HasSuffix(f, "写道:")) || (strings.HasPrefix(f, "on ") && strings.HasSuffix(f, "wrote:")) {
			hit = true
		}
		if hit {
			return strings.Join(lines[:i], "\n"), stripQuotePrefix(strings.Join(lines[i:], "\n"))
		}
	}
	return text, ""
}

// stripQuotePrefix removes "> " prefixes.
func stripQuotePrefix(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, "> ")
		if !strings.HasPrefix(l, ">") {
			lines[i] = l
		}
	}
	return strings.Join(lines, "\n")
}

type docxForm struct {
	from   string
	Values map[string]string
}

// disguised says why an attachment is not what its name claims: a program, or bytes of
// a known type its name contradicts (a PDF named .jpg, HTML named .pdf). Bytes of no
// recognisable type (text, octet-stream) contradict nothing: a scan may be odd.
func disguised(a mailmsg.Attachment) string {
	if a.Executable != "" {
		return a.Executable
	}
	if a.Sniffed == "" || a.Sniffed == "text/plain" || a.Sniffed == "application/octet-stream" {
		return ""
	}
	ext := strings.ToLower(path.Ext(a.Filename))
	var want func(string) bool
	switch ext {
	case ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp":
		want = func(t string) bool { return strings.HasPrefix(t, "image/") }
	case ".pdf":
		want = func(t string) bool { return t == "application/pdf" }
	case ".docx", ".xlsx", ".pptx", ".zip":
		want = func(t string) bool { return t == "application/zip" || t == "application/x-zip-compressed" }
	default:
		return ""
	}
	if want(a.Sniffed) {
		return ""
	}
	return fmt.Sprintf("its bytes are %s, not the %s its name says", a.Sniffed, ext)
}

// classifyAttachments classifies every attachment, listing .zip entries as Documents of
// their own and reading the text of .docx files (bounded).
func classifyAttachments(atts []mailmsg.Attachment, content Opener, opts Options, bud *budget) ([]Document, []docxForm) {
	var docs []Document
	var forms []docxForm
	for _, a := range atts {
		kind, why := opts.names.classify(a.Filename)
		d := Document{Kind: kind, Filename: a.Filename, Size: a.Size, SHA256: a.SHA256, SpoolID: a.SpoolID, Why: why,
			OriginalFilename: a.OriginalFilename}
		if a.Skipped != "" {
			d.Why += "; content not stored: " + a.Skipped
		}
		if flag := disguised(a); flag != "" {
			d.Kind, d.Flagged, d.Why = cases.Unclassified, flag, "flagged: "+flag+"; never a document"
			docs = append(docs, d)
			continue
		}
		ext := strings.ToLower(path.Ext(a.Filename))
		canOpen := content != nil && a.SpoolID != "" && a.Skipped == "" && a.Size <= opts.MaxInspectBytes
		switch {
		case (ext == ".docx" || ext == ".zip") && canOpen && bud.spent():
			d.Why += "; content not read: " + bud.stopped
			docs = append(docs, d)
		case ext == ".docx" && canOpen:
			text, err := openDocx(content, a.SpoolID, opts, bud)
			if errors.Is(err, errBudget) {
				d.Why += "; content not read to its end: " + bud.stopped
				docs = append(docs, d)
				break
			}
			if err != nil {
				d.Why += "; docx unreadable"
				docs = append(docs, d) // an unreadable file is still a file the complainant sent
				break
			}
			if kind == cases.Unclassified {
				if k, w := classifyText(opts.names, text); k != "" {
					d.Kind, d.Why = k, w
				}
			}
			if f := ParseFields(text); len(f.Values) > 0 {
				forms = append(forms, docxForm{from: a.Filename, Values: f.Values})
			}
			docs = append(docs, d)
		case ext == ".zip" && canOpen:
			entries, note := openZip(content, a.SpoolID, a.Filename, opts, bud)
			if d.Kind == cases.Unclassified {
				d.Why = "archive; its files are listed separately"
			}
			d.Why += note
			docs = append(docs, d)
			docs = append(docs, entries...)
		default:
			if ext == ".zip" || ext == ".docx" {
				if content == nil {
					d.Why += "; content not inspected (no opener)"
				} else if a.Size > opts.MaxInspectBytes {
					d.Why += "; content not inspected (too large)"
				}
			}
			if a.Embedded || ext == ".eml" {
				d.Why += " (embedded message, by name)"
			}
			docs = append(docs, d)
		}
	}
	return docs, forms
}

func openDocx(content Opener, id string, opts Options, bud *budget) (string, error) {
	r, size, err := content.Open(id)
	if err != nil {
		return "", err
	}
	defer r.Close()
	return docxText(r, size, opts.MaxDocxXMLBytes, bud)
}

// openZip lists a zip attachment's entries as Documents. One level: a zip inside the zip
// is listed by name, not opened; a .docx inside is read (bounded) when its name says
// nothing.
func openZip(content Opener, id, container string, opts Options, bud *budget) ([]Document, string) {
	r, size, err := content.Open(id)
	if err != nil {
		return nil, "; archive unreadable"
	}
	defer r.Close()
	entries, truncated, err := ListZip(r, size, opts.MaxZipEntries, opts.MaxZipTotalBytes)
	if err != nil {
		return nil, "; archive unreadable"
	}
	note := ""
	if truncated {
		note = "; listing stopped at the entry or size bound"
	}
	overlapping := slices.ContainsFunc(entries, func(e ZipEntry) bool { return e.Overlaps })
	if overlapping {
		note += "; overlapping entries (a zip bomb's shape): listed by name, none opened"
	}
	docs := make([]Document, 0, len(entries))
	opened := 0
	for _, e := range entries {
		name, original := entryName(e.Name)
		if prog := mailmsg.ProgramName(name); prog != "" {
			docs = append(docs, Document{Kind: cases.Unclassified, Filename: name, OriginalFilename: original,
				Container: container, Size: e.Size, Flagged: prog, Why: "flagged: " + prog + "; never a document"})
			continue
		}
		kind, why := opts.names.classify(name)
		ext := strings.ToLower(path.Ext(name))
		switch {
		case ext == ".zip" || ext == ".rar" || ext == ".7z":
			why += "; nested archive not opened (one level only)"
		case overlapping:
		case ext == ".docx" && kind == cases.Unclassified && e.Size <= opts.MaxInspectBytes:
			if opened++; opened > maxDocxPerArchive {
				why += "; not opened (more .docx than one archive may have read)"
				break
			}
			if bud.spent() {
				why += "; content not read: " + bud.stopped
				break
			}
			if text, ok := entryDocxText(e, opts, bud); ok {
				if k, w := classifyText(opts.names, text); k != "" {
					kind, why = k, w
				}
			} else if bud.stopped != "" {
				why += "; content not read to its end: " + bud.stopped
			}
		}
		docs = append(docs, Document{Kind: kind, Filename: name, OriginalFilename: original, Container: container, Size: e.Size, Why: why})
	}
	return docs, note
}

// entryName is a zip entry's name as it may be shown and classified, and the name as
// stored when they differ: control characters (a line break would start a line of
// its own in the acknowledgement and the staff notification) and format controls
// (U+202E shows 申请表\u202Efdp.scr as 申请表rcs.pdf) are dropped, as package mailmsg
// does for the files of the mail itself.
func entryName(stored string) (name, original string) {
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, stored)
	if name == stored {
		return name, ""
	}
	if name == "" {
		name = "(unnamed)"
	}
	return name, stored
}

// maxDocxPerArchive bounds the .docx files read inside one archive: a form or two is
// what a complainant zips; hundreds are a way to make us inflate and parse for minutes.
const maxDocxPerArchive = 8

// entryDocxText reads a .docx stored in a zip, at most MaxInspectBytes of it.
// Both the .docx and its document.xml count against the message's budget.
func entryDocxText(e ZipEntry, opts Options, bud *budget) (string, bool) {
	rc, err := e.file.Open()
	if err != nil {
		return "", false
	}
	defer rc.Close()
	b, err := io.ReadAll(bud.reader(io.LimitReader(rc, opts.MaxInspectBytes+1)))
	if err != nil || int64(len(b)) > opts.MaxInspectBytes {
		return "", false
	}
	text, err := docxText(bytes.NewReader(b), int64(len(b)), opts.MaxDocxXMLBytes, bud)
	return text, err == nil
}

// classifyText gives a kind from a document's text: its title (first non-empty lines)
// by the name keywords, or a filled takedown form by its field labels.
func classifyText(names *namer, text string) (kind cases.Kind, why string) {
	n := 0
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if r := []rune(l); len(r) > 40 {
			l = string(r[:40])
		}
		if k, w := names.classify(l); k != cases.Unclassified {
			return k, "content: title line " + strings.TrimPrefix(w, "name ")
		}
		if n++; n == 2 {
			break
		}
	}
	// A filled takedown form: at least two of its request fields.
	f := ParseFields(text).Values
	n = 0
	for _, k := range []string{FieldTitle, FieldURL, FieldReason, FieldAuthor, FieldPublished} {
		if f[k] != "" {
			n++
		}
	}
	if n >= 2 {
		return cases.ApplicationForm, "content: filled takedown form (文章标题/文章链接/删除原因 fields)"
	}
	return "", ""
}

// Facts converts a classification into the policy's input: the effective applicant
// type (the principal's for an entrusted request; individual when the principal is
// unknown), and the document kinds present. Two files of one kind count once;
// unclassified files count for nothing.
func Facts(r Result) policy.Facts {
	f := policy.Facts{
		ApplicantType: r.Applicant.Type,
		ContentKind:   r.Request.ContentKind,
		Reposted:      r.Request.Reposted,
		Have:          map[cases.Kind]bool{},
	}
	if r.Applicant.Type == cases.Entrusted {
		f.Entrusted = true
		f.ApplicantType = cases.Individual
		if r.Principal != nil && r.Principal.Type == cases.Organisation {
			f.ApplicantType = cases.Organisation
		}
	}
	if f.ApplicantType == "" {
		f.ApplicantType = cases.Individual
	}
	if f.ContentKind == "" {
		f.ContentKind = cases.Unknown
	}
	for _, d := range r.Documents {
		if d.Kind != cases.Unclassified && d.Kind != "" {
			f.Have[d.Kind] = true
		}
	}
	return f
}
