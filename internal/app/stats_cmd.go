package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/complaintd/complaintd/internal/calendar"
	"github.com/complaintd/complaintd/internal/cases"
	"github.com/complaintd/complaintd/internal/clock"
	"github.com/complaintd/complaintd/internal/config"
	"github.com/complaintd/complaintd/internal/stats"
)

// statsOptions builds the stats options from the configuration (deadline rules on
// the configured calendar).
func statsOptions(cfg *config.Config, since, now time.Time) (stats.Options, error) {
	cal, err := calendar.New(cfg.Policy.Calendar.TimeZone, cfg.Policy.Calendar.Weekend, cfg.Policy.Calendar.Holidays, cfg.Policy.Calendar.Workdays)
	if err != nil {
		return stats.Options{}, err
	}
	dl := deadlines(cfg, cal)
	return stats.Options{Since: since, Now: now, Deadlines: &dl}, nil
}

// parseSince accepts a date (YYYY-MM-DD, local to the calendar), an RFC 3339 time, or
// a span back from now: "30d", "2w", "720h".
func parseSince(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for suffix, unit := range map[string]int{"d": 1, "w": 7} {
		if n, err := strconv.Atoi(strings.TrimSuffix(s, suffix)); err == nil && strings.HasSuffix(s, suffix) && n >= 0 {
			return now.AddDate(0, 0, -n*unit), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("-since %q: want YYYY-MM-DD, RFC 3339, Nd, Nw or a duration", s)
}

// serveStats is the control socket's GET /stats?since=RFC3339.
func (d *desk) serveStats(w http.ResponseWriter, r *http.Request) {
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			http.Error(w, "since: want RFC 3339", http.StatusBadRequest)
			return
		}
		since = t
	}
	o, err := statsOptions(d.current().cfg, since, d.clock.Now())
	if err != nil {
		writeJSON(w, nil, err)
		return
	}
	rep, err := stats.FromStore(d.store, o)
	writeJSON(w, rep, err)
}

// cmdStats is `complaintd stats [-config FILE] [-since D] [-json]`.
func cmdStats(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (or COMPLAINTD_CONFIG)")
	sinceFlag := fs.String("since", "", "only cases created since: YYYY-MM-DD, RFC 3339, 30d, 2w or a duration")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	cfg, err := readPathsConfig(*cfgPath)
	if err != nil {
		return err
	}
	clk, _, err := clock.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	now := clk.Now()
	loc, err := time.LoadLocation(cfg.Policy.Calendar.TimeZone)
	if err != nil {
		return fmt.Errorf("policy.calendar.time_zone: %w", err)
	}
	since, err := parseSince(*sinceFlag, now, loc)
	if err != nil {
		return usageError{err.Error()}
	}
	rep, err := fetchStats(ctx, cfg, since, now)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeIndented(stdout, rep)
	}
	printStats(stdout, rep, loc)
	return nil
}

func readPathsConfig(cfgPath string) (*config.Config, error) {
	if cfgPath == "" {
		cfgPath = os.Getenv("COMPLAINTD_CONFIG")
	}
	if cfgPath == "" {
		return nil, usageError{"-config FILE (or COMPLAINTD_CONFIG) is required"}
	}
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return config.ParsePaths(b, cfgPath)
}

