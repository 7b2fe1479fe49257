// Package calendar counts business days in the desk's time zone: weekends, public
// holidays and the make-up working days (调休) that Chinese holiday schedules move onto
// weekends. It is pure; the configuration supplies every date.
package calendar

import (
	"fmt"
	"strings"
	"time"
)

// Calendar answers "is this a working day" and "when is N working days after t".
type Calendar struct {
	loc      *time.Location
	weekend  map[time.Weekday]bool
	holidays map[int]bool // dateKey
	workdays map[int]bool // dateKey, override weekend
}

// New builds a calendar. weekend holds English weekday names; holidays and workdays
// hold YYYY-MM-DD dates (already validated by package config).
func New(tz string, weekend, holidays, workdays []string) (*Calendar, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("calendar time zone: %w", err)
	}
	c := &Calendar{loc: loc, weekend: map[time.Weekday]bool{}, holidays: map[int]bool{}, workdays: map[int]bool{}}
	for _, w := range weekend {
		for d := time.Sunday; d <= time.Saturday; d++ {
			if strings.EqualFold(d.String(), w) {
				c.weekend[d] = true
			}
		}
	}
	for _, list := range []struct {
		dates []string
		into  map[int]bool
	}{{holidays, c.holidays}, {workdays, c.workdays}} {
		for _, d := range list.dates {
			t, err := time.ParseInLocation(time.DateOnly, d, loc)
			if err != nil {
				return nil, fmt.Errorf("calendar date %q: %w", d, err)
			}
			list.into[dateKey(t)] = true
		}
	}
	return c, nil
}

// dateKey names a local date as YYYYMMDD: reports evaluate deadlines for every case,
// and formatting a date string per day looked up was most of their cost.
func dateKey(lt time.Time) int {
	y, m, d := lt.Date()
	return y*10000 + int(m)*100 + d
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// IsBusinessDay reports whether t's local date is a working day.
func (c *Calendar) IsBusinessDay(t time.Time) bool {
	lt := t.In(c.loc)
	day := dateKey(lt)
	if c.workdays[day] {
		return true
	}
	if c.holidays[day] {
		return false
	}
	return !c.weekend[lt.Weekday()]
}

// AddBusinessDays returns the end (23:59:59 local) of the n-th working day after t's
// date. A promise of "3 working days" made on a Friday evening ends on Wednesday night.
func (c *Calendar) AddBusinessDays(t time.Time, n int) time.Time {
	lt := t.In(c.loc)
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, c.loc)
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		if c.IsBusinessDay(day) {
			n--
		}
	}
	return day.Add(24*time.Hour - time.Second)
}

// BusinessDaysBetween counts working days after a's date up to and including b's date.
func (c *Calendar) BusinessDaysBetween(a, b time.Time) int {
	la, lb := a.In(c.loc), b.In(c.loc)
	day := time.Date(la.Year(), la.Month(), la.Day(), 0, 0, 0, 0, c.loc)
	end := time.Date(lb.Year(), lb.Month(), lb.Day(), 0, 0, 0, 0, c.loc)
	n := 0
	for day.Before(end) {
		day = day.AddDate(0, 0, 1)
		if c.IsBusinessDay(day) {
			n++
		}
	}
	return n
}
