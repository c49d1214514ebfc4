package diff

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

// NewCT is what observing learned about a container a spec creates (its
// vmid is not a container on PVE and the spec has a create section):
// whether the vmid is free, the node's storages and the template or backup
// to create it from. Options.Creates holds it by VMID.
type NewCT struct {
	// HeldBy names the guest that holds the vmid, such as "VM 130 (db) on
	// node pve1"; "" when no guest does.
	HeldBy string
	// Storages is the spec node's storage list; nil when it was not read.
	Storages map[string]Storage
	// Source is the template or backup volid found on PVE; "" when it was
	// not found (SourceErr says why).
	Source string
	// SourceErr says why there is nothing to create from: the template or
	// backup is not on the storage, or the list could not be read.
	SourceErr string
	// SourceConfig is the backup's container config by key (GET
	// .../vzdump/extractconfig), for a restore.
	SourceConfig map[string]string
}

// NewContainerNote is the plan's warning on every container it creates.
const NewContainerNote = "new container: no snapshot before its first change (there is nothing to protect)"

// createPlan plans a container that is not on PVE and whose spec says how
// to create it: one create or restore step carrying every option of the
// spec that PVE's create call takes, then what the call cannot carry (the
// root-only keys, through pct set; after a restore, the network and mount
// points the backup brings, written once it is known), then the start when
// the spec's power asks for one.
func createPlan(c *spec.Container, nc *NewCT, cp plan.ContainerPlan, opts Options) plan.ContainerPlan {
	cr := c.Spec.Create
	restore := cr.Restore != nil
	fail := func(status plan.Status, why ...string) plan.ContainerPlan {
		cp.Status, cp.Blocked = status, why
		return cp
	}
	switch {
	case nc == nil:
		return fail(plan.StatusError, "create: the vmid's state was not observed")
	case nc.HeldBy != "":
		return fail(plan.StatusError, fmt.Sprintf("create: vmid %d is held by %s; a container cannot be created with it", c.Spec.VMID, nc.HeldBy))
	case nc.SourceErr != "":
		return fail(plan.StatusError, "create: "+nc.SourceErr)
	}
	live := &Live{Node: c.Spec.Node, VMID: c.Spec.VMID, Config: map[string]string{}, Pending: map[string]string{},
		PendingDelete: map[string]bool{}, Storages: nc.Storages}
	if restore {
		// The container as the restore makes it: the backup's config,
		// its volumes on the target storage; the rest is planned against
		// it as against any container.
		live.Config = restoredConfig(nc.SourceConfig, c.Spec.RootFS.Storage, c.Spec.VMID)
	}
	unpriv := cr.Unprivileged == nil || *cr.Unprivileged
	if restore && cr.Unprivileged == nil {
		unpriv, _ = format.ParseBool(live.Config["unprivileged"])
	}
	delete(live.Config, "unprivileged")
	if unpriv {
		live.Config["unprivileged"] = "1" // what the differ judges features and quotas by
	}
	d := &differ{s: &c.Spec, live: live, opts: opts, set: map[string]string{}, privs: map[plan.Privilege]bool{},
		rootSet: map[string]string{}, creating: !restore}
	d.options()
	d.network()
	d.volumes()
	d.devices()
	if c.Spec.RootFS != nil {
		if p := d.storageProblem(c.Spec.RootFS.Storage, contentRootDir, "the new root volume"); p != "" {
			d.errs = append(d.errs, "rootfs: "+p)
		}
	}
	cp.Warnings = d.warnings
	switch {
	case len(d.errs) > 0:
		return fail(plan.StatusError, append(d.errs, d.blocked...)...)
	case len(d.blocked) > 0:
		return fail(plan.StatusBlocked, d.blocked...)
	}

	params := map[string]string{"vmid": strconv.Itoa(c.Spec.VMID), "ostemplate": nc.Source, "storage": c.Spec.RootFS.Storage}
	later := map[string]string{} // written after the call: what a restore takes from the backup
	for k, v := range d.set {
		if restore && (k == "rootfs" || format.IsSlot(k, "mp") || format.IsSlot(k, "net")) {
			later[k] = v
			continue
		}
		params[k] = v
	}
	var why string
	if restore {
		params["restore"] = "1"
		if !pinsMAC(c.Spec.Net) {
			params["unique"] = "1" // new MAC addresses (Create.pm sanitize_and_merge_config)
		}
		if cr.Unprivileged != nil {
			params["unprivileged"] = boolWord(*cr.Unprivileged)
		}
		why = "a new container from the backup named in the spec"
		if r := cr.Restore; r.NewestBackupOf != 0 {
			why = fmt.Sprintf("a new container from the newest backup of vmid %d on %s: %s", r.NewestBackupOf, r.Storage, nc.Source)
		}
		if params["unique"] == "1" {
			why += ", with new MAC addresses"
		}
		for k, v := range live.Config {
			if format.IsSlot(k, "net") {
				// The restore takes the backup's interfaces over
				// (create_vm's early check_bridge_access).
				d.bridgeNeed(v)
			}
		}
		if _, named := plan.BackupOwner(nc.Source); named {
			d.need(plan.UseRestoreBackup, nc.Source)
		} else {
			d.need(plan.UseRestoreUnowned, nc.Source)
		}
	} else {
		params["unprivileged"] = boolWord(unpriv)
		for k, v := range map[string]string{"arch": cr.Arch, "ostype": cr.OSType} {
			if v != "" {
				params[k] = v
				d.need(plan.UseSetOptions, "")
			}
		}
		if len(cr.SSHPublicKeys) > 0 {
			params["ssh-public-keys"] = strings.Join(cr.SSHPublicKeys, "\n")
		}
		if cr.PasswordFile != "" {
			params[PasswordFileParam] = cr.PasswordFile
		}
		why = "a new container, with the spec's options in the one call"
		d.need(plan.UseTemplate, nc.Source)
	}
	d.need(plan.UseCreate, "")
	d.need(plan.UseNewVolume, c.Spec.RootFS.Storage)
	if !unpriv {
		d.need(plan.UseCreatePrivileged, "")
	}
	steps := []plan.Step{{Action: action(restore), Params: params, Why: why}}
	for _, r := range d.resizes {
		steps = append(steps, plan.Step{Action: plan.ActionResize, Params: map[string]string{"disk": r.disk, "size": r.size},
			Why: "grows " + r.disk + " to " + r.size + " once it is restored"})
	}
	if len(later) > 0 {
		steps = append(steps, plan.Step{Action: plan.ActionSetConfig, Params: later,
			Why: fmt.Sprintf("writes %s the backup brings its own of, once it is restored (planned again from the restored config)", plural(len(later), "key", "keys"))})
		d.configPutPrivilege()
	}
	if s, ok := d.pctSetStep(); ok {
		steps = append(steps, s)
		cp.RootOn = live.Node
	}
	if c.Spec.Power == spec.PowerRunning {
		// A new container is stopped until something starts it.
		f := field{path: PowerPath, op: plan.OpUpdate, before: string(spec.PowerStopped), after: string(spec.PowerRunning)}
		// felhom starts it with its own step, never with the create
		// call's start=1: create_vm calls vm_start inside its worker,
		// which forks vzstart as a task of its own (RESTEnvironment
		// fork_worker is synchronous only on the CLI), so the create
		// task ends before the start does and its failure is not the
		// create's. A start step is awaited and its log shown. What is
		// written after the call is written to a stopped container, so
		// it applies at once; the start comes last.
		steps = append(steps, plan.Step{Action: plan.ActionStart, Params: map[string]string{}, Why: "starts the new container once it is made and written (power: running)"})
		d.addChange(f, plan.ClassHot, "felhom starts the container once it is made (power: running)")
		d.need(plan.UsePower, "")
	}
	for i := range d.changes {
		ch := &d.changes[i]
		if _, ok := later[changeKey(ch.Path)]; ok {
			ch.Reason = "written right after the restore"
		} else if ch.Class == plan.ClassHot && ch.Path != PowerPath {
			ch.Reason = "set by the " + action(restore).Token()
		}
	}
	cp.Changes = d.changes
	cp.Steps = steps
	cp.Status = plan.StatusChanges
	cp.Warnings = append(cp.Warnings, NewContainerNote)
	for _, p := range slices.Collect(maps.Keys(d.privs)) {
		cp.Privileges = append(cp.Privileges, p)
	}
	s := c.Spec
	cp.Spec = &s
	cp.Sort()
	return cp
}

