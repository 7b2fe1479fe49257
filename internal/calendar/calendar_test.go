package calendar

import (
	"testing"
	"time"
)

// The 2026 National Day week: 10-01..10-08 off, with make-up Saturdays 09-27? The
// official 2026 schedule is configured in config.example.yaml; here a schedule of the
// same shape is enough to exercise every rule.
func TestAddBusinessDays(t *testing.T) {
	c, err := New("Asia/Shanghai", []string{"saturday", "sunday"},
		[]string{"2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07", "2026-01-01", "2026-01-02"},
		[]string{"2026-09-27", "2026-10-10", "2026-01-04"})
	if err != nil {
		t.Fatal(err)
	}
	loc := c.Location()
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	cases := []struct {
		why  string
		from string
		n    int
		want string
	}{
		{"plain week: Monday + 3 is Thursday", "2026-11-23 10:00", 3, "2026-11-26"},
		{"Friday evening + 3 skips the weekend", "2026-11-27 20:00", 3, "2026-12-02"},
		{"a make-up Sunday (调休) counts as a working day", "2026-09-25 09:00", 1, "2026-09-27"},
		{"the holiday week is skipped; 10-08 (Thu) and 10-09 (Fri) work, 10-10 (Sat) is made up", "2026-09-30 09:00", 3, "2026-10-10"},
		{"across the year boundary with New Year holidays and a make-up Sunday", "2025-12-31 09:00", 2, "2026-01-05"},
		{"zero days: end of the same day", "2026-11-23 10:00", 0, "2026-11-23"},
		{"an early-morning mail counts from its own local date", "2026-11-23 00:30", 1, "2026-11-24"},
	}
	for _, tc := range cases {
		got := c.AddBusinessDays(at(tc.from), tc.n)
		if got.Format("2006-01-02") != tc.want || got.Format("15:04:05") != "23:59:59" {
			t.Errorf("%s: got %s, want %s 23:59:59", tc.why, got.Format("2006-01-02 15:04:05"), tc.want)
		}
	}
	if got := c.BusinessDaysBetween(at("2026-09-30 09:00"), at("2026-10-10 09:00")); got != 3 {
		t.Errorf("BusinessDaysBetween over the holiday week = %d, want 3", got)
	}
}
