package calendar

import (
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
