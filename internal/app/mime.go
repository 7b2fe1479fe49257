package app

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode replies in any charset
)

func decodeHeader(s string) (string, error) {
	return new(mime.WordDecoder).DecodeHeader(s)
}

// plainText returns the text/plain part of a reply we sent (for the demo's printout).
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
		return "", fmt.Errorf("no text part")
	}
	return strings.ReplaceAll(found, "\r\n", "\n"), nil
}
