package plan

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/pve/prune"
	"github.com/felhom/felhom/spec"
)

// The safety rules a plan must keep before apply touches anything
// (CheckSafety). A plan read from a file is input, not trust: it may have
// been edited, truncated or written by hand.
const (
	RuleOneEntry    = "one entry per vmid"
	RuleOrder       = "steps in their order"
	RuleProtection  = "protection before the first write"
	RuleNoUnused    = "no unusedN delete"
	RuleFelhomSnaps = "only felhom snapshots are taken and pruned"
	RuleRetention   = "retention exactly the spec's"
	RuleRestart     = "restarts only as the plan's own policy allows"
	RulePower       = "a start only of a stopped container, a shutdown only of a running one, once"
	RuleOwnCT       = "steps name only their own container"
	RuleCreate      = "a create only of a container that is not on PVE, first, with no secret"
	RuleSize        = "a plan within its size bounds"
)

// Size bounds of a plan (RuleSize): Parse refuses more.
const (
	MaxPlanBytes      = 16 << 20
	MaxContainers     = 10000
	MaxStepsPerCT     = 1000
	MaxParamsPerStep  = 200
	MaxParamValueSize = 64 << 10
)

// SafetyError is a plan that breaks a safety rule: apply refuses it.
type SafetyError struct {
	VMID int // 0 for the plan as a whole
	// Step is the 1-based step that breaks it; 0 for the container.
	Step   int
	Rule   string
	Detail string
}

func (e *SafetyError) Error() string {
	where := "plan"
	if e.VMID != 0 {
		where += fmt.Sprintf(": ct %d", e.VMID)
	}
	if e.Step != 0 {
		where += fmt.Sprintf(": step %d", e.Step)
	}
	return fmt.Sprintf("%s: refused by the rule %q: %s", where, e.Rule, e.Detail)
}

// CheckSafety checks the plan against every safety rule and returns the
// first container's breach, or nil: one entry per vmid, and each
// container's CheckSafety. Apply refuses a plan (or, when it made the plan
// itself, a container) that breaks one, before any call that changes
// anything.
func (p *Plan) CheckSafety() error {
	if len(p.Containers) > MaxContainers {
		return &SafetyError{Rule: RuleSize, Detail: fmt.Sprintf("%d containers, at most %d", len(p.Containers), MaxContainers)}
	}
	if d := p.Duplicates(); len(d) > 0 {
		return &SafetyError{VMID: d[0], Rule: RuleOneEntry, Detail: "the container is listed more than once; two appliers would work on it at once"}
	}
	for i := range p.Containers {
		if err := p.Containers[i].CheckSafety(); err != nil {
			return err
		}
	}
	return nil
}

// Duplicates lists the vmids that appear more than once, sorted.
func (p *Plan) Duplicates() []int {
	n := map[int]int{}
	for _, c := range p.Containers {
		n[c.VMID]++
	}
	var out []int
	for vmid, k := range n {
		if k > 1 {
			out = append(out, vmid)
		}
	}
	sort.Ints(out)
	return out
}