// fetchStats asks the running daemon over the control socket, or computes from the
// store file opened read-only when no daemon runs.
func fetchStats(ctx context.Context, cfg *config.Config, since, now time.Time) (stats.Report, error) {
	var rep stats.Report
	client := controlClient(cfg.HTTP.ControlSocket, 2*time.Minute)
	q := ""
	if !since.IsZero() {
		q = "?since=" + url.QueryEscape(since.Format(time.RFC3339))
	}
	req, err := http.NewRequestWithContext(ctx, "GET", "http://complaintd/stats"+q, nil)
	if err != nil {
		return rep, err
	}
	resp, err := client.Do(req)
	if err == nil {
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return rep, json.NewDecoder(resp.Body).Decode(&rep)
		}
		// An older daemon without /stats: fall through to the file is impossible
		// (it holds the lock), so say what happened.
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return rep, fmt.Errorf("daemon: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	st, oerr := openStoreReadOnly(cfg)
	if oerr != nil {
		return rep, fmt.Errorf("no daemon at %s (%v) and %w", cfg.HTTP.ControlSocket, err, oerr)
	}
	defer st.Close()
	o, err := statsOptions(cfg, since, now)
	if err != nil {
		return rep, err
	}
	return stats.FromStore(st, o)
}

func printStats(w io.Writer, r stats.Report, loc *time.Location) {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	defer tw.Flush()
	period := "all cases"
	if !r.Since.IsZero() {
		period = "cases created since " + r.Since.In(loc).Format("2006-01-02 15:04")
	}
	fmt.Fprintf(tw, "%s, as of %s (times in %s)\n\n", period, r.GeneratedAt.In(loc).Format("2006-01-02 15:04"), loc)
	fmt.Fprintf(tw, "cases\t%d\n", r.Cases)
	fmt.Fprintf(tw, "acknowledged\t%d\tmedian %s\n", r.Acknowledged, r.MedianAck)
	fmt.Fprintf(tw, "decided\t%d\tmedian %s (from complete documents)\n", r.Decided, r.MedianDecide)
	fmt.Fprintf(tw, "resolved\t%d\tmedian %s (from receipt)\n", r.ResolvedCount, r.MedianResolve)
	fmt.Fprintf(tw, "SLA breaches\t%d\treview %d, processing %d\n", r.SLABreaches, r.ReviewBreaches, r.ProcessingBreaches)
	if len(r.Breaches) > 0 {
		fmt.Fprintf(tw, "\t\t%s\n", strings.Join(r.Breaches, " "))
	}
	// Chinese labels go last: tabwriter counts a 汉字 as one cell where a terminal
	// shows two, so a column after them would not line up.
	section := func(title string, m map[string]int, label func(string) string) {
		fmt.Fprintf(tw, "\n%s\n", title)
		for _, c := range stats.Sorted(m) {
			fmt.Fprintf(tw, "  %s\t%d\t%s\n", c.Key, c.Count, label(c.Key))
		}
	}
	plain := func(string) string { return "" }
	section("by state", r.ByState, func(s string) string { return cases.StateLabel(cases.State(s), "zh-CN") })
	section("by outcome", r.ByOutcome, plain)
	section("by content kind", r.ByKind, plain)
	section("by applicant type", r.ByApplicant, plain)
	section("by department", r.ByDepartment, plain)
	section("by severity", r.BySeverity, plain)
	fmt.Fprintf(tw, "\ntop missing documents\n")
	for i, c := range r.TopMissing {
		if i == 10 {
			break
		}
		fmt.Fprintf(tw, "  %s\t%d\n", c.Key, c.Count)
	}
	s := r.Satisfaction
	fmt.Fprintf(tw, "\nsatisfaction\t%d responses\tmean %.2f\t1★ %d  2★ %d  3★ %d  4★ %d  5★ %d\n",
		s.Responses, s.Mean, s.ByScore[0], s.ByScore[1], s.ByScore[2], s.ByScore[3], s.ByScore[4])
}

// cmdCasesExport is `complaintd cases export -csv [-config FILE] [-state S]`: the case
// table as CSV for Excel — UTF-8 with a byte-order mark (else Excel reads it as the
// ANSI code page and garbles Chinese), CRLF line ends, RFC 4180 quoting, and cells
// that would start a formula (= + - @) prefixed with an apostrophe.
func cmdCasesExport(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("cases export", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (or COMPLAINTD_CONFIG)")
	asCSV := fs.Bool("csv", false, "write CSV (the only format)")
	state := fs.String("state", "", "only cases in this state")
	if _, err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	if !*asCSV {
		return usageError{"cases export: -csv is required"}
	}
	cfg, err := readPathsConfig(*cfgPath)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(cfg.Policy.Calendar.TimeZone)
	if err != nil {
		return fmt.Errorf("policy.calendar.time_zone: %w", err)
	}
	src, err := newCaseSource(*cfgPath)
	if err != nil {
		return err
	}
	f := caseFilter{state: *state}
	if err := f.check(); err != nil {
		return err
	}
	out := stats.NewCSV(stdout, loc)
	if err := src.each(ctx, f, out.Write); err != nil {
		return err
	}
	return out.Flush()
}
