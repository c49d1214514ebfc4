package daemon

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/felhom/felhom/pve/pvesim"
)

func backupEnv(t *testing.T) (*env, map[string]string) {
	inv := testInventory()
	inv.Node("pve1").Timezone = "Europe/Budapest"
	addCT(inv, "pve1", 101)
	addCT(inv, "pve1", 102)
	addCT(inv, "pve2", 201)
	e := newEnv(t, inv)
	b := "backup:\n  schedule: \"02:30\"\n  storage: local\n  retention:\n    keep-last: 2\n"
	files := map[string]string{"a.yaml": ctSpec("pve1", 101, b), "b.yaml": ctSpec("pve1", 102, b), "c.yaml": ctSpec("pve2", 201, b)}
	e.src.set(files)
	return e, files
}

// vzdumps are the vzdump calls among calls.
func vzdumps(calls []string) []string {
	var out []string
	for _, c := range calls {
		if strings.HasSuffix(c, "/vzdump") {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// TestBackupsInTheLoop: the loop backs up the specs' due containers,
// batched per node, records them in the status and the metrics, takes
// none again for a run done (also after a restart), and one catch-up
// after a downtime across runs.
func TestBackupsInTheLoop(t *testing.T) {
	e, _ := backupEnv(t)
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg)
	l := e.loop(Options{Backups: e.api, Metrics: m})
	e.cycle(l, KindResync)
	e.rec.take()
	ctx := context.Background()
	next, reps := l.BackupPass(ctx) // no backups yet: all due
	if got := vzdumps(e.rec.take()); !slices.Equal(got, []string{"POST /nodes/pve1/vzdump", "POST /nodes/pve2/vzdump"}) || len(reps) != 1 || reps[0].Failed() != 0 {
		t.Fatalf("first pass: vzdumps %v, reports %+v", got, reps)
	}
	if want := time.Date(2026, 11, 26, 1, 30, 0, 0, time.UTC); !next.Equal(want) { // 02:30 in Budapest
		t.Errorf("next due %v, want %v", next, want)
	}
	st := statusOf(t, l, 101)
	if b := st.Backup; b == nil || b.LastOutcome != "ok" || b.Overdue || b.LastArchive == "" || b.TimeZone != "Europe/Budapest" || !b.NextRun.Equal(next) {
		t.Errorf("status of ct 101: %+v", st.Backup)
	}
	if _, reps := l.BackupPass(ctx); len(reps) != 0 || len(vzdumps(e.rec.take())) != 0 {
		t.Errorf("second pass took backups again")
	}
	restarted := e.loop(Options{Backups: e.api})
	e.cycle(restarted, KindResync)
	if _, reps := restarted.BackupPass(ctx); len(reps) != 0 || len(vzdumps(e.rec.take())) != 0 {
		t.Errorf("a restarted loop took backups again")
	}
	// Down across two runs: one catch-up per container, in one call per node.
	e.clock.c.Set(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	restarted = e.loop(Options{Backups: e.api})
	e.cycle(restarted, KindResync)
	e.rec.take()
	if _, reps := restarted.BackupPass(ctx); len(reps) != 1 || len(reps[0].Results) != 3 || len(vzdumps(e.rec.take())) != 2 {
		t.Errorf("catch-up after the downtime: %+v", reps)
	}
	if n := testutil.ToFloat64(m.backup.runs.WithLabelValues("ok")); n != 3 {
		t.Errorf("felhom_backup_runs_total{outcome=ok} = %v, want 3", n)
	}
	if n := testutil.ToFloat64(m.backup.overdueN); n != 0 {
		t.Errorf("felhom_backup_overdue_containers = %v", n)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("GatherAndLint: %v %v", err, problems)
	}
}

// TestBackupFailureInTheLoop: a failing vzdump is in the status with its
// log and in the metrics; the others are backed up; it is overdue then.
func TestBackupFailureInTheLoop(t *testing.T) {
	e, _ := backupEnv(t)
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg)
	l := e.loop(Options{Backups: e.api, Metrics: m})
	e.cycle(l, KindResync)
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzdump", ID: "201", Fail: "storage 'local' is full", Count: 1})
	l.BackupPass(context.Background())
	b := statusOf(t, l, 201).Backup
	if b == nil || b.LastOutcome != "failed" || !strings.Contains(b.LastError, "storage 'local' is full") || !slices.Contains(b.LastLog, "TASK ERROR: storage 'local' is full") || !b.Overdue {
		t.Errorf("status of ct 201: %+v", b)
	}
	if b := statusOf(t, l, 101).Backup; b == nil || b.LastOutcome != "ok" {
		t.Errorf("status of ct 101: %+v", b)
	}
	if n := testutil.ToFloat64(m.backup.runs.WithLabelValues("failed")); n != 1 {
		t.Errorf("felhom_backup_runs_total{outcome=failed} = %v", n)
	}
	if n := testutil.ToFloat64(m.backup.overdueN); n != 1 {
		t.Errorf("felhom_backup_overdue_containers = %v, want 1", n)
	}
	if n := testutil.ToFloat64(m.backup.overdue.WithLabelValues("201", "ct201")); n != 1 {
		t.Errorf("felhom_backup_overdue{vmid=201} = %v", n)
	}
}

// TestBackupWaitsForTheContainer: a due backup waits while the loop works
// on its container, and runs once it is free.
func TestBackupWaitsForTheContainer(t *testing.T) {
	e, _ := backupEnv(t)
	l := e.loop(Options{Backups: e.api})
	e.cycle(l, KindResync)
	e.rec.take()
	done := make(chan struct{})
	start := e.clock.Now()
	ran := l.WithContainer(101, func() {
		go func() { defer close(done); l.BackupPass(context.Background()) }()
		// The backup's hold polls on the clock while 101 is busy.
		deadline := time.Now().Add(20 * time.Second)
		for e.clock.Now().Sub(start) < 3*time.Second {
			if time.Now().After(deadline) {
				t.Error("the backup never waited for the container")
				return
			}
			time.Sleep(time.Millisecond)
		}
		if got := vzdumps(e.rec.take()); slices.Contains(got, "POST /nodes/pve1/vzdump") {
			t.Errorf("pve1's vzdump ran while ct 101 was busy: %v", got)
		}
	})
	<-done
	if !ran {
		t.Fatal("WithContainer did not run")
	}
	if b := statusOf(t, l, 101).Backup; b == nil || b.LastOutcome != "ok" {
		t.Errorf("ct 101 after it was free: %+v", b)
	}
}
