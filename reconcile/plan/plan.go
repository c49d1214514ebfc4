package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/felhom/felhom/pve/calendar"
	"github.com/felhom/felhom/spec"
)

// FormatVersion is the version of the plan's JSON form that this package
// writes and reads. It changes only when a reader written for the old version
// would misread a new plan (a field removed, renamed or given a new meaning);
// adding fields does not change it, so readers ignore fields they do not know.
const FormatVersion = "1"

// ErrUnsupportedVersion is returned by Parse for a plan whose format_version
// this package does not read.
var ErrUnsupportedVersion = errors.New("unsupported plan format_version")

// Plan is everything felhom intends to do to reach the desired state, as data.
// Containers is sorted by ContainerLess once Sort has run; diff and Parse
// leave it sorted.
type Plan struct {
	// FormatVersion is FormatVersion when written by this package.
	FormatVersion string `json:"format_version"`
	// SourceRevision names the desired state the plan was made from (a git
	// commit, or a digest of the spec files); "" when unknown.
	SourceRevision string `json:"source_revision"`
	// CreatedAt is when the plan was made (UTC).
	CreatedAt time.Time `json:"created_at"`
	// Containers holds one entry per container in the specs, changed or not.
	Containers []ContainerPlan `json:"containers"`
	// Warnings are plan-wide notes for people (for example a privilege the
	// token lacks); they never decide anything.
	Warnings []string `json:"warnings"`
	// Backups is the backup section; nil when no spec has a backup policy
	// (or the plan was made without one, as before it existed).
	Backups *Backups `json:"backups,omitempty"`
	// Unmanaged lists the containers on PVE that no spec names, sorted by
	// VMID; felhom never touches them. Empty when none, or when the plan
	// was made with --unmanaged ignore.
	Unmanaged []Unmanaged `json:"unmanaged"`
}

// Status sums up what a plan does to one container.
type Status string

// The statuses. A container has Steps if and only if its Status is
// StatusChanges.
const (
	// StatusUnchanged: nothing to do. The container may still list Changes
	// of class ClassAwaitingRestart (PVE holds them pending) that no step
	// applies, for example because the restart policy is "never".
	StatusUnchanged Status = "unchanged"
	// StatusChanges: Steps will change the container.
	StatusChanges Status = "changes"
	// StatusMissing: the container is in the specs but not on PVE.
	StatusMissing Status = "missing"
	// StatusBlocked: changes are needed but felhom may not make them now
	// (root-only changes, or the snapshot policy refuses); Blocked says why.
	StatusBlocked Status = "blocked"
	// StatusError: the spec asks for something PVE cannot do (an impossible
	// change) or the live state could not be read; Blocked says why.
	StatusError Status = "error"
)

// Valid reports whether s is one of the statuses above.
func (s Status) Valid() bool {
	switch s {
	case StatusUnchanged, StatusChanges, StatusMissing, StatusBlocked, StatusError:
		return true
	}
	return false
}

