package backup

import (
	"bufio"
	"context"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/prune"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/schedule"
)

// weekRuns reads reconcile/schedule's testdata/dstweek.txt: what felhom
// schedule --tz printed, by "expr|zone".
func weekRuns(t *testing.T) map[string][]time.Time {
	t.Helper()
	f, err := os.Open("../schedule/testdata/dstweek.txt")
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
		default:
			v, err := time.Parse(time.RFC3339, line)
			if err != nil {
				t.Fatal(err)
			}
			out[key] = append(out[key], v)
		}
	}
	return out
}

func dstInventory() *pvesim.Inventory {
	inv := pvesim.NewInventory("lab")
	for _, n := range []struct {
		name, tz string
		vmids    []int
	}{{"pve1", "Europe/Budapest", []int{101, 102, 103, 104, 105}}, {"pve2", "Australia/Sydney", []int{201, 202, 203}}} {
		node := inv.AddNode(n.name)
		node.Timezone = n.tz
		node.AddStorage("local", "dir", "backup", "vztmpl", "rootdir")
		node.AddStorage("local-lvm", "lvmthin", "rootdir", "images")
		node.AddStorage("nas", "nfs", "backup").Shared = true
		for _, v := range n.vmids {
			node.AddContainer(v, true, ctConfig("ct", v))
		}
	}
	return inv
}

var (
	nasOpts   = schedule.Options{Storage: "nas", Compress: "zstd", PruneBackups: "keep-last=3"}
	localOpts = schedule.Options{Storage: "local", PruneBackups: "keep-daily=2,keep-last=1"}
)

func dstTargets(t *testing.T) []Target {
	return []Target{
		target(t, 101, "pve1", "02:30", nasOpts),
		target(t, 102, "pve1", "02:30", nasOpts),
		target(t, 103, "pve1", "02:30", localOpts),
		target(t, 104, "pve1", "0/2:00", nasOpts),
		target(t, 105, "pve1", "mon..fri 03:00", nasOpts),
		target(t, 201, "pve2", "02:30", nasOpts),
		target(t, 202, "pve2", "0/2:00", nasOpts),
		target(t, 203, "pve2", "sun 01:00 UTC", nasOpts),
	}
}

// listBackups lists a container's backups on storage by volid.
func (e *env) listBackups(node, storage string, vmid int) []string {
	e.t.Helper()
	vols, err := e.api.StorageContent(context.Background(), node, storage, pve.ContentQuery{Content: "backup", VMID: vmid})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, v := range vols {
		out = append(out, v.VolID)
	}
	sort.Strings(out)
	return out
}

