package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/reconcile/plan"
)

// The tampered-plan suite (issue 10 items 14 and 19): the fault matrix's
// plan, saved as JSON and edited as a hostile or careless hand would; each
// edit must be refused before any call, naming the rule it breaks, with
// every container as it was. felhom apply FILE goes through ApplySaved; a
// plan apply made itself through Apply, which refuses the container.
type tamper struct {
	name string
	rule string
	edit func(p *plan.Plan, ct func(int) *plan.ContainerPlan)
}

func stepOf(cp *plan.ContainerPlan, a plan.Action) *plan.Step {
	for i := range cp.Steps {
		if cp.Steps[i].Action == a {
			return &cp.Steps[i]
		}
	}
	return nil
}

func dropStep(cp *plan.ContainerPlan, a plan.Action) {
	for i := range cp.Steps {
		if cp.Steps[i].Action == a {
			cp.Steps = append(cp.Steps[:i], cp.Steps[i+1:]...)
			return
		}
	}
}

// addPowerStep puts a power step where the order puts it: before the
// retention steps.
func addPowerStep(cp *plan.ContainerPlan, a plan.Action) {
	i := 0
	for i < len(cp.Steps) && !cp.Steps[i].Action.IsRetention() {
		i++
	}
	cp.Steps = append(cp.Steps[:i], append([]plan.Step{{Action: a, Params: map[string]string{}}}, cp.Steps[i:]...)...)
}

var tampers = []tamper{
	{"delete unused0", plan.RuleNoUnused, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		stepOf(ct(101), plan.ActionSetConfig).Params["delete"] = "unused0"
	}},
	{"pct set deletes unused2", plan.RuleNoUnused, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		c := ct(101)
		for i, s := range c.Steps {
			if s.Action == plan.ActionSnapshot {
				pct := plan.Step{Action: plan.ActionPctSet, Params: map[string]string{"delete": "unused2"}}
				c.Steps = append(c.Steps[:i+1], append([]plan.Step{pct}, c.Steps[i+1:]...)...)
				return
			}
		}
	}},
	{"revert unused1", plan.RuleNoUnused, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		stepOf(ct(103), plan.ActionSetConfig).Params["revert"] = "swap,unused1"
	}},
	{"prune a snapshot not felhom's", plan.RuleFelhomSnaps, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		stepOf(ct(101), plan.ActionSnapshotPrune).Params["snapname"] = "before-upgrade"
	}},
	{"snapshot not named felhom-", plan.RuleFelhomSnaps, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		stepOf(ct(101), plan.ActionSnapshot).Params["snapname"] = "mine"
	}},
	{"vzdump without remove", plan.RuleRetention, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		delete(stepOf(ct(102), plan.ActionVzdump).Params, "remove")
	}},
	{"vzdump with prune-backups", plan.RuleRetention, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		stepOf(ct(102), plan.ActionVzdump).Params["prune-backups"] = "keep-last=1"
	}},
	{"vzdump of another container", plan.RuleOwnCT, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		stepOf(ct(102), plan.ActionVzdump).Params["vmid"] = "103"
	}},
	{"prune without vmid", plan.RuleOwnCT, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		delete(stepOf(ct(103), plan.ActionPrune).Params, "vmid")
	}},
	{"prune without retention", plan.RuleRetention, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		delete(stepOf(ct(103), plan.ActionPrune).Params, "prune-backups")
	}},
	{"two prunes of one storage", plan.RuleRetention, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		c := ct(103)
		c.Steps = append(c.Steps, *stepOf(c, plan.ActionPrune))
	}},
	{"snapshot dropped", plan.RuleProtection, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		dropStep(ct(101), plan.ActionSnapshot)
	}},
	{"vzdump dropped", plan.RuleProtection, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		dropStep(ct(102), plan.ActionVzdump)
	}},
	{"snapshot after the write", plan.RuleProtection, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		c := ct(103)
		c.Steps[0], c.Steps[1] = c.Steps[1], c.Steps[0]
	}},
	{"retention before the write", plan.RuleOrder, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		c := ct(103)
		c.Steps[1], c.Steps[2] = c.Steps[2], c.Steps[1]
	}},
	{"reboot added to restart: never", plan.RuleRestart, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		c := ct(103)
		c.Changes = append(c.Changes, plan.Change{Path: "nameserver", Op: plan.OpAdd, After: "1.1.1.1", Class: plan.ClassPendingRestart})
		c.Steps = append(c.Steps[:2], append([]plan.Step{{Action: plan.ActionReboot, Params: map[string]string{}}}, c.Steps[2:]...)...)
	}},
	{"reboot with its policy edited away", plan.RuleRestart, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		ct(101).Restart = ""
	}},
	{"reboot of a stopped container", plan.RuleRestart, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		ct(101).Running = false
	}},
	{"start added to a running container", plan.RulePower, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		addPowerStep(ct(101), plan.ActionStart)
	}},
	{"shutdown added that the spec does not ask for", plan.RulePower, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		addPowerStep(ct(101), plan.ActionShutdown)
	}},
	{"shutdown after the reboot", plan.RuleRestart, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		c := ct(101)
		c.Spec.Power = "stopped"
		addPowerStep(c, plan.ActionShutdown)
	}},
	{"vmid edited to another container", plan.RuleOneEntry, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		ct(103).VMID = 101
	}},
	{"a container listed twice", plan.RuleOneEntry, func(p *plan.Plan, ct func(int) *plan.ContainerPlan) {
		p.Containers = append(p.Containers, *ct(102))
	}},
}

