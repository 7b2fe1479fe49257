// SPDX-License-Identifier: MIT

package cases

import (
	"encoding/json"

	"github.com/complaintd/complaintd/internal/pii"
)

// Personal is the personal information a case holds (PIPL): who the complainant and
// the principal are, how to reach them, what they wrote, and the names of the files
// they sent. The store keeps it sealed with the case's own key, apart from the rest of
// the record, so that destroying that key erases it while the anonymous facts (state,
// dates, kinds, department, severity) stay for statistics.
type Personal struct {
	Applicant           Party       `json:"applicant,omitzero"`
	Principal           *Party      `json:"principal,omitempty"`
	SubjectName         string      `json:"subject_name,omitempty"`
	SubjectOrg          string      `json:"subject_org,omitempty"`
	Reason              string      `json:"reason,omitempty"`      // Request.Reason
	Decision            string      `json:"decision,omitempty"`    // Case.Reason
	Complainant         string      `json:"complainant,omitempty"` // addresses
	ComplainantFrom     string      `json:"complainant_from,omitempty"`
	Author              string      `json:"author_address,omitempty"`
	Statements          []Statement `json:"statements,omitempty"`
	SatisfactionComment string      `json:"satisfaction_comment,omitempty"`
	RequestedItems      []string    `json:"requested_items,omitempty"`
	Why                 []string    `json:"why,omitempty"`
	Threads             []string    `json:"threads,omitempty"` // Message-IDs: some clients put the sender's address in them
	LastInbound         string      `json:"last_inbound,omitempty"`
	// Files are the documents' names and reasons, by position in Documents.
	Files []FileNames `json:"files,omitempty"`
}

// FileNames is the personal part of a Document: names often carry the person's name
// or ID number (王五身份证310101….jpg).
type FileNames struct {
	Filename         string `json:"filename,omitempty"`
	OriginalFilename string `json:"original_filename,omitempty"`
	Container        string `json:"container,omitempty"`
	Why              string `json:"why,omitempty"`
	Message          string `json:"message_id,omitempty"` // the mail that brought it
}

// Empty reports whether p holds nothing.
func (p Personal) Empty() bool {
	for _, f := range p.Files {
		if f != (FileNames{}) {
			return false
		}
	}
	q := p
	q.Files = nil
	if q.Principal != nil && *q.Principal == (Party{}) {
		// A principal with nothing personal left (an erased case's): sealing it
		// would give the case new keys in the erasure that destroyed them.
		q.Principal = nil
	}
	b, _ := json.Marshal(q)
	return string(b) == "{}"
}

// SplitPersonal moves the personal information out of c into the returned value; c
// keeps only what may be stored in clear.
func (c *Case) SplitPersonal() Personal {
	p := Personal{
		Applicant: personalParty(&c.Applicant), SubjectName: c.Subject.Name, SubjectOrg: c.Subject.Org,
		Reason: c.Request.Reason, Decision: c.Reason, Complainant: c.Complainant, ComplainantFrom: c.ComplainantFrom,
		Author: c.Author, Statements: c.Statements, SatisfactionComment: c.SatisfactionComment,
		RequestedItems: c.RequestedItems, Why: c.Why, Threads: c.Threads, LastInbound: c.LastInbound,
	}
	if c.Principal != nil {
		pp := *c.Principal
		rest := pp
		v := personalParty(&rest)
		p.Principal = &v
		c.Principal = &rest
	}
	c.Subject.Name, c.Subject.Org, c.Request.Reason, c.Reason = "", "", "", ""
	c.Complainant, c.ComplainantFrom, c.Author = "", "", ""
	c.Statements, c.SatisfactionComment, c.RequestedItems, c.Why, c.Threads, c.LastInbound = nil, "", nil, nil, nil, ""
	if len(c.Documents) > 0 {
		docs := make([]Document, len(c.Documents))
		copy(docs, c.Documents)
		p.Files = make([]FileNames, len(docs))
		for i := range docs {
			d := &docs[i]
			p.Files[i] = FileNames{Filename: d.Filename, OriginalFilename: d.OriginalFilename, Container: d.Container, Why: d.Why, Message: d.Message}
			d.Filename, d.OriginalFilename, d.Container, d.Why, d.Message = "", "", "", "", ""
		}
		c.Documents = docs
	}
	return p
}

