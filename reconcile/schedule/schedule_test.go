package schedule

import (
	"bufio"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/pve/calendar"
	"github.com/felhom/felhom/pve/prune"
	"github.com/felhom/felhom/spec"
)

func event(t *testing.T, expr string) *calendar.Event {
	t.Helper()
	ev, err := calendar.Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s: %v", name, err)
	}
	return l
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func backupAt(vmid int, ts time.Time) Backup {
	return Backup{VolID: fmt.Sprintf("nfs:backup/vzdump-lxc-%d-%s.tar.zst", vmid, ts.Format("2006_01_02-15_04_05")), CTime: ts}
}

func TestEvaluate(t *testing.T) {
	bud := zone(t, "Europe/Budapest")
	daily := event(t, "02:30")
	weekdays := event(t, "mon..fri 02:30")
	never := event(t, "2020-01-01")
	tests := []struct {
		name    string
		ev      *calendar.Event
		maxAge  time.Duration
		backups []string // ctimes
		failed  string
		now     string
		want    Status // only the time fields and flags compared
	}{
		{name: "done today, due tomorrow", ev: daily, backups: []string{"2026-06-01T02:30:00+02:00"}, now: "2026-06-01T10:00:00+02:00",
			want: Status{DueAt: at(t, "2026-06-02T02:30:00+02:00"), Next: at(t, "2026-06-02T02:30:00+02:00"), MaxAge: 36 * time.Hour, Age: 7*time.Hour + 30*time.Minute}},
		{name: "due exactly at the occurrence", ev: daily, backups: []string{"2026-06-01T02:30:00+02:00"}, now: "2026-06-02T02:30:00+02:00",
			want: Status{Due: true, DueAt: at(t, "2026-06-02T02:30:00+02:00"), Occurrence: at(t, "2026-06-02T02:30:00+02:00"), Next: at(t, "2026-06-03T02:30:00+02:00"), MaxAge: 36 * time.Hour, Age: 24 * time.Hour}},
		{name: "a second before the occurrence", ev: daily, backups: []string{"2026-06-01T02:30:00+02:00"}, now: "2026-06-02T02:29:59+02:00",
			want: Status{DueAt: at(t, "2026-06-02T02:30:00+02:00"), Next: at(t, "2026-06-02T02:30:00+02:00"), MaxAge: 36 * time.Hour, Age: 24*time.Hour - time.Second}},
		{name: "down three days: the latest missed run, two more missed, overdue", ev: daily, backups: []string{"2026-06-01T02:30:04+02:00", "2026-05-31T02:30:00+02:00"}, now: "2026-06-04T10:00:00+02:00",
			want: Status{Due: true, DueAt: at(t, "2026-06-02T02:30:00+02:00"), Occurrence: at(t, "2026-06-04T02:30:00+02:00"), Missed: 2, Next: at(t, "2026-06-05T02:30:00+02:00"), MaxAge: 36 * time.Hour, Age: 79*time.Hour + 29*time.Minute + 56*time.Second, Overdue: true}},
		{name: "no backup: due at once, overdue", ev: daily, now: "2026-06-04T10:00:00+02:00",
			want: Status{Due: true, DueAt: at(t, "2026-06-04T10:00:00+02:00"), Occurrence: at(t, "2026-06-04T02:30:00+02:00"), Next: at(t, "2026-06-05T02:30:00+02:00"), MaxAge: 36 * time.Hour, Overdue: true}},
		{name: "failed at the run: retried at the next", ev: daily, backups: []string{"2026-06-01T02:30:00+02:00"}, failed: "2026-06-02T02:31:10+02:00", now: "2026-06-02T09:00:00+02:00",
			want: Status{DueAt: at(t, "2026-06-03T02:30:00+02:00"), Next: at(t, "2026-06-03T02:30:00+02:00"), MaxAge: 36 * time.Hour, Age: 30*time.Hour + 30*time.Minute}},
		{name: "failed long ago: the backup since decides", ev: daily, backups: []string{"2026-06-02T02:30:00+02:00"}, failed: "2026-05-20T02:30:00+02:00", now: "2026-06-02T09:00:00+02:00",
			want: Status{DueAt: at(t, "2026-06-03T02:30:00+02:00"), Next: at(t, "2026-06-03T02:30:00+02:00"), MaxAge: 36 * time.Hour, Age: 6*time.Hour + 30*time.Minute}},
		{name: "a ctime in the future counts as now", ev: daily, backups: []string{"2026-06-03T02:30:00+02:00"}, now: "2026-06-02T09:00:00+02:00",
			want: Status{DueAt: at(t, "2026-06-03T02:30:00+02:00"), Next: at(t, "2026-06-03T02:30:00+02:00"), MaxAge: 36 * time.Hour}},
		{name: "weekdays: the weekend gap sets max-age", ev: weekdays, backups: []string{"2026-06-05T02:30:00+02:00"}, now: "2026-06-08T01:00:00+02:00",
			want: Status{DueAt: at(t, "2026-06-08T02:30:00+02:00"), Next: at(t, "2026-06-08T02:30:00+02:00"), MaxAge: 108 * time.Hour, Age: 70*time.Hour + 30*time.Minute}},
		{name: "max-age of the spec", ev: daily, maxAge: 12 * time.Hour, backups: []string{"2026-06-01T02:30:00+02:00"}, now: "2026-06-01T15:00:00+02:00",
			want: Status{DueAt: at(t, "2026-06-02T02:30:00+02:00"), Next: at(t, "2026-06-02T02:30:00+02:00"), MaxAge: 12 * time.Hour, Age: 12*time.Hour + 30*time.Minute, Overdue: true}},
		{name: "an event that never fires: never due, no max-age", ev: never, backups: []string{"2020-01-02T02:30:00+01:00"}, now: "2026-06-02T02:30:00+02:00",
			want: Status{Age: 2343*24*time.Hour - time.Hour}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Container{VMID: 100, Node: "pve1", Policy: Policy{Event: tc.ev, MaxAge: tc.maxAge}}
			for _, s := range tc.backups {
				c.Backups = append(c.Backups, backupAt(100, at(t, s)))
			}
			if tc.failed != "" {
				c.Failed = at(t, tc.failed)
			}
			got := Evaluate(c, bud, at(t, tc.now))
			for _, f := range []struct {
				name      string
				got, want time.Time
			}{{"DueAt", got.DueAt, tc.want.DueAt}, {"Occurrence", got.Occurrence, tc.want.Occurrence}, {"Next", got.Next, tc.want.Next}} {
				if !f.got.Equal(f.want) {
					t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
				}
			}
			if got.Due != tc.want.Due || got.Missed != tc.want.Missed || got.Overdue != tc.want.Overdue || got.MaxAge != tc.want.MaxAge || got.Age != tc.want.Age {
				t.Errorf("Due %v Missed %d Overdue %v MaxAge %v Age %v, want %v %d %v %v %v", got.Due, got.Missed, got.Overdue, got.MaxAge, got.Age,
					tc.want.Due, tc.want.Missed, tc.want.Overdue, tc.want.MaxAge, tc.want.Age)
			}
			if len(tc.backups) > 0 && (got.Last == nil || !got.Last.CTime.Equal(at(t, tc.backups[0]))) {
				t.Errorf("Last = %+v, want the backup of %s", got.Last, tc.backups[0])
			}
		})
	}
}

