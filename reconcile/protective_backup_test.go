package reconcile

import (
	"context"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
)

// backupOnly is a spec change of ct 101 on the dir storage (no snapshots),
// backed up to nas first; extra goes under backup:.
func backupOnly(extra string) string {
	return specMemory(101, "snapshot:\n  when-impossible: vzdump\nbackup:\n  schedule: \"02:00\"\n  storage: nas\n"+extra)
}

func nasBackups(t *testing.T, e *env) []pve.Volume {
	t.Helper()
	vols, err := e.api.StorageContent(context.Background(), "pve1", "nas", pve.ContentQuery{Content: "backup"})
	if err != nil {
		t.Fatal(err)
	}
	return vols
}

// Issue 10 item 11: the backup before the change keeps the spec's
// protected: true.
func TestProtectiveBackupKeepsProtected(t *testing.T) {
	inv := testInventory()
	addCT(inv, 101, true, conf(101, "local"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": backupOnly("  protected: true\n")}))
	cr := resultFor(t, e.apply(p, Options{}), 101)
	if cr.Outcome != OutcomeApplied {
		t.Fatalf("result: %s %s", cr.Outcome, cr.Error)
	}
	vols := nasBackups(t, e)
	if len(vols) != 1 || !vols[0].Protected {
		t.Errorf("backups %+v, want one, protected", vols)
	}
}

// Issue 10 item 11: on a storage at its retention's limit, the backup
// before the change still succeeds (keep-all=1 for this job) and deletes
// no backup the spec did not ask to lose.
func TestProtectiveBackupAtTheStorageLimit(t *testing.T) {
	inv := testInventory()
	nas := inv.Node("pve1").Storages[2]
	nas.PruneBackups = "keep-last=2"
	for _, name := range []string{"vzdump-lxc-101-2026_11_20-02_00_00.tar.zst", "vzdump-lxc-101-2026_11_21-02_00_00.tar.zst"} {
		nas.AddBackup(pvesim.Backup{Volid: "nas:backup/" + name, Size: 1 << 20})
	}
	addCT(inv, 101, true, conf(101, "local"))
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": backupOnly("")}))
	cr := resultFor(t, e.apply(p, Options{}), 101)
	if cr.Outcome != OutcomeApplied || !strings.Contains(strings.Join(cr.Warnings, " "), "backup limit") {
		t.Fatalf("result: %s %s %v", cr.Outcome, cr.Error, cr.Warnings)
	}
	if n := len(nasBackups(t, e)); n != 3 {
		t.Errorf("%d backups on nas, want the 2 there were and the new one", n)
	}
}

// Issue 10 item 11: a stop-mode backup restarts the running container, and
// PVE applies its pending changes then: only when the restart policy allows
// a restart (the plan says so, and apply expects the moved digest);
// otherwise the plan downgrades it to snapshot mode and says so.
func TestStopModeProtectiveBackup(t *testing.T) {
	for _, policy := range []string{"never", "when-needed"} {
		t.Run(policy, func(t *testing.T) {
			inv := testInventory()
			addCT(inv, 101, true, conf(101, "local")+"[pve:pending]\nswap: 1024\n")
			e := newEnv(t, inv)
			p := e.plan(loadSpecs(t, map[string]string{"a.yaml": backupOnly("  mode: stop\n") + "  restart:\n    mode: " + policy + "\n"}))
			cp := planFor(t, p, 101)
			if cp.Status != plan.StatusChanges || cp.Steps[0].Action != plan.ActionVzdump {
				t.Fatalf("plan: %s %v %v", cp.Status, cp.Steps, cp.Blocked)
			}
			warn := strings.Join(cp.Warnings, " ")
			wantMode, wantWarn := "snapshot", "runs in snapshot mode"
			if policy == "when-needed" {
				wantMode, wantWarn = "stop", "PVE applies its pending changes then: swap"
			}
			if got := cp.Steps[0].Params["mode"]; got != wantMode || !strings.Contains(warn, wantWarn) {
				t.Fatalf("vzdump mode %s, warnings %q; want %s and %q", got, warn, wantMode, wantWarn)
			}
			cr := resultFor(t, e.apply(p, Options{}), 101)
			if cr.Outcome != OutcomeApplied {
				t.Fatalf("result: %s %s", cr.Outcome, cr.Error)
			}
			f := parseConf(t, e, 101)
			applied := f.Pending == nil || !hasKey(f.Pending.Keys(), "swap")
			if applied != (policy == "when-needed") || !e.sim.Running(101) {
				t.Errorf("pending swap applied %v, running %v", applied, e.sim.Running(101))
			}
		})
	}
}

func hasKey(keys []string, k string) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}