// personalParty moves a party's identifying values out, leaving its type and whether
// the ID number was valid.
func personalParty(pt *Party) Party {
	out := Party{Name: pt.Name, Org: pt.Org, Email: pt.Email, Phone: pt.Phone, IDNo: pt.IDNo}
	pt.Name, pt.Org, pt.Email, pt.Phone, pt.IDNo = "", "", "", "", ""
	return out
}

// MergePersonal puts p back into c (the inverse of SplitPersonal).
func (c *Case) MergePersonal(p Personal) {
	mergeParty(&c.Applicant, p.Applicant)
	if p.Principal != nil {
		if c.Principal == nil {
			c.Principal = &Party{}
		}
		mergeParty(c.Principal, *p.Principal)
	}
	c.Subject.Name, c.Subject.Org, c.Request.Reason, c.Reason = p.SubjectName, p.SubjectOrg, p.Reason, p.Decision
	c.Complainant, c.ComplainantFrom, c.Author = p.Complainant, p.ComplainantFrom, p.Author
	c.Statements, c.SatisfactionComment, c.RequestedItems = p.Statements, p.SatisfactionComment, p.RequestedItems
	c.Why, c.Threads, c.LastInbound = p.Why, p.Threads, p.LastInbound
	for i := range c.Documents {
		if i < len(p.Files) {
			f := p.Files[i]
			d := &c.Documents[i]
			d.Filename, d.OriginalFilename, d.Container, d.Why, d.Message = f.Filename, f.OriginalFilename, f.Container, f.Why, f.Message
		}
	}
}

func mergeParty(dst *Party, src Party) {
	dst.Name, dst.Org, dst.Email, dst.Phone, dst.IDNo = src.Name, src.Org, src.Email, src.Phone, src.IDNo
}

// Masked is the case as staff and the CLI see it by default: ID numbers and phone
// numbers masked (3101**********0018, 137****1111) wherever they stand, in the
// parties' fields and in the free text (reasons, statements, notes).
func (c *Case) Masked() *Case {
	out := *c
	out.Applicant = maskParty(c.Applicant)
	// 13712345678@139.com: the addresses of China Mobile's mail (and others') are
	// the owner's phone number.
	out.Complainant = pii.MaskText(c.Complainant)
	if c.Principal != nil {
		p := maskParty(*c.Principal)
		out.Principal = &p
	}
	out.Request.Reason = pii.MaskText(c.Request.Reason)
	out.Request.Title = pii.MaskText(c.Request.Title)
	out.Reason = pii.MaskText(c.Reason)
	out.SatisfactionComment = pii.MaskText(c.SatisfactionComment)
	out.Subject.Name, out.Subject.Org = pii.MaskText(c.Subject.Name), pii.MaskText(c.Subject.Org)
	if c.Statements != nil {
		out.Statements = make([]Statement, len(c.Statements))
		for i, s := range c.Statements {
			s.Text = pii.MaskText(s.Text)
			out.Statements[i] = s
		}
	}
	if c.Events != nil {
		out.Events = make([]Event, len(c.Events))
		for i, e := range c.Events {
			e.Note, e.Actor = pii.MaskText(e.Note), pii.MaskText(e.Actor)
			out.Events[i] = e
		}
	}
	if c.Documents != nil {
		out.Documents = make([]Document, len(c.Documents))
		for i, d := range c.Documents {
			d.Filename, d.OriginalFilename = pii.MaskText(d.Filename), pii.MaskText(d.OriginalFilename)
			// The archive a file came from, and the reason, which may quote a name.
			d.Container, d.Why = pii.MaskText(d.Container), pii.MaskText(d.Why)
			out.Documents[i] = d
		}
	}
	if c.Why != nil { // "field …: from attached form <file name>"
		out.Why = make([]string, len(c.Why))
		for i, s := range c.Why {
			out.Why[i] = pii.MaskText(s)
		}
	}
	if c.RequestedItems != nil {
		out.RequestedItems = make([]string, len(c.RequestedItems))
		for i, s := range c.RequestedItems {
			out.RequestedItems[i] = pii.MaskText(s)
		}
	}
	return &out
}

func maskParty(p Party) Party {
	p.IDNo = pii.MaskIDNo(p.IDNo)
	p.Phone = pii.MaskPhone(p.Phone)
	p.Name, p.Org, p.Email = pii.MaskText(p.Name), pii.MaskText(p.Org), pii.MaskText(p.Email)
	return p
}
