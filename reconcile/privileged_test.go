package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/privileged"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// simPct is the privileged backend on the simulator: the argv that
// privileged.Runner builds, run by the simulator's pct (Sim.Pct: `pct set`
// as root@pam on node, PVE's checks and messages) instead of a process.
type simPct struct {
	sim  *pvesim.Sim
	node string // where felhom "runs"
	uid  int
	// before, when set, runs right before pct (a hand change racing it).
	before func()
	runs   int
}

func (p *simPct) status() privileged.Status {
	return privileged.Status{Enabled: true, UID: p.uid, Node: p.node}
}

func (p *simPct) Available(node string) error { return p.status().For(node) }

func (p *simPct) SetConfig(_ context.Context, node string, vmid int, set map[string]string, del []string, digest string) error {
	if err := p.Available(node); err != nil {
		return err
	}
	argv, err := privileged.New(privileged.Config{Enabled: true}, privileged.Host{}, nil).Argv(privileged.Request{
		Node: node, VMID: vmid, Set: set, Delete: del, Digest: digest})
	if err != nil {
		return err
	}
	if p.before != nil {
		p.before()
	}
	p.runs++
	if res := p.sim.Pct(p.node, argv[1:]); res.Exit != 0 {
		return fmt.Errorf("pct: exit %d: %s", res.Exit, strings.TrimSpace(res.Stderr))
	}
	return nil
}

// privEnv is the examples' cluster with felhom as root on pve1.
func privEnv(t *testing.T) (*env, *simPct) {
	e := newEnv(t, examplesInventory(t))
	return e, &simPct{sim: e.sim, node: "pve1"}
}

func (e *env) planRoot(specs []spec.Container, root *simPct) *plan.Plan {
	e.t.Helper()
	p, err := Plan(context.Background(), e.api, specs, PlanOptions{Now: e.clock.Now(), Revision: "abc123", Root: root.status()})
	if err != nil {
		e.t.Fatalf("plan: %v", err)
	}
	return p
}

// ct 102 media has a bind mount already, so PVE cannot snapshot it: a
// second bind mount and a memory change are written after a vzdump, the
// root-only key by pct set and the rest by the API, read back, and the
// container then plans clean.
func TestApplyMixedChangeBehindVzdump(t *testing.T) {
	e, root := privEnv(t)
	specs := withSpec(t, examplesSpecs(t), 102, func(s *spec.ContainerSpec) {
		s.MountPoints["mp1"] = spec.MountPoint{Bind: "/srv/downloads", MP: "/downloads"}
		m := *s.Memory * 2
		s.Memory = &m
	})
	p := e.planRoot(specs, root)
	c := planFor(t, p, 102)
	if c.Status != plan.StatusChanges || stepTokens(c) != "vzdump,pct-set,set-config,prune" || c.RootOn != "pve1" {
		t.Fatalf("plan: %s %q root on %q %q", c.Status, stepTokens(c), c.RootOn, c.Blocked)
	}
	res := e.apply(p, Options{Privileged: root})
	r := resultFor(t, res, 102)
	if r.Outcome != OutcomeApplied {
		t.Fatalf("outcome %s: %s", r.Outcome, r.Error)
	}
	f := parseConf(t, e, 102)
	if v, _ := f.Main.Get("mp1"); v != "/srv/downloads,mp=/downloads" {
		t.Errorf("mp1 = %q", v)
	}
	if v, _ := f.Main.Get("memory"); v != "8192" {
		t.Errorf("memory = %q", v)
	}
	if root.runs != 1 {
		t.Errorf("pct ran %d times", root.runs)
	}
	if c := planFor(t, e.planRoot(specs, root), 102); c.Status != plan.StatusUnchanged {
		t.Errorf("after apply: %s %+v", c.Status, c.Changes)
	}
}

// features {keyctl: true} on ct 101, which PVE can snapshot: the snapshot
// comes first; on the running container the flag waits for a restart, and
// the next plan has nothing to write.
func TestApplyFeaturesBehindSnapshot(t *testing.T) {
	e, root := privEnv(t)
	specs := withSpec(t, examplesSpecs(t), 101, func(s *spec.ContainerSpec) { s.Features.Keyctl = ptr(true) })
	p := e.planRoot(specs, root)
	c := planFor(t, p, 101)
	if !strings.HasPrefix(stepTokens(c), "snapshot,pct-set,set-config") {
		t.Fatalf("plan: %q", stepTokens(c))
	}
	for _, ch := range c.Changes {
		if ch.Privileged != (ch.Path == "features.keyctl") || (ch.Privileged && ch.Class != plan.ClassPendingRestart) {
			t.Errorf("change %+v", ch)
		}
	}
	r := resultFor(t, e.apply(p, Options{Privileged: root}), 101)
	if r.Outcome != OutcomeApplied || r.Snapshot == "" {
		t.Fatalf("outcome %s snapshot %q: %s", r.Outcome, r.Snapshot, r.Error)
	}
	if c := planFor(t, e.planRoot(specs, root), 101); c.Status != plan.StatusUnchanged || len(c.Steps) != 0 {
		t.Errorf("after apply: %s %q", c.Status, stepTokens(c))
	}
}

