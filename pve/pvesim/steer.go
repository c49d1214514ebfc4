package pvesim

import (
	"sync"
	"time"
)

// Clock is the simulator's time. Tasks progress on it, locks held by
// HoldLock expire on it, vzdump names archives from it and UPIDs carry its
// start times. A real clock follows the wall clock (plus any Advance); a
// manual clock stands still until the test advances it.
type Clock struct {
	mu     sync.Mutex
	manual bool
	t      time.Time     // manual: the current time
	offset time.Duration // real: added to time.Now
}

// RealClock returns a clock that follows the wall clock.
func RealClock() *Clock { return &Clock{} }

// ManualClock returns a clock that stands at t until Advance or Set.
func ManualClock(t time.Time) *Clock { return &Clock{manual: true, t: t} }

// Now returns the simulated time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.manual {
		return c.t
	}
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d. Tasks due by then finish on the
// next request or inspection.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.manual {
		c.t = c.t.Add(d)
	} else {
		c.offset += d
	}
}

// Set moves a manual clock to t (a real clock is shifted so that Now is t).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.manual {
		c.t = t
	} else {
		c.offset = time.Until(t)
	}
}

// FaultKind says what an injected fault does to a matching request.
type FaultKind string

// The fault kinds.
const (
	// FaultStatus answers with Status and Message as PVE answers a plain
	// failure (the message is the reason phrase and, in the current form,
	// the body's "message").
	FaultStatus FaultKind = "status"
	// FaultReset closes the connection without a response (a TCP reset on
	// the HTTPS server).
	FaultReset FaultKind = "reset"
	// FaultHang holds the request until the client gives up (its context
	// ends or it closes the connection) or the simulator closes.
	FaultHang FaultKind = "hang"
)

// Fault is an injected failure for requests that match Method and Path.
type Fault struct {
	// Method matches the HTTP method; empty matches any.
	Method string `json:"method,omitempty"`
	// Path matches the request path below /api2/json: either a path
	// template as RequestCounts names them ("/nodes/{node}/lxc/{vmid}/config")
	// or a path.Match pattern on the real path ("/nodes/pve1/lxc/1*/config").
	// Empty matches any.
	Path string    `json:"path,omitempty"`
	Kind FaultKind `json:"kind"`
	// Status and Message are used by FaultStatus (default 500 and the
	// status text).
	Status  int    `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	// Count limits how many requests the fault hits; 0 means no limit.
	Count int `json:"count,omitempty"`
	// Rate is the probability (0..1] that a matching request is hit; 0
	// means 1.
	Rate float64 `json:"rate,omitempty"`
}

// TaskOutcome steers the tasks that match Type and ID.
type TaskOutcome struct {
	// Type matches the task type (vzsnapshot, vzdump, resize, ...); empty
	// matches any.
	Type string `json:"type,omitempty"`
	// ID matches the task id (the vmid for container tasks); empty matches
	// any.
	ID string `json:"id,omitempty"`
	// Fail makes the task fail with this error text ("TASK ERROR: <Fail>")
	// without doing its work.
	Fail string `json:"fail,omitempty"`
	// Warnings adds this many WARN lines; the task ends "TASK WARNINGS: n".
	Warnings int `json:"warnings,omitempty"`
	// Duration, when set, replaces the task duration (a slow task).
	Duration time.Duration `json:"duration,omitempty"`
	// Count limits how many tasks are steered; 0 means no limit.
	Count int `json:"count,omitempty"`
}

// Latency delays every API request by Fixed plus a uniformly random part of
// Jitter (real time, not the simulated clock).
type Latency struct {
	Fixed  time.Duration `json:"fixed,omitempty"`
	Jitter time.Duration `json:"jitter,omitempty"`
}
