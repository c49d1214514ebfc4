package pvesim

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/felhom/felhom/pve/ctconf"
)

// destroyCT is DELETE /nodes/{node}/lxc/{vmid} (pve-container
// src/PVE/API2/LXC.pm destroy_vm; VM.Allocate). Before forking: the
// config is loaded ("Configuration file ... does not exist"), the early
// checks run (check_protection "can't remove CT N - protection mode
// enabled", check_lock "CT is locked (x)"; HA and replication jobs are not
// modelled), and a running CT without force is "unable to destroy CT N -
// container is running". The vzdestroy task repeats the checks under the
// config lock, force-stops a running CT ("forced to stop CT N before
// destroying!", a plain warn), frees every volume of the config and its
// pending section, unused ones included, that the CT owns (LXC.pm
// destroy_lxc_container, delete_mountpoint_volume: "ignore deletion of
// 'v', CT N isn't the owner!" for another's), with
// destroy-unreferenced-disks also the CT's volumes no key names
// (vdisk_list), then removes the config; purge prints "purging CT N from
// related configurations.." (there are no backup jobs, replication or HA
// entries to purge). The CT's ACL entries are not removed
// (remove_vm_access).
func (s *Sim) destroyCT(r *request) (any, error) {
	ct, err := s.lookupCT(r)
	if err != nil {
		return nil, err
	}
	vmid := ct.vmid
	early := func() error {
		f, err := ct.file()
		if err != nil {
			return err
		}
		if v, _ := f.Get("protection"); v == "1" {
			return fmt.Errorf("can't remove CT %d - protection mode enabled", vmid)
		}
		return f.CheckLock()
	}
	if err := early(); err != nil {
		return nil, errorf("%s", err.Error())
	}
	force, purge, unref := r.boolParam("force"), r.boolParam("purge"), r.boolParam("destroy-unreferenced-disks")
	running := fmt.Sprintf("unable to destroy CT %d - container is running", vmid)
	if !force && ct.running {
		return nil, errorf("%s", running)
	}
	return s.startTask(r, taskSpec{node: ct.node, typ: "vzdestroy", id: strconv.Itoa(vmid),
		finish: func(t *task) error {
			if s.cts[vmid] != ct {
				return fmt.Errorf("Configuration file 'nodes/%s/lxc/%d.conf' does not exist", ct.node, vmid)
			}
			if err := early(); err != nil {
				return err
			}
			if ct.running {
				if !force {
					return fmt.Errorf("%s", running)
				}
				t.logf("forced to stop CT %d before destroying!", vmid)
				ct.running = false
			}
			f, err := ct.file()
			if err != nil {
				return err
			}
			s.destroyVolumes(t, ct, f, unref)
			if purge {
				t.logf("purging CT %d from related configurations..", vmid)
			}
			delete(s.cts, vmid)
			return nil
		},
	}), nil
}

// destroyVolumes frees the volumes of f's main and pending sections
// (each once) that ct owns, and with unref every other volume of ct on
// the node's rootdir storages.
func (s *Sim) destroyVolumes(t *task, ct *simCT, f *ctconf.File, unref bool) {
	alloc := allocator{s: s, ct: ct}
	done := map[string]bool{}
	remove := func(sec *ctconf.Section) {
		if sec == nil {
			return
		}
		keys := sec.MountKeys()
		for _, k := range sec.Keys() {
			if isIndexed(k, "unused") {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			v, _ := sec.Get(k)
			volid, _, ok := volumeOf(k, v)
			if !ok || done[volid] {
				continue
			}
			done[volid] = true
			_, name, _ := strings.Cut(volid, ":")
			if volumeOwner(name) != ct.vmid {
				t.logf("ignore deletion of '%s', CT %d isn't the owner!", volid, ct.vmid)
				continue
			}
			if err := alloc.Free(volid); err != nil {
				t.logf("%v", err)
			}
		}
	}
	remove(f.Main)
	remove(f.Pending)
	if !unref {
		return
	}
	for _, st := range s.node[ct.node].storages {
		if !st.hasContent("rootdir") {
			continue
		}
		for name, v := range st.volumes {
			if v.owner == ct.vmid {
				delete(st.volumes, name)
			}
		}
	}
}
