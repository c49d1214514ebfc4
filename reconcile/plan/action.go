package plan

import (
	"fmt"
	"sort"
)

// Action is what one step does. It is a small closed set; the zero value is
// invalid. What an action is (IsProtection, Writes, IsRestart, IsPower,
// IsRetention) and where it runs among a container's steps (StepLess) are
// named in actionInfos, never read from the order of the constants: safety
// first, then the writes, then the restart, then the power step, then
// retention.
type Action uint8

// The actions. New ones are appended (their values are not their order).
const (
	actionInvalid Action = iota
	// ActionVzdump backs the container up with vzdump before the first
	// write, when the snapshot policy asks for it because PVE cannot snapshot
	// the container.
	ActionVzdump
	// ActionSnapshot takes the felhom snapshot before the first write.
	ActionSnapshot
	// ActionResize grows one volume (rootfs or mpN).
	ActionResize
	// ActionSetConfig writes all set and delete keys in one config PUT.
	ActionSetConfig
	// ActionReboot reboots the running container so PVE applies its pending
	// changes.
	ActionReboot
	// ActionSnapshotPrune deletes one felhom snapshot beyond the snapshot
	// retention.
	ActionSnapshotPrune
	// ActionPrune prunes the container's backups on one storage by the
	// backup retention.
	ActionPrune
	// ActionPctSet writes the root-only keys (bind and device mount
	// points, devN, features beyond nesting) in one `pct set` as root on
	// the container's node, through the privileged backend, with the
	// config digest. It is the first write after the protection: PVE
	// checks these values against the host (a bind path, a device node),
	// so a refusal comes before anything else has changed.
	ActionPctSet
	// ActionStart starts the stopped container (spec power: running). PVE
	// applies pending changes as it starts (LXC.pm vm_start), so a start
	// that finds any is protected as a reboot is (CheckSafety, diff).
	ActionStart
	// ActionShutdown shuts the running container down cleanly (spec power:
	// stopped): PVE's vm_shutdown, never a hard stop. Pending changes stay
	// pending.
	ActionShutdown
	// ActionCreate creates the container from an OS template (POST
	// /nodes/{node}/lxc, task vzcreate), with every option of the spec the
	// create call takes. There is nothing to protect before it: the vmid is
	// not on PVE.
	ActionCreate
	// ActionRestore creates the container by restoring a vzdump backup
	// (POST /nodes/{node}/lxc with restore=1, task vzrestore); like
	// ActionCreate, nothing is protected before it.
	ActionRestore
	actionEnd
)

// actionInfo is everything known about one action kind, in one place: its
// names, where it runs among a container's steps and what it is. A new
// action is one entry here; nothing decides on the order of the constants.
type actionInfo struct {
	token, verb, past string
	// order is the action's place among one container's steps (StepLess).
	order int
	phase phase
}

// phase is what an action is to the change it belongs to.
type phase uint8

const (
	// phaseProtect: keeps the state before the change (snapshot, vzdump);
	// it changes nothing a rollback would undo.
	phaseProtect phase = iota + 1
	// phaseWrite: changes the container's config or volumes.
	phaseWrite
	// phaseRestart: restarts the container so PVE applies what is pending.
	phaseRestart
	// phasePower: brings the container to the spec's run state (power)
	// once the writes are made and verified.
	phasePower
	// phaseRetain: retention once the change is verified and kept.
	phaseRetain
	// phaseCreate: makes the container, which was not on PVE: a write with
	// nothing before it to protect, and the first of its steps.
	phaseCreate
)

var actionInfos = [actionEnd]actionInfo{
	ActionVzdump:        {token: "vzdump", verb: "back up with vzdump", past: "backed up with vzdump", order: 10, phase: phaseProtect},
	ActionSnapshot:      {token: "snapshot", verb: "take snapshot", past: "took snapshot", order: 20, phase: phaseProtect},
	ActionResize:        {token: "resize", verb: "resize volume", past: "resized volume", order: 30, phase: phaseWrite},
	ActionSetConfig:     {token: "set-config", verb: "set config", past: "set config", order: 40, phase: phaseWrite},
	ActionReboot:        {token: "reboot", verb: "reboot", past: "rebooted", order: 50, phase: phaseRestart},
	ActionSnapshotPrune: {token: "snapshot-prune", verb: "delete old snapshot", past: "deleted old snapshot", order: 60, phase: phaseRetain},
	ActionPrune:         {token: "prune", verb: "prune backups", past: "pruned backups", order: 70, phase: phaseRetain},
	ActionPctSet:        {token: "pct-set", verb: "set config as root (privileged)", past: "set config as root (privileged)", order: 25, phase: phaseWrite},
	ActionStart:         {token: "start", verb: "start", past: "started", order: 54, phase: phasePower},
	ActionShutdown:      {token: "shutdown", verb: "shut down", past: "shut down", order: 56, phase: phasePower},
	ActionCreate:        {token: "create", verb: "create container from", past: "created container from", order: 5, phase: phaseCreate},
	ActionRestore:       {token: "restore", verb: "restore container from", past: "restored container from", order: 6, phase: phaseCreate},
}

