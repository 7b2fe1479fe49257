package mailmsg

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/mail"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// LimitError says which limit of Limits a message exceeded so badly that it could not
// be parsed at all (the whole message, or its top-level header block).
type LimitError struct {
	Limit string // field name in Limits, e.g. "MaxMessageBytes"
	Max   int64  // the limit in force
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("message exceeds %s (%d)", e.Limit, e.Max)
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = DefaultLimits.MaxMessageBytes
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultLimits.MaxHeaderBytes
	}
	if l.MaxParts <= 0 {
		l.MaxParts = DefaultLimits.MaxParts
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxAttachmentBytes <= 0 {
		l.MaxAttachmentBytes = DefaultLimits.MaxAttachmentBytes
	}
	if l.MaxTextBytes <= 0 {
		l.MaxTextBytes = DefaultLimits.MaxTextBytes
	}
	return l
}

// headersKept are the only raw headers copied into Message.Headers.
var headersKept = [...]string{
	"X-Mailer", "User-Agent", "X-QQ-mid", "X-Auto-Response-Suppress", "Auto-Submitted",
	"List-Id", "Precedence", "X-Original-To", "Delivered-To",
}

// Parse reads one raw RFC 5322 message from r, writes every attachment to spool as it
// is decoded and returns the decoded view.
//
// Malformed mail is not an error: what can be read is returned and the rest is
// described in Message.Problems. Errors are returned only when the message cannot be
// taken at all or when we failed: a *LimitError (use errors.As) when the message is
// bigger than lim.MaxMessageBytes or its top-level header bigger than
// lim.MaxHeaderBytes; a wrapped read error of r; a wrapped spool error (temporary,
// ours, retry later). Together with a spool or size error the partial Message is
// returned as well, so the caller can remove the spool files it names.
//
// A zero field of lim takes its value from DefaultLimits.
func Parse(r io.Reader, spool Spool, lim Limits) (*Message, error) {
	return ParseContext(context.Background(), r, spool, lim)
}

// ParseContext is Parse within the time budget that ctx carries (issue 13, 3: one mail
// must not stall the desk). When ctx ends the parse stops where it is and returns what
// was read, with no error: the file being decoded is listed with Skipped set, the
// rest of the message is not read (the caller drains r if it must), and Problems says
// so; Stopped reports it. The caller tells a spent budget from a shutdown by its own
// contexts.
func ParseContext(ctx context.Context, r io.Reader, spool Spool, lim Limits) (*Message, error) {
	lim = lim.withDefaults()
	cr := &countingReader{ctx: ctx, r: r, max: lim.MaxMessageBytes}
	br := bufio.NewReaderSize(cr, 16<<10)
	h, pushback, err := readHeader(br, lim.MaxHeaderBytes, true)
	if errors.Is(err, errHeaderTooBig) {
		return nil, &LimitError{Limit: "MaxHeaderBytes", Max: int64(lim.MaxHeaderBytes)}
	}
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	p := &parser{ctx: ctx, lim: lim, spool: spool, msg: &Message{Headers: map[string]string{}}, parts: 1}
	p.topHeader(&h)
	var body io.Reader = br
	if pushback != nil {
		body = io.MultiReader(bytes.NewReader(pushback), br)
		p.problem("header block not ended by an empty line")
	}
	p.walk(body, &h, 0, "", false, "")
	p.chooseText()
	m := p.msg
	m.Auto, m.AutoReason = detectAuto(&h, m, p.report, p.machinePart)
	if p.fatal != nil {
		return m, p.fatal
	}
	return m, nil
}

// countingReader fails with *LimitError once more than max bytes were read, and with
// a budgetError once ctx has ended: every decoding loop reads through it, so none
// outlives the budget by more than one buffer.
type countingReader struct {
	ctx context.Context
	r   io.Reader
	n   int64
	max int64
	err error
}

// budgetError is a read stopped because the message's context ended.
type budgetError struct{ err error }

func (e *budgetError) Error() string { return "message budget: " + e.err.Error() }
func (e *budgetError) Unwrap() error { return e.err }

