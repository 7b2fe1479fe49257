package classify

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/mailmsg"
)

// paddedForm is a .docx whose title says 删帖申请表 and whose document.xml inflates to
// about pad bytes more (a comment: compressible, read, no text).
func paddedForm(t *testing.T, pad int) []byte {
	t.Helper()
	xml := `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` +
		`<w:p><w:r><w:t>删帖申请表</w:t></w:r></w:p><!--` + strings.Repeat(" ", pad) + `--></w:body></w:document>`
	return buildZip(t, zipFile{name: "word/document.xml", data: []byte(xml)})
}

// TestInflateBudgetIsPerMessage: the bytes inflated are summed over every .docx of one
// mail; once the sum passes Options.MaxInflateBytes the files left are listed by name
// and say why their content was not read (issue 13, 3: eight bombs cost what one does).
func TestInflateBudgetIsPerMessage(t *testing.T) {
	form := paddedForm(t, 1<<20)
	op := &memOpener{files: map[string][]byte{}}
	var atts []mailmsg.Attachment
	for i := range 6 {
		id := fmt.Sprint(i)
		op.files[id] = form
		atts = append(atts, att(fmt.Sprintf("附件%d.docx", i), id, int64(len(form))))
	}
	r := Classify(msgWith("删帖", "", atts...), op, Options{MaxInflateBytes: 5 << 19}) // 2.5 MiB: two forms and a half
	read, stopped := 0, 0
	for _, d := range r.Documents {
		switch {
		case d.Kind == cases.ApplicationForm:
			read++
		case strings.Contains(d.Why, "decompression budget"):
			stopped++
		default:
			t.Errorf("document %s: kind %s, why %q", d.Filename, d.Kind, d.Why)
		}
	}
	if read != 2 || stopped != 4 || len(r.Documents) != 6 {
		t.Errorf("%d read, %d stopped of %d: want 2 read by content and 4 listed by name", read, stopped, len(r.Documents))
	}
	if !strings.Contains(strings.Join(r.Why, "\n"), "decompression budget") {
		t.Errorf("Result.Why does not say the budget stopped reading: %q", r.Why)
	}
	// The default is generous: the same mail reads every form.
	r = Classify(msgWith("删帖", "", atts...), op, Options{})
	for _, d := range r.Documents {
		if d.Kind != cases.ApplicationForm {
			t.Errorf("with the default budget %s was not read: %q", d.Filename, d.Why)
		}
	}
}

// TestInflateBudgetCountsZipEntries: a .docx inside a zip counts twice (the .docx
// inflated out of the zip, then its XML), against the same allowance.
func TestInflateBudgetCountsZipEntries(t *testing.T) {
	form := paddedForm(t, 1<<20)
	var files []zipFile
	for i := range 4 {
		files = append(files, zipFile{name: fmt.Sprintf("f%d.docx", i), data: form})
	}
	z := buildZip(t, files...)
	op := &memOpener{files: map[string][]byte{"z": z}}
	r := Classify(msgWith("删帖", "", att("材料.zip", "z", int64(len(z)))), op, Options{MaxInflateBytes: 3 << 19})
	var read, stopped int
	for _, d := range r.Documents[1:] {
		if d.Kind == cases.ApplicationForm {
			read++
		}
		if strings.Contains(d.Why, "decompression budget") {
			stopped++
		}
	}
	if read != 1 || stopped != 3 {
		t.Errorf("%d read, %d stopped: want 1 and 3; documents %+v", read, stopped, r.Documents)
	}
}

// TestClassifyStopsWhenContextEnds: past the message's time budget no content is read;
// the files are still listed and say why.
func TestClassifyStopsWhenContextEnds(t *testing.T) {
	form := paddedForm(t, 10)
	z := buildZip(t, zipFile{name: "a.docx", data: form})
	op := &memOpener{files: map[string][]byte{"d": form, "z": z}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := ClassifyContext(ctx, msgWith("删帖", "", att("表.docx", "d", int64(len(form))), att("材料.zip", "z", int64(len(z)))), op, Options{})
	if op.opens != 0 {
		t.Errorf("%d files opened after the budget ran out", op.opens)
	}
	if len(r.Documents) != 2 {
		t.Fatalf("documents %+v: want both files listed", r.Documents)
	}
	for _, d := range r.Documents {
		if !strings.Contains(d.Why, "time budget") {
			t.Errorf("%s: why %q does not say the time budget stopped it", d.Filename, d.Why)
		}
	}
	if !strings.Contains(strings.Join(r.Why, "\n"), "time budget") {
		t.Errorf("Result.Why = %q", r.Why)
	}
}
