package pvesim

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/pve/format"
)

// createCT is POST /nodes/{node}/lxc (pve-container src/PVE/API2/LXC.pm
// create_vm): restore=1 restores a vzdump archive (task vzrestore), else
// ostemplate names an OS template (task vzcreate). The checks run in
// create_vm's order: a privileged create needs Sys.Modify on /; the vmid
// must be unused (PVE::Cluster::check_vmid_unused, a VM's too); VM.Allocate
// on /vms/{vmid} (or VM.Backup to overwrite with restore and force);
// check_ct_modify_config_perm for the options given; access to the
// archive or template (PVE::Storage::check_volume_access); rootdir content
// and Datastore.AllocateSpace on every storage a volume goes to.
func (s *Sim) createCT(r *request) (any, error) {
	n, err := s.lookupNode(r)
	if err != nil {
		return nil, err
	}
	vmid := r.vmid()
	restore := r.boolParam("restore")
	if !restore && r.params["unprivileged"] == "0" {
		if err := s.check(r, "/", "Sys.Modify"); err != nil {
			return nil, err
		}
	}
	// check_vmid_unused runs before any permission check but Sys.Modify's,
	// unless a restore with force overwrites a container of this very node
	// ($same_container_exists: the config file on the local node).
	existing := s.cts[vmid]
	overwrite := existing != nil && existing.node == n.name && restore && r.boolParam("force")
	if vm, ok := s.vms[vmid]; ok {
		return nil, errorf("VM %d already exists on node '%s'", vmid, vm.node)
	}
	if existing != nil && !overwrite {
		return nil, errorf("CT %d already exists on node '%s'", vmid, existing.node)
	}
	if overwrite && existing.running {
		return nil, errorf("can't overwrite running container")
	}
	if overwrite {
		if err := s.check(r, vmPath(vmid), "VM.Backup"); err != nil {
			return nil, err
		}
	} else if err := s.check(r, vmPath(vmid), "VM.Allocate"); err != nil {
		return nil, err
	}
	sid := r.params["storage"]
	if sid == "" {
		sid = "local"
	}
	if err := s.check(r, "/storage/"+sid, "Datastore.AllocateSpace"); err != nil {
		return nil, err
	}
	if !restore {
		return s.createFromTemplate(r, n, vmid, sid, existing)
	}
	archive := r.params["ostemplate"]
	_, b := s.findBackup(n, archive)
	if b == nil {
		return nil, errorf("volume '%s' does not exist", archive)
	}
	if err := s.checkVolumeAccess(r, vmid, archive, b.vmid, true); err != nil {
		return nil, err
	}
	if err := s.checkCreateOptions(r, n, vmid); err != nil {
		return nil, err
	}
	if existing != nil {
		if !r.boolParam("force") || existing.node != n.name {
			return nil, errorf("CT %d already exists on node '%s'", vmid, existing.node)
		}
		if existing.running {
			return nil, errorf("can't overwrite running container")
		}
		if err := existing.setLock("create"); err != nil {
			return nil, err
		}
	}
	if err := (allocator{s: s, ct: &simCT{vmid: vmid, node: n.name}}).CheckRootdir(sid); err != nil {
		return nil, err
	}
	src, err := ctconf.Parse([]byte(archiveConfig(b)))
	if err != nil {
		return nil, errorf("unable to read config from archive '%s': %v", archive, err)
	}
	if existing == nil {
		s.cts[vmid] = &simCT{vmid: vmid, node: n.name, conf: "lock: create\n"}
	}
	ct := s.cts[vmid]
	params := r.params
	return s.startTask(r, taskSpec{node: n.name, typ: "vzrestore", id: strconv.Itoa(vmid),
		finish: func(t *task) error {
			// create_vm's early check, before the disks are made: SDN.Use
			// on the bridge of each interface of the archive the call
			// does not replace (check_bridge_access).
			for _, k := range src.Main.Keys() {
				if v, _ := src.Main.Get(k); isIndexed(k, "net") && params[k] == "" {
					if err := s.checkSDN(r, v); err != nil {
						if existing == nil {
							s.dropFailedCreate(ct, nil)
						} else {
							_ = ct.setLock("")
						}
						return fmt.Errorf("unable to restore CT %d - %v", vmid, err)
					}
				}
			}
			// Restoring a new privileged container (the call's
			// unprivileged, else the archive's) asks Sys.Modify on /.
			unpriv := params["unprivileged"]
			if unpriv == "" {
				unpriv, _ = src.Main.Get("unprivileged")
			}
			if existing == nil && unpriv != "1" {
				if err := s.check(r, "/", "Sys.Modify"); err != nil {
					s.dropFailedCreate(ct, nil)
					return fmt.Errorf("unable to restore CT %d - %v", vmid, err)
				}
			}
			vols, err := s.restoreInto(t, ct, src, sid, params, existing != nil)
			if err != nil {
				s.dropFailedCreate(ct, vols)
				return fmt.Errorf("unable to restore CT %d - %v", vmid, err)
			}
			if params["start"] == "1" {
				return s.startAfterCreate(r, t)
			}
			return nil
		},
		abort: func(t *task) {
			if existing == nil {
				delete(s.cts, vmid)
			} else {
				_ = ct.setLock("")
			}
		},
	}), nil
}

// checkCreateOptions is check_ct_modify_config_perm for the options of a
// create or restore: the parameters create_vm has not extracted by then
// (unprivileged is, so it asks nothing there; rootfs and mpN ask
// VM.Config.Disk and their storage as on a config PUT).
func (s *Sim) checkCreateOptions(r *request, n *simNode, vmid int) error {
	var overrides []string
	for k := range r.params {
		if k != "unprivileged" && ctconf.Settable(k) {
			overrides = append(overrides, k)
		}
	}
	sort.Strings(overrides)
	noOld := func(string) (string, bool) { return "", false }
	return s.checkCTModifyConfig(r, n.name, vmid, noOld, true, overrides, false)
}

