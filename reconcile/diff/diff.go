package diff

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// Build plans every desired container against its observed state, keyed by
// VMID in live (nil or absent: the container is missing on PVE), and returns
// the plan in canonical order. Containers on PVE that no spec names are not
// in live's concern: they are left alone.
func Build(desired []spec.Container, live map[int]*Live, opts Options) *plan.Plan {
	p := &plan.Plan{
		FormatVersion:  plan.FormatVersion,
		SourceRevision: opts.Revision,
		CreatedAt:      opts.Now.UTC(),
		Containers:     make([]plan.ContainerPlan, len(desired)),
	}
	// Each container's plan depends only on its spec, its live state and
	// opts, so the plans are made on every CPU at once, a stretch of
	// containers each: a plan of 1,000 unchanged containers is the last
	// thing felhom plan does before it prints, after the reads.
	stretch := max(buildStretch, (len(desired)+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for lo := 0; lo < len(desired); lo += stretch {
		hi := min(lo+stretch, len(desired))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				p.Containers[i] = Diff(&desired[i], live[desired[i].Spec.VMID], opts)
			}
		})
	}
	wg.Wait()
	p.Sort()
	return p
}

// buildStretch is the fewest containers Build plans on one goroutine.
const buildStretch = 64

// field is one difference between the desired and a live value, for people.
type field struct {
	path          string
	op            plan.Op
	before, after string
	// same is true when live and desired mean the same: builders return
	// every field the spec names, so Baseline can record them all.
	same bool
}

// differing drops the fields whose sides mean the same.
func differing(fields []field) []field {
	var out []field
	for _, f := range fields {
		if !f.same {
			out = append(out, f)
		}
	}
	return out
}

// write is what one config key's PUT does: set value, or delete the key.
type write struct {
	value string
	del   bool
}

// builder compares the desired state of one config key with one live raw
// value (present false when the key is not set) and returns what to write to
// reach the desired state and every field the spec names (field.same marks
// those that do not differ). It is called with the
// current value and, when PVE holds a pending change for the key, with the
// pending one.
type builder func(raw string, present bool) (write, []field, error)

// differ collects one container's plan.
type differ struct {
	s    *spec.ContainerSpec
	live *Live
	opts Options

	changes []plan.Change
	set     map[string]string
	del     []string
	revert  []string
	resizes []resize
	privs   map[plan.Privilege]bool
	restart []string // paths that need a restart to take effect
	// window is the restart window a planned reboot depends on (nil when
	// the policy allows one at any time).
	window *plan.RestartWindow
	// rootSet and rootDel are the root-only writes the privileged backend
	// carries (the pct-set step); set and del are the API's.
	rootSet  map[string]string
	rootDel  []string
	blocked  []string // root-only reasons
	errs     []string // impossible changes and unreadable values
	warnings []string
	report   []string        // drifted paths left alone by the drift policy
	managed  map[string]bool // config keys the spec names
	// powerTo is the run state the power step brings the container to;
	// "" when there is none.
	powerTo spec.Power

	// baseline, when not nil, collects the live form of every named field
	// instead of planning (see Baseline).
	baseline map[string]string

	// creating plans the options of a container that is not on PVE yet
	// (createPlan), restoring when it is restored from a backup; fresh
	// plans one apply has just created (AfterCreate): no protection.
	creating, restoring, fresh bool
}

// resize is one grown volume.
type resize struct {
	disk    string // rootfs or mpN
	storage string
	size    string // PVE size, such as "16G"
}