// CheckSafety checks one container's steps against the safety rules (see
// the Rule constants); nil when they keep them all. Only a container with
// StatusChanges has steps.
func (c *ContainerPlan) CheckSafety() error {
	bad := func(step int, rule, format string, args ...any) error {
		return &SafetyError{VMID: c.VMID, Step: step, Rule: rule, Detail: fmt.Sprintf(format, args...)}
	}
	if len(c.Steps) > MaxStepsPerCT {
		return bad(0, RuleSize, "%d steps, at most %d", len(c.Steps), MaxStepsPerCT)
	}
	if c.Status != StatusChanges {
		if len(c.Steps) > 0 {
			return bad(0, RuleOrder, "status %s with %d steps", c.Status, len(c.Steps))
		}
		return nil
	}
	vmid := strconv.Itoa(c.VMID)
	// A spec whose snapshot policy turns before-change off is changed
	// unprotected, as its plan warns; the check holds every other plan to
	// the protection rule.
	protected := c.ProtectionOff()
	dumps := map[string]bool{}
	pruned := map[string]bool{}
	needsRestart, rebooted, powered := false, false, false
	for _, ch := range c.Changes {
		needsRestart = needsRestart || ch.Class.NeedsRestart()
	}
	for i, s := range c.Steps {
		n := i + 1
		if len(s.Params) > MaxParamsPerStep {
			return bad(n, RuleSize, "%d parameters, at most %d", len(s.Params), MaxParamsPerStep)
		}
		for k, v := range s.Params {
			if len(v) > MaxParamValueSize {
				return bad(n, RuleSize, "parameter %s is %d bytes, at most %d", k, len(v), MaxParamValueSize)
			}
		}
		if i > 0 && StepLess(s, c.Steps[i-1]) {
			return bad(n, RuleOrder, "%s comes after %s; apply runs protection, writes, restart, retention in that order", s.Action.Token(), c.Steps[i-1].Action.Token())
		}
		if s.Action.Creates() {
			if err := c.checkCreate(n, s); err != nil {
				return err
			}
			protected = true // the steps after it work on a new container
			continue
		}
		if len(c.Steps) > 0 && c.Steps[0].Action.Creates() && (s.Action.IsProtection() || s.Action.IsRestart() || s.Action.IsRetention()) {
			return bad(n, RuleCreate, "%s on a container the plan creates; a new container has nothing to protect, restart or prune", s.Action.Token())
		}
		if s.Action.NeedsProtection() && !protected {
			return bad(n, RuleProtection, "%s comes before any felhom snapshot or backup of this container", s.Action.Token())
		}
		switch s.Action {
		case ActionSnapshot:
			if _, ok := SnapshotTime(s.Params["snapname"]); !ok {
				return bad(n, RuleFelhomSnaps, "snapshot %q is not a felhom snapshot name (%s<time>)", s.Params["snapname"], SnapshotPrefix)
			}
			protected = true
		case ActionVzdump:
			if v := s.Params["vmid"]; v != "" && v != vmid {
				return bad(n, RuleOwnCT, "the backup is of vmid %q", v)
			}
			if s.Params["storage"] == "" {
				return bad(n, RuleRetention, "the backup names no storage")
			}
			if s.Params["remove"] != "0" || s.Params["prune-backups"] != "" {
				return bad(n, RuleRetention, "the backup must carry remove=0 and no prune-backups (retention is its own prune step), else PVE prunes by the storage's retention")
			}
			dumps[s.Params["storage"]] = true
			protected = true
		case ActionSetConfig, ActionPctSet:
			for k, v := range s.Params {
				words := []string{k}
				if k == "delete" || k == "revert" {
					words = format.SplitWords(v)
				}
				for _, w := range words {
					if strings.HasPrefix(w, "unused") {
						return bad(n, RuleNoUnused, "it changes %s; deleting an unused volume destroys its data", w)
					}
				}
			}
		case ActionResize:
			if d := s.Params["disk"]; d != "rootfs" && !strings.HasPrefix(d, "mp") {
				return bad(n, RuleOwnCT, "resize of %q, not a volume of the container", d)
			}
		case ActionReboot:
			switch {
			case !c.Running:
				return bad(n, RuleRestart, "the container was not running when the plan was made")
			case !needsRestart:
				return bad(n, RuleRestart, "no change of the plan waits for a restart")
			case c.Restart == spec.RestartWhenNeeded:
			case c.Restart == spec.RestartInWindow && c.RestartWindow != nil:
			default:
				return bad(n, RuleRestart, "the plan's restart policy %q does not allow a reboot now", c.Restart)
			}
			rebooted = true
		case ActionStart, ActionShutdown:
			if err := c.checkPower(n, s.Action, powered, rebooted, needsRestart, protected); err != nil {
				return err
			}
			powered = true
		case ActionSnapshotPrune:
			if _, ok := SnapshotTime(s.Params["snapname"]); !ok {
				return bad(n, RuleFelhomSnaps, "snapshot %q is not one felhom took", s.Params["snapname"])
			}
		case ActionPrune:
			p := s.Params
			switch {
			case p["vmid"] != vmid || p["type"] != "lxc":
				return bad(n, RuleOwnCT, "the prune is for vmid %q, type %q; felhom prunes only the container's own backups (without a vmid PVE prunes every guest's)", p["vmid"], p["type"])
			case p["storage"] == "" || p["prune-backups"] == "":
				return bad(n, RuleRetention, "the prune names no storage or no retention; PVE would prune by the storage's own")
			case pruned[p["storage"]]:
				return bad(n, RuleRetention, "a second prune of %s", p["storage"])
			}
			if _, err := prune.ParseOptions(p["prune-backups"]); err != nil {
				return bad(n, RuleRetention, "%v", err)
			}
			pruned[p["storage"]] = true
		}
	}
	return nil
}

