package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
)

// Snapshot retention: the oldest felhom snapshot beyond keep is deleted
// after the change; one already gone is "unchanged"; others' snapshots stay.
func TestSnapshotRetention(t *testing.T) {
	section := func(name, parent string, snaptime int64) string {
		s := "\n[" + name + "]\narch: amd64\ncores: 2\nhostname: ct101\nmemory: 1024\nostype: debian\n"
		if parent != "" {
			s += "parent: " + parent + "\n"
		}
		return s + fmt.Sprintf("rootfs: local-lvm:vm-101-disk-0,size=8G\nsnaptime: %d\nswap: 512\nunprivileged: 1\n", snaptime)
	}
	text := conf(101, "local-lvm", "parent: felhom-20261103t000000") +
		section("before-upgrade", "", 1761800000) +
		section("felhom-20261101t000000", "before-upgrade", 1761955200) +
		section("felhom-20261102t000000", "felhom-20261101t000000", 1762041600) +
		section("felhom-20261103t000000", "felhom-20261102t000000", 1762128000)
	t.Run("prune fails", func(t *testing.T) {
		inv := testInventory()
		addCT(inv, 101, true, text)
		e := newEnv(t, inv)
		p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "snapshot:\n  keep: 2\n")}))
		e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzdelsnapshot", Fail: "dataset is busy"})
		cr := resultFor(t, e.apply(p, Options{}), 101)
		if cr.Outcome != OutcomeFailed || cr.RolledBack || !strings.Contains(strings.Join(cr.Warnings, " "), "in place and verified") {
			t.Fatalf("result: %s %s %v", cr.Outcome, cr.Error, cr.Warnings)
		}
		if mainValue(t, e, 101, "memory") != "2048" {
			t.Error("a failed retention step undid the verified change")
		}
	})
	for _, goneFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("gone=%v", goneFirst), func(t *testing.T) {
			inv := testInventory()
			addCT(inv, 101, true, text)
			e := newEnv(t, inv)
			p := e.plan(loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "snapshot:\n  keep: 2\n")}))
			cp := planFor(t, p, 101)
			var prunes []string
			for _, s := range cp.Steps {
				if s.Action == plan.ActionSnapshotPrune {
					prunes = append(prunes, s.Params["snapname"])
				}
			}
			if strings.Join(prunes, ",") != "felhom-20261101t000000,felhom-20261102t000000" {
				t.Fatalf("prune steps %v", prunes)
			}
			other := e.client(testToken)
			rec := &recorder{on: func(ev Event) {
				if goneFirst && ev.Kind == EventStep && strings.Contains(ev.Detail, "felhom-20261101t000000") {
					upid, err := other.DeleteSnapshot(context.Background(), "pve1", 101, "felhom-20261101t000000", false)
					if err == nil {
						_, err = other.WaitTask(context.Background(), upid)
					}
					if err != nil {
						t.Error(err)
					}
				}
			}}
			cr := resultFor(t, e.apply(p, Options{Progress: rec}), 101)
			if cr.Outcome != OutcomeApplied {
				t.Fatalf("result: %s %s %+v", cr.Outcome, cr.Error, cr.Steps)
			}
			wantFirst := StepApplied
			if goneFirst {
				wantFirst = StepUnchanged
			}
			if got := cr.Steps[len(cr.Steps)-2].Status; got != wantFirst {
				t.Errorf("first prune: %s, want %s", got, wantFirst)
			}
			f := parseConf(t, e, 101)
			var names []string
			for _, s := range f.Snapshots {
				names = append(names, s.Name)
			}
			want := "before-upgrade,felhom-20261103t000000," + cr.Snapshot
			if strings.Join(names, ",") != want {
				t.Errorf("snapshots %v, want %s", names, want)
			}
		})
	}
}