// Diff plans one container: the changes from live to desired, their classes,
// and the steps that make them under the container's snapshot and restart
// policies. live nil means the container is not on PVE.
func Diff(c *spec.Container, live *Live, opts Options) plan.ContainerPlan {
	cp := plan.ContainerPlan{Name: c.Metadata.Name, Node: c.Spec.Node, VMID: c.Spec.VMID, OnFailure: onFailure(c), Restart: spec.RestartNever}
	if r := c.Spec.Restart; r != nil && r.Mode != "" {
		cp.Restart = r.Mode
	}
	if live != nil {
		cp.NodeZone = live.Zone
	}
	if p := nodeProblem(c.Spec.Node, opts.Nodes); p != "" {
		// Planning it where it happens to be would carry out a spec
		// that names the wrong place.
		cp.Status, cp.Blocked = plan.StatusError, []string{p}
		if live != nil {
			cp.Node, cp.Digest, cp.Running = live.Node, live.Digest, live.Running
		}
		return cp
	}
	if live == nil {
		if c.Spec.Create != nil {
			return createPlan(c, opts.Creates[c.Spec.VMID], cp, opts)
		}
		cp.Status = plan.StatusMissing
		return cp
	}
	cp.Node, cp.Digest, cp.Running = live.Node, live.Digest, live.Running
	if live.Err != "" {
		cp.Status = plan.StatusError
		cp.Blocked = []string{"cannot read the live state: " + live.Err}
		return cp
	}
	d := &differ{
		s: &c.Spec, live: live, opts: opts,
		set:   map[string]string{},
		privs: map[plan.Privilege]bool{},

		rootSet: map[string]string{},
	}
	if live.Node != "" && c.Spec.Node != "" && live.Node != c.Spec.Node {
		d.warnings = append(d.warnings, fmt.Sprintf("found on node %s, the spec says %s; planned where it is", live.Node, c.Spec.Node))
	}
	d.options()
	d.network()
	d.volumes()
	d.devices()
	d.power()
	out := d.finish(cp)
	if out.Status == plan.StatusChanges {
		s := c.Spec
		out.Spec = &s
	}
	return out
}

// class says how PVE applies a write of key: everything at once on a stopped
// container; on a running one, as vmconfig_hotplug_pending does
// (ctconf.HotPluggable, ctconf.DeleteHotPluggable).
func (d *differ) class(key string, del bool) plan.Class {
	if !d.live.Running {
		return plan.ClassHot
	}
	if del {
		if ctconf.DeleteHotPluggable(key) {
			return plan.ClassHot
		}
		return plan.ClassPendingRestart
	}
	f := &ctconf.File{Main: ctconf.NewSection()}
	if v, ok := d.live.Config[key]; ok {
		f.Main.Set(key, v)
	}
	if ctconf.HotPluggable(key, f) {
		return plan.ClassHot
	}
	return plan.ClassPendingRestart
}

// reasonFor explains a class to people.
func (d *differ) reasonFor(key string, class plan.Class) string {
	switch class {
	case plan.ClassHot:
		if !d.live.Running {
			return "the container is stopped: applied at once"
		}
		if key == "hostname" {
			return "written at once; the guest sees it after its next restart"
		}
		return "applied to the running container at once"
	case plan.ClassPendingRestart:
		return "PVE keeps it pending until the container restarts"
	}
	return ""
}

// addChange records one field change with its drift mark.
func (d *differ) addChange(f field, class plan.Class, reason string) {
	d.changes = append(d.changes, plan.Change{Path: f.path, Op: f.op, Before: f.before, After: f.after,
		Class: class, Reason: reason, Drift: d.drift(f)})
}

// rootCheck judges a write for an API token: reason is "" when a token may
// make it, else why only root@pam may; viaPct says whether the privileged
// backend may carry it then (`pct set` as root), when it is available on
// the container's node.
type rootCheck func(w write, fields []field) (reason string, viaPct bool)

