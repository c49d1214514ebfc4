package diff

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/pve/prune"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// livePending lists every key PVE holds pending (values or deletes).
func (d *differ) livePending() []string {
	set := map[string]bool{}
	for k := range d.live.Pending {
		set[k] = true
	}
	for k := range d.live.PendingDelete {
		set[k] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return plan.KeyLess(out[i], out[j]) })
	return out
}

// snapshotPolicy returns the container's snapshot policy with defaults
// filled in.
func (d *differ) snapshotPolicy() (before bool, whenImpossible spec.WhenImpossible, keep int) {
	before, whenImpossible, keep = true, spec.SnapshotRefuse, spec.DefaultSnapshotKeep
	if p := d.s.Snapshot; p != nil {
		before = boolOr(p.BeforeChange, true)
		if p.WhenImpossible != "" {
			whenImpossible = p.WhenImpossible
		}
		if p.Keep != nil {
			keep = *p.Keep
		}
	}
	return before, whenImpossible, keep
}

// onFailure returns the container's failure policy (snapshot.on-failure),
// rollback when the spec does not say.
func onFailure(c *spec.Container) spec.OnFailure {
	if p := c.Spec.Snapshot; p != nil && p.OnFailure != "" {
		return p.OnFailure
	}
	return spec.OnFailureRollback
}

// protect returns the steps that protect the container before its first
// change (a snapshot, or a vzdump backup when PVE cannot snapshot it and the
// policy allows), with their retention steps; or the reason the policy
// refuses to change it.
func (d *differ) protect() (steps []plan.Step, refused string) {
	before, whenImpossible, keep := d.snapshotPolicy()
	if !before {
		d.warnings = append(d.warnings, "changed without a snapshot (snapshot policy: before-change off)")
		return nil, ""
	}
	obstacles := d.snapshotObstacles()
	if len(obstacles.cannot) == 0 {
		name := plan.SnapshotName(d.opts.Now, d.opts.Revision)
		d.need(plan.UseSnapshot, "")
		why := "protects the container before its first change"
		if len(obstacles.unknown) > 0 {
			// A snapshot needs only VM.Snapshot, so a token that cannot
			// see the storage may still take it; PVE's answer decides,
			// and a refused snapshot stops the container before any write.
			d.warnings = append(d.warnings, fmt.Sprintf("whether PVE can snapshot %s is unverified: the token's storage list does not show %s (seeing a storage needs Datastore.Audit on it); apply tries the snapshot, and if PVE refuses it nothing is changed",
				strings.Join(obstacles.unknown, ", "), strings.Join(obstacles.unknownStorages, ", ")))
			why += " (snapshot capability unverified)"
		}
		steps = append(steps, plan.Step{Action: plan.ActionSnapshot, Params: map[string]string{"snapname": name}, Why: why})
		return append(steps, d.snapshotPrune(keep)...), ""
	}
	cannot := "PVE cannot snapshot this container: " + strings.Join(obstacles.cannot, "; ")
	if whenImpossible != spec.SnapshotVzdump {
		return nil, cannot + "; the snapshot policy refuses to change it unprotected (set snapshot.when-impossible: vzdump to back it up first)"
	}
	b := d.s.Backup
	if b == nil || b.Storage == "" {
		return nil, cannot + "; the snapshot policy asks for a vzdump backup first, but the spec names no backup storage"
	}
	if p := d.storageProblem(b.Storage, contentBackup, "the backup before the change"); p != "" {
		return nil, cannot + "; the snapshot policy asks for a vzdump backup first, but " + p
	}
	params := map[string]string{"vmid": strconv.Itoa(d.s.VMID), "storage": b.Storage, "mode": "snapshot", "remove": "0"}
	if b.Mode != "" {
		params["mode"] = b.Mode
	}
	if params["mode"] == "stop" && d.live.Running {
		// vzdump's stop mode stops the container and starts it again with
		// vm_start, which applies what is pending (pve-container
		// VZDump/LXC.pm): a restart, so only as the restart policy allows
		// one at any time; otherwise the backup runs in snapshot mode.
		if r := d.s.Restart; r != nil && r.Mode == spec.RestartWhenNeeded {
			note := "the stop-mode backup stops the container and starts it again (restart policy: when-needed)"
			if pending := d.livePending(); len(pending) > 0 {
				note += "; PVE applies its pending changes then: " + strings.Join(pending, ", ")
			}
			d.warnings = append(d.warnings, note)
		} else {
			params["mode"] = "snapshot"
			d.warnings = append(d.warnings, "backup mode stop would restart the running container, which its restart policy does not allow now; the backup before the change runs in snapshot mode")
		}
	}
	switch b.Compress {
	case "":
	case "none":
		params["compress"] = "0"
	default:
		params["compress"] = b.Compress
	}
	if b.NotesTemplate != nil {
		params["notes-template"] = *b.NotesTemplate
	}
	if b.Protected != nil {
		params["protected"] = boolPut(*b.Protected)
	}
	d.need(plan.UseVzdump, b.Storage)
	steps = append(steps, plan.Step{Action: plan.ActionVzdump, Params: params,
		Why: cannot + "; backs it up first (snapshot policy: vzdump)"})
	if r := pruneBackups(b.Retention); r != "" {
		// Apply folds this prune into the vzdump (prune-backups, remove=1).
		// A prune of its own would need only what the vzdump needs already
		// (PruneBackups.pm delete, with a vmid: Datastore.AllocateSpace and
		// VM.Backup).
		d.need(plan.UseVzdumpPrune, b.Storage)
		steps = append(steps, plan.Step{Action: plan.ActionPrune,
			Params: map[string]string{"storage": b.Storage, "type": "lxc", "vmid": strconv.Itoa(d.s.VMID), "prune-backups": r},
			Why:    "keeps the backups the retention declares"})
	}
	return steps, ""
}