// TestDSTWeekOnTheSimulator drives the simulator's clock through the week
// of reconcile/schedule's TestDSTWeek as a daemon does (observe, run what
// is due, sleep until the next DueAt): every container is backed up at
// its first observation (it has no backup) and then exactly at the times
// felhom schedule --tz prints, batched, one vzdump per node at a time, and
// after each run the storage holds exactly what pve/prune keeps of the
// container's backups by its retention, which also agrees with the
// simulator's prune dry run.
func TestDSTWeekOnTheSimulator(t *testing.T) {
	start, end := time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC), time.Date(2026, 4, 4, 23, 0, 0, 0, time.UTC)
	e := newEnv(t, dstInventory(), start)
	targets := dstTargets(t)
	r := e.runner(Options{})
	ctx := context.Background()
	runs := map[int][]time.Time{}
	callsAt := map[string][]string{} // by UTC time
	have := map[int][]string{}       // the container's archives, as the test expects them
	for steps := 0; ; steps++ {
		if steps > 1000 {
			t.Fatal("no end")
		}
		now := e.clock.Now()
		obs, err := r.Observe(ctx, targets)
		if err != nil || len(obs.Errors) > 0 {
			t.Fatalf("observe: %v %v", err, obs.Errors)
		}
		jobs := Due(obs, now)
		if len(jobs) == 0 {
			next := obs.NextDue(now)
			if next.IsZero() || !next.Before(end) {
				break
			}
			e.clock.c.Set(next)
			continue
		}
		rep := r.Run(ctx, jobs)
		callsAt[now.UTC().Format(time.RFC3339)] = e.api.takeCalls()
		for _, x := range rep.Results {
			if x.Outcome != OutcomeOK {
				t.Fatalf("%v: ct %d failed: %s %v", now, x.VMID, x.Error, x.Log)
			}
			runs[x.VMID] = append(runs[x.VMID], now)
			var tg Target
			for _, g := range targets {
				if g.VMID == x.VMID {
					tg = g
				}
			}
			loc := obs.Zones[x.Node]
			list := []prune.Backup{}
			for _, v := range append(have[x.VMID], x.Archive) {
				list = append(list, prune.FromVolume(v, time.Time{}, x.VMID, false, loc))
			}
			var kept []string
			for v, m := range prune.Select(list, tg.Policy.Retention, loc) {
				if m == prune.MarkKeep {
					kept = append(kept, v)
				}
			}
			sort.Strings(kept)
			got := e.listBackups(x.Node, x.Storage, x.VMID)
			if !slices.Equal(got, kept) {
				t.Fatalf("%v: ct %d: storage holds %v, pve/prune keeps %v", now, x.VMID, got, kept)
			}
			have[x.VMID] = got
		}
	}
	want := weekRuns(t)
	for _, tg := range targets {
		loc, _ := time.LoadLocation(map[string]string{"pve1": "Europe/Budapest", "pve2": "Australia/Sydney"}[tg.Node])
		exp := append([]time.Time{start}, want[tg.Policy.Event.String()+"|"+loc.String()]...)
		got := runs[tg.VMID]
		if len(got) != len(exp) {
			t.Errorf("ct %d (%q): %d runs, want %d (the first at the start, then felhom schedule's)", tg.VMID, tg.Policy.Event, len(got), len(exp))
			continue
		}
		for i := range got {
			if !got[i].Equal(exp[i]) {
				t.Errorf("ct %d run %d at %v, want %v", tg.VMID, i, got[i], exp[i])
			}
		}
	}
	for n, m := range e.api.maxIn {
		if m != 1 {
			t.Errorf("node %s: %d felhom vzdumps at once", n, m)
		}
	}
	monday := time.Date(2026, 3, 30, 0, 30, 0, 0, time.UTC) // 02:30 in Budapest
	if got := callsAt[monday.Format(time.RFC3339)]; !slices.Equal(got, []string{"pve1 [103]", "pve1 [101 102]"}) {
		t.Errorf("Monday 02:30 Budapest: vzdump calls %v, want local [103] then nas [101 102]", got)
	}
	first := slices.Clone(callsAt[start.Format(time.RFC3339)])
	sort.Strings(first) // nodes run in parallel; within a node, storages in order
	if got := first; !slices.Equal(got, []string{"pve1 [101 102 104 105]", "pve1 [103]", "pve2 [201 202 203]"}) {
		t.Errorf("first run: vzdump calls %v", got)
	}
	// pve/prune and PVE's prune dry run agree on what each retention keeps.
	for _, tg := range targets {
		node := tg.Node
		dry, err := e.api.PruneBackupsDryRun(ctx, node, tg.Policy.Options.Storage, pve.PruneQuery{PruneBackups: tg.Policy.Options.PruneBackups, Type: "lxc", VMID: tg.VMID})
		if err != nil {
			t.Fatal(err)
		}
		obs, _ := r.Observe(ctx, []Target{tg})
		c := obs.Containers[0]
		list := []prune.Backup{}
		for _, b := range c.Backups {
			list = append(list, prune.FromVolume(b.VolID, b.CTime, c.VMID, b.Protected, obs.Zones[node]))
		}
		marks := prune.Select(list, tg.Policy.Retention, obs.Zones[node])
		if len(dry) != len(marks) {
			t.Errorf("ct %d: dry run lists %d, pve/prune marks %d", tg.VMID, len(dry), len(marks))
		}
		for _, d := range dry {
			if string(marks[d.VolID]) != d.Mark {
				t.Errorf("ct %d %s: dry run %s, pve/prune %s", tg.VMID, d.VolID, d.Mark, marks[d.VolID])
			}
		}
	}
}

