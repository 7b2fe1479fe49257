package stats

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/complaintd/complaintd/internal/cases"
)

// casesCSVHeader is the export's header row.
var casesCSVHeader = []string{"id", "state", "created_at", "updated_at", "due_at", "applicant_name", "applicant_org", "applicant_type",
	"principal_name", "principal_org", "complainant", "content_kind", "reposted", "title", "url", "assignee", "missing",
	"documents", "documents_erased", "outcome", "acknowledged_at", "decided_at", "resolved_at", "satisfaction",
	"department", "severity"}

// WriteCSV writes cs (events loaded) as the case table for Excel (see CSV).
func WriteCSV(w io.Writer, cs []*cases.Case, loc *time.Location) error {
	out := NewCSV(w, loc)
	for _, c := range cs {
		if err := out.Write(c); err != nil {
			return err
		}
	}
	return out.Flush()
}

// CSV writes the case table for Excel, a case at a time: UTF-8 with a byte-order mark
// (else Excel reads it as the ANSI code page and garbles Chinese), CRLF line ends,
// RFC 4180 quoting, times in loc, and cells that would start a formula (= + - @)
// prefixed with an apostrophe. `cases export -csv` prints it; its columns are the
// same figures as Report's.
type CSV struct {
	w       io.Writer
	cw      *csv.Writer
	loc     *time.Location
	started bool
	rows    int
}

// NewCSV starts a table written to w.
func NewCSV(w io.Writer, loc *time.Location) *CSV {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &CSV{w: w, cw: cw, loc: loc}
}

func (x *CSV) start() error {
	x.started = true
	if _, err := io.WriteString(x.w, "\uFEFF"); err != nil {
		return err
	}
	return x.cw.Write(casesCSVHeader)
}

// Write adds a case (events loaded).
func (x *CSV) Write(c *cases.Case) error {
	if !x.started {
		if err := x.start(); err != nil {
			return err
		}
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(x.loc).Format("2006-01-02 15:04:05")
	}
	tl := TimelineOf(c)
	var due time.Time
	if c.DueAt != nil {
		due = *c.DueAt
	}
	var pName, pOrg string
	if c.Principal != nil {
		pName, pOrg = c.Principal.Name, c.Principal.Org
	}
	erased := 0
	for _, d := range c.Documents {
		if d.Erased {
			erased++
		}
	}
	score := ""
	if c.Satisfaction > 0 {
		score = strconv.Itoa(c.Satisfaction)
	}
	row := []string{c.ID, string(c.State), ts(c.CreatedAt), ts(c.UpdatedAt), ts(due), c.Applicant.Name, c.Applicant.Org, string(c.Applicant.Type),
		pName, pOrg, c.Complainant, string(c.Request.ContentKind), strconv.FormatBool(c.Request.Reposted), c.Request.Title, c.Request.URL,
		c.Assignee, cases.JoinKinds(c.Missing, " "), strconv.Itoa(len(c.Documents)), strconv.Itoa(erased), Outcome(c, tl),
		ts(tl.FirstReplySent), ts(tl.Decided), ts(tl.Resolved), score, c.Department, string(c.Severity)}
	for i, v := range row {
		row[i] = excelSafe(v)
	}
	if err := x.cw.Write(row); err != nil {
		return err
	}
	// Flushed every few rows, so that a long export starts at once.
	if x.rows++; x.rows%64 == 1 {
		x.cw.Flush()
	}
	return x.cw.Error()
}

// Flush ends the table (a header alone when no case was written).
func (x *CSV) Flush() error {
	if !x.started {
		if err := x.start(); err != nil {
			return err
		}
	}
	x.cw.Flush()
	if err := x.cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// excelSafe keeps a complainant's text from being run as a formula (CSV injection):
// a cell starting with = + - @ or a tab/CR gets a leading apostrophe, which Excel
// shows as text.
func excelSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
