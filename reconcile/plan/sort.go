package plan

import (
	"sort"
	"strings"
)

// ContainerLess is the order of containers in a plan: by VMID, then Name,
// then Node. VMIDs are unique in a PVE cluster, so Name and Node only break
// ties in plans made from inconsistent inputs.
func ContainerLess(a, b ContainerPlan) bool {
	if a.VMID != b.VMID {
		return a.VMID < b.VMID
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.Node < b.Node
}

// ChangeLess is the order of changes within a container: by Path in natural
// order (KeyLess), so "mp2.size" comes before "mp10" and "cores" before
// "memory".
func ChangeLess(a, b Change) bool { return KeyLess(a.Path, b.Path) }

// StepLess is the order of steps within a container, which is also the order
// apply runs them: by Action (its order in actionInfos: vzdump, snapshot,
// pct-set, resize, set-config, reboot, start, shutdown, snapshot-prune,
// prune); then, for
// steps of the same action, by the "disk" parameter in natural order (mp2
// before mp10 before rootfs), then by "snapname" (felhom snapshot names start
// with their time, so oldest first), then by "storage".
//
// Resize comes before set-config because PVE keeps the size in the mount
// point's property string: the PUT then carries the grown size, and a value
// left pending never holds a size older than the volume.
func StepLess(a, b Step) bool {
	if a.Action != b.Action {
		return a.Action.info().order < b.Action.info().order
	}
	if x, y := a.Params["disk"], b.Params["disk"]; x != y {
		return KeyLess(x, y)
	}
	if x, y := a.Params["snapname"], b.Params["snapname"]; x != y {
		return x < y
	}
	return a.Params["storage"] < b.Params["storage"]
}

// PrivilegeLess orders privileges by Path, then Name.
func PrivilegeLess(a, b Privilege) bool {
	if a.Path != b.Path {
		return a.Path < b.Path
	}
	return a.Name < b.Name
}

// KeyLess compares two config keys or change paths in natural order: the
// dot-separated parts are compared one by one, and within a part a run of
// digits compares as a number, so "mp2" < "mp10" and "mp1" < "mp1.size".
func KeyLess(a, b string) bool {
	if a == b {
		return false
	}
	return naturalLess(a, b)
}

// rank orders bytes for naturalLess: '.' (the part separator) before any
// other byte, so comparing whole strings equals comparing part by part.
func rank(c byte) int {
	if c == '.' {
		return -1
	}
	return int(c)
}

// naturalLess compares two strings with runs of digits compared as numbers.
// It does not allocate: plans sort thousands of paths.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			na, ra := digitRun(a)
			nb, rb := digitRun(b)
			if na != nb {
				// Compare numerically: strip leading zeros, then by length, then bytes.
				ta, tb := strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
				if len(ta) != len(tb) {
					return len(ta) < len(tb)
				}
				if ta != tb {
					return ta < tb
				}
				return len(na) < len(nb)
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			return rank(a[0]) < rank(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitRun(s string) (run, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

// Sort puts the plan in its canonical order: containers by ContainerLess and,
// within each, changes by ChangeLess, steps by StepLess and privileges by
// PrivilegeLess. Blocked reasons and warnings keep their order. The sorts are
// stable.
func (p *Plan) Sort() {
	sort.SliceStable(p.Containers, func(i, j int) bool { return ContainerLess(p.Containers[i], p.Containers[j]) })
	for i := range p.Containers {
		p.Containers[i].Sort()
	}
	sortUnmanaged(p.Unmanaged)
}

// Sort puts one container's changes, steps and privileges in canonical order.
func (c *ContainerPlan) Sort() {
	sort.SliceStable(c.Changes, func(i, j int) bool { return ChangeLess(c.Changes[i], c.Changes[j]) })
	sort.SliceStable(c.Steps, func(i, j int) bool { return StepLess(c.Steps[i], c.Steps[j]) })
	sort.SliceStable(c.Privileges, func(i, j int) bool { return PrivilegeLess(c.Privileges[i], c.Privileges[j]) })
}