func (c *countingReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if err := c.ctx.Err(); err != nil {
		c.err = &budgetError{err: err}
		return 0, c.err
	}
	if room := c.max - c.n + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		c.err = &LimitError{Limit: "MaxMessageBytes", Max: c.max}
		return 0, c.err
	}
	return n, err
}

// parser holds the state of one Parse call.
type parser struct {
	ctx   context.Context
	lim   Limits
	spool Spool
	msg   *Message
	parts int

	stopped     bool  // MaxParts or a part header limit hit: walk no further
	fatal       error // spool or read error: abort
	deepNoted   bool
	report      string // report-type of a top-level multipart/report
	machinePart string // media type of a DSN/ARF/MDN part of the outer message

	// text candidates: [plain, html] of the outer message, then of attached messages
	texts [4]*textCand
}

type textCand struct {
	text      string
	truncated bool
}

func (p *parser) problem(s string) {
	for _, q := range p.msg.Problems {
		if q == s {
			return
		}
	}
	if len(p.msg.Problems) < 100 {
		p.msg.Problems = append(p.msg.Problems, s)
	}
}

func (p *parser) problems(ss []string) {
	for _, s := range ss {
		p.problem(s)
	}
}

// readFailed records an error of the underlying reader as fatal; a spent budget
// only stops the walk.
func (p *parser) readFailed(err error) {
	if isBudget(err) {
		p.outOfBudget()
		return
	}
	if p.fatal == nil {
		p.fatal = fmt.Errorf("read message: %w", err)
	}
}

func isBudget(err error) bool {
	var be *budgetError
	return errors.As(err, &be)
}

// outOfBudget stops the walk because the message's context ended.
func (p *parser) outOfBudget() {
	if !p.msg.Stopped {
		p.msg.Stopped = true
		p.problem("not read past the message's time budget: the rest of the message is not listed")
	}
	p.stopped = true
}

// budgetSkipped is Attachment.Skipped for the file being decoded when the budget ran out.
const budgetSkipped = "not read: the message's time budget ran out"

func (p *parser) topHeader(h *header) {
	m := p.msg
	subj, probs := decodeText(h.get("subject"))
	p.problems(probs)
	m.Subject = strings.TrimSpace(collapseSpace(subj))
	if from := parseAddressList(h.get("from")); len(from) > 0 {
		m.From = from[0]
	}
	m.ReplyTo = parseAddressList(h.get("reply-to"))
	m.To = parseAddressList(h.get("to"))
	m.Cc = parseAddressList(h.get("cc"))
	if ids := parseIDs(h.get("message-id")); len(ids) > 0 {
		m.MessageID = ids[0]
	}
	m.InReplyTo = parseIDs(h.get("in-reply-to"))
	m.References = parseIDs(h.get("references"))
	m.Date = parseDate(h.get("date"))
	if h.has("return-path") {
		rp := strings.TrimSpace(string(stripComment(h.get("return-path"))))
		rp = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(rp, "<"), ">"))
		if rp == "" {
			m.NullSender = true
		} else {
			m.Sender = normAddr([]byte(rp))
		}
	}
	for _, f := range h.fields {
		if f.name == "received" || f.name == "authentication-results" {
			m.Trace = append(m.Trace, TraceField{Received: f.name == "received", Value: strings.ToValidUTF8(string(f.raw), "\uFFFD")})
		}
	}
	for _, name := range headersKept {
		if v := h.get(strings.ToLower(name)); v != nil {
			s, _ := decodeText(v)
			m.Headers[name] = strings.TrimSpace(s)
		}
	}
	m.Mailer = m.Headers["X-Mailer"]
	if m.Mailer == "" {
		m.Mailer = m.Headers["User-Agent"]
	}
}

