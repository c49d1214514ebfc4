package calendar

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // DST tests must never skip for a missing zoneinfo
)

// Epoch 0 is a Thursday; proxmox-time's own tests count from it.
const (
	minute = 60
	hour   = 3600
	day    = 86400
)

func mustParse(t *testing.T, expr string) *Event {
	t.Helper()
	e, err := Parse(expr)
	if err != nil {
		t.Fatalf("Parse(%q): %v", expr, err)
	}
	return e
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tt, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

// TestNextEpochUTC ports the compute_next_event cases of proxmox-time
// (src/test.rs test_compute_next_event) and pve-common
// (test/calendar_event_test.pl). Both evaluate in UTC; times are epoch
// seconds.
func TestNextEpochUTC(t *testing.T) {
	const (
		thu0000 = 0
		thu1500 = 15 * hour
		jul31   = 1596153600 // Friday 2020-07-31 00:00:00 UTC
		dec31   = 1609372800 // Thursday 2020-12-31 00:00:00 UTC
		never   = -1
	)
	tests := []struct {
		expr string
		last int64
		want int64 // never: Next returns false
	}{
		// proxmox-time: minute only syntax
		{"0", thu0000, hour},
		{"*", thu0000, minute},
		{"*:0", thu0000, hour},
		{"*:*", thu0000, minute},
		{"*:*:*", thu0000, 1},
		{"*:3:5", thu0000, 3*minute + 5},
		{"mon *:*", thu0000, 4 * day},
		{"mon 2:*", thu0000, 4*day + 2*hour},
		{"mon 2:50", thu0000, 4*day + 2*hour + 50*minute},
		{"tue", thu0000, 5 * day},
		{"wed", thu0000, 6 * day},
		{"thu", thu0000, 7 * day},
		{"fri", thu0000, 1 * day},
		{"sat", thu0000, 2 * day},
		{"sun", thu0000, 3 * day},
		// repeated ranges
		{"4..10/2:0", thu0000, 4 * hour},
		{"4..10/2:0", thu0000 + 5*hour, 6 * hour},
		{"4..10/2:0", thu0000 + 11*hour, day + 4*hour},
		// several values in one field, in any order
		{"5,10:4,8", thu0000, 5*hour + 4*minute},
		{"10,5:8,4", thu0000, 5*hour + 4*minute},
		{"6,4..10:23,5/5", thu0000, 4*hour + 5*minute},
		{"4..10,6:5/5,23", thu0000, 4*hour + 5*minute},
		// month wrapping
		{"sat", jul31, jul31 + 1*day},
		{"sun", jul31, jul31 + 2*day},
		{"mon", jul31, jul31 + 3*day},
		{"tue", jul31, jul31 + 4*day},
		{"wed", jul31, jul31 + 5*day},
		{"thu", jul31, jul31 + 6*day},
		{"fri", jul31, jul31 + 7*day},
		// year wrapping
		{"fri", dec31, dec31 + 1*day},
		{"sat", dec31, dec31 + 2*day},
		{"sun", dec31, dec31 + 3*day},
		{"mon", dec31, dec31 + 4*day},
		{"tue", dec31, dec31 + 5*day},
		{"wed", dec31, dec31 + 6*day},
		{"thu", dec31, dec31 + 7*day},
		{"daily", thu0000, day},
		{"daily", thu0000 + 1, day},
		{"5/2:0", thu0000, 5 * hour},
		{"5/2:0", 5 * hour, 7 * hour},
		{"5/2:0", 7 * hour, 9 * hour},
		{"5/2:0", 9 * hour, 11 * hour},
		{"1:0", thu1500, day + hour},
		// dates
		{"2020-07-31", 0, jul31},
		{"02-28", 0, (31 + 27) * day},
		{"02-29", 0, 2*365*day + (31+28)*day}, // 1972-02-29
		{"1965/5-01-01", -1, thu0000},
		{"2020-7..9-2/2", jul31, jul31 + 2*day},
		{"2020,2021-12-31", jul31, dec31},
		// keywords
		{"minutely", thu0000, minute},
		{"hourly", thu0000, hour},
		{"weekly", thu0000, 4 * day},
		{"monthly", 0, 31 * day},
		{"quarterly", 0, (31 + 28 + 31) * day},
		{"semiannually", 0, (31 + 28 + 31 + 30 + 31 + 30) * day},
		{"semi-annually", 0, (31 + 28 + 31 + 30 + 31 + 30) * day},
		{"yearly", 0, 365 * day},
		{"annually", 0, 365 * day},
		{"2021-02-29", 0, never},
		{"02-30", 0, never},

		// pve-common test/calendar_event_test.pl
		{"*", 0, 60}, {"*", 30, 60}, {"*", 59, 60}, {"*", 60, 120},
		{"*/10", 0, 600}, {"*/10", 599, 600}, {"*/10", 600, 1200}, {"*/10", 50 * 60, 60 * 60},
		{"*/12:0", 10, 43200}, {"*/12:0", 13 * 3600, 24 * 3600},
		{"1/12:0/15", 0, 3600},
		{"1/12:0/15", 3600, 3600 + 15*60},
		{"1/12:0/15", 3600 + 16*60, 3600 + 30*60},
		{"1/12:0/15", 3600 + 30*60, 3600 + 45*60},
		{"1/12:0/15", 3600 + 45*60, 3600 + 12*3600},
		{"1/12:0/15", 13*3600 + 1, 13*3600 + 15*60},
		{"1/12:0/15", 13*3600 + 15*60, 13*3600 + 30*60},
		{"1/12:0/15", 13*3600 + 30*60, 13*3600 + 45*60},
		{"1/12:0/15", 13*3600 + 45*60, 25 * 3600},
		{"1,4,6", 0, 60}, {"1,4,6", 60, 4 * 60}, {"1,4,6", 4*60 + 60, 6 * 60}, {"1,4,6", 6 * 60, 3600 + 60},
		{"Mon", 0, 4 * 86400}, {"Mon", 4 * 86400, 11 * 86400}, {"Mon", 11 * 86400, 18 * 86400},
		{"sat..sun", 0, 2 * 86400}, {"sat..sun", 2 * 86400, 3 * 86400}, {"sat..sun", 3 * 86400, 9 * 86400},
		{"22/1:0", 0, 22 * 60 * 60}, {"22/1:0", 22 * 60 * 60, 23 * 60 * 60}, {"22/1:0", 22*60*60 + 59*60, 23 * 60 * 60},
		{"*/2:*", 0, 60}, {"*/2:*", 60 * 60, 2 * 60 * 60}, {"*/2:*", 2 * 60 * 60, 2*60*60 + 60},
		{"20..22:*/30", 0, 20 * 60 * 60}, {"20..22:*/30", 20 * 60 * 60, 20*60*60 + 30*60}, {"20..22:*/30", 22*60*60 + 30*60, 44 * 60 * 60},
		{"0,1,3..5", 0, 60}, {"0,1,3..5", 60, 3 * 60}, {"0,1,3..5", 5 * 60, 60 * 60},
		{"2,4:0,1,3..5", 0, 2 * 60 * 60}, {"2,4:0,1,3..5", 2*60*60 + 60, 2*60*60 + 3*60}, {"2,4:0,1,3..5", 2*60*60 + 5*60, 4 * 60 * 60},
	}
	for _, tt := range tests {
		// proxmox-time appends " UTC"; the same event without the suffix,
		// evaluated from a UTC time, must agree.
		for _, expr := range []string{tt.expr + " UTC", tt.expr} {
			e := mustParse(t, expr)
			got, ok := e.Next(time.Unix(tt.last, 0).UTC())
			switch {
			case tt.want == never && ok:
				t.Errorf("Next(%q, %d) = %v, want never", expr, tt.last, got)
			case tt.want != never && !ok:
				t.Errorf("Next(%q, %d) = never, want %v", expr, tt.last, time.Unix(tt.want, 0).UTC())
			case tt.want != never && got.Unix() != tt.want:
				t.Errorf("Next(%q, %d) = %v, want %v", expr, tt.last, got, time.Unix(tt.want, 0).UTC())
			}
		}
	}
}

// TestNextChains ports proxmox-time's successive-occurrence checks.
func TestNextChains(t *testing.T) {
	tests := []struct {
		expr        string
		start, step int64
		first       int64
	}{
		{"*:* UTC", 0, minute, minute},
		{"*:0 UTC", 0, hour, hour},
		{"1:0 UTC", 15 * hour, day, day + hour},
	}
	for _, tt := range tests {
		e := mustParse(t, tt.expr)
		got := e.NextN(time.Unix(tt.start, 0), 99)
		if len(got) != 99 {
			t.Fatalf("NextN(%q) gave %d times", tt.expr, len(got))
		}
		for i, g := range got {
			if want := tt.first + int64(i)*tt.step; g.Unix() != want {
				t.Errorf("NextN(%q)[%d] = %v, want %v", tt.expr, i, g, time.Unix(want, 0).UTC())
			}
		}
	}
}

// TestRules covers each rule of the format, in a zone with DST so that the
// local-time reading is exercised. want lists the next occurrences in
// RFC 3339; an empty want means the event never fires.
func TestRules(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	tests := []struct {
		name, expr, after string
		want              []string
	}{
		{"weekday list", "mon,wed,fri", "2024-06-11T12:00:00+02:00", // a Tuesday
			[]string{"2024-06-12T00:00:00+02:00", "2024-06-14T00:00:00+02:00", "2024-06-17T00:00:00+02:00"}},
		{"weekday range", "tue..thu 10:00", "2024-06-13T10:00:00+02:00",
			[]string{"2024-06-18T10:00:00+02:00", "2024-06-19T10:00:00+02:00", "2024-06-20T10:00:00+02:00"}},
		{"weekday range wraps past sunday", "fri..mon 1:00", "2024-06-11T00:00:00+02:00",
			[]string{"2024-06-14T01:00:00+02:00", "2024-06-15T01:00:00+02:00", "2024-06-16T01:00:00+02:00", "2024-06-17T01:00:00+02:00", "2024-06-21T01:00:00+02:00"}},
		{"full weekday names any case", "MONDAY,Friday 3:00", "2024-06-11T00:00:00+02:00",
			[]string{"2024-06-14T03:00:00+02:00", "2024-06-17T03:00:00+02:00"}},
		{"list mixing ranges and days", "mon,wed..thu,sun", "2024-06-10T00:00:00+02:00",
			[]string{"2024-06-12T00:00:00+02:00", "2024-06-13T00:00:00+02:00", "2024-06-16T00:00:00+02:00", "2024-06-17T00:00:00+02:00"}},
		{"repetition a/b", "3/20", "2024-06-11T10:30:00+02:00",
			[]string{"2024-06-11T10:43:00+02:00", "2024-06-11T11:03:00+02:00", "2024-06-11T11:23:00+02:00"}},
		{"repetition a..b/c", "9..17/4:00", "2024-06-11T10:00:00+02:00",
			[]string{"2024-06-11T13:00:00+02:00", "2024-06-11T17:00:00+02:00", "2024-06-12T09:00:00+02:00"}},
		{"star repetition", "*/6:15", "2024-06-11T13:00:00+02:00",
			[]string{"2024-06-11T18:15:00+02:00", "2024-06-12T00:15:00+02:00"}},
		{"repetition by zero matches the start only", "7/0:0", "2024-06-11T10:00:00+02:00",
			[]string{"2024-06-12T07:00:00+02:00", "2024-06-13T07:00:00+02:00"}},
		{"number without colon is a minute", "15", "2024-06-11T10:15:00+02:00",
			[]string{"2024-06-11T11:15:00+02:00", "2024-06-11T12:15:00+02:00"}},
		{"weekday and minute", "mon..fri 22", "2024-06-14T23:30:00+02:00",
			[]string{"2024-06-17T00:22:00+02:00", "2024-06-17T01:22:00+02:00"}},
		{"seconds", "*:*:15,45", "2024-06-11T10:00:20+02:00",
			[]string{"2024-06-11T10:00:45+02:00", "2024-06-11T10:01:15+02:00"}},
		{"missing time is midnight", "sat", "2024-06-15T00:00:00+02:00",
			[]string{"2024-06-22T00:00:00+02:00"}},
		{"missing time after a date is midnight", "*-*-10", "2024-06-11T00:00:00+02:00",
			[]string{"2024-07-10T00:00:00+02:00", "2024-08-10T00:00:00+02:00"}},
		{"minutely", "minutely", "2024-06-11T10:00:30+02:00", []string{"2024-06-11T10:01:00+02:00"}},
		{"hourly", "hourly", "2024-06-11T10:00:00+02:00", []string{"2024-06-11T11:00:00+02:00"}},
		{"daily", "daily", "2024-06-11T10:00:00+02:00", []string{"2024-06-12T00:00:00+02:00"}},
		{"weekly", "weekly", "2024-06-11T10:00:00+02:00", []string{"2024-06-17T00:00:00+02:00"}},
		{"monthly", "monthly", "2024-06-11T10:00:00+02:00", []string{"2024-07-01T00:00:00+02:00"}},
		{"yearly", "yearly", "2024-06-11T10:00:00+02:00", []string{"2025-01-01T00:00:00+01:00"}},
		{"quarterly", "quarterly", "2024-06-11T10:00:00+02:00", []string{"2024-07-01T00:00:00+02:00", "2024-10-01T00:00:00+02:00", "2025-01-01T00:00:00+01:00"}},
		{"semiannually", "semiannually", "2024-06-11T10:00:00+02:00", []string{"2024-07-01T00:00:00+02:00", "2025-01-01T00:00:00+01:00"}},
		{"full date", "2025-01-15 06:00", "2024-06-11T10:00:00+02:00", []string{"2025-01-15T06:00:00+01:00"}},
		{"month-day date", "12-24 18:00", "2024-12-24T18:00:00+01:00", []string{"2025-12-24T18:00:00+01:00"}},
		{"date ranges", "2024..2025-11..12-30..31 12:00", "2024-12-01T00:00:00+01:00",
			[]string{"2024-12-30T12:00:00+01:00", "2024-12-31T12:00:00+01:00", "2025-11-30T12:00:00+01:00", "2025-12-30T12:00:00+01:00", "2025-12-31T12:00:00+01:00"}},
		{"leap day", "02-29", "2024-03-01T00:00:00+01:00", []string{"2028-02-29T00:00:00+01:00"}},
		{"weekday with a date", "fri *-*-13", "2024-06-11T00:00:00+02:00", []string{"2024-09-13T00:00:00+02:00", "2024-12-13T00:00:00+01:00"}},
		{"date in the past never fires", "2020-01-01", "2024-06-11T00:00:00+02:00", nil},
		{"impossible date never fires", "02-30", "2024-06-11T00:00:00+02:00", nil},
		{"day 31 only in long months", "*-*-31", "2024-04-01T00:00:00+02:00", []string{"2024-05-31T00:00:00+02:00", "2024-07-31T00:00:00+02:00"}},
		{"month 0 never fires", "*-0-1", "2024-04-01T00:00:00+02:00", nil},
		{"UTC event", "daily UTC", "2024-06-11T10:00:00+02:00", []string{"2024-06-12T00:00:00Z"}},
		{"UTC suffix without space", "12:00UTC", "2024-06-11T10:00:00Z", []string{"2024-06-11T12:00:00Z"}},
		{"hour 25 is read as a minute", "25:00", "2024-06-11T10:00:00+02:00", []string{"2024-06-11T10:25:00+02:00", "2024-06-11T11:25:00+02:00"}},
		{"strictly after: an occurrence at after is skipped", "10:00", "2024-06-11T10:00:00+02:00", []string{"2024-06-12T10:00:00+02:00"}},
		{"strictly after: fractional seconds", "10:00", "2024-06-11T09:59:59.5+02:00", []string{"2024-06-11T10:00:00+02:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustParse(t, tt.expr)
			after, err := time.Parse(time.RFC3339Nano, tt.after)
			if err != nil {
				t.Fatal(err)
			}
			got := e.NextN(after.In(berlin), len(tt.want))
			if len(tt.want) == 0 {
				if n, ok := e.Next(after.In(berlin)); ok {
					t.Fatalf("Next = %v, want never", n)
				}
				return
			}
			var gotS []string
			for _, g := range got {
				gotS = append(gotS, g.Format(time.RFC3339))
			}
			if strings.Join(gotS, " ") != strings.Join(tt.want, " ") {
				t.Errorf("NextN(%q, %s)\n got %v\nwant %v", tt.expr, tt.after, gotS, tt.want)
			}
		})
	}
}

// TestDST checks transitions in Europe/Berlin (2024-03-31 02:00 CET jumps
// to 03:00 CEST; 2024-10-27 03:00 CEST falls back to 02:00 CET) and
// Europe/Vienna, with the results proxmox-time gives on glibc: fields are
// walked on the wall clock and normalized with mktime.
func TestDST(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	vienna := mustLoad(t, "Europe/Vienna")
	tests := []struct {
		name, expr, after string
		loc               *time.Location
		want              []string
	}{
		// Spring forward: 02:xx does not exist on 2024-03-31.
		{"daily in the gap skips that day", "2:30", "2024-03-30T12:00:00+01:00", berlin,
			[]string{"2024-04-01T02:30:00+02:00"}},
		{"hourly across the gap", "*:30", "2024-03-31T01:45:00+01:00", berlin,
			[]string{"2024-03-31T03:30:00+02:00", "2024-03-31T04:30:00+02:00"}},
		{"every 15 minutes across the gap", "*/15", "2024-03-31T01:40:00+01:00", berlin,
			[]string{"2024-03-31T01:45:00+01:00", "2024-03-31T03:00:00+02:00", "2024-03-31T03:15:00+02:00"}},
		{"daily at midnight unaffected", "daily", "2024-03-30T12:00:00+01:00", berlin,
			[]string{"2024-03-31T00:00:00+01:00", "2024-04-01T00:00:00+02:00"}},
		{"the hour after the gap exists", "3:00", "2024-03-30T03:00:00+01:00", berlin,
			[]string{"2024-03-31T03:00:00+02:00"}},
		// Fall back: 02:xx happens twice on 2024-10-27, first in CEST.
		{"daily in the repeated hour fires once", "2:30", "2024-10-26T12:00:00+02:00", berlin,
			[]string{"2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"}},
		{"hourly walks the wall clock past the repeated hour", "*:30", "2024-10-27T01:45:00+02:00", berlin,
			[]string{"2024-10-27T02:30:00+02:00", "2024-10-27T03:30:00+01:00", "2024-10-27T04:30:00+01:00"}},
		{"starting inside the repeated hour stays in it", "*:30", "2024-10-27T02:10:00+01:00", berlin,
			[]string{"2024-10-27T02:30:00+01:00", "2024-10-27T03:30:00+01:00"}},
		{"every 15 minutes across the repeated hour", "*/15", "2024-10-27T02:40:00+02:00", berlin,
			[]string{"2024-10-27T02:45:00+02:00", "2024-10-27T03:00:00+01:00"}},
		// pve-common's "loop termination at CEST/CET switch" cases.
		{"weekdays over the fall-back weekend", "mon..fri", "2018-10-28T00:00:00+02:00", vienna,
			[]string{"2018-10-29T00:00:00+01:00"}},
		{"UTC event over the fall-back weekend", "mon..fri UTC", "2018-10-28T00:00:00+02:00", vienna,
			[]string{"2018-10-29T00:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustParse(t, tt.expr)
			got := e.NextN(mustTime(t, tt.after).In(tt.loc), len(tt.want))
			var gotS []string
			for _, g := range got {
				gotS = append(gotS, g.Format(time.RFC3339))
			}
			if strings.Join(gotS, " ") != strings.Join(tt.want, " ") {
				t.Errorf("NextN(%q, %s)\n got %v\nwant %v", tt.expr, tt.after, gotS, tt.want)
			}
		})
	}
}

// equivalent asserts that two expressions fire at the same times.
func equivalent(t *testing.T, a, b string, loc *time.Location) {
	t.Helper()
	ea, eb := mustParse(t, a), mustParse(t, b)
	for _, start := range []string{"2015-10-20T23:59:59Z", "2024-03-30T22:00:00Z", "2024-10-26T21:00:00Z", "2025-12-31T23:00:00Z"} {
		after := mustTime(t, start).In(loc)
		ga, gb := ea.NextN(after, 300), eb.NextN(after, 300)
		if len(ga) != len(gb) {
			t.Errorf("%q and %q from %s: %d vs %d occurrences", a, b, start, len(ga), len(gb))
			continue
		}
		for i := range ga {
			if !ga[i].Equal(gb[i]) {
				t.Errorf("%q and %q from %s differ at %d: %v vs %v", a, b, start, i, ga[i], gb[i])
				break
			}
		}
	}
}

// TestAdminGuide checks every example of the PVE admin guide's chapter
// "Calendar Events" (pve-docs calendar-events.adoc): the special values
// equal their syntax, each schedule equals its alternative, and fires when
// the "Meaning" column says.
func TestAdminGuide(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	special := []struct{ value, syntax string }{
		{"minutely", "*-*-* *:*:00"},
		{"hourly", "*-*-* *:00:00"},
		{"daily", "*-*-* 00:00:00"},
		{"weekly", "mon *-*-* 00:00:00"},
		{"monthly", "*-*-01 00:00:00"},
		{"yearly", "*-01-01 00:00:00"},
		{"annually", "*-01-01 00:00:00"},
		{"quarterly", "*-01,04,07,10-01 00:00:00"},
		{"semiannually", "*-01,07-01 00:00:00"},
		{"semi-annually", "*-01,07-01 00:00:00"},
	}
	for _, s := range special {
		equivalent(t, s.value, s.syntax, berlin)
		equivalent(t, s.value+" UTC", s.syntax+" UTC", berlin)
	}

	examples := []struct {
		schedule, alternative string
		after                 string   // RFC 3339, Europe/Berlin
		want                  []string // RFC 3339 in Europe/Berlin; nil: never
	}{
		// Every working day at 0:00.
		{"mon,tue,wed,thu,fri", "mon..fri", "2024-06-14T12:00:00+02:00",
			[]string{"2024-06-17T00:00:00+02:00", "2024-06-18T00:00:00+02:00", "2024-06-19T00:00:00+02:00", "2024-06-20T00:00:00+02:00", "2024-06-21T00:00:00+02:00", "2024-06-24T00:00:00+02:00"}},
		// Only on weekends at 0:00.
		{"sat,sun", "sat..sun", "2024-06-14T12:00:00+02:00",
			[]string{"2024-06-15T00:00:00+02:00", "2024-06-16T00:00:00+02:00", "2024-06-22T00:00:00+02:00"}},
		// Only on Monday, Wednesday and Friday at 0:00.
		{"mon,wed,fri", "", "2024-06-14T12:00:00+02:00",
			[]string{"2024-06-17T00:00:00+02:00", "2024-06-19T00:00:00+02:00", "2024-06-21T00:00:00+02:00"}},
		// Every day at 12:05 PM.
		{"12:05", "12:05", "2024-06-14T12:05:00+02:00",
			[]string{"2024-06-15T12:05:00+02:00", "2024-06-16T12:05:00+02:00"}},
		// Every five minutes.
		{"*/5", "0/5", "2024-06-14T12:58:00+02:00",
			[]string{"2024-06-14T13:00:00+02:00", "2024-06-14T13:05:00+02:00", "2024-06-14T13:10:00+02:00"}},
		// Monday, Tuesday, Wednesday 30, 40 and 50 minutes after every full hour.
		{"mon..wed 30/10", "mon,tue,wed 30/10", "2024-06-18T23:45:00+02:00",
			[]string{"2024-06-18T23:50:00+02:00", "2024-06-19T00:30:00+02:00", "2024-06-19T00:40:00+02:00", "2024-06-19T00:50:00+02:00", "2024-06-19T01:30:00+02:00"}},
		// Every working day every 15 minutes between 8 AM and 6 PM and
		// between 10 PM and 11 PM.
		{"mon..fri 8..17,22:0/15", "", "2024-06-14T17:40:00+02:00",
			[]string{"2024-06-14T17:45:00+02:00", "2024-06-14T22:00:00+02:00", "2024-06-14T22:15:00+02:00", "2024-06-14T22:30:00+02:00", "2024-06-14T22:45:00+02:00", "2024-06-17T08:00:00+02:00"}},
		// Friday at 12:05, 12:25, 12:45, 13:05, 13:25 and 13:45.
		{"fri 12..13:5/20", "fri 12,13:5/20", "2024-06-14T00:00:00+02:00",
			[]string{"2024-06-14T12:05:00+02:00", "2024-06-14T12:25:00+02:00", "2024-06-14T12:45:00+02:00", "2024-06-14T13:05:00+02:00", "2024-06-14T13:25:00+02:00", "2024-06-14T13:45:00+02:00", "2024-06-21T12:05:00+02:00"}},
		// Every day starting at 12:05 until 22:05, every 2 hours.
		{"12,14,16,18,20,22:5", "12/2:5", "2024-06-14T00:00:00+02:00",
			[]string{"2024-06-14T12:05:00+02:00", "2024-06-14T14:05:00+02:00", "2024-06-14T16:05:00+02:00", "2024-06-14T18:05:00+02:00", "2024-06-14T20:05:00+02:00", "2024-06-14T22:05:00+02:00", "2024-06-15T12:05:00+02:00"}},
		// Every minute (minimum interval).
		{"*", "*/1", "2024-06-14T23:59:00+02:00",
			[]string{"2024-06-15T00:00:00+02:00", "2024-06-15T00:01:00+02:00"}},
		// On the 5th day of every Month.
		{"*-05", "", "2024-06-14T00:00:00+02:00",
			[]string{"2024-07-05T00:00:00+02:00", "2024-08-05T00:00:00+02:00"}},
		// First Saturday each Month at 15:00.
		{"Sat *-1..7 15:00", "", "2024-06-01T15:00:00+02:00",
			[]string{"2024-07-06T15:00:00+02:00", "2024-08-03T15:00:00+02:00", "2024-09-07T15:00:00+02:00"}},
		// 21st October 2015 at 00:00.
		{"2015-10-21", "", "2015-01-01T00:00:00+01:00", []string{"2015-10-21T00:00:00+02:00"}},
		{"2015-10-21", "", "2015-10-21T00:00:00+02:00", nil},
		// From the prose: "every workday at 10 PM" is written with an
		// hour ("22:00"); a bare "22", as the guide's text suggests, is
		// a minute in proxmox-time, as the same text later explains.
		{"mon,tue,wed,thu,fri 22", "mon..fri 22", "2024-06-14T21:00:00+02:00",
			[]string{"2024-06-14T21:22:00+02:00", "2024-06-14T22:22:00+02:00", "2024-06-14T23:22:00+02:00", "2024-06-17T00:22:00+02:00"}},
		{"mon..fri 22:00", "mon,tue,wed,thu,fri 22:00", "2024-06-14T21:00:00+02:00",
			[]string{"2024-06-14T22:00:00+02:00", "2024-06-17T22:00:00+02:00"}},
		// "start replication at 8 AM and repeat it every 15 minutes until 9 AM".
		{"8:00/15", "", "2024-06-14T07:00:00+02:00",
			[]string{"2024-06-14T08:00:00+02:00", "2024-06-14T08:15:00+02:00", "2024-06-14T08:30:00+02:00", "2024-06-14T08:45:00+02:00", "2024-06-15T08:00:00+02:00"}},
	}
	for _, ex := range examples {
		if ex.alternative != "" {
			equivalent(t, ex.schedule, ex.alternative, berlin)
		}
		e := mustParse(t, ex.schedule)
		after := mustTime(t, ex.after).In(berlin)
		if ex.want == nil {
			if n, ok := e.Next(after); ok {
				t.Errorf("Next(%q, %s) = %v, want never", ex.schedule, ex.after, n)
			}
			continue
		}
		var got []string
		for _, g := range e.NextN(after, len(ex.want)) {
			got = append(got, g.Format(time.RFC3339))
		}
		if strings.Join(got, " ") != strings.Join(ex.want, " ") {
			t.Errorf("NextN(%q, %s)\n got %v\nwant %v", ex.schedule, ex.after, got, ex.want)
		}
	}
}

// TestParseErrors checks that rejected expressions are rejected (the
// pve-common cases among them) and that the message says what and where.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr   string
		msg    string // substring of the message
		column int    // 1-based; 0: no position
	}{
		{"", "event is empty", 0},
		{"   ", "event is empty", 0},
		{"61", "minute value 61 out of range 0..59", 1},
		{"*/61", "minute value 61 out of range 0..59", 3},
		{"0..80", "minute value 80 out of range 0..59", 4},
		{"24:00:00", "hour value 24 out of range 0..23", 1},
		{"12:60", "minute value 60 out of range 0..59", 4},
		{"12:30:60", "second value 60 out of range 0..59", 7},
		{"25:61", "hour value 25 out of range 0..23", 1},
		{"mon 24:00:00", "hour value 24 out of range 0..23", 5},
		{"12:61", "minute value 61 out of range 0..59", 4},
		{" mon 0 0 0", "unexpected text", 7},
		{" mon 0 0", "unexpected text", 7},
		{"foo", `unknown keyword or weekday "foo" at`, 1},
		{"dayly", `unknown keyword or weekday "dayly" (did you mean "daily"?)`, 1},
		{"Munday 12:00", `unknown keyword or weekday "Munday" (did you mean "monday"?)`, 1},
		{"mon,thurs", `unknown weekday "thurs" (did you mean "thu"?)`, 5},
		{"mno 12:00", `unknown keyword or weekday "mno" (did you mean "mon"?)`, 1}, // a transposition is one edit
		{"mon,wdeensday", `unknown weekday "wdeensday" (did you mean "wednesday"?)`, 5},
		{"Daily", `unknown keyword or weekday "Daily"`, 1},
		{"mon,foo", `unknown weekday "foo"`, 5},
		{"mon..foo 12:00", `unknown weekday "foo"`, 6},
		{"2024-13-01", "month value 13 out of range", 6},
		{"2024-01-32", "day value 32 out of range", 9},
		{"2200-01-01", "value 2200 out of range", 1},
		{"5..3", "minute range start 5 is bigger than end 3", 1},
		{"10..8:00", "hour range start 10 is bigger than end 8", 1},
		{"*/0", "unexpected text", 2},
		{"1/x", "expected a minute repetition", 3},
		{"UTC", "expected a weekday, date or time", 1},
		{"daily utc", `keyword "daily" takes nothing after it at`, 1},
		{"daily 02:00", `keyword "daily" takes nothing after it (did you mean "02:00"?)`, 1},
		{"weekly 03:30", `keyword "weekly" takes nothing after it (did you mean "mon 03:30"?)`, 1},
		{"monthly 4:00", `(did you mean "*-*-01 4:00"?)`, 1},
		{"hourly 5", `keyword "hourly" takes nothing after it at`, 1},
		{"12:00 mon", "unexpected text", 6},
		{"99999999999", "minute value 99999999999 out of range", 1},
		{"mon 12:00 UTC+1", "unexpected text", 10},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			e, err := Parse(tt.expr)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", tt.expr, e)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T, want *ParseError", tt.expr, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Parse(%q) error %q, want it to contain %q", tt.expr, err, tt.msg)
			}
			if tt.column > 0 && !strings.Contains(err.Error(), fmt.Sprintf("(column %d)", tt.column)) {
				t.Errorf("Parse(%q) error %q, want column %d", tt.expr, err, tt.column)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("calendar event %q: ", tt.expr)) {
				t.Errorf("Parse(%q) error %q does not name the expression", tt.expr, err)
			}
		})
	}
}

