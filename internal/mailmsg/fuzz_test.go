package mailmsg

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/complaintd/complaintd/internal/mailtest"
)

// FuzzParse feeds hostile bytes to Parse, seeded with the whole corpus. Invariants:
// no panic, a nil error comes with a non-nil Message, everything returned is valid
// UTF-8, and every stored attachment is in the spool with its size and hash.
// Crashers found by `go test -fuzz` are kept in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.eml"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Hostile shapes the corpus lacks.
	for _, seed := range []string{
		"Content-Type: message/rfc822\n\nContent-Type: message/rfc822\n\nContent-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: message/rfc822\n\nSubject: =?gbk?B?1eLKxw==?=\n\nx\n--a",
		"Subject: =?utf-8?q?=E6=96?= =?utf-8?q?=87?= =?x?b?=?=\nContent-Type: text/html; charset=gb2312\n\n<p><!-- <script>",
		"Content-Type: multipart/mixed; boundary=\"\"\n\n--\n\n--\n",
		"Content-Type: text/plain; charset=utf-7\n\n+2D3cqQ-+-+",
		"Content-Type: application/pdf; name*0*=gb18030''%D6; name*1*=%D0; name*3=x\nContent-Transfer-Encoding: x-uuencode\n\nbegin 644 a\n#86)C\nend\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		spool := &MemSpool{}
		var m *Message
		var err error
		// Linear in the input: the spool keeps the attachments in memory here, and
		// the decoded text is bounded.
		mailtest.Cost(t, fuzzTime(len(raw)), 16<<20+uint64(64*len(raw)), func() {
			m, err = Parse(bytes.NewReader(raw), spool, Limits{MaxMessageBytes: 1 << 20, MaxParts: 100, MaxDepth: 10})
		})
		if err != nil {
			var le *LimitError
			if !errors.As(err, &le) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if m == nil {
			t.Fatal("nil Message with nil error")
		}
		checkUTF8(t, m)
		checkSpool(t, m, spool)
	})
}

// fuzzTime is the time bound of one fuzz input of n bytes: a second, and a second
// more per 64 KB, enough for -race on a slow, loaded machine and far below what a
// quadratic path costs on the inputs the fuzzer grows.
func fuzzTime(n int) time.Duration { return time.Second + time.Duration(n>>16)*time.Second }