// PasswordFileParam is the create step's parameter naming the file apply
// reads the root password from (felhom's own; apply sends PVE the password
// as "password"). The password itself is never in a plan.
const PasswordFileParam = "password-file"

func action(restore bool) plan.Action {
	if restore {
		return plan.ActionRestore
	}
	return plan.ActionCreate
}

// pinsMAC reports whether the spec pins a hwaddr on any interface: then a
// restore keeps the backup's MAC addresses (no unique=1) and the call
// carries the interfaces, the pinned ones with their MAC.
func pinsMAC(nets map[string]spec.NetIf) bool {
	for _, n := range nets {
		if n.HWAddr != nil {
			return true
		}
	}
	return false
}

func boolWord(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// changeKey is the config key a change path belongs to ("net0.bridge" is
// net0's).
func changeKey(path string) string {
	k, _, _ := strings.Cut(path, ".")
	return k
}

// createRootfs plans the root volume of a container made from a template:
// a new volume, STORAGE:GiB, with the spec's options.
func (d *differ) createRootfs(want spec.RootFS) {
	if want.Size == nil {
		d.errs = append(d.errs, "rootfs: a container created from a template needs rootfs.size")
		return
	}
	w := mountWant{rootfs: true, newVolume: want.Storage + ":" + want.Size.GiBString(), acl: want.ACL, quota: want.Quota,
		replicate: want.Replicate, ro: want.RO, shared: want.Shared, mountOptions: want.MountOptions}
	d.roomWarning("rootfs", want.Storage, *want.Size, "the new root volume")
	if d.quotaImpossible("rootfs", want.Quota, nil) {
		w.quota = nil
	}
	d.compare("rootfs", d.mountBuilder("rootfs", w, nil), nil)
}

// AfterCreate plans what remains of the spec once apply has created the
// container (live is the new container as PVE made it): the same diff as
// for any container, with no protection before its steps, since the
// container is new, and no snapshot retention.
func AfterCreate(c *spec.Container, live *Live, opts Options) plan.ContainerPlan {
	cp := plan.ContainerPlan{Name: c.Metadata.Name, Node: live.Node, VMID: c.Spec.VMID, OnFailure: onFailure(c),
		Restart: spec.RestartNever, Digest: live.Digest, Running: live.Running}
	d := &differ{s: &c.Spec, live: live, opts: opts, set: map[string]string{}, privs: map[plan.Privilege]bool{},
		rootSet: map[string]string{}, fresh: true}
	d.options()
	d.network()
	d.volumes()
	d.devices()
	d.power()
	return d.finish(cp)
}

// restoredConfig is the config a restore of a backup holding src makes
// (pve-container create_vm, Create.pm restore_configuration): the
// backup's keys but its snapshots, lock, parent, template and unusedN;
// rootfs and the volume mount points on storage (the restore allocates
// them there with the archive's sizes; the names stand for the ones PVE
// picks).
func restoredConfig(src map[string]string, storage string, vmid int) map[string]string {
	out := make(map[string]string, len(src))
	disk := 0
	for _, k := range slices.Sorted(maps.Keys(src)) {
		v := src[k]
		switch {
		case k == "lock" || k == "parent" || k == "digest" || k == "template" || format.IsSlot(k, "unused"):
			continue
		case IsVolumeKey(k):
			if m, err := ParseVolume(k, v); err == nil && m.Kind() == format.Volume {
				m.Volume = fmt.Sprintf("%s:vm-%d-disk-%d", storage, vmid, disk)
				disk++
				v = printMount(k == "rootfs", m)
			}
		}
		out[k] = v
	}
	return out
}