// A value PVE refuses (a device the host does not have): nothing lands, so
// the container is not rolled back (it keeps running), the report carries
// PVE's message, and the config is as it was.
func TestApplyRefusedPctChangesNothing(t *testing.T) {
	e, root := privEnv(t)
	specs := withSpec(t, examplesSpecs(t), 101, func(s *spec.ContainerSpec) { s.Features.Keyctl = ptr(true) })
	p := e.planRoot(specs, root)
	c := &p.Containers[indexOf(t, p, 101)]
	for i := range c.Steps {
		if c.Steps[i].Action == plan.ActionPctSet {
			c.Steps[i].Params["dev0"] = "/dev/ttyUSB9"
		}
	}
	before, _ := e.sim.ConfigText(101)
	r := resultFor(t, e.apply(p, Options{Privileged: root}), 101)
	if r.Outcome != OutcomeFailed || !strings.Contains(r.Error, "Device /dev/ttyUSB9 does not exist") || r.RolledBack || r.Rollback != nil {
		t.Fatalf("outcome %s rolled back %v: %s", r.Outcome, r.RolledBack, r.Error)
	}
	after, _ := e.sim.ConfigText(101)
	main := func(s string) string { m, _, _ := strings.Cut(s, "\n["); return m }
	if strip(main(after), "parent:") != strip(main(before), "parent:") || !e.sim.Running(101) {
		t.Errorf("config moved or the container stopped:\n%s\n---\n%s", before, after)
	}
}

// A hand change between felhom's read and pct set: PVE refuses the stale
// digest, felhom reports stale and rolls nothing back.
func TestApplyStaleDigestStopsPct(t *testing.T) {
	e, root := privEnv(t)
	specs := withSpec(t, examplesSpecs(t), 101, func(s *spec.ContainerSpec) { s.Features.Keyctl = ptr(true) })
	p := e.planRoot(specs, root)
	root.before = func() { handSet(t, e, "cores", "3") }
	r := resultFor(t, e.apply(p, Options{Privileged: root}), 101)
	if r.Outcome != OutcomeStale || !strings.Contains(r.Error, "detected modified configuration") || r.RolledBack {
		t.Fatalf("outcome %s rolled back %v: %s", r.Outcome, r.RolledBack, r.Error)
	}
	if v, _ := parseConf(t, e, 101).Main.Get("cores"); v != "3" {
		t.Errorf("the hand change was undone: cores %q", v)
	}
}

// A plan with a pct-set step applied where the backend may not write: the
// container is refused before any call touches it.
func TestApplyRefusesWithoutTheBackend(t *testing.T) {
	for _, tt := range []struct {
		name string
		priv func(*simPct) Privileged
		want string
	}{
		{"none", func(*simPct) Privileged { return nil }, "has no privileged backend"},
		{"not root", func(r *simPct) Privileged { r.uid = 1000; return r }, "felhom runs as uid 1000, not root (run felhom as root on node pve1)"},
		{"other node", func(r *simPct) Privileged { r.node = "pve2"; return r }, "felhom runs on node pve2, the container is on pve1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, root := privEnv(t)
			specs := withSpec(t, examplesSpecs(t), 101, func(s *spec.ContainerSpec) { s.Features.Keyctl = ptr(true) })
			p := e.planRoot(specs, root)
			e.resetCalls()
			r := resultFor(t, e.apply(p, Options{Privileged: tt.priv(root)}), 101)
			if r.Outcome != OutcomeFailed || !strings.Contains(r.Error, tt.want) {
				t.Fatalf("outcome %s: %s", r.Outcome, r.Error)
			}
			for k, n := range e.calls {
				if strings.HasPrefix(k, "GET ") {
					continue
				}
				t.Errorf("%s called %d times", k, n)
			}
			if root.runs != 0 || r.Snapshot != "" {
				t.Errorf("pct ran %d times, snapshot %q", root.runs, r.Snapshot)
			}
		})
	}
}