// TestCatchUpOnce: after a downtime one backup is taken, and evaluating
// again (the same process, or a restarted one that reads the same list)
// takes none until the next occurrence.
func TestCatchUpOnce(t *testing.T) {
	bud := zone(t, "Europe/Budapest")
	c := Container{VMID: 101, Node: "pve1", Policy: Policy{Event: event(t, "1,13:00")},
		Backups: []Backup{backupAt(101, at(t, "2026-06-01T13:00:00+02:00"))}}
	now := at(t, "2026-06-05T08:17:00+02:00")
	st := Evaluate(c, bud, now)
	if !st.Due || st.Missed != 6 || !st.Occurrence.Equal(at(t, "2026-06-05T01:00:00+02:00")) {
		t.Fatalf("after the downtime: %+v, want due for 05 01:00 with 6 more missed", st)
	}
	c.Backups = append(c.Backups, backupAt(101, now))
	for _, later := range []time.Time{now, now.Add(time.Minute), at(t, "2026-06-05T12:59:59+02:00")} {
		if st := Evaluate(c, bud, later); st.Due {
			t.Errorf("at %v after the catch-up: due again (%+v)", later, st)
		}
	}
	if st := Evaluate(c, bud, at(t, "2026-06-05T13:00:00+02:00")); !st.Due || st.Missed != 0 {
		t.Errorf("at the next occurrence: %+v, want due, none missed", st)
	}
}

