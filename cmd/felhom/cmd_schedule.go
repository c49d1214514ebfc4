package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/felhom/felhom/pve/calendar"
)

// maxScheduleCount bounds --count so that a typo cannot print forever.
const maxScheduleCount = 100000

type scheduleOptions struct {
	after  string // RFC 3339 or unix seconds; empty: now
	count  int
	format string // rfc3339 or unix
	tz     string // IANA zone name; empty: the local zone
}

func newScheduleCommand() *cobra.Command {
	var o scheduleOptions
	cmd := &cobra.Command{
		Use:   "schedule EXPR...",
		Short: "Show when a PVE calendar event fires next",
		Long: `Show the next times a PVE calendar event (the schedule of a backup job) fires,
strictly after --after, one a line. The expression is read exactly as PVE reads
it, e.g. "mon..fri 02:30", "*/15", "sat *-1..7 15:00", "daily UTC"; several
arguments are joined with spaces. Times are evaluated and printed in the local
zone (or --tz), and in UTC for expressions ending in UTC.

An invalid expression exits 3. An event that never fires prints nothing.`,
		Example: `  felhom schedule 'mon..fri 02:30' --count 5
  felhom schedule '*/15' --after 2024-03-31T01:40:00+01:00 --tz Europe/Berlin --count 3
  felhom schedule 'sun 03:00 UTC' --format unix`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSchedule(cmd.OutOrStdout(), o, strings.Join(args, " "), time.Now())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.after, "after", "", "start time, RFC 3339 or unix seconds (default now)")
	f.IntVar(&o.count, "count", 1, "number of occurrences to print")
	f.StringVar(&o.format, "format", "rfc3339", "output format: rfc3339 or unix")
	f.StringVar(&o.tz, "tz", "", "time zone to evaluate in, e.g. Europe/Berlin (default the local zone)")
	return cmd
}

func runSchedule(out io.Writer, o scheduleOptions, expr string, now time.Time) error {
	if o.count < 1 || o.count > maxScheduleCount {
		return fmt.Errorf("schedule: --count %d: must be between 1 and %d", o.count, maxScheduleCount)
	}
	if o.format != "rfc3339" && o.format != "unix" {
		return fmt.Errorf("schedule: --format %q: must be rfc3339 or unix", o.format)
	}
	loc := time.Local
	if o.tz != "" {
		l, err := time.LoadLocation(o.tz)
		if err != nil {
			return fmt.Errorf("schedule: --tz: %w", err)
		}
		loc = l
	}
	after := now
	if o.after != "" {
		t, err := parseScheduleTime(o.after)
		if err != nil {
			return fmt.Errorf("schedule: --after: %w", err)
		}
		after = t
	}
	ev, err := calendar.Parse(expr)
	if err != nil {
		return withExit(exitInvalid, err)
	}
	for _, t := range ev.NextN(after.In(loc), o.count) {
		line := t.Format(time.RFC3339)
		if o.format == "unix" {
			line = strconv.FormatInt(t.Unix(), 10)
		}
		if _, err := fmt.Fprintln(out, line); err != nil {
			return err
		}
	}
	return nil
}

// parseScheduleTime reads unix seconds (digits with an optional sign) or
// an RFC 3339 time.
func parseScheduleTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	} else if errors.Is(err, strconv.ErrRange) {
		return time.Time{}, fmt.Errorf("%q: unix seconds out of range", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2006-01-02T15:04:05Z07:00) or unix seconds", s)
	}
	return t, nil
}