// checkPower checks the power step n (RulePower): a start of a container
// that was stopped at plan time, protected first when a change of the plan
// waits for a restart (PVE's vm_start applies what is pending, as a reboot
// does); a shutdown of one that was running, never after a reboot; one
// power step at most, towards the power the carried spec asks for.
func (c *ContainerPlan) checkPower(n int, a Action, powered, rebooted, needsRestart, protected bool) error {
	bad := func(rule, format string, args ...any) error {
		return &SafetyError{VMID: c.VMID, Step: n, Rule: rule, Detail: fmt.Sprintf(format, args...)}
	}
	want := spec.PowerRunning
	if a == ActionShutdown {
		want = spec.PowerStopped
	}
	switch {
	case powered:
		return bad(RulePower, "a second start or shutdown")
	case c.Spec != nil && c.Spec.Power != want:
		return bad(RulePower, "the plan's spec asks for power %q, the step makes it %s", c.Spec.Power, want)
	case a == ActionStart && c.Running:
		return bad(RulePower, "the container was running when the plan was made")
	case a == ActionStart && needsRestart && !protected:
		return bad(RuleProtection, "the start applies the changes waiting for a restart, and comes before any felhom snapshot or backup of this container")
	case a == ActionShutdown && !c.Running:
		return bad(RulePower, "the container was not running when the plan was made")
	case a == ActionShutdown && rebooted:
		return bad(RuleRestart, "a reboot in a plan that shuts the container down")
	}
	return nil
}

// checkCreate checks create or restore step n (RuleCreate): the first step,
// of a container the plan found no config of (no digest), for its own
// vmid, carrying the password file's path but never a password, and never
// PVE's force (which would overwrite a container).
func (c *ContainerPlan) checkCreate(n int, s Step) error {
	bad := func(format string, args ...any) error {
		return &SafetyError{VMID: c.VMID, Step: n, Rule: RuleCreate, Detail: fmt.Sprintf(format, args...)}
	}
	p := s.Params
	switch {
	case n != 1:
		return bad("%s is not the first step", s.Action.Token())
	case c.Digest != "":
		return bad("the container had a config when the plan was made (digest %s)", c.Digest)
	case p["vmid"] != strconv.Itoa(c.VMID):
		return bad("the %s is of vmid %q", s.Action.Token(), p["vmid"])
	case p["ostemplate"] == "":
		return bad("no ostemplate: nothing to %s from", s.Action.Token())
	case p["password"] != "":
		return bad("a password in a plan; a plan carries only the password file's path")
	case p["force"] != "":
		return bad("force would overwrite an existing container")
	case p["start"] != "":
		return bad("start on the %s: PVE runs it as a task the %s does not wait for; a start step after it starts the container", s.Action.Token(), s.Action.Token())
	case (p["restore"] == "1") != (s.Action == ActionRestore):
		return bad("restore=%q on a %s step", p["restore"], s.Action.Token())
	}
	return nil
}

// Creates reports whether the plan creates the container: its first step
// is a create or a restore.
func (c *ContainerPlan) Creates() bool {
	return len(c.Steps) > 0 && c.Steps[0].Action.Creates()
}

// ProtectionOff reports whether the plan's spec turns the protection before
// a change off (snapshot.before-change: false), so that its writes come
// with no felhom snapshot or backup before them. A plan that carries no
// spec (written before plans did) is held to the protection rule.
func (c *ContainerPlan) ProtectionOff() bool {
	if c.Spec == nil || c.Spec.Snapshot == nil || c.Spec.Snapshot.BeforeChange == nil {
		return false
	}
	return !*c.Spec.Snapshot.BeforeChange
}
