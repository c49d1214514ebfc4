package reconcile

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
)

// backupInventory is testInventory with backups on nas: three of ct 101,
// one of them protected, and one of ct 102, which no prune of 101 may touch.
func backupInventory(vmid101Conf string) *pvesim.Inventory {
	inv := testInventory()
	nas := inv.Node("pve1").Storages[2]
	for _, name := range []string{
		"vzdump-lxc-101-2026_11_20-02_00_00.tar.zst",
		"vzdump-lxc-101-2026_11_21-02_00_00.tar.zst",
		"vzdump-lxc-101-2026_11_22-02_00_00.tar.zst",
		"vzdump-lxc-102-2026_11_20-02_00_00.tar.zst",
	} {
		nas.AddBackup(pvesim.Backup{Volid: "nas:backup/" + name, Size: 1 << 20})
	}
	nas.AddBackup(pvesim.Backup{Volid: "nas:backup/vzdump-lxc-101-2026_11_01-02_00_00.tar.zst", Size: 1 << 20, Protected: true})
	addCT(inv, 101, true, vmid101Conf)
	addCT(inv, 102, false, conf(102, "local-lvm"))
	return inv
}

// backups lists the backup volids on nas.
func backups(t *testing.T, e *env) []string {
	t.Helper()
	vols, err := e.api.StorageContent(context.Background(), "pve1", "nas", pve.ContentQuery{Content: "backup"})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vols {
		out = append(out, strings.TrimPrefix(v.VolID, "nas:backup/"))
	}
	slices.Sort(out)
	return out
}

const retentionSpec = "backup:\n  schedule: \"02:00\"\n  storage: nas\n  retention:\n    keep-last: 2\n"

// A prune planned with the vzdump to the same storage rides on it
// (prune-backups with remove=1), as PVE's backup jobs prune: one task, no
// prune call of its own.
func TestPruneRidesOnTheVzdump(t *testing.T) {
	e := newEnv(t, backupInventory(conf(101, "local")))
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "snapshot:\n  when-impossible: vzdump\n"+retentionSpec)}))
	cp := planFor(t, p, 101)
	if got := stepTokens(cp); got != "vzdump,set-config,prune" {
		t.Fatalf("steps %s", got)
	}
	e.resetCalls()
	cr := resultFor(t, e.apply(p, Options{}), 101)
	if cr.Outcome != OutcomeApplied {
		t.Fatalf("result: %s %s", cr.Outcome, cr.Error)
	}
	if e.calls["POST /nodes/{node}/vzdump"] != 1 || e.calls["DELETE /nodes/{node}/storage/{storage}/prunebackups"] != 0 {
		t.Errorf("calls %v", e.calls)
	}
	if last := cr.Steps[2]; last.Status != StepApplied || last.UPID != cr.Steps[0].UPID {
		t.Errorf("prune step %+v, want applied by the vzdump task %s", last, cr.Steps[0].UPID)
	}
	want := []string{
		"vzdump-lxc-101-2026_11_01-02_00_00.tar.zst", // protected
		"vzdump-lxc-101-2026_11_22-02_00_00.tar.zst",
		"vzdump-lxc-101-2026_11_25-10_00_00.tar",     // the one apply made (no compression asked)
		"vzdump-lxc-102-2026_11_20-02_00_00.tar.zst", // another container's
	}
	if got := backups(t, e); !slices.Equal(got, want) {
		t.Errorf("backups\n got %q\nwant %q", got, want)
	}
}

// withPrune is the plan for a change of ct 101 with a prune step and no
// vzdump to carry it, as a plan read from a file may have.
func withPrune(t *testing.T, e *env, params map[string]string) *plan.Plan {
	t.Helper()
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "")}))
	for i := range p.Containers {
		if cp := &p.Containers[i]; cp.VMID == 101 {
			cp.Steps = append(cp.Steps, plan.Step{Action: plan.ActionPrune, Params: params, Why: "keeps the backups the retention declares"})
			return p
		}
	}
	t.Fatal("ct 101 not in the plan")
	return nil
}

// A prune step with no vzdump to carry it runs PVE's own prune for this
// container's backups and awaits its task; it removes only what the
// retention selects.
func TestStandalonePrune(t *testing.T) {
	e := newEnv(t, backupInventory(conf(101, "local-lvm")))
	p := withPrune(t, e, map[string]string{"storage": "nas", "type": "lxc", "vmid": "101", "prune-backups": "keep-last=2"})
	e.resetCalls()
	cr := resultFor(t, e.apply(p, Options{}), 101)
	if cr.Outcome != OutcomeApplied {
		t.Fatalf("result: %s %s %+v", cr.Outcome, cr.Error, cr.Steps)
	}
	if n := e.calls["DELETE /nodes/{node}/storage/{storage}/prunebackups"]; n != 1 {
		t.Errorf("%d prune calls, want 1 (calls %v)", n, e.calls)
	}
	last := cr.Steps[len(cr.Steps)-1]
	upid, err := pve.ParseUPID(last.UPID)
	if last.Status != StepApplied || last.ExitStatus != "OK" || err != nil || upid.Type != "prunebackups" || upid.ID != "101@nas" {
		t.Errorf("prune step %+v (UPID %v)", last, err)
	}
	want := []string{
		"vzdump-lxc-101-2026_11_01-02_00_00.tar.zst", // protected: PVE never removes it
		"vzdump-lxc-101-2026_11_21-02_00_00.tar.zst",
		"vzdump-lxc-101-2026_11_22-02_00_00.tar.zst",
		"vzdump-lxc-102-2026_11_20-02_00_00.tar.zst",
	}
	if got := backups(t, e); !slices.Equal(got, want) {
		t.Errorf("backups\n got %q\nwant %q", got, want)
	}
}