// ContainerPlan is the plan for one container.
type ContainerPlan struct {
	// Name is the spec's metadata.name.
	Name string `json:"name"`
	// Node is where the container was found (or, when missing, where the
	// spec puts it).
	Node string `json:"node"`
	// VMID is the container's id.
	VMID int `json:"vmid"`
	// Digest is PVE's config digest when the plan was made ("" when missing).
	// Apply refuses the container when the live digest differs before its
	// first step.
	Digest string `json:"digest"`
	// Running is whether the container was running when the plan was made;
	// it decides which changes are hot.
	Running bool `json:"running"`
	// Status sums up the plan for this container.
	Status Status `json:"status"`
	// Changes are the field differences, sorted by ChangeLess.
	Changes []Change `json:"changes"`
	// Steps are what apply does, in order (sorted by StepLess); empty unless
	// Status is StatusChanges.
	Steps []Step `json:"steps"`
	// Privileges are what the API token needs for Steps, sorted.
	Privileges []Privilege `json:"privileges"`
	// RootOn names the node where felhom must run as root with the
	// privileged backend enabled, for the pct-set step; "" when the plan
	// has none.
	RootOn string `json:"root_on"`
	// Blocked holds the reasons a container is StatusBlocked or StatusError,
	// one per cause, each naming the field or policy.
	Blocked []string `json:"blocked"`
	// Warnings are notes for people about this container (for example
	// changes left pending by the restart policy); they decide nothing.
	Warnings []string `json:"warnings"`
	// OnFailure is the spec's failure policy for a step that fails after
	// the snapshot: spec.OnFailureRollback or spec.OnFailureLeave. "" (a plan
	// written before the field existed) leaves the choice to apply's
	// default.
	OnFailure spec.OnFailure `json:"on_failure"`
	// RestartWindow is the restart policy's window when the reboot step is
	// there because that window was open when the plan was made; apply
	// reboots only while it is still open. Nil otherwise (no reboot, or one
	// the policy allows at any time).
	RestartWindow *RestartWindow `json:"restart_window"`
	// NodeZone is the node's time zone (GET /nodes/{node}/time), read when
	// the spec has a restart window: the zone the window is read in, for
	// the daemon's next restart window on /status. Nil otherwise; not in
	// the JSON (a saved plan carries the zone in RestartWindow.TimeZone).
	NodeZone *time.Location `json:"-"`
	// Restart is the spec's restart policy (restart.mode): a reboot step is
	// carried out only when it allows one (CheckSafety). "" in plans
	// written before the field existed: such a plan may not reboot.
	Restart spec.RestartMode `json:"restart"`
	// Spec is the container's spec the plan was made from (after folder
	// Defaults), set when Status is StatusChanges. Apply from a saved plan
	// records the baseline of what it applied from it, as apply with the
	// specs does, so a later hand change is drift either way. It decides
	// no step. Nil in plans written before it existed: apply then carries
	// the older baseline over without the fields it wrote. CheckSafety
	// reads its snapshot policy (ProtectionOff).
	Spec *spec.ContainerSpec `json:"spec,omitempty"`
}

// RestartWindow is a restart window as a plan carries it: it opens at each
// occurrence of Schedule and stays open for DurationSeconds.
type RestartWindow struct {
	// Schedule is a PVE calendar event, such as "sun 03:00". It is
	// evaluated in the zone of the time it is asked about (see Open).
	Schedule string `json:"schedule"`
	// DurationSeconds is how long the window stays open.
	DurationSeconds int64 `json:"duration_seconds"`
	// TimeZone is the node's zone (IANA name), which Schedule is read in;
	// "" (plans made before it existed) reads it in now's zone.
	TimeZone string `json:"time_zone,omitempty"`
}

// Open reports whether now lies in the window: some occurrence t of
// Schedule with t <= now < t+duration. The schedule is read in TimeZone
// (the node's, as PVE reads its own schedules), or in now's zone when that
// is "", unless it ends in "UTC" (pve/calendar). next is the window's next
// opening after now when it is closed (zero when it never opens); err is a
// schedule that does not parse or a zone that does not load.
func (w RestartWindow) Open(now time.Time) (open bool, next time.Time, err error) {
	ev, err := calendar.Parse(w.Schedule)
	if err != nil {
		return false, time.Time{}, err
	}
	if w.TimeZone != "" {
		loc, err := time.LoadLocation(w.TimeZone)
		if err != nil {
			return false, time.Time{}, fmt.Errorf("restart window time zone: %w", err)
		}
		now = now.In(loc)
	}
	dur := time.Duration(w.DurationSeconds) * time.Second
	if t, ok := ev.Next(now.Add(-dur)); ok && !t.After(now) {
		return true, time.Time{}, nil
	}
	t, _ := ev.Next(now)
	return false, t, nil
}

// Privilege is one PVE privilege on one ACL path, as GET /access/permissions
// reports them.
type Privilege struct {
	// Path is the ACL path, such as "/vms/101" or "/storage/local-lvm".
	Path string `json:"path"`
	// Name is the privilege, such as "VM.Config.Memory".
	Name string `json:"name"`
}

// String returns "VM.Config.Memory on /vms/101".
func (p Privilege) String() string { return p.Name + " on " + p.Path }

// Summary counts containers by status.
type Summary struct {
	Changes, Unchanged, Blocked, Missing, Errors int
}