func TestLatestFrequentEventLongDowntime(t *testing.T) {
	ev := event(t, "*:0/1") // every minute
	ref := at(t, "2026-01-01T00:00:30Z")
	now := at(t, "2026-01-31T00:00:30Z")
	o, missed := latest(ev, now, ref)
	if !o.Equal(at(t, "2026-01-31T00:00:00Z")) || missed != maxCount-1 {
		t.Errorf("latest = %v, %d missed; want 2026-01-31T00:00:00Z and the count capped at %d", o, missed, maxCount-1)
	}
}

func TestDefaultMaxAge(t *testing.T) {
	bud := zone(t, "Europe/Budapest")
	from := at(t, "2026-03-20T12:00:00Z").In(bud)
	for expr, want := range map[string]time.Duration{
		"02:30":          36 * time.Hour, // not 47h: the night the DST gap skips is not counted
		"mon..fri 02:30": 108 * time.Hour,
		"sun 03:00":      252 * time.Hour,
		"*:0/15":         22*time.Minute + 30*time.Second,
		"0/6:00":         9 * time.Hour,
		"2020-01-01":     0,
		"2040-01-01":     0, // fires once
	} {
		if got := DefaultMaxAge(event(t, expr), from); got != want {
			t.Errorf("DefaultMaxAge(%q) = %v, want %v", expr, got, want)
		}
	}
}

func TestBatches(t *testing.T) {
	a := Options{Storage: "nfs", Mode: "snapshot", Compress: "zstd", PruneBackups: "keep-daily=7"}
	b := a
	b.PruneBackups = "keep-daily=14"
	c := a
	c.Storage = "local"
	ct := func(vmid int, node string, o Options) Container {
		return Container{VMID: vmid, Node: node, Policy: Policy{Options: o}}
	}
	in := []Container{ct(105, "pve1", a), ct(301, "pve2", a), ct(101, "pve1", a), ct(103, "pve1", b), ct(102, "pve1", c), ct(101, "pve1", a), ct(300, "pve2", a)}
	want := []Batch{
		{Node: "pve1", Options: c, VMIDs: []int{102}},
		{Node: "pve1", Options: a, VMIDs: []int{101, 105}},
		{Node: "pve1", Options: b, VMIDs: []int{103}},
		{Node: "pve2", Options: a, VMIDs: []int{300, 301}},
	}
	for i := range 5 {
		got := Batches(in)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Batches (order %d) =\n%+v\nwant\n%+v", i, got, want)
		}
		slices.Reverse(in)
		in = append(in[1:], in[0])
	}
	if got := want[1].VMIDList(); got != "101,105" {
		t.Errorf("VMIDList = %q", got)
	}
}

