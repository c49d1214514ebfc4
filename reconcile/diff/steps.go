package diff

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// finish turns the collected changes into the container's status and steps.
func (d *differ) finish(cp plan.ContainerPlan) (out plan.ContainerPlan) {
	cp.Changes = d.changes
	if d.live.Lock != "" {
		d.warnings = append(d.warnings, fmt.Sprintf("locked (%s) when planned; apply waits for the lock to go", d.live.Lock))
	}
	if len(d.report) > 0 {
		d.warnings = append(d.warnings, "left as found (drift policy: report): "+strings.Join(d.report, ", "))
	}
	defer func() { out.Warnings = d.warnings }()
	switch {
	case len(d.errs) > 0:
		cp.Status = plan.StatusError
		cp.Blocked = append(d.errs, d.blocked...)
		cp.Sort()
		return cp
	case len(d.blocked) > 0:
		cp.Status = plan.StatusBlocked
		cp.Blocked = d.blocked
		cp.Sort()
		return cp
	}
	var change []plan.Step
	for _, r := range d.resizes {
		change = append(change, plan.Step{Action: plan.ActionResize, Params: map[string]string{"disk": r.disk, "size": r.size},
			Why: "grows " + r.disk + " to " + r.size})
	}
	if s, ok := d.setConfigStep(); ok {
		change = append(change, s)
		d.configPutPrivilege()
	}
	if s, ok := d.pctSetStep(); ok {
		change = append(change, s)
		cp.RootOn = d.live.Node
	}
	writes := len(change) > 0
	reboot := d.restartStep()
	if reboot != nil {
		change = append(change, *reboot)
	}
	protect := slices.ContainsFunc(change, func(s plan.Step) bool { return s.Action.NeedsProtection() })
	if s, ok := d.powerStep(); ok {
		change = append(change, s)
		// A start that makes pending values current is protected as a
		// reboot is; a plain start or a shutdown changes no config.
		protect = d.startApplies() || protect
	}
	if len(change) == 0 {
		cp.Status = plan.StatusUnchanged
		cp.Sort()
		return cp
	}
	var steps []plan.Step
	if protect && !d.fresh {
		var refused string
		if steps, refused = d.protect(); refused != "" {
			cp.Status = plan.StatusBlocked
			cp.Blocked = []string{refused}
			cp.Sort()
			return cp
		}
	}
	steps = append(steps, change...)
	if reboot != nil {
		cp.RestartWindow = d.window
	}
	if w := d.noBaselineWarning(); w != "" && (writes || d.powerTo != "") {
		d.warnings = append(d.warnings, w)
	}
	cp.Status = plan.StatusChanges
	cp.Steps = steps
	for p := range d.privs {
		cp.Privileges = append(cp.Privileges, p)
	}
	cp.Sort()
	return cp
}

// noBaselineWarning says, for a container whose drift policy is report and
// that has no baseline (Live.Applied empty), that its differences are
// planned as changes: without what felhom last applied no difference can be
// told to be a hand change, so none is left alone. It says why the baseline
// is missing: felhom keeps it in the felhom snapshot of a verified apply, so
// a container that is never snapshotted (PVE cannot, or the snapshot policy
// is off) never gets one, while any other gets one from its next apply.
// Empty when the warning does not apply; finish adds it only when the plan
// writes something or starts or stops the container (a reboot alone
// reverts no hand change; a start reverts a hand stop).
func (d *differ) noBaselineWarning() string {
	if d.s.Drift != spec.DriftReport || len(d.live.Applied) > 0 {
		return ""
	}
	const head = "drift: report cannot tell hand changes from spec changes here: "
	const tail = "; every difference is planned as a change, hand changes too"
	before, _, _ := d.snapshotPolicy()
	switch {
	case !before:
		return head + "felhom keeps its baseline in the felhom snapshot it takes before a change, and snapshot.before-change is off, so this container has none" + tail
	case len(d.snapshotObstacles().cannot) > 0:
		return head + "felhom keeps its baseline in the felhom snapshot it takes before a change, and PVE cannot snapshot this container, so it has none" + tail
	}
	return head + "felhom has no baseline for this container yet (it writes one into the felhom snapshot of its next verified apply that changes the config; a start or shutdown that changes none takes no snapshot)" + tail
}

// setConfigStep groups every set, delete and revert into one PUT.
func (d *differ) setConfigStep() (plan.Step, bool) {
	if len(d.set)+len(d.del)+len(d.revert) == 0 {
		return plan.Step{}, false
	}
	params := make(map[string]string, len(d.set)+2)
	for k, v := range d.set {
		params[k] = v
	}
	if len(d.del) > 0 {
		params["delete"] = joinKeys(d.del)
	}
	if len(d.revert) > 0 {
		params["revert"] = joinKeys(d.revert)
	}
	hot, pending := 0, 0
	for _, ch := range d.changes {
		switch ch.Class {
		case plan.ClassHot:
			if ch.Path == PowerPath {
				continue // the power step makes it, not the PUT
			}
			if !strings.HasSuffix(ch.Path, ".size") || !d.isResized(strings.TrimSuffix(ch.Path, ".size")) {
				hot++
			}
		case plan.ClassPendingRestart:
			pending++
		}
	}
	why := fmt.Sprintf("writes %s in one PUT (%s at once, %s until a restart)",
		plural(len(d.set)+len(d.del)+len(d.revert), "key", "keys"),
		plural(hot, "change applies", "changes apply"), plural(pending, "change waits", "changes wait"))
	return plan.Step{Action: plan.ActionSetConfig, Params: params, Why: why}, true
}

