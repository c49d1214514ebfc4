package reconcile

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/plan"
)

// Issue 10 item 5: a grow that landed and was rolled back on a storage whose
// snapshots do not hold the size leaves the config at the old size and the
// volume at the new one. The next plan reads the volume's real size: it
// plans no resize PVE would refuse ("disk is already at specified size"),
// so the next apply converges instead of failing and rolling back again.
func TestRolledBackResizeConverges(t *testing.T) {
	inv := testInventory()
	inv.Node("pve1").AddStorage("tank", "zfspool", "rootdir", "images").RollbackKeepsSize = true
	addCT(inv, 101, true, conf(101, "tank"))
	e := newEnv(t, inv)
	specs := loadSpecs(t, map[string]string{"a.yaml": specMemory(101, "rootfs:\n  storage: tank\n  size: 10G\n")})

	// The resize and the config write land; the read-back does not match,
	// so apply rolls back: the config says 8G again, the volume stays 10G.
	cr := resultFor(t, Apply(context.Background(), &tamperAPI{API: e.api}, e.plan(specs), Options{Clock: e.clock}), 101)
	if !cr.RolledBack {
		t.Fatalf("first apply: %s %s, not rolled back", cr.Outcome, cr.Error)
	}
	if got := rootfsSize(t, e, 101); got != 8*format.GiB {
		t.Fatalf("config after the rollback: rootfs size %s", got)
	}
	if got := storedSize(t, e, "tank", "tank:vm-101-disk-0"); got != 10*format.GiB {
		t.Fatalf("volume after the rollback: %s", got)
	}

	for round := 1; round <= 2; round++ {
		e.sim.Clock().Advance(time.Hour) // a new snapshot name
		p := e.plan(specs)
		cp := planFor(t, p, 101)
		for _, st := range cp.Steps {
			if st.Action == plan.ActionResize {
				t.Errorf("round %d: plans a resize of a volume already at its size: %+v", round, st)
			}
		}
		cr := resultFor(t, e.apply(p, Options{}), 101)
		if cr.Outcome == OutcomeFailed || cr.RolledBack {
			t.Fatalf("round %d: %s %s rolled back %v", round, cr.Outcome, cr.Error, cr.RolledBack)
		}
		if round == 2 && cr.Outcome != OutcomeUnchanged {
			t.Errorf("round 2: %s, want unchanged (converged)", cr.Outcome)
		}
	}
	if got := mainValue(t, e, 101, "memory"); got != "2048" {
		t.Errorf("memory %s, want 2048", got)
	}
	if got := storedSize(t, e, "tank", "tank:vm-101-disk-0"); got != 10*format.GiB {
		t.Errorf("volume: %s, want 10G", got)
	}
}

func rootfsSize(t *testing.T, e *env, vmid int) format.Size {
	t.Helper()
	r, err := format.ParseRootFS(mainValue(t, e, vmid, "rootfs"))
	if err != nil || r.Size == nil {
		t.Fatalf("rootfs: %v", err)
	}
	return *r.Size
}

// storedSize is the size the storage's content list gives volid.
func storedSize(t *testing.T, e *env, storage, volid string) format.Size {
	t.Helper()
	vols, err := e.api.StorageContent(context.Background(), "pve1", storage, pve.ContentQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vols {
		if v.VolID == volid {
			return format.Size(v.Size)
		}
	}
	t.Fatalf("%s not on %s: %v", volid, storage, strings.Join(volids(vols), " "))
	return 0
}

func volids(vols []pve.Volume) []string {
	out := make([]string, len(vols))
	for i, v := range vols {
		out[i] = v.VolID
	}
	return out
}