// parseDate parses a Date header, also with a trailing "(UTC)" comment and without a
// numeric zone; zero when it cannot be read.
func parseDate(raw []byte) time.Time {
	s := strings.TrimSpace(strings.ToValidUTF8(string(raw), ""))
	if s == "" {
		return time.Time{}
	}
	if t, err := mail.ParseDate(s); err == nil {
		return t
	}
	s = strings.Join(strings.Fields(string(stripComment([]byte(s)))), " ")
	if t, err := mail.ParseDate(s); err == nil {
		return t
	}
	for _, layout := range []string{
		"Mon, 2 Jan 2006 15:04:05", "2 Jan 2006 15:04:05", "Mon, 2 Jan 2006 15:04",
		"Mon, 2 Jan 2006 15:04:05 MST", "Mon Jan 2 15:04:05 2006",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// walk processes one entity (header h, body r) at the given nesting depth.
// charset is the charset declared on the enclosing multipart (inherited by parts that
// declare none); inner is true inside an attached message; parentType is the media
// type of the enclosing multipart.
func (p *parser) walk(r io.Reader, h *header, depth int, charset string, inner bool, parentType string) {
	if p.stopped || p.fatal != nil {
		return
	}
	if p.ctx.Err() != nil {
		p.outOfBudget()
		return
	}
	ct := parseMediaValue(h.get("content-type"))
	p.problems(ct.problems)
	media := ct.value
	switch {
	case media == "" && parentType == "multipart/digest":
		media = "message/rfc822"
	case media == "":
		media = "text/plain"
	case strings.IndexByte(media, '/') <= 0 || strings.ContainsAny(media, " \t\""):
		p.problem("invalid media type " + quoteShort(media))
		media = "application/octet-stream"
	}
	if cs := ct.params["charset"]; cs != "" {
		charset = cs
	}
	if strings.HasPrefix(media, "multipart/") {
		boundary := ct.raw["boundary"]
		if boundary == "" {
			boundary = ct.params["boundary"]
		}
		if boundary == "" {
			p.problem("multipart without boundary")
			media = "text/plain"
		} else {
			if depth >= p.lim.MaxDepth {
				p.tooDeep()
				return
			}
			if !inner && depth == 0 && media == "multipart/report" {
				p.report = strings.ToLower(ct.params["report-type"])
				if p.report == "" {
					p.report = "unknown"
				}
			}
			p.multipart(r, boundary, depth, charset, inner, media)
			return
		}
	}
	cd := parseMediaValue(h.get("content-disposition"))
	p.problems(cd.problems)
	cte, known := normCTE(h.get("content-transfer-encoding"))
	if !known {
		p.problem("unknown transfer encoding " + quoteShort(strings.ToLower(string(h.get("content-transfer-encoding")))))
	}
	switch media {
	case "message/rfc822", "message/global":
		p.embedded(r, ct, cd, cte, depth)
		return
	case "message/delivery-status", "message/global-delivery-status", "message/feedback-report",
		"message/disposition-notification", "message/global-disposition-notification",
		"text/rfc822-headers", "message/global-headers":
		// Machine-readable report parts: neither text nor attachment.
		if !inner && p.machinePart == "" {
			p.machinePart = media
		}
		return
	}
	filename := cd.params["filename"]
	if filename == "" {
		filename = ct.params["name"]
	}
	disp := cd.value
	attach := disp == "attachment" || filename != ""
	if media == "application/ms-tnef" || strings.EqualFold(strings.TrimSpace(filename), "winmail.dat") {
		p.problem("winmail.dat (TNEF) not unpacked")
		if filename == "" {
			filename = "winmail.dat"
		}
		attach = true
	}
	textual := media == "text/plain" || media == "text/html"
	if !attach && !strings.HasPrefix(media, "text/") {
		attach = true // an image or document without a name is still a file
	}
	if !attach {
		if textual {
			p.text(r, media, charset, cte, inner)
		}
		return
	}
	p.attachment(r, Attachment{
		Filename:         sanitizeFilename(filename),
		OriginalFilename: originalIfDisguised(filename),
		ContentType:      media,
		Inline:           disp != "attachment" && filename != "",
	}, cte)
}

// originalIfDisguised is the sent name when it holds format controls, "" otherwise.
func originalIfDisguised(name string) string {
	if strings.IndexFunc(name, func(r rune) bool { return unicode.Is(unicode.Cf, r) }) < 0 {
		return ""
	}
	return strings.ToValidUTF8(name, "\uFFFD")
}

// executable says why content is a program: by its first bytes (PE, ELF, Mach-O, a
// script's #!) or by its name (Windows runs .exe, .scr, .js … whatever the bytes).
func executable(head []byte, name string) string {
	switch {
	case bytes.HasPrefix(head, []byte("MZ")):
		return "Windows executable (MZ)"
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return "ELF executable"
	case bytes.HasPrefix(head, []byte{0xfe, 0xed, 0xfa, 0xce}), bytes.HasPrefix(head, []byte{0xfe, 0xed, 0xfa, 0xcf}),
		bytes.HasPrefix(head, []byte{0xcf, 0xfa, 0xed, 0xfe}), bytes.HasPrefix(head, []byte{0xce, 0xfa, 0xed, 0xfe}):
		return "Mach-O executable"
	case bytes.HasPrefix(head, []byte("#!")):
		return "script (#!)"
	}
	return ProgramName(name)
}

// ProgramName says why a file of this name is a program, "" when its name does not
// make it one: Windows runs .exe, .scr, .js … whatever the bytes. Package classify
// uses it for the files of a zip, which are listed, never extracted.
func ProgramName(name string) string {
	// Windows drops trailing dots and spaces: 身份证.jpg.exe. is saved as, and runs
	// as, 身份证.jpg.exe.
	ext := strings.ToLower(path.Ext(strings.TrimRight(name, ". ")))
	switch ext {
	case ".exe", ".com", ".scr", ".pif", ".bat", ".cmd", ".msi", ".msp", ".js", ".jse", ".vbs", ".vbe", ".wsf", ".wsh",
		".ps1", ".hta", ".cpl", ".jar", ".lnk", ".reg", ".apk", ".dll", ".sh", ".app", ".dmg", ".iso":
		return "program by its name " + ext
	}
	return ""
}

func quoteShort(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > 60 {
		s = s[:60]
	}
	return fmt.Sprintf("%q", s)
}

func (p *parser) tooDeep() {
	if !p.deepNoted {
		p.deepNoted = true
		p.problem(fmt.Sprintf("nesting deeper than %d levels not walked", p.lim.MaxDepth))
	}
}

func (p *parser) multipart(r io.Reader, boundary string, depth int, charset string, inner bool, media string) {
	mr := newMultipartReader(r, boundary)
	for !p.stopped && p.fatal == nil {
		part, err := mr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.readFailed(err)
			return
		}
		p.parts++
		if p.parts > p.lim.MaxParts {
			p.problem(fmt.Sprintf("too many parts (more than %d): rest not walked", p.lim.MaxParts))
			p.stopped = true
			return
		}
		br := bufio.NewReaderSize(part, 4<<10)
		ph, pushback, err := readHeader(br, p.lim.MaxHeaderBytes, false)
		if errors.Is(err, errHeaderTooBig) {
			p.problem(fmt.Sprintf("part header bigger than %d bytes: rest not walked", p.lim.MaxHeaderBytes))
			p.stopped = true
			return
		}
		if err != nil {
			p.readFailed(err)
			return
		}
		var body io.Reader = br
		if pushback != nil {
			body = io.MultiReader(bytes.NewReader(pushback), br)
		}
		p.walk(body, &ph, depth+1, charset, inner, media)
	}
	if mr.err != nil {
		p.readFailed(mr.err)
	}
	if p.stopped || p.fatal != nil {
		return
	}
	switch {
	case mr.noParts:
		p.problem("multipart boundary never found: no parts")
	case mr.unterminated:
		p.problem("multipart without final boundary")
	}
}

// text reads a text body (bounded), decodes it and offers it as a Text candidate.
func (p *parser) text(r io.Reader, media, charset, cte string, inner bool) {
	slot := 0
	if media == "text/html" {
		slot = 1
	}
	if inner {
		slot += 2
	}
	if p.texts[slot] != nil {
		return // not the first of its kind: the multipart reader drains it
	}
	limit := int64(p.lim.MaxTextBytes)*4 + 4096
	raw, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		p.readFailed(err)
		return
	}
	truncated := int64(len(raw)) > limit
	if truncated {
		raw = raw[:limit]
	}
	var dec []byte
	switch cte {
	case cteBase64:
		var invalid int
		dec, invalid = decodeBase64(raw)
		if invalid+innerSpaces(raw) > len(raw)/20 {
			// Declared base64 but plainly not (an Exchange relay quirk): keep the text.
			p.problem("text declared base64 is not base64")
			dec = raw
		}
	case cteQP, cteUU:
		dec, _ = io.ReadAll(transferDecoder(bytes.NewReader(raw), cte))
	default:
		dec = raw
	}
	s, prob := decodeBody(charset, dec)
	if prob != "" {
		p.problem(prob)
	}
	// A byte order mark (Notepad's UTF-8, GB18030's, UTF-16LE's) is no text: kept, it
	// stuck to the first line's label (\uFEFF姓名：) and the field was lost.
	s = strings.TrimPrefix(s, "\uFEFF")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if media == "text/html" {
		s = htmlToText(s)
	}
	if len(s) > p.lim.MaxTextBytes {
		cut := p.lim.MaxTextBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
		truncated = true
	}
	if truncated {
		s = strings.TrimRight(s, "\uFFFD")
	}
	p.texts[slot] = &textCand{text: s, truncated: truncated}
}