// A failed prune task is reported with its log; the change before it is
// verified and stays.
func TestStandalonePruneTaskFails(t *testing.T) {
	e := newEnv(t, backupInventory(conf(101, "local-lvm")))
	p := withPrune(t, e, map[string]string{"storage": "nas", "type": "lxc", "vmid": "101", "prune-backups": "keep-last=2"})
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "prunebackups", Fail: "nas is not online"})
	cr := resultFor(t, e.apply(p, Options{}), 101)
	last := cr.Steps[len(cr.Steps)-1]
	if cr.Outcome != OutcomeFailed || cr.RolledBack || last.Status != StepFailed || !strings.Contains(last.Error, "nas is not online") {
		t.Fatalf("result: %s %s, prune %+v", cr.Outcome, cr.Error, last)
	}
	if mainValue(t, e, 101, "memory") != "2048" {
		t.Error("a failed prune undid the verified change")
	}
	if got := backups(t, e); len(got) != 5 {
		t.Errorf("backups %q, want all 5", got)
	}
}

// Rule 8: a prune step that is not for this container's backups by a
// declared retention is refused before any call (plan.CheckSafety: the
// whole container, its snapshot or vzdump included), whether or not a
// vzdump could have carried it.
func TestPruneStepRefused(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		want   string
	}{
		{"no vmid prunes every guest", map[string]string{"storage": "nas", "type": "lxc", "prune-backups": "keep-last=1"}, "vmid"},
		{"another container", map[string]string{"storage": "nas", "type": "lxc", "vmid": "102", "prune-backups": "keep-last=1"}, "vmid"},
		{"qemu backups", map[string]string{"storage": "nas", "type": "qemu", "vmid": "101", "prune-backups": "keep-last=1"}, "type"},
		{"no retention is the storage's", map[string]string{"storage": "nas", "type": "lxc", "vmid": "101"}, "no retention"},
		{"a retention PVE refuses", map[string]string{"storage": "nas", "type": "lxc", "vmid": "101", "prune-backups": "keep-all=1,keep-last=1"}, "keep-all"},
		{"no storage", map[string]string{"type": "lxc", "vmid": "101", "prune-backups": "keep-last=1"}, "no storage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, backupInventory(conf(101, "local-lvm")))
			p := withPrune(t, e, tt.params)
			e.resetCalls()
			cr := resultFor(t, e.apply(p, Options{}), 101)
			if cr.Outcome != OutcomeFailed || cr.Failure != FailureUnsafe || !strings.Contains(cr.Error, tt.want) {
				t.Errorf("result %s (%s) %q, want refused with an error about %q", cr.Outcome, cr.Failure, cr.Error, tt.want)
			}
			if len(e.calls) != 0 {
				t.Errorf("calls %v, want none", e.calls)
			}
			if got := backups(t, e); len(got) != 5 {
				t.Errorf("backups %q, want all 5", got)
			}
		})
	}
	// Beside a vzdump to the same storage such a step is not folded into
	// it either: nothing runs.
	e := newEnv(t, backupInventory(conf(101, "local")))
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "snapshot:\n  when-impossible: vzdump\n"+retentionSpec)}))
	for i := range p.Containers {
		for j := range p.Containers[i].Steps {
			if s := &p.Containers[i].Steps[j]; s.Action == plan.ActionPrune {
				delete(s.Params, "vmid")
			}
		}
	}
	cr := resultFor(t, e.apply(p, Options{}), 101)
	if cr.Outcome != OutcomeFailed || cr.Failure != FailureUnsafe || !strings.Contains(cr.Error, "vmid") {
		t.Fatalf("result %s %s %+v", cr.Outcome, cr.Error, cr.Steps)
	}
	if got := backups(t, e); len(got) != 5 {
		t.Errorf("backups %q, want the 5 there were", got)
	}
}

// PVE lets a vzdump prune only with Datastore.Allocate on the storage
// (pve-manager API2/VZDump.pm): the plan lists it, so the preflight warns a
// token that lacks it, and apply fails at the vzdump, before any write.
func TestPruneOnVzdumpNeedsDatastoreAllocate(t *testing.T) {
	inv := backupInventory(conf(101, "local"))
	inv.AddUser("felhom@pve", pvesim.Role("/vms", "PVEVMAdmin"), pvesim.Role("/storage", "PVEDatastoreUser"),
		pvesim.Role("/nodes", "PVEAuditor")).AddToken("reconcile", "0b6f3a5e-2c1d-4f7e-9a8b-1c2d3e4f5a6b", false)
	e := newEnv(t, inv)
	p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "snapshot:\n  when-impossible: vzdump\n"+retentionSpec)}))
	if w := strings.Join(p.Warnings, "\n"); !strings.Contains(w, "Datastore.Allocate on /storage/nas") {
		t.Errorf("no preflight warning for Datastore.Allocate: %q", p.Warnings)
	}
	cr := resultFor(t, e.apply(p, Options{}), 101)
	if cr.Outcome != OutcomeFailed || cr.Steps[0].Status != StepFailed || !strings.Contains(cr.Steps[0].Error, "Datastore.Allocate") {
		t.Errorf("result %s %s %+v", cr.Outcome, cr.Error, cr.Steps[0])
	}
	if mainValue(t, e, 101, "memory") != "1024" {
		t.Error("written although the backup before it failed")
	}
}
