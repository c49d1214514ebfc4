package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // --tz Europe/Berlin must work without system zoneinfo
)

// runFelhom runs the command tree in-process and returns stdout, stderr
// and the exit code main would use.
func runFelhom(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	root := newRootCommand()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	code := exitCode(context.Background(), err, &errOut)
	return out.String(), errOut.String(), code
}

func TestScheduleCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantOut  string
		wantCode int
		wantErr  string // substring of stderr
	}{
		{
			name: "next working days in a zone",
			args: []string{"schedule", "mon..fri 02:30", "--after", "2024-06-14T12:00:00+02:00", "--tz", "Europe/Berlin", "--count", "3"},
			wantOut: "2024-06-17T02:30:00+02:00\n" +
				"2024-06-18T02:30:00+02:00\n" +
				"2024-06-19T02:30:00+02:00\n",
		},
		{
			name:    "default count is one",
			args:    []string{"schedule", "daily", "--after", "2024-06-14T12:00:00Z", "--tz", "UTC"},
			wantOut: "2024-06-15T00:00:00Z\n",
		},
		{
			name:    "after is converted to the zone before evaluating",
			args:    []string{"schedule", "daily", "--after", "2024-06-14T23:30:00Z", "--tz", "Europe/Berlin"},
			wantOut: "2024-06-16T00:00:00+02:00\n",
		},
		{
			name:    "unix in, unix out",
			args:    []string{"schedule", "*/15", "--after", "1700000000", "--format", "unix", "--count", "2", "--tz", "UTC"},
			wantOut: "1700000100\n1700001000\n",
		},
		{
			name:    "strictly after",
			args:    []string{"schedule", "12:00", "--after", "2024-06-14T12:00:00Z", "--tz", "UTC"},
			wantOut: "2024-06-15T12:00:00Z\n",
		},
		{
			name:    "UTC events print UTC",
			args:    []string{"schedule", "sun 03:00 UTC", "--after", "2024-06-14T12:00:00+02:00", "--tz", "Europe/Berlin"},
			wantOut: "2024-06-16T03:00:00Z\n",
		},
		{
			name:    "arguments are joined",
			args:    []string{"schedule", "sat", "*-1..7", "15:00", "--after", "2024-06-01T15:00:00+02:00", "--tz", "Europe/Berlin", "--count", "2"},
			wantOut: "2024-07-06T15:00:00+02:00\n2024-08-03T15:00:00+02:00\n",
		},
		{
			name: "spring-forward gap",
			args: []string{"schedule", "*/15", "--after", "2024-03-31T01:40:00+01:00", "--tz", "Europe/Berlin", "--count", "3"},
			wantOut: "2024-03-31T01:45:00+01:00\n" +
				"2024-03-31T03:00:00+02:00\n" +
				"2024-03-31T03:15:00+02:00\n",
		},
		{
			name:    "an event that stops firing prints what there is",
			args:    []string{"schedule", "2030-01-01", "--after", "2024-06-14T12:00:00Z", "--tz", "UTC", "--count", "5"},
			wantOut: "2030-01-01T00:00:00Z\n",
		},
		{
			name:    "never fires: nothing, exit 0",
			args:    []string{"schedule", "02-30", "--after", "2024-06-14T12:00:00Z", "--count", "3"},
			wantOut: "",
		},
		{
			name:     "invalid expression exits 3 and says why",
			args:     []string{"schedule", "mon..fri 25:61"},
			wantCode: exitInvalid,
			wantErr:  `calendar event "mon..fri 25:61": hour value 25 out of range 0..23 at "25:61" (column 10)`,
		},
		{
			name:     "empty expression",
			args:     []string{"schedule", " "},
			wantCode: exitInvalid,
			wantErr:  "event is empty",
		},
		{
			name:     "bad --after",
			args:     []string{"schedule", "daily", "--after", "yesterday"},
			wantCode: exitError,
			wantErr:  `--after: "yesterday": want RFC 3339`,
		},
		{
			name:     "bad --format",
			args:     []string{"schedule", "daily", "--format", "iso"},
			wantCode: exitError,
			wantErr:  "must be rfc3339 or unix",
		},
		{
			name:     "bad --count",
			args:     []string{"schedule", "daily", "--count", "0"},
			wantCode: exitError,
			wantErr:  "must be between 1 and",
		},
		{
			name:     "bad --tz",
			args:     []string{"schedule", "daily", "--tz", "Mars/Olympus"},
			wantCode: exitError,
			wantErr:  "--tz",
		},
		{
			name:     "no expression",
			args:     []string{"schedule"},
			wantCode: exitError,
			wantErr:  "requires at least 1 arg",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runFelhom(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.wantCode, errOut)
			}
			if out != tt.wantOut {
				t.Errorf("stdout\n%s\nwant\n%s", out, tt.wantOut)
			}
			if tt.wantErr != "" && !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", errOut, tt.wantErr)
			}
			if tt.wantErr == "" && errOut != "" {
				t.Errorf("unexpected stderr %q", errOut)
			}
		})
	}
}

// TestScheduleDefaultsToNow checks that without --after the occurrences
// come after the moment the command ran.
func TestScheduleDefaultsToNow(t *testing.T) {
	before := time.Now()
	out, errOut, code := runFelhom(t, "schedule", "minutely", "--count", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("output %q, want two lines", out)
	}
	prev := before
	for _, l := range lines {
		got, err := time.Parse(time.RFC3339, l)
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if !got.After(prev) || got.Second() != 0 {
			t.Errorf("occurrence %s not a whole minute after %s", got, prev)
		}
		prev = got
	}
}