func TestPreview(t *testing.T) {
	bud := zone(t, "Europe/Budapest")
	keep := prune.Options{KeepLast: prune.Int(2), KeepDaily: prune.Int(3)}
	c := Container{VMID: 120, Policy: Policy{Event: event(t, "02:30"), Retention: keep, Options: Options{Storage: "nfs", PruneBackups: keep.String()}}}
	for _, s := range []string{"2026-06-01T02:30:00+02:00", "2026-06-02T02:30:00+02:00", "2026-06-02T14:00:00+02:00", "2026-06-03T02:30:00+02:00", "2026-06-04T02:30:00+02:00"} {
		c.Backups = append(c.Backups, backupAt(120, at(t, s).In(bud)))
	}
	c.Backups[0].Protected = true
	got := Preview(c, bud, at(t, "2026-06-05T02:30:00+02:00"))
	// The next run's archive and 06-04 are the last two; the days 06-03
	// and 06-02 (its newest, 14:00) fill keep-daily; 06-02 02:30 goes.
	want := map[string]prune.Mark{
		c.Backups[0].VolID: prune.MarkProtected, c.Backups[1].VolID: prune.MarkRemove, c.Backups[2].VolID: prune.MarkKeep,
		c.Backups[3].VolID: prune.MarkKeep, c.Backups[4].VolID: prune.MarkKeep,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Preview = %v, want %v", got, want)
	}
	c.Policy.Retention, c.Policy.Options.PruneBackups = prune.Options{KeepAll: prune.Bool(true)}, "keep-all=1"
	if got := Preview(c, bud, at(t, "2026-06-05T02:30:00+02:00")); got != nil {
		t.Errorf("keep-all: Preview = %v, want nil", got)
	}
}

func TestPolicyFromSpec(t *testing.T) {
	notes, yes, age := "{{guestname}}", true, spec.Duration(36*time.Hour)
	p, err := PolicyFromSpec(&spec.BackupPolicy{Schedule: "mon..fri 02:30", Storage: "nfs", Mode: "stop", Compress: "none",
		NotesTemplate: &notes, Protected: &yes, MaxAge: &age, Retention: &spec.Retention{KeepLast: prune.Int(3), KeepWeekly: prune.Int(2)}})
	if err != nil {
		t.Fatal(err)
	}
	want := Options{Storage: "nfs", Mode: "stop", Compress: "0", NotesTemplate: notes, Protected: true, PruneBackups: "keep-last=3,keep-weekly=2"}
	if p.Options != want || p.MaxAge != 36*time.Hour || p.Event.String() != "mon..fri 02:30" {
		t.Errorf("PolicyFromSpec = %+v", p)
	}
	if _, err := PolicyFromSpec(&spec.BackupPolicy{Schedule: "mon..fry", Storage: "nfs"}); err == nil || !strings.HasPrefix(err.Error(), "backup.schedule: ") {
		t.Errorf("bad schedule: err = %v", err)
	}
}

// weekRuns reads testdata/dstweek.txt: the runs felhom schedule printed,
// by "expr|zone".
func weekRuns(t *testing.T) map[string][]time.Time {
	t.Helper()
	f, err := os.Open("testdata/dstweek.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]time.Time{}
	key := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "$ felhom schedule '"):
			expr, rest, _ := strings.Cut(strings.TrimPrefix(line, "$ felhom schedule '"), "' --tz ")
			z, _, _ := strings.Cut(rest, " ")
			key = expr + "|" + z
			out[key] = []time.Time{}
		default:
			out[key] = append(out[key], at(t, line))
		}
	}
	return out
}

