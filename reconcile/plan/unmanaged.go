package plan

import (
	"cmp"
	"slices"
)

// Unmanaged is a container on PVE that no spec names: plan pairs the specs
// with the live containers and lists the rest. felhom never touches one (a
// spec removed from the repo leaves its container unmanaged, not deleted).
type Unmanaged struct {
	// VMID is the container's id.
	VMID int `json:"vmid"`
	// Name is its name as PVE reports it (the hostname).
	Name string `json:"name"`
	// Node is where it runs.
	Node string `json:"node"`
}

// sortUnmanaged sorts u by VMID, then node (Plan.Sort).
func sortUnmanaged(u []Unmanaged) {
	slices.SortFunc(u, func(a, b Unmanaged) int {
		return cmp.Or(cmp.Compare(a.VMID, b.VMID), cmp.Compare(a.Node, b.Node))
	})
}
