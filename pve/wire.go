package pve

import "github.com/felhom/felhom/pve/wire"

// The client's values are package wire's (pure, no HTTP), under the same
// names here so that a user of the client needs one import. New code that
// must not reach net/http (privileged, pure formats) imports wire itself.
type (
	Version            = wire.Version
	Node               = wire.Node
	NodeTime           = wire.NodeTime
	Resource           = wire.Resource
	ContainerListEntry = wire.ContainerListEntry
	ConfigValues       = wire.ConfigValues
	PendingEntry       = wire.PendingEntry
	PendingList        = wire.PendingList
	PendingConfig      = wire.PendingConfig
	ContainerStatus    = wire.ContainerStatus
	Snapshot           = wire.Snapshot
	Storage            = wire.Storage
	ContentQuery       = wire.ContentQuery
	Volume             = wire.Volume
	PruneQuery         = wire.PruneQuery
	PruneEntry         = wire.PruneEntry
	TaskStatus         = wire.TaskStatus
	TaskLogLine        = wire.TaskLogLine
	Permissions        = wire.Permissions
	PrivilegeSet       = wire.PrivilegeSet
	ConfigChange       = wire.ConfigChange
	VzdumpOptions      = wire.VzdumpOptions
	RestoreOptions     = wire.RestoreOptions
	TaskResult         = wire.TaskResult
	UPID               = wire.UPID
)

// Constants of the wire values.
const (
	CurrentSnapshot = wire.CurrentSnapshot
	TaskRunning     = wire.TaskRunning
	TaskStopped     = wire.TaskStopped
	ExitOK          = wire.ExitOK
)

// ParseUPID parses s exactly as PVE's upid_decode does (wire.ParseUPID).
func ParseUPID(s string) (UPID, error) { return wire.ParseUPID(s) }