// TestDSTWeek drives a clock through a week holding Budapest's spring
// forward and Sydney's fall back, the way a daemon does (sleep until the
// earliest DueAt, back up every due container, batched): every container
// is backed up exactly at the times felhom schedule --tz prints for its
// event and its node's zone, once each, and containers with equal options
// on one node share each vzdump.
func TestDSTWeek(t *testing.T) {
	zones := map[string]*time.Location{"pve1": zone(t, "Europe/Budapest"), "pve2": zone(t, "Australia/Sydney")}
	start, end := at(t, "2026-03-28T23:00:00Z"), at(t, "2026-04-04T23:00:00Z")
	nfs := Options{Storage: "nfs", Compress: "zstd", PruneBackups: "keep-last=3"}
	local := Options{Storage: "local", PruneBackups: "keep-daily=2"}
	cts := []*Container{
		{VMID: 101, Node: "pve1", Policy: Policy{Event: event(t, "02:30"), Options: nfs}},
		{VMID: 102, Node: "pve1", Policy: Policy{Event: event(t, "02:30"), Options: nfs}},
		{VMID: 103, Node: "pve1", Policy: Policy{Event: event(t, "02:30"), Options: local}},
		{VMID: 104, Node: "pve1", Policy: Policy{Event: event(t, "0/2:00"), Options: nfs}},
		{VMID: 105, Node: "pve1", Policy: Policy{Event: event(t, "mon..fri 03:00"), Options: nfs}},
		{VMID: 201, Node: "pve2", Policy: Policy{Event: event(t, "02:30"), Options: nfs}},
		{VMID: 202, Node: "pve2", Policy: Policy{Event: event(t, "0/2:00"), Options: nfs}},
		{VMID: 203, Node: "pve2", Policy: Policy{Event: event(t, "sun 01:00 UTC"), Options: nfs}},
	}
	for _, c := range cts {
		c.Backups = []Backup{backupAt(c.VMID, start)} // backed up as the week starts
	}
	runs := map[int][]time.Time{}
	calls := map[string][]string{} // time -> "node:vmids"
	now := start
	for steps := 0; ; steps++ {
		if steps > 10000 {
			t.Fatal("no end")
		}
		var due []Container
		next := time.Time{}
		for _, c := range cts {
			st := Evaluate(*c, zones[c.Node], now)
			if st.Due {
				due = append(due, *c)
			} else if !st.DueAt.IsZero() && (next.IsZero() || st.DueAt.Before(next)) {
				next = st.DueAt
			}
		}
		if len(due) == 0 {
			if next.IsZero() || !next.Before(end) {
				break
			}
			now = next
			continue
		}
		for _, b := range Batches(due) {
			k := now.UTC().Format(time.RFC3339)
			calls[k] = append(calls[k], b.Node+":"+b.VMIDList())
			for _, vmid := range b.VMIDs {
				runs[vmid] = append(runs[vmid], now)
				for _, c := range cts {
					if c.VMID == vmid {
						c.Backups = append(c.Backups, backupAt(vmid, now.In(zones[c.Node])))
					}
				}
			}
		}
	}
	want := weekRuns(t)
	for _, c := range cts {
		exp := want[c.Policy.Event.String()+"|"+zones[c.Node].String()]
		if len(exp) == 0 {
			t.Fatalf("testdata has no runs for %q in %s", c.Policy.Event, zones[c.Node])
		}
		got := runs[c.VMID]
		if len(got) != len(exp) {
			t.Errorf("ct %d (%q): %d runs, felhom schedule prints %d", c.VMID, c.Policy.Event, len(got), len(exp))
		}
		for i := range min(len(got), len(exp)) {
			if !got[i].Equal(exp[i]) {
				t.Errorf("ct %d run %d at %v, felhom schedule prints %v", c.VMID, i, got[i], exp[i])
			}
		}
	}
	// Batching: 101 and 102 share every 02:30 vzdump on pve1, 103 (another
	// storage) has its own, and no vmid is in two calls at one time.
	for k, cs := range calls {
		seen := map[string]bool{}
		for _, c := range cs {
			for _, v := range strings.Split(strings.SplitN(c, ":", 2)[1], ",") {
				if seen[v] {
					t.Errorf("%s: ct %s in two calls %v", k, v, cs)
				}
				seen[v] = true
			}
		}
		if seen["101"] && !slices.Contains(cs, "pve1:101,102") {
			t.Errorf("%s: calls %v, want 101 and 102 in one", k, cs)
		}
	}
	if n := len(calls["2026-03-30T00:30:00Z"]); n != 2 {
		t.Errorf("Monday 02:30 in Budapest: %d calls %v, want 2 (nfs: 101,102; local: 103)", n, calls["2026-03-30T00:30:00Z"])
	}
}
