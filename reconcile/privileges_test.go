package reconcile

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
)

// privCase is one generated desired state for ct 101: the spec body and the
// container's live config.
type privCase struct {
	body, config string
	running      bool
}

// genPrivCase draws a spec from the kinds of change whose privileges differ:
// each of resources, options, bridge, nesting, a new volume, attaching the
// container's own or another's existing volume, a resize, a reboot, a start
// or shutdown (power), and a vzdump (with its prune) where PVE cannot
// snapshot.
func genPrivCase(r *rand.Rand) privCase {
	var b strings.Builder
	storage := "local-lvm"
	if r.IntN(4) == 0 {
		storage = "local" // a dir volume: no snapshot, so vzdump or refused
	}
	c := privCase{running: r.IntN(2) == 0}
	c.config = conf(101, storage, "unused0: local-lvm:vm-101-disk-1")
	any := false
	pick := func(n int) bool {
		ok := r.IntN(n) == 0
		any = any || ok
		return ok
	}
	if pick(3) {
		b.WriteString("memory: 2G\n")
	}
	if pick(4) {
		b.WriteString("cores: 4\n")
	}
	if pick(4) {
		b.WriteString("onboot: true\ntags: [web]\n")
	}
	if pick(4) {
		b.WriteString("nameserver: 9.9.9.9\n")
	}
	if pick(4) {
		b.WriteString("net:\n  net0:\n    name: eth0\n    bridge: vmbr1\n    ip: dhcp\n")
	}
	if pick(5) {
		b.WriteString("features: {nesting: true}\n")
	}
	if pick(4) {
		b.WriteString(fmt.Sprintf("rootfs:\n  storage: %s\n  size: 10G\n", storage))
	}
	var mps []string
	if pick(4) {
		mps = append(mps, "  mp0:\n    storage: local-lvm\n    size: 4G\n    mp: /srv/new\n")
	}
	if pick(4) {
		mps = append(mps, "  mp1:\n    volume: local-lvm:vm-101-disk-1\n    mp: /srv/own\n")
	}
	if pick(4) {
		mps = append(mps, "  mp2:\n    volume: local-lvm:vm-200-disk-1\n    mp: /srv/other\n")
	}
	if !any {
		b.WriteString("swap: 1G\n")
	}
	if len(mps) > 0 {
		b.WriteString("mountpoints:\n" + strings.Join(mps, ""))
	}
	if r.IntN(2) == 0 {
		b.WriteString("restart:\n  mode: when-needed\n")
	}
	if r.IntN(4) == 0 {
		// A start or a shutdown (or nothing, when it runs as asked).
		b.WriteString([]string{"power: running\n", "power: stopped\n"}[r.IntN(2)])
	}
	if storage == "local" && r.IntN(3) > 0 {
		b.WriteString("snapshot:\n  when-impossible: vzdump\n")
		if r.IntN(2) == 0 {
			b.WriteString(retentionSpec)
		} else {
			b.WriteString("backup:\n  schedule: \"02:00\"\n  storage: nas\n")
		}
	}
	c.body = b.String()
	return c
}

// privInventory is the generated case's cluster: ct 101, ct 200 (which owns
// vm-200-disk-1) and, beside the admin token, tokenIDs holding exactly the
// ACLs given.
func privInventory(c privCase, tokens map[string][]pvesim.ACL) *pvesim.Inventory {
	inv := testInventory()
	inv.Node("pve1").AddStorage("spare", "dir", "rootdir") // keeps the node's storage list non-trivial
	addCT(inv, 101, c.running, c.config)
	addCT(inv, 200, false, conf(200, "local-lvm", "unused0: local-lvm:vm-200-disk-1"))
	return addPrivTokens(inv, tokens)
}

// addPrivTokens adds the felhom user's all-powerful token and, for each of
// tokens, a user of that name holding a privilege-separated token "tok"
// with exactly the ACLs given; it returns inv.
func addPrivTokens(inv *pvesim.Inventory, tokens map[string][]pvesim.ACL) *pvesim.Inventory {
	inv.AddUser("felhom@pve", pvesim.Role("/", "Administrator")).AddToken("reconcile", "0b6f3a5e-2c1d-4f7e-9a8b-1c2d3e4f5a6b", false)
	names := make([]string, 0, len(tokens))
	for n := range tokens {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		inv.AddUser(n+"@pve", pvesim.Role("/", "Administrator")).
			AddToken("tok", fmt.Sprintf("00000000-0000-4000-8000-%012d", i), true, tokens[n]...)
	}
	return inv
}

// readACL is what observing and applying read needs besides the plan's
// privileges: plan.UseRead on the container, and seeing the node's storages.
func readACL() []pvesim.ACL {
	var acl []pvesim.ACL
	for _, p := range plan.Needs(plan.UseRead, 101, "") {
		acl = append(acl, pvesim.Privs(p.Path, p.Name))
	}
	return append(acl, pvesim.Privs("/storage", "Datastore.Audit"))
}

// readPermissions is readACL as the permissions PVE reports.
func readPermissions() pve.Permissions {
	perms := pve.Permissions{}
	for _, a := range readACL() {
		perms[a.Path] = map[string]bool{a.Privileges[0]: true}
	}
	return perms
}