// innerSpaces counts spaces and tabs between two non-blank bytes of a line: base64
// has none, prose has one every few bytes.
func innerSpaces(b []byte) int {
	n := 0
	for i := 1; i+1 < len(b); i++ {
		if (b[i] == ' ' || b[i] == '\t') && b[i-1] > ' ' && b[i+1] > ' ' {
			n++
		}
	}
	return n
}

func (p *parser) chooseText() {
	for i, c := range p.texts {
		if c != nil {
			p.msg.Text = c.text
			p.msg.TextTruncated = c.truncated
			p.msg.HTML = i%2 == 1
			return
		}
	}
}

// sink writes decoded attachment bytes to a spool file, hashing and counting them;
// past max bytes it aborts the file and only counts.
type sink struct {
	f       SpoolFile
	h       hash.Hash
	size    int64
	max     int64
	skipped bool
	err     error
	head    []byte // the first sniffLen bytes, for what the content really is
}

// sniffLen is what http.DetectContentType reads.
const sniffLen = 512

func (s *sink) Write(b []byte) (int, error) {
	if n := sniffLen - len(s.head); n > 0 {
		s.head = append(s.head, b[:min(n, len(b))]...)
	}
	s.size += int64(len(b))
	if s.skipped || s.err != nil {
		return len(b), nil
	}
	if s.size > s.max {
		s.abort()
		s.skipped = true
		return len(b), nil
	}
	s.h.Write(b)
	if _, err := s.f.Write(b); err != nil {
		s.abort()
		s.err = err
	}
	return len(b), nil
}