// snapshotCheck is what the plan knows about PVE's snapshot feature check
// on one container.
type snapshotCheck struct {
	// cannot lists why PVE's snapshot_create would fail.
	cannot []string
	// unknown lists the mount points on storages the storage list did not
	// show (the token cannot audit them), and unknownStorages those
	// storages: their capability is unknown, which is not "cannot".
	unknown, unknownStorages []string
}

// snapshotObstacles checks what PVE's snapshot_create checks: the snapshot
// feature on every mount point of the current config (pve-semantics §5),
// so a bind or device mount, or a volume on a storage that cannot
// snapshot, stops it.
func (d *differ) snapshotObstacles() snapshotCheck {
	var keys []string
	for k := range d.live.Config {
		if IsVolumeKey(k) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return plan.KeyLess(keys[i], keys[j]) })
	var out snapshotCheck
	for _, k := range keys {
		m, err := parseMount(k == "rootfs", d.live.Config[k])
		if err != nil {
			out.cannot = append(out.cannot, k+" cannot be read")
			continue
		}
		if kind := m.Kind(); kind != format.Volume {
			out.cannot = append(out.cannot, fmt.Sprintf("%s is a %s mount", k, kind))
			continue
		}
		st := volumeStorage(m.Volume)
		switch info, known := d.live.Storages[st]; {
		case !known:
			out.unknown = append(out.unknown, k)
			if !slices.Contains(out.unknownStorages, st) {
				out.unknownStorages = append(out.unknownStorages, st)
			}
		case !info.Snapshots():
			out.cannot = append(out.cannot, fmt.Sprintf("%s is on storage %s, which cannot snapshot container volumes", k, st))
		}
	}
	return out
}

// snapshotPrune deletes the oldest felhom snapshots so that keep remain
// once the new one exists; keep 0 also deletes the new one after the change
// succeeded. Snapshots not named by felhom are never touched.
func (d *differ) snapshotPrune(keep int) []plan.Step {
	type snap struct {
		name string
		t    time.Time
	}
	var ours []snap
	for _, n := range d.live.Snapshots {
		if t, ok := plan.SnapshotTime(n); ok {
			ours = append(ours, snap{n, t})
		}
	}
	sort.Slice(ours, func(i, j int) bool {
		if !ours[i].t.Equal(ours[j].t) {
			return ours[i].t.Before(ours[j].t)
		}
		return ours[i].name < ours[j].name
	})
	names := make([]string, 0, len(ours)+1)
	for _, s := range ours {
		names = append(names, s.name)
	}
	excess := len(names) + 1 - keep
	if keep <= 0 {
		keep = 0
		names = append(names, plan.SnapshotName(d.opts.Now, d.opts.Revision))
		excess = len(names)
	}
	var steps []plan.Step
	for i := 0; i < excess && i < len(names); i++ {
		steps = append(steps, plan.Step{Action: plan.ActionSnapshotPrune, Params: map[string]string{"snapname": names[i]},
			Why: fmt.Sprintf("keeps the newest %s (snapshot policy)", plural(keep, "felhom snapshot", "felhom snapshots"))})
	}
	return steps
}

// pruneBackups prints a retention as PVE's prune-backups property string;
// "" when nothing is set.
func pruneBackups(r *spec.Retention) string {
	if r == nil {
		return ""
	}
	return prune.Options{KeepAll: r.KeepAll, KeepLast: r.KeepLast, KeepHourly: r.KeepHourly, KeepDaily: r.KeepDaily,
		KeepWeekly: r.KeepWeekly, KeepMonthly: r.KeepMonthly, KeepYearly: r.KeepYearly}.String()
}