// missingOneTokens are the tokens a privilege test plans and applies
// with: "exact" holding needs (and what reading needs), and "miss<j>"
// holding all but needs[j], for each j the reads do not need too (those
// cannot be missing while the plan stays the same).
func missingOneTokens(needs []plan.Privilege, read pve.Permissions) map[string][]pvesim.ACL {
	tokens := map[string][]pvesim.ACL{"exact": privACL(needs)}
	for j, p := range needs {
		if HasPrivilege(read, p.Path, p.Name) {
			continue
		}
		rest := append(append([]plan.Privilege(nil), needs[:j]...), needs[j+1:]...)
		tokens[fmt.Sprintf("miss%d", j)] = privACL(rest)
	}
	return tokens
}

func privACL(privs []plan.Privilege) []pvesim.ACL {
	acl := readACL()
	for _, p := range privs {
		acl = append(acl, pvesim.Privs(p.Path, p.Name))
	}
	return acl
}

// TestPrivilegesMatchTheSimulator holds felhom's privilege table
// (plan.Needs, as diff records it) against the simulator's own model of
// PVE's checks: for generated plans, a token holding exactly the plan's
// privileges applies it on the simulator, and a token missing any one of
// them is refused at preflight, before any snapshot or write.
func TestPrivilegesMatchTheSimulator(t *testing.T) {
	n := 60
	if testing.Short() {
		n = 15
	}
	r := rand.New(rand.NewPCG(8, 3))
	plans, refusals, alsoRead, covered, powered := 0, 0, 0, map[string]bool{}, 0
	for i := 0; i < n; i++ {
		c := genPrivCase(r)
		specs := loadSpecs(t, map[string]string{"a.yaml": ctSpec("ct101", "pve1", 101, c.body)})

		// What the plan needs, planned with an all-powerful token.
		admin := newEnv(t, privInventory(c, nil))
		cp := planFor(t, admin.plan(specs), 101)
		if cp.Status != plan.StatusChanges {
			continue // blocked or refused by policy: no privileges to judge
		}
		plans++
		for _, s := range cp.Steps {
			if s.Action.IsPower() {
				powered++
			}
		}
		needs := cp.Privileges
		// A privilege the reads need too (Datastore.Audit on a storage, to
		// see it) cannot be missing while the plan is still the same one.
		readPerms := readPermissions()
		read := map[plan.Privilege]bool{}
		for _, p := range needs {
			read[p] = HasPrivilege(readPerms, p.Path, p.Name)
			covered[p.Name] = true
			if read[p] {
				alsoRead++
			}
		}
		e := newEnv(t, privInventory(c, missingOneTokens(needs, readPerms)))
		for j, p := range needs {
			if read[p] {
				continue
			}
			id := fmt.Sprintf("miss%d@pve!tok", j)
			w := newWire(e)
			api := e.clientVia(id, w)
			pl, err := Plan(context.Background(), api, specs, PlanOptions{Now: e.clock.Now(), Revision: "abc123", Preflight: true})
			if err != nil {
				t.Fatalf("case %d: plan as %s: %v", i, id, err)
			}
			res := Apply(context.Background(), api, pl, Options{Clock: e.clock, Preflight: true})
			cr := resultFor(t, res, 101)
			// A storage the token may neither audit nor allocate on is
			// not in its storage list (PVE/API2/Storage/Status.pm index),
			// so the plan already blocks what needs it, naming it.
			atPreflight := cr.Outcome == OutcomeFailed && strings.Contains(cr.Error, "refused at preflight")
			atPlan := cr.Outcome == OutcomeSkipped && strings.Contains(cr.Error, "planned as blocked")
			if !(atPreflight || atPlan) || !strings.Contains(cr.Error, p.String()) {
				t.Errorf("case %d (%s) without %s: %s %q, want refused at preflight (or blocked at plan) naming it\nspec:\n%s", i, cp.Steps, p, cr.Outcome, cr.Error, c.body)
			}
			for _, call := range w.recorded() {
				if call.method != "GET" {
					t.Errorf("case %d without %s: %s %s before the refusal", i, p, call.method, call.path)
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
		res := Apply(context.Background(), api, pl, Options{Clock: e.clock, Preflight: true, Specs: specs})
		if cr := resultFor(t, res, 101); cr.Outcome != OutcomeApplied {
			t.Errorf("case %d: the token holding exactly %v: %s %q\nspec:\n%s", i, needs, cr.Outcome, cr.Error, c.body)
		}
	}
	t.Logf("%d generated plans with changes (of %d drawn, %d with a start or shutdown); %d tokens missing one privilege, each refused at preflight; %d needs also needed to read; %d privileges seen",
		plans, n, powered, refusals, alsoRead, len(covered))
	if powered == 0 {
		t.Error("no generated plan starts or shuts down its container")
	}
	if plans < n/2 {
		t.Errorf("only %d of %d generated cases planned changes", plans, n)
	}
	for _, want := range []string{"VM.Config.Memory", "VM.Config.CPU", "VM.Config.Network", "VM.Config.Options", "VM.Config.Disk",
		"VM.Allocate", "SDN.Use", "Datastore.AllocateSpace", "Datastore.Allocate", "Datastore.Audit", "VM.Snapshot", "VM.PowerMgmt", "VM.Backup"} {
		if !covered[want] {
			t.Errorf("no generated plan needed %s", want)
		}
	}
}