// abort aborts the spool file once.
func (s *sink) abort() {
	if !s.skipped && s.err == nil {
		s.f.Abort()
	}
}

// finish commits the spool file into a, or records why it was not stored.
func (p *parser) finish(s *sink, a *Attachment) {
	a.Size = s.size
	switch {
	case s.err != nil:
		if p.fatal == nil {
			p.fatal = fmt.Errorf("spool attachment: %w", s.err)
		}
		a.Skipped = "spool error"
	case s.skipped:
		a.Skipped = "too large"
		p.problem(fmt.Sprintf("attachment bigger than %d bytes not stored", p.max()))
	default:
		id, err := s.f.Commit()
		if err != nil {
			if p.fatal == nil {
				p.fatal = fmt.Errorf("commit attachment: %w", err)
			}
			a.Skipped = "spool error"
			return
		}
		a.SpoolID = id
		a.SHA256 = hex.EncodeToString(s.h.Sum(nil))
	}
	if len(s.head) > 0 {
		a.Sniffed, _, _ = strings.Cut(http.DetectContentType(s.head), ";")
	}
	a.Executable = executable(s.head, a.Filename)
}

func (p *parser) max() int64 { return p.lim.MaxAttachmentBytes }

func (p *parser) newSink() *sink {
	f, err := p.spool.Create()
	if err != nil {
		if p.fatal == nil {
			p.fatal = fmt.Errorf("create spool file: %w", err)
		}
		return nil
	}
	return &sink{f: f, h: sha256.New(), max: p.lim.MaxAttachmentBytes}
}