func (a Action) info() actionInfo {
	if !a.Valid() {
		return actionInfo{}
	}
	return actionInfos[a]
}

// IsProtection reports whether a keeps the container's state before the
// change (the felhom snapshot, a vzdump backup). It changes nothing that a
// rollback would undo, so it never makes a container half-done.
func (a Action) IsProtection() bool { return a.info().phase == phaseProtect }

// Writes reports whether a changes the container's config or volumes: once
// such a step ran, a failure leaves the container changed (rolled back or
// half-done) and the read-back must verify it.
func (a Action) Writes() bool { return a.info().phase == phaseWrite }

// IsRestart reports whether a restarts the container so that PVE applies
// its pending changes (which the read-back then verifies).
func (a Action) IsRestart() bool { return a.info().phase == phaseRestart }

// NeedsProtection reports whether a changes the running container, so that
// the snapshot policy protects it before (a write, or a restart that makes
// pending values current). A start needs it only when it makes pending
// values current: diff decides that from what PVE holds pending, and
// CheckSafety insists on it when a change of the plan waits for a restart.
func (a Action) NeedsProtection() bool { return a.Writes() || a.IsRestart() }

// IsPower reports whether a starts or shuts down the container for the
// spec's power: it runs after the writes are verified, and its failure
// leaves them in place (it is no part of the config change).
func (a Action) IsPower() bool { return a.info().phase == phasePower }

// Creates reports whether a makes the container (from a template or a
// backup): the first step of a container that is not on PVE. It needs no
// protection (there is nothing to protect), and the steps after it need
// none either: the container is new.
func (a Action) Creates() bool { return a.info().phase == phaseCreate }

// IsRetention reports whether a is retention (old snapshots, old backups):
// it runs only once the change it follows is verified and kept, and its
// failure leaves that change in place.
func (a Action) IsRetention() bool { return a.info().phase == phaseRetain }

// Past returns the action in the past tense for results and logs, such as
// "took snapshot" or "rebooted" (plans say what will be done, results what
// was done).
func (a Action) Past() string {
	if !a.Valid() {
		return a.String()
	}
	return actionInfos[a].past
}

// Actions lists every valid action in execution order (StepLess).
func Actions() []Action {
	out := make([]Action, 0, int(actionEnd)-1)
	for a := actionInvalid + 1; a < actionEnd; a++ {
		out = append(out, a)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].info().order < out[j].info().order })
	return out
}

// Valid reports whether a is one of the actions above.
func (a Action) Valid() bool { return a > actionInvalid && a < actionEnd }

// String returns the action as an imperative phrase for people, such as
// "take snapshot" or "set config".
func (a Action) String() string {
	if !a.Valid() {
		return fmt.Sprintf("Action(%d)", uint8(a))
	}
	return actionInfos[a].verb
}

// Token returns the action's stable machine name, such as "snapshot" or
// "set-config": its JSON form.
func (a Action) Token() string {
	if !a.Valid() {
		return ""
	}
	return actionInfos[a].token
}

// ParseAction returns the action whose Token is s.
func ParseAction(s string) (Action, error) {
	for a := actionInvalid + 1; a < actionEnd; a++ {
		if actionInfos[a].token == s {
			return a, nil
		}
	}
	return actionInvalid, fmt.Errorf("unknown action %q", s)
}

// MarshalText writes the action's Token; an invalid action is an error.
func (a Action) MarshalText() ([]byte, error) {
	if !a.Valid() {
		return nil, fmt.Errorf("invalid action %d", uint8(a))
	}
	return []byte(a.Token()), nil
}

// UnmarshalText reads an action from its Token.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Step is one thing apply does to one container, in order.
type Step struct {
	// Action is what the step does.
	Action Action `json:"action"`
	// Params are the step's request parameters as PVE's form values (see
	// FORMAT.md per action). The config digest is not among them: apply
	// checks ContainerPlan.Digest before the first step and carries the
	// digest of its own writes from step to step.
	Params map[string]string `json:"params"`
	// Why says to people why the step is there. Nothing decides on it.
	Why string `json:"why"`
}

// String returns the step for people: the action and its main parameter,
// such as "resize volume mp0 to 16G".
func (s Step) String() string {
	p := s.Params
	switch s.Action {
	case ActionSnapshot, ActionSnapshotPrune:
		return s.Action.String() + " " + p["snapname"]
	case ActionVzdump:
		return s.Action.String() + " to " + p["storage"]
	case ActionResize:
		return s.Action.String() + " " + p["disk"] + " to " + p["size"]
	case ActionPrune:
		return s.Action.String() + " on " + p["storage"] + " (" + p["prune-backups"] + ")"
	case ActionSetConfig, ActionPctSet:
		return s.Action.String() + " " + SetConfigSummary(p)
	case ActionShutdown:
		return s.Action.String() + " cleanly"
	case ActionCreate, ActionRestore:
		return s.Action.String() + " " + p["ostemplate"]
	}
	return s.Action.String()
}
