package demo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode replies in any charset

	"github.com/complaintd/complaintd/internal/caseprint"
	"github.com/complaintd/complaintd/internal/demo/memserver"
)

// printReport prints what the daemon recorded and every mail it sent.
func printReport(w io.Writer, rec records, sent []memserver.SinkMessage, loc *time.Location) {
	fmt.Fprintf(w, "\n=== Mail registered (%d) ===\n", len(rec.messages))
	caseprint.Messages(w, rec.messages)
	fmt.Fprintf(w, "\n=== Cases (%d) ===\n", len(rec.cases))
	caseprint.Table(w, rec.cases, loc)
	for _, c := range rec.cases {
		fmt.Fprintln(w)
		caseprint.Detail(w, c, loc)
	}
	fmt.Fprintf(w, "\n=== Mail sent (%d: replies to complainants, notifications to staff) ===\n", len(sent))
	for _, r := range sent {
		printSent(w, r)
	}
	if rec.pending > 0 {
		fmt.Fprintf(w, "\n(%d more mails were still queued when the demo stopped)\n", rec.pending)
	}
}

// printSent shows one sent mail the way its recipient reads it.
func printSent(w io.Writer, r memserver.SinkMessage) {
	m, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		fmt.Fprintf(w, "  (unreadable reply: %v)\n", err)
		return
	}
	subj, _ := decodeHeader(m.Header.Get("Subject"))
	fmt.Fprintf(w, "\nTo: %s\nSubject: %s\nIn-Reply-To: %s\nAuto-Submitted: %s\n", strings.Join(r.To, ", "), subj,
		m.Header.Get("In-Reply-To"), m.Header.Get("Auto-Submitted"))
	if rt, _ := decodeHeader(m.Header.Get("Reply-To")); rt != "" {
		fmt.Fprintf(w, "Reply-To: %s   (staff reply here with 受理 / 驳回 理由 / 补充 …)\n", rt)
	}
	if ct := m.Header.Get("Content-Type"); strings.HasPrefix(ct, "multipart/mixed") {
		fmt.Fprintln(w, "(the case documents are attached)")
	}
	fmt.Fprintln(w)
	text, err := plainText(r.Data)
	if err != nil {
		text = "(" + err.Error() + ")"
	}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		fmt.Fprintf(w, "  | %s\n", line)
	}
}

// printInspect tells how to look at the kept data with the ordinary commands.
func printInspect(w io.Writer, cfgPath string, rec records) {
	fmt.Fprintf(w, "\nThe data is kept. Inspect it with:\n")
	fmt.Fprintf(w, "  complaintd cases list -config %s\n", cfgPath)
	if len(rec.cases) > 0 {
		fmt.Fprintf(w, "  complaintd cases show %s -config %s\n", rec.cases[0].ID, cfgPath)
	}
	fmt.Fprintf(w, "  complaintd stats -config %s\n", cfgPath)
}

func decodeHeader(s string) (string, error) {
	return new(mime.WordDecoder).DecodeHeader(s)
}

// plainText returns the text/plain part of a mail the daemon sent.
func plainText(raw []byte) (string, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		return "", err
	}
	var found string
	err = e.Walk(func(path []int, part *message.Entity, err error) error {
		if err != nil || found != "" {
			return nil
		}
		t, _, _ := part.Header.ContentType()
		if t == "text/plain" {
			b, err := io.ReadAll(part.Body)
			if err != nil {
				return err
			}
			found = string(b)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if found == "" {
		return "", errors.New("no text part")
	}
	return strings.ReplaceAll(found, "\r\n", "\n"), nil
}
