package result

import "time"

// EventKind says what an Event reports.
type EventKind string

// The event kinds.
const (
	EventStart EventKind = "start" // work on the container begins
	EventWait  EventKind = "wait"  // waiting for a lock to go
	EventStep  EventKind = "step"  // a step (or the rollback) begins
	EventTask  EventKind = "task"  // the step's PVE task was started; apply waits for it
	EventDone  EventKind = "done"  // the container is finished (Outcome set)
)

// Event is one moment of apply's work on one container.
type Event struct {
	Kind  EventKind
	VMID  int
	Name  string
	Node  string
	Step  int // 1-based index of the step (EventStep); 0 for the rollback
	Steps int // how many steps the plan has for the container
	// Detail is the step or wait for people ("resize volume mp0 to 16G").
	Detail  string
	UPID    string        // EventTask
	Outcome Outcome       // EventDone
	Err     string        // EventDone: why it did not apply
	Elapsed time.Duration // EventDone
}

// Progress receives apply's events. Implementations must be safe for
// concurrent use: containers run in parallel.
type Progress interface {
	Report(Event)
}
