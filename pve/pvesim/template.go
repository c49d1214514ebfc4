package pvesim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/pve/format"
)

// diskSizeRE is a mount value given as a bare size in GiB, which
// create_vm puts on the default storage ("$storage:$value").
var diskSizeRE = regexp.MustCompile(`^\d+(\.\d+)?$`)

// createFromTemplate is create_vm without restore: the template must be
// readable (check_volume_access for vztmpl: Datastore.Allocate, or
// Datastore.AllocateSpace or Datastore.Audit on its storage); rootfs and
// mpN go to the storages they name (a bare number is GiB on storage),
// rootfs defaults to "$storage:4"; unprivileged defaults to 1. The task
// vzcreate allocates the volumes, writes the config with create_vm's
// defaults (hostname CT<vmid>, memory 512, swap 512; arch and ostype as
// PVE::LXC::Setup detects them, here read from the template's name) and
// fails, leaving no container, when the template file is missing
// (abs_filesystem_path's "can't find file").
func (s *Sim) createFromTemplate(r *request, n *simNode, vmid int, sid string, existing *simCT) (any, error) {
	tmpl := r.params["ostemplate"]
	tsid, tname, ok := strings.Cut(tmpl, ":")
	if !ok || !strings.HasPrefix(tname, "vztmpl/") {
		return nil, errorf("unable to parse volume ID '%s'", tmpl)
	}
	tst := n.storage[tsid]
	if tst == nil {
		return nil, errorf("storage '%s' does not exist", tsid)
	}
	if !s.hasAny(r.token, "/storage/"+tsid, "Datastore.Allocate") {
		if err := s.checkAny(r, "/storage/"+tsid, "Datastore.AllocateSpace", "Datastore.Audit"); err != nil {
			return nil, err
		}
	}
	mounts := map[string]string{}
	for k, v := range r.params {
		if k == "rootfs" || isIndexed(k, "mp") {
			if diskSizeRE.MatchString(v) {
				v = sid + ":" + v
			}
			mounts[k] = v
		}
	}
	if len(mounts) > 0 && mounts["rootfs"] == "" {
		return nil, errorf("mount points configured, but 'rootfs' not set - aborting")
	}
	if len(mounts) == 0 {
		mounts["rootfs"] = sid + ":4"
	}
	probe := allocator{s: s, ct: &simCT{vmid: vmid, node: n.name}}
	for _, k := range sortedKeys(mounts) {
		vol, _, err := mountVolume(k, mounts[k])
		if err != nil {
			return nil, paramError(map[string]string{k: err.Error()})
		}
		if format.Classify(vol) != format.Volume {
			return nil, errorf("Only root can pass arbitrary filesystem paths.")
		}
		msid, _, _ := strings.Cut(vol, ":")
		if st := n.storage[msid]; st == nil || !st.hasContent("rootdir") {
			if st == nil {
				return nil, errorf("storage '%s' does not exist", msid)
			}
			return nil, paramError(map[string]string{"storage": fmt.Sprintf("storage '%s' does not support container directories", msid)})
		}
		if err := s.check(r, "/storage/"+msid, "Datastore.AllocateSpace"); err != nil {
			return nil, err
		}
		if err := probe.CheckRootdir(msid); err != nil {
			return nil, err
		}
	}
	if err := s.checkCreateOptions(r, n, vmid); err != nil {
		return nil, err
	}
	if existing != nil {
		return nil, errorf("CT %d already exists on node '%s'", vmid, existing.node)
	}
	ct := &simCT{vmid: vmid, node: n.name, conf: "lock: create\n"}
	s.cts[vmid] = ct
	params := r.params
	return s.startTask(r, taskSpec{node: n.name, typ: "vzcreate", id: strconv.Itoa(vmid),
		finish: func(t *task) error {
			vols, err := s.createInto(t, ct, tst, tmpl, mounts, params)
			if err != nil {
				s.dropFailedCreate(ct, vols)
				return fmt.Errorf("unable to create CT %d - %v", vmid, err)
			}
			if params["start"] == "1" {
				return s.startAfterCreate(r, t)
			}
			return nil
		},
		abort: func(t *task) { delete(s.cts, vmid) },
	}), nil
}

// createInto allocates the volumes of a template create, then checks the
// template (create_vm reads it after create_disks) and writes the config.
// It returns the volumes it made, for the error path.
func (s *Sim) createInto(t *task, ct *simCT, tst *simStorage, tmpl string, mounts, params map[string]string) ([]string, error) {
	alloc := allocator{s: s, ct: ct}
	f := &ctconf.File{Main: ctconf.NewSection()}
	var vols []string
	for _, k := range sortedKeys(mounts) {
		value := mounts[k]
		vol, _, _ := mountVolume(k, value)
		msid, sz, ok := (format.RootFS{Volume: vol}).NewVolume()
		if !ok {
			f.Set(k, value) // an existing volume
			continue
		}
		volid, err := alloc.Alloc(msid, k, int64(sz))
		if err != nil {
			return vols, err
		}
		vols = append(vols, volid)
		f.Set(k, withVolume(k, value, volid, format.Size(sz)))
	}
	if _, ok := tst.tmpls[tmpl]; !ok {
		return vols, fmt.Errorf("can't find file '%s'", tmpl)
	}
	t.logf("extracting archive '%s'", tmpl)
	for k, v := range params {
		// unprivileged is extracted from the parameters; only
		// "unprivileged: 1" is written (create_vm).
		if ctconf.Settable(k) && k != "rootfs" && k != "unprivileged" && !isIndexed(k, "mp") {
			f.Set(k, v)
		}
	}
	arch, ostype := templateOS(tmpl)
	if _, ok := f.Get("arch"); !ok {
		f.Set("arch", arch)
	}
	if _, ok := f.Get("ostype"); !ok {
		f.Set("ostype", ostype)
	}
	if v, _ := f.Get("hostname"); v == "" {
		f.Set("hostname", fmt.Sprintf("CT%d", ct.vmid))
	}
	if v, _ := f.Get("memory"); v == "" || v == "0" {
		f.Set("memory", "512")
	}
	if _, ok := f.Get("swap"); !ok {
		f.Set("swap", "512")
	}
	if params["unprivileged"] != "0" {
		f.Set("unprivileged", "1")
	}
	ct.store(f)
	return vols, nil
}

// osTypes are the ostype values a template name can start with.
var osTypes = map[string]bool{"debian": true, "devuan": true, "ubuntu": true, "centos": true, "fedora": true, "opensuse": true, "archlinux": true, "alpine": true, "gentoo": true, "nixos": true}

// templateOS reads arch and ostype from a template name as
// <os>-<version>-<flavour>_<version>_<arch>.tar.*: PVE detects them from
// the extracted files; the simulator has no files. An unknown OS is
// "unmanaged", an unknown arch amd64.
func templateOS(volid string) (arch, ostype string) {
	name := volid[strings.LastIndex(volid, "/")+1:]
	ostype = "unmanaged"
	if os, _, _ := strings.Cut(name, "-"); osTypes[os] {
		ostype = os
	}
	arch = "amd64"
	for _, a := range []string{"arm64", "armhf", "i386", "riscv32", "riscv64"} {
		if strings.Contains(name, "_"+a+".") {
			arch = a
		}
	}
	return arch, ostype
}
