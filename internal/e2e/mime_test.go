package e2e

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset"
)

// plainPart returns the decoded text/plain part of a mail.
func plainPart(raw []byte) (string, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) {
		return "", err
	}
	var text string
	err = e.Walk(func(_ []int, p *message.Entity, err error) error {
		if err != nil || text != "" {
			return nil
		}
		if t, _, _ := p.Header.ContentType(); t == "text/plain" {
			b, err := io.ReadAll(p.Body)
			if err != nil {
				return err
			}
			text = string(b)
		}
		return nil
	})
	if err == nil && text == "" {
		err = errors.New("no text/plain part")
	}
	return strings.ReplaceAll(text, "\r\n", "\n"), err
}