// TestDowntimeCatchUpOnce: a daemon down across due runs takes exactly one
// catch-up backup when it starts, and a restart right after takes none.
func TestDowntimeCatchUpOnce(t *testing.T) {
	start := time.Date(2026, 6, 1, 0, 30, 0, 0, time.UTC) // 02:30 in Budapest
	e := newEnv(t, dstInventory(), start)
	targets := []Target{target(t, 101, "pve1", "02:30", nasOpts), target(t, 102, "pve1", "02:30", nasOpts)}
	ctx := context.Background()
	runOnce := func() *Report {
		r := e.runner(Options{}) // a fresh process
		obs, err := r.Observe(ctx, targets)
		if err != nil {
			t.Fatal(err)
		}
		return r.Run(ctx, Due(obs, e.clock.Now()))
	}
	if rep := runOnce(); len(rep.Calls) != 1 || rep.Failed() != 0 {
		t.Fatalf("first run: %+v", rep)
	}
	e.clock.c.Set(time.Date(2026, 6, 4, 9, 0, 0, 0, time.UTC)) // down across three runs
	rep := runOnce()
	if len(rep.Calls) != 1 || len(rep.Results) != 2 || rep.Failed() != 0 {
		t.Fatalf("catch-up: %d calls, %+v", len(rep.Calls), rep.Results)
	}
	if want := time.Date(2026, 6, 4, 0, 30, 0, 0, time.UTC); !rep.Results[0].Occurrence.Equal(want) {
		t.Errorf("caught up occurrence %v, want the latest missed %v", rep.Results[0].Occurrence, want)
	}
	e.clock.c.Advance(time.Minute)
	if rep := runOnce(); len(rep.Calls) != 0 {
		t.Errorf("restart after the catch-up: %d vzdump calls", len(rep.Calls))
	}
	if got := len(e.listBackups("pve1", "nas", 101)); got != 2 {
		t.Errorf("ct 101 has %d backups, want 2 (the first run and one catch-up)", got)
	}
}

func failInventory() *pvesim.Inventory {
	inv := dstInventory()
	tiny := inv.Node("pve1").AddStorage("tiny", "dir", "backup")
	tiny.Total = 1 << 20 // a 1 MiB storage: any archive fills it
	return inv
}