func TestTamperedPlans(t *testing.T) {
	cells, broken := 0, 0
	for _, tt := range tampers {
		for _, saved := range []bool{true, false} {
			cells++
			name := tt.name + map[bool]string{true: " (apply FILE)", false: " (apply)"}[saved]
			if v := tamperCell(t, tt, saved); len(v) > 0 {
				broken++
				t.Errorf("%s: %s", name, strings.Join(v, "; "))
			}
		}
	}
	// A plan too big to be one felhom wrote is refused by its size alone.
	cells++
	big, err := json.Marshal(plan.Plan{FormatVersion: plan.FormatVersion, Warnings: []string{strings.Repeat("x", plan.MaxPlanBytes)}})
	if err != nil {
		t.Fatal(err)
	}
	var se *plan.SafetyError
	if _, err := plan.Parse(big); !errors.As(err, &se) || se.Rule != plan.RuleSize {
		broken++
		t.Errorf("a %d-byte plan: %v, want refused by %q", len(big), err, plan.RuleSize)
	}
	t.Logf("tampered plans: %d cells run, %d with violations", cells, broken)
}

// tamperCell edits the matrix plan and applies it; it returns what went
// wrong.
func tamperCell(t *testing.T, tt tamper, saved bool) []string {
	e := newEnv(t, matrixInventory())
	specs := matrixSpecs(t)
	p := matrixPlan(t, e, specs)
	// Saved and read back, as felhom apply FILE reads it.
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if p, err = plan.Parse(b); err != nil {
		t.Fatal(err)
	}
	ct := func(vmid int) *plan.ContainerPlan {
		for i := range p.Containers {
			if p.Containers[i].VMID == vmid {
				return &p.Containers[i]
			}
		}
		t.Fatalf("ct %d not in the plan", vmid)
		return nil
	}
	tt.edit(p, ct)
	// The edited plan must still read as a plan: the rules, not the
	// parser, refuse it.
	if b, err = json.Marshal(p); err == nil {
		_, err = plan.Parse(b)
	}
	var v []string
	if err != nil {
		var se *plan.SafetyError
		if !errors.As(err, &se) || se.Rule != tt.rule {
			return []string{fmt.Sprintf("parse: %v", err)}
		}
		return nil
	}
	before := map[int]string{}
	for _, vmid := range []int{101, 102, 103} {
		before[vmid], _ = e.sim.ConfigText(vmid)
	}
	backupsBefore := readCellState(t, e).backups
	e.resetCalls()
	if saved {
		_, err := ApplySaved(context.Background(), e.api, p, Options{Clock: e.clock, LockWait: time.Minute})
		var se *plan.SafetyError
		switch {
		case !errors.As(err, &se):
			v = append(v, fmt.Sprintf("apply FILE: %v, want refused", err))
		case se.Rule != tt.rule:
			v = append(v, fmt.Sprintf("refused by %q (%v), want %q", se.Rule, err, tt.rule))
		}
		if len(e.calls) != 0 {
			v = append(v, fmt.Sprintf("calls before the refusal: %v", e.calls))
		}
	} else {
		res := Apply(context.Background(), e.api, p, Options{Clock: e.clock, LockWait: time.Minute, Specs: specs})
		n := 0
		for _, cr := range res.Containers {
			if cr.Failure == FailureUnsafe {
				n++
				if !strings.Contains(cr.Error, fmt.Sprintf("%q", tt.rule)) {
					v = append(v, fmt.Sprintf("ct %d refused with %q, not naming %q", cr.VMID, cr.Error, tt.rule))
				}
			}
		}
		if n == 0 || !res.Failed() {
			v = append(v, "apply refused no container")
		}
		for _, cr := range res.Containers {
			if cr.Failure == FailureUnsafe {
				if now, _ := e.sim.ConfigText(cr.VMID); now != before[cr.VMID] {
					v = append(v, fmt.Sprintf("ct %d refused, but its config changed", cr.VMID))
				}
			}
		}
	}
	if saved {
		for vmid, text := range before {
			if now, _ := e.sim.ConfigText(vmid); now != text {
				v = append(v, fmt.Sprintf("ct %d changed", vmid))
			}
		}
	}
	after := readCellState(t, e).backups
	for _, b := range backupsBefore {
		found := false
		for _, a := range after {
			found = found || a == b
		}
		if !found {
			v = append(v, "backup "+b+" lost")
		}
	}
	return v
}