// TestParseAccepts lists forms PVE accepts that look odd, so that the
// grammar stays exactly proxmox-time's.
func TestParseAccepts(t *testing.T) {
	for _, expr := range []string{
		"mon", "MON", "monDay", "Tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
		"mon,wed..fri", "fri..mon", "sun..sat", "wed,mon..tue,fri", "mon,tue..wednesday,fri..sat",
		"mon */15", "0..3", "23..23:0..3", "*-*-* *:*:*", "mon2:00", "mon  \t 2:00",
		"2020-07-31 12:00 UTC", "daily   UTC", "  daily  ", "1965/5-01-01", "2020-7..9-2/2",
		"*-0-1", "*-*-0", "7/0", "1..5/0", "*/5:*/5:*/5", "25:00",
	} {
		if _, err := Parse(expr); err != nil {
			t.Errorf("Parse(%q): %v", expr, err)
		}
	}
}

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"mon..fri 02:30":   "mon..fri 02:30",
		"  daily UTC\t":    "daily UTC",
		"sat *-1..7 15:00": "sat *-1..7 15:00",
	} {
		e := mustParse(t, in)
		if e.String() != want {
			t.Errorf("Parse(%q).String() = %q, want %q", in, e.String(), want)
		}
		again := mustParse(t, e.String())
		equivalent(t, in, again.String(), time.UTC)
	}
	if !mustParse(t, "daily UTC").UTC() || mustParse(t, "daily").UTC() {
		t.Error("UTC() does not follow the suffix")
	}
}