// compare plans one config key: b gives the write and the differing fields.
// rootOnly, when not nil, judges whether the write needs root@pam; it is also
// asked, with a delete, about a revert of a pending value (never carried by
// the privileged backend). A root-only write goes to the pct-set step when
// the backend is available on the node (Options.Root), else the container
// is blocked with the reason and what would enable the backend.
func (d *differ) compare(key string, b builder, rootOnly rootCheck) {
	if d.managed == nil {
		d.managed = map[string]bool{}
	}
	d.managed[key] = true
	cur, hasCur := d.live.Config[key]
	w, all, err := b(cur, hasCur)
	if err != nil {
		d.errs = append(d.errs, fmt.Sprintf("%s: %v", key, err))
		return
	}
	if d.baseline != nil {
		for _, f := range all {
			if f.before != "" || f.op != plan.OpAdd {
				d.baseline[f.path] = f.before
			}
		}
		return
	}
	fields := differing(all)
	pend, hasPend := d.live.Pending[key]
	pdel := d.live.PendingDelete[key]
	if hasPend || pdel {
		_, pall, perr := b(pend, hasPend && !pdel)
		pfields := differing(pall)
		if perr == nil && len(pfields) == 0 {
			// PVE already holds what the spec wants; only a restart is missing.
			for _, f := range fields {
				d.addChange(f, plan.ClassAwaitingRestart, "PVE holds this value pending; it takes effect when the container restarts")
				d.restart = append(d.restart, f.path)
			}
			return
		}
		if len(fields) == 0 {
			// The current value is right; a pending change would undo it.
			// PVE checks a revert as it checks a delete (API2/LXC/Config.pm
			// update_vm), so it may be root-only when writing is not.
			if rootOnly != nil {
				if reason, _ := rootOnly(write{del: true}, pfields); reason != "" {
					for _, f := range pfields {
						d.addChange(f, plan.ClassRootOnly, reason)
					}
					d.blocked = append(d.blocked, reason)
					return
				}
			}
			for _, f := range pfields {
				d.changes = append(d.changes, plan.Change{Path: f.path, Op: plan.OpUpdate, Before: f.before + " (pending)",
					After: f.after, Class: plan.ClassHot, Reason: "reverts a pending change that differs from the spec"})
			}
			d.revert = append(d.revert, key)
			d.keyPrivilege(key)
			return
		}
	}
	if len(fields) == 0 {
		return
	}
	privileged := false
	if rootOnly != nil {
		if reason, viaPct := rootOnly(w, fields); reason != "" {
			err := d.rootAccess()
			if !viaPct || err != nil {
				if viaPct {
					reason += "; " + err.Error()
				}
				for _, f := range fields {
					d.addChange(f, plan.ClassRootOnly, reason)
				}
				d.blocked = append(d.blocked, reason)
				return
			}
			privileged = true
		}
	}
	class := d.class(key, w.del)
	reason := d.reasonFor(key, class)
	if privileged {
		reason += "; only root@pam may write it: the privileged backend does, with pct set on node " + d.live.Node
	}
	allReported := true
	for _, f := range fields {
		r := reason
		if d.reportOnly(f) {
			r = "changed outside felhom; the drift policy reports it and leaves it"
			d.report = append(d.report, f.path)
		} else {
			allReported = false
		}
		d.addChange(f, class, r)
		d.changes[len(d.changes)-1].Privileged = privileged
	}
	if allReported {
		return
	}
	switch {
	case privileged && w.del:
		d.rootDel = append(d.rootDel, key)
	case privileged:
		d.rootSet[key] = w.value
	case w.del:
		d.del = append(d.del, key)
	default:
		d.set[key] = w.value
	}
	if !privileged {
		d.keyPrivilege(key)
	}
	if class == plan.ClassPendingRestart {
		for _, f := range fields {
			d.restart = append(d.restart, f.path)
		}
	}
}

// impossible records a change PVE cannot make.
func (d *differ) impossible(f field, reason string) {
	d.changes = append(d.changes, plan.Change{Path: f.path, Op: f.op, Before: f.before, After: f.after,
		Class: plan.ClassImpossible, Reason: reason, Drift: d.drift(f)})
	d.errs = append(d.errs, f.path+": "+reason)
}

// Baseline returns the live form of every field the spec names, by change
// path, in the form Change.Before uses. Apply records it after it has brought
// a container to its spec (read back from PVE); given back later as
// Live.Applied, it lets Diff tell drift (the live value moved away from what
// felhom left) from spec changes.
func Baseline(c *spec.Container, live *Live) map[string]string {
	d := &differ{s: &c.Spec, live: live, set: map[string]string{}, privs: map[plan.Privilege]bool{},
		baseline: map[string]string{}}
	d.options()
	d.network()
	d.volumes()
	d.devices()
	d.power()
	return d.baseline
}
