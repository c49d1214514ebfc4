package plan

import "fmt"

// Action is what one step does. It is a small closed set; the zero value is
// invalid. The order of the constants is the order of steps within one
// container (see StepLess): safety first, then the writes, then the restart,
// then retention.
type Action uint8

// The actions, in execution order.
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
	actionEnd
)

var actionTokens = [actionEnd]string{
	ActionVzdump:        "vzdump",
	ActionSnapshot:      "snapshot",
	ActionResize:        "resize",
	ActionSetConfig:     "set-config",
	ActionReboot:        "reboot",
	ActionSnapshotPrune: "snapshot-prune",
	ActionPrune:         "prune",
}

var actionVerbs = [actionEnd]string{
	ActionVzdump:        "back up with vzdump",
	ActionSnapshot:      "take snapshot",
	ActionResize:        "resize volume",
	ActionSetConfig:     "set config",
	ActionReboot:        "reboot",
	ActionSnapshotPrune: "delete old snapshot",
	ActionPrune:         "prune backups",
}

var actionPast = [actionEnd]string{
	ActionVzdump:        "backed up with vzdump",
	ActionSnapshot:      "took snapshot",
	ActionResize:        "resized volume",
	ActionSetConfig:     "set config",
	ActionReboot:        "rebooted",
	ActionSnapshotPrune: "deleted old snapshot",
	ActionPrune:         "pruned backups",
}

// Past returns the action in the past tense for results and logs, such as
// "took snapshot" or "rebooted" (plans say what will be done, results what
// was done).
func (a Action) Past() string {
	if !a.Valid() {
		return a.String()
	}
	return actionPast[a]
}

// Actions lists every valid action in execution order.
func Actions() []Action {
	out := make([]Action, 0, int(actionEnd)-1)
	for a := actionInvalid + 1; a < actionEnd; a++ {
		out = append(out, a)
	}
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
	return actionVerbs[a]
}

// Token returns the action's stable machine name, such as "snapshot" or
// "set-config": its JSON form.
func (a Action) Token() string {
	if !a.Valid() {
		return ""
	}
	return actionTokens[a]
}

// ParseAction returns the action whose Token is s.
func ParseAction(s string) (Action, error) {
	for a := actionInvalid + 1; a < actionEnd; a++ {
		if actionTokens[a] == s {
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
	case ActionSetConfig:
		return s.Action.String() + " " + SetConfigSummary(p)
	}
	return s.Action.String()
}