// dropFailedCreate is create_vm's error path: the volumes made so far are
// destroyed (PVE::LXC::destroy_disks) and so is the config
// (destroy_config), so a failed create or restore leaves no container.
func (s *Sim) dropFailedCreate(ct *simCT, vols []string) {
	alloc := allocator{s: s, ct: ct}
	for _, v := range vols {
		_ = alloc.Free(v)
	}
	delete(s.cts, ct.vmid)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// restoreInto writes the archive's config into ct with new volumes on
// storage sid (the old ones are destroyed when overwriting), then the
// parameters of the call on top. It returns the volumes it made, for the
// error path.
func (s *Sim) restoreInto(t *task, ct *simCT, src *ctconf.File, sid string, params map[string]string, overwrite bool) ([]string, error) {
	var vols []string
	alloc := allocator{s: s, ct: ct}
	if overwrite {
		if old, err := ct.file(); err == nil {
			for _, key := range old.Main.MountKeys() {
				value, _ := old.Get(key)
				if volid, _, ok := volumeOf(key, value); ok {
					_ = alloc.Free(volid)
				}
			}
			for _, k := range old.Main.Keys() {
				if isIndexed(k, "unused") {
					v, _ := old.Get(k)
					_ = alloc.Free(strings.TrimPrefix(v, "volume="))
				}
			}
		}
	}
	f := &ctconf.File{Main: ctconf.NewSection()}
	for _, k := range src.Main.Keys() {
		v, _ := src.Main.Get(k)
		f.Main.Set(k, v)
	}
	f.Main.Lxc = append(f.Main.Lxc, src.Main.Lxc...)
	for _, k := range []string{"lock", "parent", "digest"} {
		f.Delete(k)
	}
	for k, v := range params {
		if ctconf.Settable(k) {
			f.Set(k, v)
		}
	}
	for _, key := range f.Main.MountKeys() {
		value, _ := f.Get(key)
		vol, cur, err := mountVolume(key, value)
		if err != nil {
			return vols, err
		}
		if format.Classify(vol) != format.Volume {
			continue
		}
		size := int64(8 << 30)
		if cur != nil {
			size = int64(*cur)
		}
		if _, sz, ok := (format.RootFS{Volume: vol}).NewVolume(); ok { // STORAGE:SIZE_GiB
			size = int64(sz)
		}
		volid, err := alloc.Alloc(sid, key, size)
		if err != nil {
			return vols, err
		}
		vols = append(vols, volid)
		f.Set(key, withVolume(key, value, volid, format.Size(size)))
		t.logf("restoring '%s' to '%s' (%s)", vol, sid, key)
	}
	if params["unique"] == "1" {
		// Create.pm sanitize_and_merge_config: with unique, each of the
		// archive's interfaces comes back with a random MAC (datacenter
		// mac_prefix, BC:24:11 by default), replacing an interface of the
		// same slot given in the call; the call's other interfaces stay.
		for _, k := range src.Main.Keys() {
			if !isIndexed(k, "net") {
				continue
			}
			v, _ := src.Main.Get(k)
			nt, err := format.ParseNet(v)
			if err != nil {
				continue
			}
			nt.HWAddr = fmt.Sprintf("BC:24:11:%02X:%02X:%02X", s.rnd.IntN(256), s.rnd.IntN(256), s.rnd.IntN(256))
			f.Set(k, nt.String())
		}
	}
	ct.store(f)
	t.logf("merged configuration from archive")
	return vols, nil
}

// archiveConfig is the container config a backup holds
// (./etc/vzdump/pct.conf): the inventory's, or for a backup seeded without
// one a minimal config of its guest (unprivileged, as PVE makes them by
// default).
func archiveConfig(b *simBackup) string {
	if b.config != "" {
		return b.config
	}
	return fmt.Sprintf("arch: amd64\nhostname: ct%d\nmemory: 512\nostype: debian\nrootfs: local:%d/vm-%d-disk-0.raw,size=8G\nswap: 512\nunprivileged: 1\n", b.vmid, b.vmid, b.vmid)
}

// extractConfig is GET /nodes/{node}/vzdump/extractconfig (pve-manager
// PVE/API2/VZDump.pm extractconfig): the config text of a backup, to
// whoever may access it (PVE::Storage::check_volume_access without a
// vmid: Datastore.Allocate on the storage, or Datastore.AllocateSpace and
// VM.Backup on the backed-up guest).
func (s *Sim) extractConfig(r *request) (any, error) {
	n, err := s.lookupNode(r)
	if err != nil {
		return nil, err
	}
	volid := r.params["volume"]
	_, b := s.findBackup(n, volid)
	if b == nil {
		return nil, errorf("volume '%s' does not exist", volid)
	}
	if err := s.checkVolumeAccess(r, 0, volid, b.vmid, true); err != nil {
		return nil, err
	}
	return archiveConfig(b), nil
}

// startAfterCreate is create_vm's start=1: the create's worker calls
// API2::LXC::Status vm_start, whose fork_worker runs synchronously only on
// the CLI (pve-common RESTEnvironment.pm fork_worker), so through the API
// it forks vzstart as a task of its own and the create task ends without
// waiting for it (pve-container src/PVE/API2/LXC.pm create_vm, realcmd).
// What vm_start refuses before its fork ("CT N already running") fails
// the create task; the start's own failure is only the vzstart task's.
func (s *Sim) startAfterCreate(r *request, t *task) error {
	upid, err := s.power(r, "vzstart")
	if err != nil {
		return err
	}
	t.logf("%v", upid)
	return nil
}
