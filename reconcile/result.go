package reconcile

import "github.com/felhom/felhom/reconcile/result"

// Apply's result and progress events are package result's (pure data, which
// reconcile/render draws), under the same names here.
type (
	Result          = result.Result
	ContainerResult = result.ContainerResult
	StepResult      = result.StepResult
	Outcome         = result.Outcome
	StepStatus      = result.StepStatus
	Failure         = result.Failure
	Event           = result.Event
	EventKind       = result.EventKind
	Progress        = result.Progress
)

// The outcomes, step statuses, failure kinds and event kinds.
const (
	OutcomeApplied   = result.OutcomeApplied
	OutcomeUnchanged = result.OutcomeUnchanged
	OutcomeSkipped   = result.OutcomeSkipped
	OutcomeStale     = result.OutcomeStale
	OutcomeFailed    = result.OutcomeFailed

	StepApplied   = result.StepApplied
	StepUnchanged = result.StepUnchanged
	StepSkipped   = result.StepSkipped
	StepFailed    = result.StepFailed

	FailureBlocked    = result.FailureBlocked
	FailureCancelled  = result.FailureCancelled
	FailureTimeout    = result.FailureTimeout
	FailureStale      = result.FailureStale
	FailureLocked     = result.FailureLocked
	FailurePermission = result.FailurePermission
	FailureTask       = result.FailureTask
	FailureVerify     = result.FailureVerify
	FailureAPI        = result.FailureAPI
	FailureUnsafe     = result.FailureUnsafe

	EventStart = result.EventStart
	EventWait  = result.EventWait
	EventStep  = result.EventStep
	EventTask  = result.EventTask
	EventDone  = result.EventDone
)