// TestNeverIsBounded checks that events that never fire give up after the
// bounded search rather than looping: each must answer false.
func TestNeverIsBounded(t *testing.T) {
	for _, expr := range []string{"02-30", "04-31", "*-02-30..31", "2021-02-29", "*-0-1", "*-*-0", "fri *-02-30", "2199-12-31 23:59:59"} {
		e := mustParse(t, expr)
		if n, ok := e.Next(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)); ok {
			t.Errorf("Next(%q) = %v, want never", expr, n)
		}
		if got := e.NextN(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), 5); len(got) != 0 {
			t.Errorf("NextN(%q) = %v, want none", expr, got)
		}
	}
}

// BenchmarkNextNever measures the worst case: a search that runs its full
// step budget before giving up.
func BenchmarkNextNever(b *testing.B) {
	e, err := Parse("02-30")
	if err != nil {
		b.Fatal(err)
	}
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	after := time.Date(2024, 6, 1, 0, 0, 0, 0, loc)
	for b.Loop() {
		e.Next(after)
	}
}

func BenchmarkNextBusinessHours(b *testing.B) {
	e, err := Parse("mon..fri 8..17,22:0/15")
	if err != nil {
		b.Fatal(err)
	}
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	after := time.Date(2024, 6, 14, 17, 50, 0, 0, loc)
	for b.Loop() {
		e.Next(after)
	}
}
