package daemon

import (
	"sort"
	"time"

	"github.com/felhom/felhom/pve/calendar"
	"github.com/felhom/felhom/reconcile"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// Kind is why a cycle runs; it decides what the cycle re-observes.
type Kind string

// The cycle kinds.
const (
	// KindResync re-observes every container (at start and every
	// Options.Resync).
	KindResync Kind = "resync"
	// KindChange follows a new revision (or a trigger): only containers
	// whose specs changed, and those due again, are observed.
	KindChange Kind = "change"
	// KindRetry re-plans containers whose backoff ran out and those a stale
	// digest left to re-plan.
	KindRetry Kind = "retry"
)

// Result sums up a cycle.
type Result string

// The cycle results.
const (
	ResultOK      Result = "ok"      // every container planned reached its desired state (or, in plan mode, was planned)
	ResultFailed  Result = "failed"  // some container failed, went stale or could not be planned
	ResultInvalid Result = "invalid" // the source's revision did not validate; the last good one stays
	ResultError   Result = "error"   // the cycle could not run: no revision, or PVE unreachable
	ResultIdle    Result = "idle"    // nothing needed observing
)

// State is what the daemon knows of one container, as /status shows it.
type State string

// The container states.
const (
	StateUnknown   State = "unknown"   // not planned yet
	StateSynced    State = "synced"    // live matches the spec (applied or unchanged)
	StateOutOfSync State = "outofsync" // changes planned but not applied (plan mode)
	StateBlocked   State = "blocked"   // changes felhom may not make (root-only, snapshot policy)
	StateMissing   State = "missing"   // in the specs, not on PVE
	StateError     State = "error"     // could not be planned (impossible change, unreadable)
	StateFailed    State = "failed"    // apply failed; backing off
	StateStale     State = "stale"     // the config moved meanwhile; re-planned next cycle
	StateSuspended State = "suspended" // suspend: true, or paused by a command
)

// States lists every state, for metrics.
var States = []State{StateUnknown, StateSynced, StateOutOfSync, StateBlocked, StateMissing, StateError, StateFailed, StateStale, StateSuspended}

// CycleRecord is one cycle, as /status lists it.
type CycleRecord struct {
	Kind     Kind          `json:"kind"`
	Revision string        `json:"revision"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	Result   Result        `json:"result"`
	// Planned are the containers the cycle observed and planned; Changed
	// those apply changed; Failed those that failed, went stale or could
	// not be planned.
	Planned []int  `json:"planned"`
	Changed []int  `json:"changed"`
	Failed  []int  `json:"failed"`
	Error   string `json:"error,omitempty"`
}

// InvalidRevision is a revision that did not validate: it is not applied
// and the last good revision stays in force until a valid one arrives.
type InvalidRevision struct {
	Revision string    `json:"revision"`
	Since    time.Time `json:"since"`
	// Errors are the diagnostics, "file:line:column: error: message".
	Errors []string `json:"errors"`
}

// ContainerStatus is one container in /status.
type ContainerStatus struct {
	VMID  int    `json:"vmid"`
	Name  string `json:"name"`
	Node  string `json:"node"`
	State State  `json:"state"`
	// LastAttemptedRevision is the revision last planned; LastAppliedRevision
	// the one last reconciled without failure.
	LastAttemptedRevision string `json:"last_attempted_revision,omitempty"`
	LastAppliedRevision   string `json:"last_applied_revision,omitempty"`
	// LastReconciled is when it last reached its desired state (or was
	// planned without error, in plan mode); LastChange when felhom last
	// changed it.
	LastReconciled time.Time `json:"last_reconciled,omitzero"`
	LastChange     time.Time `json:"last_change,omitzero"`
	// Drift are the paths changed outside felhom at the last plan;
	// DriftPolicy says whether they are reverted or only reported.
	Drift       []string `json:"drift"`
	DriftPolicy string   `json:"drift_policy"`
	// Pending are keys PVE holds until a restart; NextRestartWindow is when
	// the restart policy's window next opens, in the node's time zone (zero
	// without one).
	Pending           []string  `json:"pending"`
	NextRestartWindow time.Time `json:"next_restart_window,omitzero"`
	// Error is the last failure's reason; Failure its kind; Failures how
	// many in a row; RetryAt when the backoff ends.
	Error    string            `json:"error,omitempty"`
	Failure  reconcile.Failure `json:"failure,omitempty"`
	Failures int               `json:"failures"`
	RetryAt  time.Time         `json:"retry_at,omitzero"`
	// Suspended is true while the daemon leaves it alone (spec or command).
	Suspended bool `json:"suspended"`
	// Backup is its scheduled backups (nil without a backup policy, or
	// before the first backup pass).
	Backup *BackupStatus `json:"backup,omitempty"`
}

// Status is the daemon's state, as /status serves it.
type Status struct {
	Source string `json:"source"`
	Mode   Mode   `json:"mode"`
	// Revision is the last good revision, the one in force.
	Revision     string    `json:"revision"`
	RevisionTime time.Time `json:"revision_time,omitzero"`
	// LastFetch is the last successful fetch; FetchError the last fetch's
	// error ("" when it succeeded).
	LastFetch  time.Time        `json:"last_fetch,omitzero"`
	FetchError string           `json:"fetch_error,omitempty"`
	Invalid    *InvalidRevision `json:"invalid_revision"`
	// Reachable is whether the last cycle that needed PVE reached it.
	Reachable  bool              `json:"pve_reachable"`
	Cycles     []CycleRecord     `json:"cycles"` // newest first
	Containers []ContainerStatus `json:"containers"`
}

// ct is the loop's record of one container.
type ct struct {
	ContainerStatus
	spec *spec.Container
	hash string
	// dirty: plan it in the next cycle (a new or changed spec, a stale
	// digest, a cycle that could not finish).
	dirty bool
	// paused by Loop.Suspend.
	paused bool
}

// state is everything the loop keeps between cycles.
type state struct {
	status  Status
	good    string // id of the last good revision
	cts     map[int]*ct
	paused  map[int]bool
	running bool
	// cycleStart is when the running cycle began (zero when none runs).
	cycleStart time.Time
}

func newState(source string, mode Mode) state {
	return state{status: Status{Source: source, Mode: mode}, cts: map[int]*ct{}, paused: map[int]bool{}}
}

func (s *state) suspend(vmid int, on bool) {
	if on {
		s.paused[vmid] = true
	} else {
		delete(s.paused, vmid)
	}
	if c := s.cts[vmid]; c != nil {
		c.paused = on
		if !on {
			c.dirty = true
		}
	}
}

// adopt makes set the specs in force (revision rev) and marks dirty every
// container whose spec is new or changed; a changed spec also ends its
// backoff. Containers no longer in the specs are forgotten.
func (s *state) adopt(rev string, revTime time.Time, set []spec.Container) (changed int) {
	seen := make(map[int]bool, len(set))
	for i := range set {
		c := &set[i]
		id := c.Spec.VMID
		seen[id] = true
		h := specHash(c)
		old := s.cts[id]
		if old == nil {
			old = &ct{ContainerStatus: ContainerStatus{VMID: id, State: StateUnknown}}
			s.cts[id] = old
		}
		old.spec, old.Name, old.Node, old.DriftPolicy = c, c.Metadata.Name, c.Spec.Node, string(c.Spec.Drift)
		old.paused = s.paused[id]
		if old.hash != h {
			old.hash, old.dirty = h, true
			old.Failures, old.RetryAt = 0, time.Time{}
			changed++
		}
	}
	for id := range s.cts {
		if !seen[id] {
			delete(s.cts, id)
		}
	}
	s.good, s.status.Revision, s.status.RevisionTime = rev, rev, revTime
	return changed
}

// suspended reports whether the daemon leaves c alone.
func (c *ct) suspended() bool { return c.paused || c.spec.Spec.Suspend }

// selectWork lists, in vmid order, the containers a cycle of kind plans at
// now: every one at a resync, else the dirty ones and those whose backoff
// ran out. Suspended ones and ones backing off are never planned. It is
// pure: the same state, kind and time give the same answer.
func (s *state) selectWork(kind Kind, now time.Time) []int {
	var ids []int
	for id, c := range s.cts {
		if c.suspended() || !c.RetryAt.IsZero() && now.Before(c.RetryAt) {
			continue
		}
		if kind == KindResync || c.dirty || !c.RetryAt.IsZero() {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	return ids
}

// earliestRetry is when the first backoff of a container ends.
func (s *state) earliestRetry() (time.Time, bool) {
	var at time.Time
	for _, c := range s.cts {
		if !c.suspended() && !c.RetryAt.IsZero() && (at.IsZero() || c.RetryAt.Before(at)) {
			at = c.RetryAt
		}
	}
	return at, !at.IsZero()
}

// record folds one container's plan and (when applied) result into c.
// backoff gives the wait after n failures in a row. It returns whether the
// container counts as failed in this cycle.
func (c *ct) record(rev string, mode Mode, cp plan.ContainerPlan, cr *reconcile.ContainerResult, now time.Time, backoff func(int) time.Duration) (failed bool) {
	c.dirty = false
	c.Node = cp.Node
	c.LastAttemptedRevision = rev
	c.Drift = c.Drift[:0]
	c.Pending = c.Pending[:0]
	for _, ch := range cp.Changes {
		if ch.Drift {
			c.Drift = append(c.Drift, ch.Path)
		}
		if ch.Class == plan.ClassAwaitingRestart {
			c.Pending = append(c.Pending, ch.Path)
		}
	}
	c.Error, c.Failure = "", ""
	switch cp.Status {
	case plan.StatusUnchanged:
		c.State = StateSynced
	case plan.StatusChanges:
		c.State = StateOutOfSync
	case plan.StatusBlocked:
		c.State, c.Error, c.Failure = StateBlocked, join(cp.Blocked), reconcile.FailureBlocked
	case plan.StatusMissing:
		c.State, c.Error = StateMissing, "not on PVE"
	case plan.StatusError:
		c.State, c.Error = StateError, join(cp.Blocked)
		failed = true
	}
	if cr != nil && cp.Status == plan.StatusChanges {
		switch cr.Outcome {
		case reconcile.OutcomeApplied:
			c.State, c.LastChange = StateSynced, now
			c.Pending = append(c.Pending[:0], cr.Pending...)
		case reconcile.OutcomeStale:
			c.State, c.Error, c.Failure = StateStale, cr.Error, cr.Failure
			c.dirty = true
			failed = true
		case reconcile.OutcomeFailed, reconcile.OutcomeSkipped:
			c.State, c.Error, c.Failure = StateFailed, cr.Error, cr.Failure
			failed = true
		}
	}
	if c.State == StateSynced || mode == ModePlan && !failed {
		c.LastReconciled, c.LastAppliedRevision = now, rev
	}
	if failed && c.State != StateStale {
		c.Failures++
		c.RetryAt = now.Add(backoff(c.Failures))
	} else if !failed {
		c.Failures, c.RetryAt = 0, time.Time{}
	}
	c.NextRestartWindow = nextWindow(c.spec, cp.NodeZone, now)
	return failed
}

// snapshot is the status as of now.
func (s *state) snapshot() Status {
	out := s.status
	out.Cycles = append([]CycleRecord{}, s.status.Cycles...)
	ids := make([]int, 0, len(s.cts))
	for id := range s.cts {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	out.Containers = make([]ContainerStatus, 0, len(ids))
	for _, id := range ids {
		c := s.cts[id]
		cs := c.ContainerStatus
		cs.Drift = append([]string{}, c.Drift...)
		cs.Pending = append([]string{}, c.Pending...)
		cs.Suspended = c.suspended()
		if cs.Suspended {
			cs.State = StateSuspended
		}
		out.Containers = append(out.Containers, cs)
	}
	if out.Invalid != nil {
		inv := *out.Invalid
		out.Invalid = &inv
	}
	return out
}

func (s *state) addCycle(r CycleRecord) {
	s.status.Cycles = append([]CycleRecord{r}, s.status.Cycles...)
	if len(s.status.Cycles) > historyLen {
		s.status.Cycles = s.status.Cycles[:historyLen]
	}
}

// nextWindow is when the spec's restart window next opens after now (zero
// without a window), read in zone (the node's, as plan and apply read the
// window; now's zone when nil), unless the schedule ends in "UTC".
func nextWindow(c *spec.Container, zone *time.Location, now time.Time) time.Time {
	if c == nil || c.Spec.Restart == nil || c.Spec.Restart.Window == nil {
		return time.Time{}
	}
	ev, err := calendar.Parse(c.Spec.Restart.Window.Schedule)
	if err != nil {
		return time.Time{}
	}
	if zone != nil {
		now = now.In(zone)
	}
	t, _ := ev.Next(now)
	return t
}

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += "; "
		}
		out += s
	}
	return out
}
