package reconcile

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
)

// genCreateCase draws a spec that creates ct 101 from the kinds whose
// privileges differ: a template or a restore (of ct 101's own backup or of
// ct 120's), privileged or not, with resources, options, a bridge, nesting,
// a new mount point volume, and power: running (start=1, or a start step).
func genCreateCase(r *rand.Rand) string {
	var b strings.Builder
	restore := r.IntN(2) == 0
	if r.IntN(2) == 0 {
		b.WriteString("memory: 1G\n")
	}
	if r.IntN(3) == 0 {
		b.WriteString("cores: 2\n")
	}
	if r.IntN(3) == 0 {
		b.WriteString("onboot: true\ntags: [new]\n")
	}
	if r.IntN(3) == 0 {
		b.WriteString("hostname: fresh\n")
	}
	if r.IntN(3) == 0 {
		b.WriteString("net:\n  net0: {name: eth0, bridge: vmbr1, ip: dhcp}\n")
	}
	if r.IntN(4) == 0 {
		b.WriteString("features: {nesting: true}\n")
	}
	if !restore && r.IntN(3) == 0 {
		b.WriteString("mountpoints:\n  mp0: {storage: local-lvm, size: 2G, mp: /srv}\n")
	}
	if r.IntN(2) == 0 {
		b.WriteString("power: running\n")
	}
	b.WriteString("rootfs: {storage: local-lvm, size: 8G}\ncreate:\n")
	switch {
	case !restore:
		b.WriteString("  ostemplate: " + testTemplate + "\n")
	case r.IntN(2) == 0:
		b.WriteString("  restore: {newest-backup-of: 101, storage: nas}\n")
	default:
		b.WriteString("  restore: {newest-backup-of: 120, storage: nas}\n")
	}
	if r.IntN(4) == 0 {
		b.WriteString("  unprivileged: false\n")
	}
	return b.String()
}

// createPrivInventory has no ct 101, a template on local, a backup of ct
// 101 and one of ct 120 on nas, and tokens holding exactly the ACLs given.
func createPrivInventory(tokens map[string][]pvesim.ACL) *pvesim.Inventory {
	inv := createInventory()
	inv.Node("pve1").Storages[2].AddBackup(pvesim.Backup{Volid: "nas:backup/vzdump-lxc-101-2026_11_15-02_00_00.tar.zst", Size: 300 << 20, Config: conf(101, "local-lvm")})
	return addPrivTokens(inv, tokens)
}

// TestCreatePrivilegesMatchTheSimulator is TestPrivilegesMatchTheSimulator
// for creates: a token holding exactly a create plan's privileges (and
// what reading needs) creates the container on the simulator, and one
// missing any of them is refused at preflight, before any call that is not
// a GET.
func TestCreatePrivilegesMatchTheSimulator(t *testing.T) {
	n := 40
	if testing.Short() {
		n = 10
	}
	r := rand.New(rand.NewPCG(14, 3))
	plans, refusals, covered := 0, 0, map[string]bool{}
	readPerms := readPermissions()
	for i := 0; i < n; i++ {
		body := genCreateCase(r)
		specs := loadSpecs(t, map[string]string{"a.yaml": ctSpec("ct101", "pve1", 101, body)})
		admin := newEnv(t, createPrivInventory(nil))
		cp := planFor(t, admin.plan(specs), 101)
		if cp.Status == plan.StatusBlocked {
			continue // a privileged container's features: root only
		}
		if cp.Status != plan.StatusChanges || !cp.Creates() {
			t.Fatalf("case %d: %s %q\n%s", i, cp.Status, cp.Blocked, body)
		}
		plans++
		needs := cp.Privileges
		for _, p := range needs {
			covered[p.Name] = true
		}
		e := newEnv(t, createPrivInventory(missingOneTokens(needs, readPerms)))
		for j, p := range needs {
			if HasPrivilege(readPerms, p.Path, p.Name) {
				continue
			}
			w := newWire(e)
			api := e.clientVia(fmt.Sprintf("miss%d@pve!tok", j), w)
			pl, err := Plan(context.Background(), api, specs, PlanOptions{Now: e.clock.Now(), Revision: "abc123", Preflight: true})
			if err != nil {
				t.Fatalf("case %d: plan without %s: %v", i, p, err)
			}
			cr := resultFor(t, Apply(context.Background(), api, pl, Options{Clock: e.clock, Preflight: true, ReadSecret: readTestSecret}), 101)
			atPreflight := cr.Outcome == OutcomeFailed && strings.Contains(cr.Error, "refused at preflight")
			atPlan := cr.Outcome == OutcomeSkipped && strings.Contains(cr.Error, "planned as")
			if !(atPreflight || atPlan) || !strings.Contains(cr.Error, p.String()) {
				t.Errorf("case %d without %s: %s %q, want refused at preflight naming it\n%s", i, p, cr.Outcome, cr.Error, body)
			}
			for _, c := range w.recorded() {
				if c.method != "GET" {
					t.Errorf("case %d without %s: %s %s before the refusal", i, p, c.method, c.path)
				}
			}
			refusals++
		}
		api := e.client("exact@pve!tok")
		pl, err := Plan(context.Background(), api, specs, PlanOptions{Now: e.clock.Now(), Revision: "abc123", Preflight: true})
		if err != nil {
			t.Fatalf("case %d: plan: %v", i, err)
		}
		if got := planFor(t, pl, 101); fmt.Sprint(got.Privileges) != fmt.Sprint(needs) || len(pl.Warnings) > 0 {
			t.Fatalf("case %d: the exact token plans %v (warnings %q), the admin %v", i, got.Privileges, pl.Warnings, needs)
		}
		res := Apply(context.Background(), api, pl, Options{Clock: e.clock, Preflight: true, Specs: specs, ReadSecret: readTestSecret})
		if cr := resultFor(t, res, 101); cr.Outcome != OutcomeApplied {
			t.Errorf("case %d: the token holding exactly %v: %s %q\n%s", i, needs, cr.Outcome, cr.Error, body)
		}
	}
	t.Logf("%d generated create plans; %d tokens missing one privilege, each refused at preflight; %d privileges seen", plans, refusals, len(covered))
	for _, want := range []string{"VM.Allocate", "Datastore.AllocateSpace", "Datastore.Audit", "VM.Backup", "Sys.Modify", "VM.PowerMgmt", "SDN.Use", "VM.Config.Memory"} {
		if !covered[want] {
			t.Errorf("no generated create plan needed %s", want)
		}
	}
}
