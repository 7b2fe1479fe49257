package samplemail

import (
	"bytes"
	"io"
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // GBK
)

// Both client styles must read back as written: the subject, the sender's
// name, the body and every file name, whatever the charset.
func TestRoundTrip(t *testing.T) {
	for _, gbk := range []bool{false, true} {
		m := Mail{
			From: "王五|wangwu@foxmail.com", To: "desk@example.cn", Subject: "王五申请删除凤凰博客稿件，一个相当长的标题，长到要分成几个编码词才行",
			MessageID: "a@example.cn", InReplyTo: "b@example.cn", References: []string{"c@example.cn", "b@example.cn"},
			Body: "姓名：王五\n", GBK: gbk, Mailer: "Foxmail", Headers: []string{"Received: from mx by desk"},
			Files: []File{{"删帖申请表.jpg", "image/jpeg", []byte{0xFF, 0xD8}}, {"IMG_2031.jpg", "image/jpeg", []byte("x")}},
		}
		raw := m.Bytes()
		if !bytes.HasPrefix(raw, []byte("Received: from mx by desk\r\n")) {
			t.Errorf("gbk=%v: extra headers are not first", gbk)
		}
		e, err := message.Read(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("gbk=%v: read: %v", gbk, err)
		}
		dec := mime.WordDecoder{CharsetReader: message.CharsetReader}
		subj, err := dec.DecodeHeader(e.Header.Get("Subject"))
		if err != nil || subj != m.Subject {
			t.Errorf("gbk=%v: subject %q (%v)", gbk, subj, err)
		}
		if from, _ := dec.DecodeHeader(e.Header.Get("From")); from != "王五 <wangwu@foxmail.com>" {
			t.Errorf("gbk=%v: from %q", gbk, from)
		}
		if d, _ := time.Parse(time.RFC1123Z, e.Header.Get("Date")); !d.Equal(defaultDate()) {
			t.Errorf("gbk=%v: date %q, want the fixed default", gbk, e.Header.Get("Date"))
		}
		if got := e.Header.Get("References"); got != "<c@example.cn> <b@example.cn>" {
			t.Errorf("gbk=%v: references %q", gbk, got)
		}
		var names []string
		var body string
		err = e.Walk(func(_ []int, part *message.Entity, err error) error {
			if err != nil {
				return err
			}
			if ct, _, _ := part.Header.ContentType(); ct == "text/plain" {
				b, _ := io.ReadAll(part.Body)
				body = string(b)
			}
			if _, p, err := part.Header.ContentDisposition(); err == nil && p["filename"] != "" {
				n, _ := dec.DecodeHeader(p["filename"])
				names = append(names, n)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("gbk=%v: walk: %v", gbk, err)
		}
		if body != m.Body {
			t.Errorf("gbk=%v: body %q", gbk, body)
		}
		if strings.Join(names, ",") != "删帖申请表.jpg,IMG_2031.jpg" {
			t.Errorf("gbk=%v: file names %q", gbk, names)
		}
	}
}
