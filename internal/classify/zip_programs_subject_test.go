package classify

import (
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailmsg"
)

// A program is never a document (SPEC §2, commit 67687ff), and a name never shows
// other than it reads: both held for a file attached to the mail, not for the files
// listed from a zip it carries. 身份证.exe in a zip counted as the ID card and could make
// the case complete; 申请表\u202Efdp.scr, which shows as 申请表rcs.pdf, counted as the
// form and went with its override (and any line break a zip name holds) into the
// acknowledgement and the staff notification.
func TestProgramsInsideAZipAreNeverDocuments(t *testing.T) {
	z := buildZip(t,
		zipFile{name: "身份证.exe", data: []byte("MZ\x90\x00")},
		zipFile{name: "申请表\u202Efdp.scr", data: []byte("x")},
		zipFile{name: "说明函.pdf.lnk", data: []byte("x")},
		zipFile{name: "营业执照.jpg\n受理", data: []byte("x")},
		zipFile{name: "证明/判决书.pdf", data: []byte("x")},
	)
	op := &memOpener{files: map[string][]byte{"z": z}}
	msg := &mailmsg.Message{Attachments: []mailmsg.Attachment{{Filename: "材料.zip", SpoolID: "z", Size: int64(len(z)), Sniffed: "application/zip"}}}
	res := Classify(msg, op, Options{})

	type want struct {
		kind     cases.Kind
		flagged  bool
		original string
	}
	wants := map[string]want{
		"身份证.exe":     {cases.Unclassified, true, ""},
		"申请表fdp.scr":  {cases.Unclassified, true, "申请表\u202Efdp.scr"},
		"说明函.pdf.lnk": {cases.Unclassified, true, ""},
		"营业执照.jpg受理":  {cases.BusinessLicense, false, "营业执照.jpg\n受理"},
		"证明/判决书.pdf":  {cases.ReasonProof, false, ""},
	}
	seen := 0
	for _, d := range res.Documents {
		if d.Container == "" {
			continue
		}
		seen++
		w, ok := wants[d.Filename]
		if !ok {
			t.Errorf("entry listed as %q (%s), a name with controls kept", d.Filename, d.Kind)
			continue
		}
		if d.Kind != w.kind || (d.Flagged != "") != w.flagged || d.OriginalFilename != w.original {
			t.Errorf("%q: kind %s flagged %q original %q; want kind %s flagged %v original %q",
				d.Filename, d.Kind, d.Flagged, d.OriginalFilename, w.kind, w.flagged, w.original)
		}
	}
	if seen != len(wants) {
		t.Errorf("%d entries listed, want %d", seen, len(wants))
	}
	if have := Facts(res).Have; have[cases.IDCard] || have[cases.ApplicationForm] || have[cases.ExplanationLetter] {
		t.Errorf("programs count as documents: %v", have)
	}
}

// A note or label before the name ("补充材料：张三申请删除…", "【张三】申请删除…") is
// not part of it: the subject's "name" 补充材料：张三 became the applicant's name, the
// To: display name and the salutation of every reply. Such a subject does not follow
// the convention; the name comes from the form.
func TestSubjectNameHoldsNoLabelOrBrackets(t *testing.T) {
	for _, subj := range []string{
		"补充材料：张三申请删除凤凰资讯稿件",
		"申请人:张三申请删除凤凰资讯稿件",
		"【张三】申请删除凤凰资讯稿件",
	} {
		res := Classify(&mailmsg.Message{Subject: subj, Text: "姓名：张三\n"}, nil, Options{})
		if res.Applicant.Name != "张三" {
			t.Errorf("%s: applicant name %q, want 张三", subj, res.Applicant.Name)
		}
	}
	if p := ParseSubject("张三(蒙牛奶业集团)申请删除凤凰资讯稿件"); !p.Conforms || p.Name != "张三" {
		t.Errorf("the seed's example: %+v", p)
	}
}
