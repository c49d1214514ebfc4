package plan

// Change is one field that differs between the spec and the live container.
type Change struct {
	// Path names the field: a PVE option ("memory", "tags"), an option's
	// property-string key ("net0.bridge", "rootfs.size", "features.nesting")
	// or a whole slot when it appears or goes ("mp1", "net2").
	Path string `json:"path"`
	// Op says whether the field appears, changes or goes.
	Op Op `json:"op"`
	// Before is the live value for people ("1 GiB"); "" when Op is OpAdd.
	// For ClassAwaitingRestart it is the current value.
	Before string `json:"before"`
	// After is the desired value for people ("2 GiB"); "" when Op is
	// OpRemove. For ClassAwaitingRestart it is the value PVE holds pending.
	After string `json:"after"`
	// Class says how the change can be made.
	Class Class `json:"class"`
	// Reason explains Class (or the change) to people. Nothing decides on it.
	Reason string `json:"reason"`
	// Drift marks a live value that differs from what felhom last applied:
	// someone changed it outside felhom.
	Drift bool `json:"drift"`
	// Privileged marks a change only root@pam may make that the plan
	// routes to the privileged backend (a pct-set step): its Class is
	// then hot or pending-restart as for an API write. A root-only change
	// the backend cannot make here has Class ClassRootOnly instead.
	Privileged bool `json:"privileged"`
}

// Op says what a change does to its field.
type Op string

// The ops, shown by the text renderer as "+", "~" and "-".
const (
	OpAdd    Op = "add"
	OpUpdate Op = "update"
	OpRemove Op = "remove"
)

// Valid reports whether o is one of the ops above.
func (o Op) Valid() bool { return o == OpAdd || o == OpUpdate || o == OpRemove }

// Symbol returns "+", "~" or "-" ("?" for an invalid op).
func (o Op) Symbol() string {
	switch o {
	case OpAdd:
		return "+"
	case OpUpdate:
		return "~"
	case OpRemove:
		return "-"
	}
	return "?"
}

// Class says how PVE lets a change be made.
type Class string

// The classes.
const (
	// ClassHot: PVE applies it to the running container at once (and any
	// change applies at once to a stopped container).
	ClassHot Class = "hot"
	// ClassPendingRestart: PVE keeps it in [pve:pending] until the running
	// container restarts.
	ClassPendingRestart Class = "pending-restart"
	// ClassRootOnly: only root@pam may make it (bind or device mounts, devN,
	// features other than nesting, hookscript); no API token can, and the
	// privileged backend cannot here (Change.Reason says why). The
	// container is blocked.
	ClassRootOnly Class = "root-only"
	// ClassImpossible: PVE cannot make it at all (shrinking a volume,
	// changing unprivileged, moving a volume to another storage). The
	// container is an error.
	ClassImpossible Class = "impossible"
	// ClassAwaitingRestart: PVE already holds the desired value pending; no
	// new write is needed, only a restart.
	ClassAwaitingRestart Class = "awaiting-restart"
)

// Valid reports whether c is one of the classes above.
func (c Class) Valid() bool {
	switch c {
	case ClassHot, ClassPendingRestart, ClassRootOnly, ClassImpossible, ClassAwaitingRestart:
		return true
	}
	return false
}

// NeedsRestart reports whether the change takes effect only when the running
// container restarts.
func (c Class) NeedsRestart() bool {
	return c == ClassPendingRestart || c == ClassAwaitingRestart
}