// Summary counts the plan's containers by status.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, c := range p.Containers {
		switch c.Status {
		case StatusChanges:
			s.Changes++
		case StatusUnchanged:
			s.Unchanged++
		case StatusBlocked:
			s.Blocked++
		case StatusMissing:
			s.Missing++
		case StatusError:
			s.Errors++
		}
	}
	return s
}

// HasChanges reports whether applying the plan would change any container.
func (p *Plan) HasChanges() bool {
	for _, c := range p.Containers {
		if c.Status == StatusChanges {
			return true
		}
	}
	return false
}

// Parse reads a plan from its JSON form and checks it: the format_version
// (ErrUnsupportedVersion otherwise), every enum value, and that Steps appear
// only on containers with StatusChanges. Unknown fields are ignored.
func Parse(data []byte) (*Plan, error) {
	if len(data) > MaxPlanBytes {
		return nil, &SafetyError{Rule: RuleSize, Detail: fmt.Sprintf("%d bytes, at most %d", len(data), MaxPlanBytes)}
	}
	var head struct {
		FormatVersion *string `json:"format_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if head.FormatVersion == nil {
		return nil, fmt.Errorf("plan: format_version missing: %w", ErrUnsupportedVersion)
	}
	if *head.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("plan: format_version %q (this felhom reads %q): %w",
			*head.FormatVersion, FormatVersion, ErrUnsupportedVersion)
	}
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks the invariants documented on the types: known enum values
// (status, class, op, action, on_failure),
// Steps only with StatusChanges and always with it, and a step for every
// container with changes.
func (p *Plan) Validate() error {
	if p.FormatVersion != FormatVersion {
		return fmt.Errorf("plan: format_version %q: %w", p.FormatVersion, ErrUnsupportedVersion)
	}
	for _, c := range p.Containers {
		if !c.Status.Valid() {
			return fmt.Errorf("plan: ct %d: unknown status %q", c.VMID, c.Status)
		}
		if (c.Status == StatusChanges) != (len(c.Steps) > 0) {
			return fmt.Errorf("plan: ct %d: status %s with %d steps", c.VMID, c.Status, len(c.Steps))
		}
		for _, ch := range c.Changes {
			if !ch.Class.Valid() {
				return fmt.Errorf("plan: ct %d: %s: unknown class %q", c.VMID, ch.Path, ch.Class)
			}
			if !ch.Op.Valid() {
				return fmt.Errorf("plan: ct %d: %s: unknown op %q", c.VMID, ch.Path, ch.Op)
			}
		}
		if w := c.RestartWindow; w != nil && (w.Schedule == "" || w.DurationSeconds <= 0) {
			return fmt.Errorf("plan: ct %d: restart_window needs a schedule and a duration", c.VMID)
		}
		switch c.OnFailure {
		case "", spec.OnFailureRollback, spec.OnFailureLeave:
		default:
			return fmt.Errorf("plan: ct %d: unknown on_failure %q", c.VMID, c.OnFailure)
		}
		for i, s := range c.Steps {
			if !s.Action.Valid() {
				return fmt.Errorf("plan: ct %d: step %d: invalid action", c.VMID, i+1)
			}
		}
	}
	return nil
}

// MarshalJSON writes the plan with empty lists as [] rather than null, so
// consumers can iterate every list without a null check.
func (p Plan) MarshalJSON() ([]byte, error) {
	type plain Plan
	q := plain(p)
	if q.Containers == nil {
		q.Containers = []ContainerPlan{}
	}
	if q.Warnings == nil {
		q.Warnings = []string{}
	}
	if q.Unmanaged == nil {
		q.Unmanaged = []Unmanaged{}
	}
	return json.Marshal(q)
}

// MarshalJSON writes the container plan with empty lists as [] rather than
// null.
func (c ContainerPlan) MarshalJSON() ([]byte, error) {
	type plain ContainerPlan
	q := plain(c)
	if q.Changes == nil {
		q.Changes = []Change{}
	}
	if q.Steps == nil {
		q.Steps = []Step{}
	}
	if q.Privileges == nil {
		q.Privileges = []Privilege{}
	}
	if q.Blocked == nil {
		q.Blocked = []string{}
	}
	if q.Warnings == nil {
		q.Warnings = []string{}
	}
	return json.Marshal(q)
}
