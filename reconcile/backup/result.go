package backup

import "time"

// Outcome is how one container's backup ended.
type Outcome string

// Outcomes of a Result.
const (
	OutcomeOK     Outcome = "ok"
	OutcomeFailed Outcome = "failed"
)

// Result is one container's backup attempt.
type Result struct {
	VMID    int
	Name    string
	Node    string
	Storage string
	Outcome Outcome
	// Occurrence is the scheduled run this backup stands for (zero for a
	// backup taken on demand).
	Occurrence time.Time
	// Archive and Size are the new archive as the storage lists it ("" and
	// 0 when the listing does not show one).
	Archive string
	Size    int64
	UPID    string // the vzdump task ("" when none started)
	// Started is when the vzdump was asked for; Duration what the task log
	// gives for this guest (or the task's span).
	Started  time.Time
	Duration time.Duration
	// Error says why it failed; Log is this guest's part of the task log
	// (or the task log's tail).
	Error    string
	Log      []string
	Warnings []string
}

// Report is what one Run did.
type Report struct {
	// Calls are the vzdump calls, in the order they were made per node.
	Calls []Call
	// Results has one entry per container attempted, in vmid order.
	Results []Result
}

// Call is one vzdump call.
type Call struct {
	Node       string
	Storage    string
	VMIDs      []int
	UPID       string
	ExitStatus string
	Started    time.Time
	Duration   time.Duration
}

// Failed counts the failed results.
func (r *Report) Failed() int {
	n := 0
	for _, x := range r.Results {
		if x.Outcome != OutcomeOK {
			n++
		}
	}
	return n
}