func (p *parser) attachment(r io.Reader, a Attachment, cte string) {
	s := p.newSink()
	if s == nil {
		return
	}
	if _, err := io.Copy(s, transferDecoder(r, cte)); err != nil {
		s.abort()
		p.readFailed(err)
		if isBudget(err) {
			// Still a file the sender sent: listed, its content not kept.
			a.Size, a.Skipped = s.size, budgetSkipped
			p.msg.Attachments = append(p.msg.Attachments, a)
		}
		return
	}
	p.finish(s, &a)
	p.msg.Attachments = append(p.msg.Attachments, a)
}

// embedded stores an attached message as a file (.eml) and walks it at the same time
// through a tee, so the files inside a forwarded mail are listed too.
func (p *parser) embedded(r io.Reader, ct, cd mediaValue, cte string, depth int) {
	s := p.newSink()
	if s == nil {
		return
	}
	tee := io.TeeReader(transferDecoder(r, cte), s)
	br := bufio.NewReaderSize(tee, 4<<10)
	idx := len(p.msg.Attachments)
	p.msg.Attachments = append(p.msg.Attachments, Attachment{ContentType: ct.value, Embedded: true})
	filename := cd.params["filename"]
	if filename == "" {
		filename = ct.params["name"]
	}
	ih, pushback, err := readHeader(br, p.lim.MaxHeaderBytes, false)
	switch {
	case errors.Is(err, errHeaderTooBig):
		p.problem("attached message header too big: not walked")
	case err != nil:
		s.abort()
		p.readFailed(err)
		p.msg.Attachments[idx].Skipped = "not stored"
		return
	default:
		if filename == "" {
			subj, _ := decodeText(ih.get("subject"))
			if subj = sanitizeFilename(collapseSpace(subj)); subj != "" {
				filename = subj + ".eml"
			}
		}
		var body io.Reader = br
		if pushback != nil {
			body = io.MultiReader(bytes.NewReader(pushback), br)
		}
		p.parts++
		switch {
		case p.parts > p.lim.MaxParts:
			p.problem(fmt.Sprintf("too many parts (more than %d): rest not walked", p.lim.MaxParts))
			p.stopped = true
		case depth+1 > p.lim.MaxDepth:
			p.tooDeep()
		default:
			p.walk(body, &ih, depth+1, "", true, "")
		}
	}
	if p.fatal != nil || p.msg.Stopped {
		s.abort()
		p.msg.Attachments[idx].Skipped = "not stored"
		if p.msg.Stopped {
			p.msg.Attachments[idx].Skipped = budgetSkipped
		}
		return
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		s.abort()
		p.readFailed(err)
		p.msg.Attachments[idx].Skipped = "not stored"
		if isBudget(err) {
			p.msg.Attachments[idx].Skipped = budgetSkipped
		}
		return
	}
	if filename == "" {
		filename = "message.eml"
	}
	a := Attachment{Filename: sanitizeFilename(filename), ContentType: ct.value, Embedded: true}
	p.finish(s, &a)
	p.msg.Attachments[idx] = a
}

// sanitizeFilename keeps the base name (Netscape sent "C:\TEMP\x.png"), drops control
// characters and Unicode format controls (bidi overrides, zero-width characters: they
// make 身份证\u202Egpj.exe read as 身份证exe.jpg) and caps the length at 255 runes.
func sanitizeFilename(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7F || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > 255 {
		s = string([]rune(s)[:255])
	}
	return s
}