// TestFailuresAreReportedRetriedAndIsolated: a lock that never clears, a
// full storage and a task error each fail only their containers, with the
// task log; a lock that clears is waited out; the others are backed up at
// once; failed containers are not retried before their next occurrence,
// and are then.
func TestFailuresAreReportedRetriedAndIsolated(t *testing.T) {
	start := time.Date(2026, 6, 1, 0, 30, 0, 0, time.UTC) // 02:30 in Budapest, 10:30 in Sydney
	e := newEnv(t, failInventory(), start)
	stop := nasOpts
	stop.Mode = "stop"
	targets := []Target{
		target(t, 101, "pve1", "02:30", nasOpts),                           // locked for good
		target(t, 102, "pve1", "02:30", nasOpts),                           // fine
		target(t, 103, "pve1", "02:30", schedule.Options{Storage: "tiny"}), // storage full
		target(t, 104, "pve1", "02:30", nasOpts),                           // locked for 5 minutes
		target(t, 201, "pve2", "10:30", stop),                              // its task fails
		target(t, 202, "pve2", "10:30", nasOpts),                           // fine
	}
	if err := e.sim.HoldLock(101, "backup", 1000*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.HoldLock(104, "backup", 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzdump", ID: "201", Fail: "job aborted by the test", Count: 1})
	r := e.runner(Options{LockWait: 30 * time.Minute, LockPoll: time.Minute})
	ctx := context.Background()
	run := func() (*Report, map[int]Result) {
		obs, err := r.Observe(ctx, targets)
		if err != nil || len(obs.Errors) > 0 {
			t.Fatalf("observe: %v %v", err, obs.Errors)
		}
		rep := r.Run(ctx, Due(obs, e.clock.Now()))
		by := map[int]Result{}
		for _, x := range rep.Results {
			by[x.VMID] = x
		}
		return rep, by
	}
	rep, by := run()
	if len(by) != 6 || rep.Failed() != 3 {
		t.Fatalf("results: %+v", rep.Results)
	}
	for _, v := range []int{102, 104, 202} {
		if x := by[v]; x.Outcome != OutcomeOK || x.Archive == "" || x.Size == 0 {
			t.Errorf("ct %d: %+v, want backed up", v, x)
		}
	}
	if x := by[101]; x.Outcome != OutcomeFailed || !strings.Contains(x.Error, "locked (backup) for longer than 30m0s") {
		t.Errorf("ct 101 (locked): %+v", x)
	}
	if x := by[103]; x.Outcome != OutcomeFailed || x.Error != "no space left on device" ||
		!slices.Contains(x.Log, "ERROR: Backup of VM 103 failed - no space left on device") || !slices.Contains(x.Log, "INFO: Starting Backup of VM 103 (lxc)") {
		t.Errorf("ct 103 (storage full): %+v", x)
	}
	if x := by[201]; x.Outcome != OutcomeFailed || !strings.Contains(x.Error, "job aborted by the test") || !slices.Contains(x.Log, "TASK ERROR: job aborted by the test") {
		t.Errorf("ct 201 (task error): %+v", x)
	}
	var pve1 []string
	for _, c := range e.api.takeCalls() {
		if strings.HasPrefix(c, "pve1 ") {
			pve1 = append(pve1, c)
		}
	}
	if !slices.Equal(pve1, []string{"pve1 [102]", "pve1 [103]", "pve1 [104]"}) {
		t.Errorf("pve1 calls %v: want 102 and 103 at once, 104 once its lock cleared, 101 never", pve1)
	}
	// Not retried before the next occurrence: nothing is due now.
	if rep, _ := run(); len(rep.Calls) != 0 {
		t.Errorf("right after the failures: %d vzdump calls", len(rep.Calls))
	}
	// The next occurrence: everyone runs again; 201 succeeds now, 101's
	// lock and 103's storage still fail.
	e.clock.c.Set(time.Date(2026, 6, 2, 0, 30, 0, 0, time.UTC))
	rep, by = run()
	if by[201].Outcome != OutcomeOK || by[101].Outcome != OutcomeFailed || by[103].Outcome != OutcomeFailed || rep.Failed() != 2 || len(by) != 6 {
		t.Errorf("next occurrence: %+v", rep.Results)
	}
}

// TestPlanSectionPreviewIsWhatPVEPrunes: the plan's retention preview
// names exactly the archives the next run's vzdump prunes on the
// simulator; next run and last backup are in node time and UTC.
func TestPlanSectionPreviewIsWhatPVEPrunes(t *testing.T) {
	start := time.Date(2026, 6, 1, 0, 30, 0, 0, time.UTC) // 02:30 in Budapest
	e := newEnv(t, dstInventory(), start)
	o := nasOpts
	o.PruneBackups = "keep-daily=1,keep-last=1"
	targets := []Target{target(t, 101, "pve1", "2,14:30", o), target(t, 999, "pve1", "02:30", o)}
	r := e.runner(Options{})
	ctx := context.Background()
	for range 5 { // five runs, twelve hours apart
		obs, err := r.Observe(ctx, targets)
		if err != nil {
			t.Fatal(err)
		}
		if rep := r.Run(ctx, Due(obs, e.clock.Now())); rep.Failed() != 0 || len(rep.Results) != 1 {
			t.Fatalf("run: %+v", rep.Results)
		}
		e.clock.c.Advance(12 * time.Hour)
	}
	e.clock.c.Set(time.Date(2026, 6, 3, 12, 0, 0, 0, time.UTC)) // 14:00 in Budapest: not due
	obs, err := r.Observe(ctx, targets)
	if err != nil {
		t.Fatal(err)
	}
	sec := PlanSection(targets, obs, e.clock.Now())
	if len(sec.Containers) != 2 || sec.RunBy != RunBy {
		t.Fatalf("section %+v", sec)
	}
	if c := sec.Containers[1]; c.VMID != 999 || c.Error != "ct 999: not found on PVE" {
		t.Errorf("missing container: %+v", c)
	}
	c := sec.Containers[0]
	if c.Due || c.Overdue || c.NextRun != "2026-06-03T14:30:00+02:00" || c.NextRunUTC != "2026-06-03T12:30:00Z" ||
		c.LastBackup != "2026-06-03T02:30:00+02:00" || c.TimeZone != "Europe/Budapest" || c.Backups != 2 || c.MaxAgeSeconds != 18*3600 {
		t.Errorf("schedule %+v", c)
	}
	if len(c.Removes) == 0 {
		t.Fatalf("preview removes nothing: %+v", c)
	}
	before := e.listBackups("pve1", "nas", 101)
	e.clock.c.Set(time.Date(2026, 6, 3, 12, 30, 0, 0, time.UTC))
	obs, _ = r.Observe(ctx, targets)
	rep := r.Run(ctx, Due(obs, e.clock.Now()))
	if rep.Failed() != 0 || len(rep.Results) != 1 {
		t.Fatalf("next run: %+v", rep.Results)
	}
	after := e.listBackups("pve1", "nas", 101)
	var removed []string
	for _, v := range before {
		if !slices.Contains(after, v) {
			removed = append(removed, v)
		}
	}
	if !slices.Equal(removed, c.Removes) || !slices.Contains(after, rep.Results[0].Archive) {
		t.Errorf("the run removed %v (kept %v), the plan previewed %v", removed, after, c.Removes)
	}
}
