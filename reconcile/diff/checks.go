package diff

import (
	"fmt"
	"slices"
	"strings"

	"github.com/felhom/felhom/pve/format"
)

// The plan-time checks of what the observed state already tells: PVE would
// refuse these writes, or they are likely a mistake worth a second look.

// contentRootDir and contentBackup are the storage content types a
// container volume and a vzdump archive need (pve-storage's content list).
const (
	contentRootDir = "rootdir"
	contentBackup  = "backup"
)

// storageProblem says why PVE would refuse content of type content on
// storage id of the container's node, or "" when the storage list shows it
// can hold it (or the list was not read).
func (d *differ) storageProblem(id, content, what string) string {
	if d.live.Storages == nil {
		return ""
	}
	st, ok := d.live.Storages[id]
	if !ok {
		return fmt.Sprintf("storage %s is not in node %s's storage list: it does not exist there, or the token lacks Datastore.AllocateSpace on /storage/%s, which %s needs", id, d.live.Node, id, what)
	}
	if !st.Holds(content) {
		return fmt.Sprintf("storage %s does not take %s content (it takes %s), which %s needs", id, content, listOrNone(st.Content), what)
	}
	return ""
}

// roomWarning warns when need bytes are more than storage id has free.
func (d *differ) roomWarning(disk, id string, need format.Size, what string) {
	st, ok := d.live.Storages[id]
	if !ok || st.Avail <= 0 || int64(need) <= st.Avail {
		return
	}
	d.warnings = append(d.warnings, fmt.Sprintf("%s: %s needs %s, and storage %s has %s free", disk, what, humanSize(need), id, roughSize(st.Avail)))
}

// growWarnings warns when a volume grows past its storage's free space, or
// tenfold or more at once (often a unit mistake: 8192 read as GiB).
func (d *differ) growWarnings(disk, id string, live, want format.Size) {
	d.roomWarning(disk, id, want-live, "growing "+humanSize(live)+" to "+humanSize(want))
	if live > 0 && want >= 10*live {
		d.warnings = append(d.warnings, fmt.Sprintf("%s grows %dx at once (%s to %s); volumes never shrink again, so check the unit", disk, want/live, humanSize(live), humanSize(want)))
	}
}

// attachProblem says why an existing volume cannot be attached, or "" when
// the storage's content list has it or it was not checked. The list PVE
// gives holds only the volumes the token may use (pve-storage
// API2/Storage/Content.pm index checks check_volume_access per volume), the
// same check PVE makes when the volume is attached.
func (d *differ) attachProblem(slot, volume string) string {
	if exists, checked := d.live.Volumes[volume]; checked && !exists {
		return fmt.Sprintf("%s: volume %s is not in the content list of storage %s on node %s: it does not exist there, or the token may not use it (PVE lists only the volumes check_volume_access lets it use)", slot, volume, volumeStorage(volume), d.live.Node)
	}
	return ""
}

// nodeProblem says why the spec's node cannot be where the container is,
// or "" when the cluster has it (or the node list was not read).
func nodeProblem(node string, nodes []string) string {
	if nodes == nil || node == "" || slices.Contains(nodes, node) {
		return ""
	}
	return fmt.Sprintf("node %s is not in the cluster (its nodes: %s)", node, strings.Join(nodes, ", "))
}

// roughSize prints a byte count such as free space, which is rarely a
// round number, in GiB to one decimal.
func roughSize(b int64) string {
	return fmt.Sprintf("%.1f GiB", float64(b)/float64(format.GiB))
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}