// Without root on the node the same spec plans blocked, with the reason and
// what would enable it, and apply leaves it alone.
func TestRootOnlyBlockedWithoutBackend(t *testing.T) {
	e, root := privEnv(t)
	root.node = "pve2"
	specs := withSpec(t, examplesSpecs(t), 101, func(s *spec.ContainerSpec) { s.Features.Keyctl = ptr(true) })
	p := e.planRoot(specs, root)
	c := planFor(t, p, 101)
	if c.Status != plan.StatusBlocked || len(c.Blocked) != 1 || !strings.Contains(c.Blocked[0], "features.keyctl") ||
		!strings.Contains(c.Blocked[0], "felhom runs on node pve2, the container is on pve1 (run felhom as root on node pve1)") {
		t.Fatalf("%s %q", c.Status, c.Blocked)
	}
	e.resetCalls()
	if r := resultFor(t, e.apply(p, Options{Privileged: root}), 101); r.Outcome != OutcomeSkipped || len(e.calls) != 0 {
		t.Errorf("outcome %s, calls %v", r.Outcome, e.calls)
	}
}

// withSpec returns the one spec of vmid, edited.
func withSpec(t *testing.T, specs []spec.Container, vmid int, edit func(*spec.ContainerSpec)) []spec.Container {
	t.Helper()
	for i := range specs {
		if specs[i].Spec.VMID == vmid {
			if specs[i].Spec.Features == nil {
				specs[i].Spec.Features = &spec.Features{}
			} else {
				f := *specs[i].Spec.Features
				specs[i].Spec.Features = &f
			}
			edit(&specs[i].Spec)
			return specs[i : i+1]
		}
	}
	t.Fatalf("no spec for ct %d", vmid)
	return nil
}

func indexOf(t *testing.T, p *plan.Plan, vmid int) int {
	t.Helper()
	for i, c := range p.Containers {
		if c.VMID == vmid {
			return i
		}
	}
	t.Fatalf("ct %d not in the plan", vmid)
	return -1
}

// strip drops the lines starting with prefix.
func strip(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func ptr[T any](v T) *T { return &v }

// Run plans with Apply.Privileged's availability when Plan.Root is unset,
// so a caller (the daemon) sets the backend once.
func TestRunRoutesThroughApplyPrivileged(t *testing.T) {
	e, root := privEnv(t)
	specs := withSpec(t, examplesSpecs(t), 101, func(s *spec.ContainerSpec) { s.Features.Keyctl = ptr(true) })
	run, err := Run(context.Background(), e.api, &Specs{Containers: specs, Revision: "abc123"},
		RunOptions{Plan: PlanOptions{Now: e.clock.Now()}, Apply: Options{Clock: e.clock, Privileged: root}})
	if err != nil {
		t.Fatal(err)
	}
	if c := planFor(t, run.Plan, 101); c.RootOn != "pve1" || resultFor(t, run.Result, 101).Outcome != OutcomeApplied || root.runs != 1 {
		t.Errorf("root on %q, outcome %s, %d pct runs", c.RootOn, resultFor(t, run.Result, 101).Outcome, root.runs)
	}
}

// A backup that takes the lock between felhom's read and pct set: PVE
// refuses ("CT is locked (backup)"); felhom waits the lock out, sees
// nothing else changed, and pct set runs again with the digest it read.
func TestApplyPctWaitsOutALock(t *testing.T) {
	e, root := privEnv(t)
	specs := withSpec(t, examplesSpecs(t), 101, func(s *spec.ContainerSpec) { s.Features.Keyctl = ptr(true) })
	p := e.planRoot(specs, root)
	locked := false
	root.before = func() {
		if !locked {
			locked = true
			if err := e.sim.HoldLock(101, "backup", 30*time.Second); err != nil {
				t.Error(err)
			}
		}
	}
	r := resultFor(t, e.apply(p, Options{Privileged: root}), 101)
	if r.Outcome != OutcomeApplied || root.runs != 2 {
		t.Fatalf("outcome %s after %d pct runs: %s", r.Outcome, root.runs, r.Error)
	}
}

// The hookscript through pct set on the simulator, then a clean plan.
func TestApplyHookscript(t *testing.T) {
	e, root := privEnv(t)
	specs := withSpec(t, examplesSpecs(t), 101, func(s *spec.ContainerSpec) { s.Hookscript = ptr("local:snippets/hook.sh") })
	p := e.planRoot(specs, root)
	if r := resultFor(t, e.apply(p, Options{Privileged: root}), 101); r.Outcome != OutcomeApplied {
		t.Fatalf("outcome %s: %s", r.Outcome, r.Error)
	}
	if v, _ := parseConf(t, e, 101).Main.Get("hookscript"); v != "local:snippets/hook.sh" {
		t.Errorf("hookscript %q", v)
	}
	if c := planFor(t, e.planRoot(specs, root), 101); c.Status != plan.StatusUnchanged {
		t.Errorf("after apply: %s %+v", c.Status, c.Changes)
	}
}