// configPutPrivilege records plan.UseConfigPut when the PUT's keys ask none
// of plan.ConfigPutAnyOf on the container.
func (d *differ) configPutPrivilege() {
	vm := plan.VMPath(d.s.VMID)
	for _, name := range plan.ConfigPutAnyOf {
		if d.privs[plan.Privilege{Path: vm, Name: name}] {
			return
		}
	}
	d.need(plan.UseConfigPut, "")
}

// pctSetStep groups the root-only sets and deletes into one `pct set`, the
// privileged backend's write (rule 9 of apply's safety rules).
func (d *differ) pctSetStep() (plan.Step, bool) {
	if len(d.rootSet)+len(d.rootDel) == 0 {
		return plan.Step{}, false
	}
	params := make(map[string]string, len(d.rootSet)+1)
	for k, v := range d.rootSet {
		params[k] = v
	}
	if len(d.rootDel) > 0 {
		params["delete"] = joinKeys(d.rootDel)
	}
	n := len(d.rootSet) + len(d.rootDel)
	return plan.Step{Action: plan.ActionPctSet, Params: params,
		Why: fmt.Sprintf("writes %s only root@pam may write, with pct set as root on node %s (the privileged backend)",
			plural(n, "key", "keys"), d.live.Node)}, true
}

func (d *differ) isResized(disk string) bool {
	for _, r := range d.resizes {
		if r.disk == disk {
			return true
		}
	}
	return false
}

func joinKeys(keys []string) string {
	k := append([]string(nil), keys...)
	sort.Slice(k, func(i, j int) bool { return plan.KeyLess(k[i], k[j]) })
	return strings.Join(k, ",")
}

func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// restartStep returns the reboot that applies pending changes, when the
// container runs, has changes waiting for a restart, and its restart policy
// allows one now; otherwise nil, with a note saying what waits.
func (d *differ) restartStep() *plan.Step {
	if len(d.restart) == 0 {
		return nil
	}
	if note, ok := d.restartWaits(); ok {
		d.warnings = append(d.warnings, note)
		return nil
	}
	n := plural(len(d.restart), "change", "changes")
	waits := verb(len(d.restart), "waits", "wait")
	if !d.live.Running {
		d.warnings = append(d.warnings, fmt.Sprintf("%s %s effect when the container next starts", n, verb(len(d.restart), "takes", "take")))
		return nil
	}
	mode := spec.RestartNever
	var window *spec.RestartWindow
	if d.s.Restart != nil {
		if d.s.Restart.Mode != "" {
			mode = d.s.Restart.Mode
		}
		window = d.s.Restart.Window
	}
	reboot := func(why string) *plan.Step {
		d.need(plan.UseReboot, "")
		if others := d.unmanagedPending(); len(others) > 0 {
			d.warnings = append(d.warnings, "the reboot also applies pending changes the spec does not manage: "+strings.Join(others, ", "))
		}
		return &plan.Step{Action: plan.ActionReboot, Params: map[string]string{}, Why: why}
	}
	switch mode {
	case spec.RestartWhenNeeded:
		return reboot(fmt.Sprintf("PVE applies %s pending on reboot (restart policy: when-needed)", n))
	case spec.RestartInWindow:
		if window == nil {
			d.warnings = append(d.warnings, fmt.Sprintf("%s %s for a restart; the restart policy has no window", n, waits))
			return nil
		}
		w := planWindow(window)
		if z := d.live.Zone; z != nil {
			w.TimeZone = z.String()
		}
		open, next, err := w.Open(d.opts.Now)
		switch {
		case err != nil:
			d.warnings = append(d.warnings, fmt.Sprintf("%s %s for a restart; restart window %q: %v", n, waits, window.Schedule, err))
		case open:
			// Apply asks again before the reboot: a saved plan may be
			// applied after the window closed.
			d.window = &w
			return reboot(fmt.Sprintf("PVE applies %s pending on reboot (restart window %q is open)", n, window.Schedule))
		case next.IsZero():
			d.warnings = append(d.warnings, fmt.Sprintf("%s %s for a restart; restart window %q never opens", n, waits, window.Schedule))
		default:
			d.warnings = append(d.warnings, fmt.Sprintf("%s %s for a restart in the window %q, next open at %s",
				n, waits, window.Schedule, next.UTC().Format(time.RFC3339)))
		}
		return nil
	}
	d.warnings = append(d.warnings, fmt.Sprintf("%s %s for a restart (restart policy: never)", n, waits))
	return nil
}

// unmanagedPending lists the keys PVE holds pending (values or deletes) that
// the spec does not name: a reboot applies them too.
func (d *differ) unmanagedPending() []string {
	var out []string
	for k := range d.live.Pending {
		if !d.managed[k] {
			out = append(out, k)
		}
	}
	for k := range d.live.PendingDelete {
		if _, dup := d.live.Pending[k]; !dup && !d.managed[k] {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return plan.KeyLess(out[i], out[j]) })
	return out
}

// planWindow is the spec's restart window as the plan carries it, its
// duration in whole seconds (rounded up).
func planWindow(w *spec.RestartWindow) plan.RestartWindow {
	d := time.Duration(w.Duration)
	return plan.RestartWindow{Schedule: w.Schedule, DurationSeconds: int64((d + time.Second - 1) / time.Second)}
}

// PruneBackups prints a retention as PVE's prune-backups property string,
// as the plan's prune steps carry it; "" when nothing is set.
func PruneBackups(r *spec.Retention) string { return pruneBackups(r) }
