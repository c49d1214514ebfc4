package pvesim

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/pve/format"
)

// Container endpoints: config GET/PUT, pending, status, power, listings
// (pve-container src/PVE/API2/LXC.pm, src/PVE/API2/LXC/Config.pm,
// src/PVE/API2/LXC/Status.pm; pve-manager PVE/API2/Cluster.pm resources).

// typedValue returns a config value as PVE's JSON has it (pve-container
// src/PVE/LXC/Config.pm check_type: integers go through int() and booleans
// become 1/0, so both are JSON numbers; a number such as cpulimit is
// returned as the matched string and stays a JSON string). The types are
// ctconf's $confdesc.
func typedValue(key, v string) any {
	if n, ok := typedInt(key, v); ok {
		return n
	}
	return v
}

// typedInt is typedValue's number, when it is one.
func typedInt(key, v string) (int64, bool) {
	switch t, _ := ctconf.OptionType(key); t {
	case "integer", "boolean":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n, true
		}
	}
	return 0, false
}

// lookupCT finds the container on the node as load_config does.
func (s *Sim) lookupCT(r *request) (*simCT, error) {
	node := r.params["node"]
	if s.node[node] == nil {
		return nil, errorf("no such cluster node '%s'", node)
	}
	ct := s.cts[r.vmid()]
	if ct == nil || ct.node != node {
		return nil, errorf("Configuration file 'nodes/%s/lxc/%d.conf' does not exist", node, r.vmid())
	}
	return ct, nil
}

// readCT is lookupCT for the read endpoints, with the container's parsed
// config (read only). The method's permission check (route.perm) ran
// before the handler.
func (s *Sim) readCT(r *request) (*simCT, *ctconf.File, error) {
	ct, err := s.lookupCT(r)
	if err != nil {
		return nil, nil, err
	}
	f, err := ct.view()
	if err != nil {
		return nil, nil, err
	}
	return ct, f, nil
}

// lookupNode checks the node parameter.
func (s *Sim) lookupNode(r *request) (*simNode, error) {
	n := s.node[r.params["node"]]
	if n == nil {
		return nil, errorf("no such cluster node '%s'", r.params["node"])
	}
	return n, nil
}

func vmPath(vmid int) string { return fmt.Sprintf("/vms/%d", vmid) }

// configJSON renders a config map with typed values and the raw lxc pairs.
func configJSON(values map[string]string, lxc []ctconf.LxcEntry) map[string]any {
	out := make(map[string]any, len(values)+1)
	for k, v := range values {
		out[k] = typedValue(k, v)
	}
	if len(lxc) > 0 {
		pairs := make([][2]string, len(lxc))
		for i, e := range lxc {
			pairs[i] = [2]string{e.Key, e.Value}
		}
		out["lxc"] = pairs
	}
	return out
}

// getConfig is GET .../config: pending merged in unless current=1; with
// snapshot=NAME the snapshot's config.
func (s *Sim) getConfig(r *request) (any, error) {
	_, f, err := s.readCT(r)
	if err != nil {
		return nil, err
	}
	if name := r.params["snapshot"]; name != "" {
		if r.boolParam("current") {
			return nil, paramError(map[string]string{"current": "cannot use 'snapshot' parameter with 'current'", "snapshot": "cannot use 'snapshot' parameter with 'current'"})
		}
		snap := f.Snapshot(name)
		if snap == nil {
			return nil, errorf("snapshot '%s' does not exist", name)
		}
		values := map[string]string{}
		for _, k := range snap.Keys() {
			v, _ := snap.Get(k)
			values[k] = v
		}
		values["digest"] = f.Digest
		return configJSON(values, snap.Lxc), nil
	}
	if r.boolParam("current") {
		return configJSON(f.Current(), f.Main.Lxc), nil
	}
	return configJSON(f.Merged(), f.Main.Lxc), nil
}

// getPending is GET .../pending (config_with_pending_array), a plan's
// call per container: encoded here (jsonEnc) in sorted key order, the
// bytes json.Marshal gave the maps it replaces.
func (s *Sim) getPending(r *request) (any, error) {
	_, f, err := s.readCT(r)
	if err != nil {
		return nil, err
	}
	entries := f.PendingEntries()
	e := &jsonEnc{b: make([]byte, 0, 2+64*len(entries))}
	e.open('[')
	for _, p := range entries {
		e.open('{')
		if p.Delete > 0 {
			e.int("delete", int64(p.Delete))
		}
		e.str("key", p.Key)
		if p.HasPending {
			e.typed("pending", p.Key, p.Pending)
		}
		if p.HasValue {
			e.typed("value", p.Key, p.Value)
		}
		e.close('}')
	}
	e.close(']')
	return rawJSON(e.b), nil
}

// typed writes the config value v of key as typedValue has it.
func (e *jsonEnc) typed(k, key, v string) {
	if n, ok := typedInt(key, v); ok {
		e.int(k, n)
		return
	}
	e.str(k, v)
}

// putConfig is PUT .../config (update_vm): synchronous, returns null.
func (s *Sim) putConfig(r *request) (any, error) {
	vmid := r.vmid()
	u := ctconf.Update{VMID: vmid, Set: map[string]string{}}
	for k, v := range r.params {
		switch k {
		case "node", "vmid", "digest":
		case "delete":
			u.Delete = format.SplitList(v)
		case "revert":
			u.Revert = format.SplitList(v)
		default:
			u.Set[k] = v
		}
	}
	if len(u.Set) == 0 && len(u.Delete) == 0 && len(u.Revert) == 0 {
		return nil, errorf("no options specified")
	}
	ct, err := s.lookupCT(r)
	if err != nil {
		return nil, err
	}
	f, err := ct.file()
	if err != nil {
		return nil, err
	}
	if err := f.CheckLock(); err != nil {
		return nil, err
	}
	if d := r.params["digest"]; d != "" && d != f.Digest {
		return nil, errorf("detected modified configuration - file changed by other user? Try again.")
	}
	old := f.Get // check_ct_modify_config_perm compares with the current config
	unpriv := false
	if v, ok := f.Get("unprivileged"); ok && v == "1" {
		unpriv = true
	}
	if err := s.checkCTModifyConfig(r, ct.node, vmid, old, unpriv, append(append([]string{}, u.Delete...), u.Revert...), true); err != nil {
		return nil, err
	}
	setKeys := make([]string, 0, len(u.Set))
	for k := range u.Set {
		setKeys = append(setKeys, k)
	}
	sort.Strings(setKeys)
	if err := s.checkCTModifyConfig(r, ct.node, vmid, old, unpriv, setKeys, false); err != nil {
		return nil, err
	}
	if err := checkDevices(u.Set); err != nil {
		return nil, err
	}
	if _, err := f.ApplyUpdate(u, ct.running, allocator{s: s, ct: ct}); err != nil {
		return nil, err
	}
	ct.store(f)
	return nil, nil
}

// rootfsSize returns the rootfs size in bytes (0 when unknown).
func rootfsSize(f *ctconf.File) int64 {
	v, ok := f.Get("rootfs")
	if !ok {
		return 0
	}
	rf, err := format.ParseRootFS(v)
	if err != nil || rf.Size == nil {
		return 0
	}
	return int64(*rf.Size)
}

func intValue(f *ctconf.File, key string, def int64) int64 {
	v, ok := f.Get(key)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return def
	}
	return n
}

// ctStatus is pve-container src/PVE/LXC.pm vmstatus for one container:
// what status/current, the node's lxc list and cluster/resources say of
// it, before each picks its keys.
type ctStatus struct {
	vmid    int
	unknown bool // the config could not be read: vmid and status only
	name    string
	running bool
	cpus    float64
	maxmem  int64
	maxswap int64
	maxdisk int64
	uptime  int64
	lock    string
	tags    string
	hasTags bool // tags is in the config (a value may be blank)
	isTmpl  bool
}

// ctStatus returns the container's status at now. The config's part is
// worked out once per parse of the config (simCT.status).
func (s *Sim) ctStatus(ct *simCT, now time.Time) ctStatus {
	f, err := ct.view()
	if err != nil {
		return ctStatus{vmid: ct.vmid, unknown: true}
	}
	if ct.status == nil { // view may just have parsed the text: after it
		ct.status = s.configStatus(ct, f)
	}
	st := *ct.status
	st.running = ct.running
	if ct.running {
		st.uptime = max(int64(now.Sub(ct.started).Seconds()), 0)
	}
	return st
}

// configStatus is the part of ctStatus that comes from the config f.
func (s *Sim) configStatus(ct *simCT, f *ctconf.File) *ctStatus {
	st := &ctStatus{vmid: ct.vmid}
	st.maxmem = intValue(f, "memory", 512) << 20
	st.maxswap = intValue(f, "swap", 0) << 20
	st.cpus = float64(intValue(f, "cores", 0))
	if st.cpus == 0 {
		if v, ok := f.Get("cpulimit"); ok {
			st.cpus, _ = strconv.ParseFloat(v, 64)
		}
	}
	if st.cpus == 0 {
		st.cpus = float64(s.node[ct.node].maxCPU)
	}
	name, _ := f.Get("hostname")
	if name == "" {
		name = fmt.Sprintf("CT%d", ct.vmid)
	}
	st.name = strings.Join(strings.Fields(name), "")
	st.maxdisk = ct.maxDisk
	if st.maxdisk == 0 {
		st.maxdisk = 4 << 30
	}
	st.lock = f.Lock()
	st.tags, st.hasTags = f.Get("tags")
	st.isTmpl = f.IsTemplate()
	return st
}

// vmStatus is the status of status/current and the node's lxc list.
func (s *Sim) vmStatus(ct *simCT) map[string]any {
	st := s.ctStatus(ct, s.clock.Now())
	if st.unknown {
		return map[string]any{"vmid": ct.vmid, "status": "unknown"}
	}
	m := map[string]any{
		"vmid": ct.vmid, "name": st.name, "status": "stopped", "type": "lxc",
		"cpus": st.cpus, "maxmem": st.maxmem, "maxswap": st.maxswap, "maxdisk": st.maxdisk,
		"cpu": 0, "mem": 0, "swap": 0, "disk": 0, "uptime": 0,
		"netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0,
	}
	if st.running {
		up := st.uptime
		m["status"] = "running"
		m["uptime"] = up
		m["cpu"] = 0.0125
		m["mem"] = st.maxmem / 5
		m["disk"] = st.maxdisk / 4
		m["netin"] = 1024 * up
		m["netout"] = 512 * up
		m["diskread"] = 4096 * up
		m["diskwrite"] = 2048 * up
		m["pid"] = 10000 + ct.vmid
		// read_cgroup_pressure's avg10 values are the regex captures of
		// pve-common ProcFSTools.pm parse_pressure, never made numbers:
		// JSON strings, unlike qemu-server's.
		for _, k := range pressureKeys {
			m[k] = "0.00"
		}
	}
	if st.lock != "" {
		m["lock"] = st.lock
	}
	if st.hasTags {
		m["tags"] = st.tags
	}
	if st.isTmpl {
		m["template"] = 1
	}
	return m
}

// resourceEntry writes the container's cluster/resources entry
// (pve-manager PVE/API2Tools.pm extract_vm_stats over vmstatus): no cpus
// (maxcpu instead), swap, maxswap, pid or pressure keys; id, node,
// template always, and memhost 0 (extract_vm_stats reads it from PVE 9's
// pve-vm-9.0 RRD row, where pvestatd update_lxc_status leaves it undef).
// The keys are in sorted order and the values of the types the map it
// replaced had (ints, cpu 0.0125 a float), so the bytes are json.Marshal's
// of that map. A container whose config cannot be read (an internal
// error) has only id, node, status unknown, type and vmid.
func (e *jsonEnc) resourceEntry(st *ctStatus, node string) {
	e.open('{')
	if st.unknown {
		e.lxcID(st.vmid)
		e.str("node", node)
		e.str("status", "unknown")
		e.str("type", "lxc")
		e.int("vmid", int64(st.vmid))
		e.close('}')
		return
	}
	up := st.uptime
	if st.running {
		e.float("cpu", 0.0125)
		e.int("disk", st.maxdisk/4)
		e.int("diskread", 4096*up)
		e.int("diskwrite", 2048*up)
	} else {
		e.int("cpu", 0)
		e.int("disk", 0)
		e.int("diskread", 0)
		e.int("diskwrite", 0)
	}
	e.lxcID(st.vmid)
	if st.lock != "" {
		e.str("lock", st.lock)
	}
	e.float("maxcpu", st.cpus)
	e.int("maxdisk", st.maxdisk)
	e.int("maxmem", st.maxmem)
	if st.running {
		e.int("mem", st.maxmem/5)
	} else {
		e.int("mem", 0)
	}
	e.int("memhost", 0)
	e.str("name", st.name)
	e.int("netin", 1024*up)
	e.int("netout", 512*up)
	e.str("node", node)
	if st.running {
		e.str("status", "running")
	} else {
		e.str("status", "stopped")
	}
	if st.hasTags {
		e.str("tags", st.tags)
	}
	if st.isTmpl {
		e.int("template", 1)
	} else {
		e.int("template", 0)
	}
	e.str("type", "lxc")
	e.int("uptime", up)
	e.int("vmid", int64(st.vmid))
	e.close('}')
}

// lxcID writes "id":"lxc/<vmid>".
func (e *jsonEnc) lxcID(vmid int) {
	e.key("id")
	e.b = append(e.b, `"lxc/`...)
	e.b = strconv.AppendInt(e.b, int64(vmid), 10)
	e.b = append(e.b, '"')
	e.comma = true
}

// pressureKeys are the PSI averages pve-container LXC.pm vmstatus gives
// a running container.
var pressureKeys = []string{"pressurecpusome", "pressurecpufull", "pressureiosome", "pressureiofull", "pressurememorysome", "pressurememoryfull"}

// statusCurrent is GET .../status/current.
func (s *Sim) statusCurrent(r *request) (any, error) {
	ct, err := s.lookupCT(r)
	if err != nil {
		return nil, err
	}
	m := s.vmStatus(ct)
	m["ha"] = map[string]any{"managed": 0} // vmstatus sets type => 'lxc'; it stays
	return m, nil
}

// listCTs is GET /nodes/{node}/lxc: the containers the caller may audit.
func (s *Sim) listCTs(r *request) (any, error) {
	if _, err := s.lookupNode(r); err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, vmid := range s.vmids() {
		ct := s.cts[vmid]
		if ct.node != r.params["node"] || !s.hasAny(r.token, vmPath(vmid), "VM.Audit") {
			continue
		}
		out = append(out, s.vmStatus(ct))
	}
	return out, nil
}

// clusterResources is GET /cluster/resources: guests (type=vm), storages
// and nodes the caller may see. The answer is encoded here (jsonEnc):
// with thousands of guests, a map per entry and json.Marshal's key
// sorting were most of the call's CPU.
func (s *Sim) clusterResources(r *request) (any, error) {
	typ := r.params["type"]
	e := &jsonEnc{b: make([]byte, 0, 64+400*len(s.cts))}
	e.open('[')
	if typ == "" || typ == "vm" {
		audit := s.vmAuditor(r.token)
		now := s.clock.Now()
		for _, vmid := range s.vmids() {
			if !audit(vmid) {
				continue
			}
			ct := s.cts[vmid]
			st := s.ctStatus(ct, now)
			e.resourceEntry(&st, ct.node)
		}
		// QEMU guests are listed too (Cluster.pm resources walks the whole
		// vmlist): the inventory's vms, stopped, with the keys a stopped
		// qemu entry carries.
		for _, vmid := range slices.Sorted(maps.Keys(s.vms)) {
			if !audit(vmid) {
				continue
			}
			vm := s.vms[vmid]
			e.value(map[string]any{"id": fmt.Sprintf("qemu/%d", vmid), "type": "qemu", "vmid": vmid, "name": vm.name,
				"node": vm.node, "status": "stopped", "template": 0, "cpu": 0, "maxcpu": 1, "mem": 0, "maxmem": 2 << 30,
				"disk": 0, "maxdisk": 32 << 30, "diskread": 0, "diskwrite": 0, "netin": 0, "netout": 0, "uptime": 0})
		}
	}
	if typ == "" || typ == "node" {
		// Every node, its stats only with Sys.Audit (pve-manager
		// PVE/API2/Cluster.pm resources, API2Tools.pm extract_node_stats),
		// with pvestatd's static-info: cgroup-mode 2 (PVE 9 runs cgroup v2
		// only), host-arch only for a node that is not x86_64
		// (broadcast_static_node_info).
		for _, n := range s.nodes {
			m := s.nodeEntry(n, s.hasAny(r.token, "/nodes/"+n.name, "Sys.Audit"))
			m["cgroup-mode"] = 2
			if n.arch != "" && n.arch != "x86_64" {
				m["host-arch"] = n.arch
			}
			e.value(m)
		}
	}
	if typ == "" || typ == "storage" {
		for _, n := range s.nodes {
			for _, st := range n.storages {
				if !s.hasAny(r.token, "/storage/"+st.id, storageAudit...) {
					continue
				}
				e.value(map[string]any{
					"id": "storage/" + n.name + "/" + st.id, "type": "storage", "storage": st.id, "node": n.name,
					"status": "available", "plugintype": st.typ, "content": strings.Join(st.content, ","),
					"shared": boolInt(st.shared), "disk": st.used(), "maxdisk": st.total,
				})
			}
		}
	}
	e.close(']')
	if e.err != nil {
		return nil, errorf("unable to encode response: %v", e.err)
	}
	return rawJSON(e.b), nil
}

// nodeEntry is pve-manager PVE/API2Tools.pm extract_node_stats: id,
// node, type, status and the support level for everyone, the figures only
// with Sys.Audit on the node (audit).
func (s *Sim) nodeEntry(n *simNode, audit bool) map[string]any {
	m := map[string]any{"id": "node/" + n.name, "node": n.name, "type": "node", "status": "online", "level": ""}
	if audit {
		m["cpu"], m["maxcpu"] = 0.03, n.maxCPU
		m["mem"], m["maxmem"] = n.maxMem/4, n.maxMem
		m["disk"], m["maxdisk"] = int64(8<<30), int64(64<<30)
		m["uptime"] = int64(s.clock.Now().Sub(n.bootTime).Seconds())
	}
	return m
}

// listNodes is GET /nodes (pve-manager PVE/API2/Nodes.pm NodeIndex
// index): every node, its figures only with Sys.Audit on it, and
// ssl_fingerprint (PVE::Cluster get_node_fingerprint, the node's
// pve-ssl.pem).
func (s *Sim) listNodes(r *request) (any, error) {
	out := []map[string]any{}
	for _, n := range s.nodes {
		m := s.nodeEntry(n, s.hasAny(r.token, "/nodes/"+n.name, "Sys.Audit"))
		m["ssl_fingerprint"] = s.nodeFingerprint(n)
		out = append(out, m)
	}
	return out, nil
}

// nodeFingerprint is the node certificate's SHA-256 fingerprint: the
// served certificate's once the simulator serves HTTPS (one server
// stands for every node), else one made up from the node name.
func (s *Sim) nodeFingerprint(n *simNode) string {
	if s.fingerprint != "" {
		return s.fingerprint
	}
	return pve.CertFingerprint([]byte("pvesim node " + n.name))
}

// simVersion and simRepoID are the invented pve-manager version.
const simVersion, simRepoID = "9.1.1", "42db4a6cf33dac83"

// version is GET /version.
func (s *Sim) version(r *request) (any, error) {
	return map[string]any{"version": simVersion, "release": "9.1", "repoid": simRepoID}, nil
}

// power is start/stop/shutdown/reboot (pve-container
// src/PVE/API2/LXC/Status.pm vm_start, vm_stop, vm_shutdown, vm_reboot):
// before forking only skiplock and the running state are checked ("CT N
// already running", "CT N not running", "VM N not running"); the worker
// loads the config and checks the lock (start also refuses a template;
// start and stop skip the check for lock 'mounted'). vm_reboot checks no
// lock at all (LXC.pm vm_reboot: vm_stop, then vm_start), so a reboot goes
// through during a backup.
func (s *Sim) power(r *request, typ string) (any, error) {
	if r.boolParam("skiplock") {
		return nil, paramError(map[string]string{"skiplock": "Only root may use this option."})
	}
	node, vmid := r.params["node"], r.vmid()
	running := false
	if ct := s.cts[vmid]; ct != nil && ct.node == node {
		running = ct.running
	}
	switch typ {
	case "vzstart":
		if running {
			return nil, errorf("CT %d already running", vmid)
		}
	case "vzstop", "vzshutdown":
		if !running {
			return nil, errorf("CT %d not running", vmid)
		}
	case "vzreboot":
		if !running {
			return nil, errorf("VM %d not running", vmid)
		}
	}
	load := func() (*simCT, error) {
		ct := s.cts[vmid]
		if ct == nil || ct.node != node {
			return nil, fmt.Errorf("Configuration file 'nodes/%s/lxc/%d.conf' does not exist", node, vmid)
		}
		return ct, nil
	}
	return s.startTask(r, taskSpec{node: node, typ: typ, id: strconv.Itoa(vmid),
		begin: func(t *task) error {
			ct, err := load()
			if err != nil {
				return err
			}
			f, err := ct.view()
			if err != nil {
				return err
			}
			if typ == "vzstart" && f.IsTemplate() {
				return fmt.Errorf("you can't start a CT if it's a template")
			}
			if typ == "vzreboot" || (typ == "vzstart" || typ == "vzstop") && f.Lock() == "mounted" {
				return nil
			}
			return f.CheckLock()
		},
		finish: func(t *task) error {
			ct, err := load()
			if err != nil {
				return err
			}
			switch typ {
			case "vzstart":
				if ct.running {
					return fmt.Errorf("CT %d already running", vmid)
				}
				return s.startCT(t, ct)
			case "vzstop", "vzshutdown":
				ct.running = false
			case "vzreboot":
				if !ct.running { // vm_reboot: return if !check_running
					return nil
				}
				ct.running = false
				return s.startCT(t, ct)
			}
			return nil
		}}), nil
}

// startCT is vm_start: pending changes are applied first, then the
// container runs. A pending change that fails is Perl's plain warn in
// vmconfig_apply_pending ("unable to apply pending change KEY : ..."): a
// log line, not log_warn's "WARN: ", so it does not count in WARNINGS: n.
func (s *Sim) startCT(t *task, ct *simCT) error {
	f, err := ct.file()
	if err != nil {
		return err
	}
	if f.Pending != nil {
		res, err := f.ApplyPending(allocator{s: s, ct: ct})
		if err != nil {
			return err
		}
		for _, w := range res.Warnings {
			t.logf("%s", strings.TrimSuffix(w, "\n"))
		}
		ct.store(f)
	}
	ct.running = true
	ct.started = s.clock.Now()
	return nil
}

// resize is PUT .../resize: early checks synchronously (500 on failure),
// then the task grows the volume and writes size= (pve-container
// src/PVE/API2/LXC.pm resize_vm).
func (s *Sim) resize(r *request) (any, error) {
	ct, err := s.lookupCT(r)
	if err != nil {
		return nil, err
	}
	disk := r.params["disk"]
	sizeStr := r.params["size"]
	ext := strings.HasPrefix(sizeStr, "+")
	req, err := format.ParseSize(strings.TrimPrefix(sizeStr, "+"))
	if err != nil {
		return nil, errorf("invalid size string")
	}
	// check returns the config, the volume's name on its storage, the new
	// size and the storage.
	check := func() (*ctconf.File, string, int64, *simStorage, error) {
		f, err := ct.file()
		if err != nil {
			return nil, "", 0, nil, err
		}
		if err := f.CheckLock(); err != nil {
			return nil, "", 0, nil, err
		}
		if err := s.check(r, vmPath(ct.vmid), "VM.Config.Options"); err != nil {
			return nil, "", 0, nil, err
		}
		if d := r.params["digest"]; d != "" && d != f.Digest {
			return nil, "", 0, nil, errorf("detected modified configuration - file changed by other user? Try again.")
		}
		value, ok := f.Get(disk)
		if !ok {
			return nil, "", 0, nil, errorf("unable to parse volume ID ''")
		}
		volid, size, ok := volumeOf(disk, value)
		if !ok {
			vol := value
			if i := strings.IndexByte(vol, ','); i >= 0 {
				vol = vol[:i]
			}
			return nil, "", 0, nil, errorf("unable to parse volume ID '%s'", strings.TrimPrefix(vol, "volume="))
		}
		st, name, err := s.storageOf(ct.node, volid)
		if err != nil {
			return nil, "", 0, nil, errorf("%v", err)
		}
		if owner := volumeOwner(name); owner != ct.vmid {
			return nil, "", 0, nil, errorf("can't resize mount point owned by another container (%d) at /usr/share/perl5/PVE/API2/LXC.pm line 2386.", owner)
		}
		if err := s.check(r, "/storage/"+st.id, "Datastore.AllocateSpace"); err != nil {
			return nil, "", 0, nil, err
		}
		if v := st.volumes[name]; v != nil {
			size = v.size
		}
		newSize := int64(req)
		if ext {
			newSize += size
		}
		if newSize < size {
			return nil, "", 0, nil, errorf("unable to shrink disk size")
		}
		if newSize == size {
			return nil, "", 0, nil, errorf("disk is already at specified size")
		}
		return f, name, newSize, st, nil
	}
	if _, _, _, _, err := check(); err != nil {
		return nil, err
	}
	return s.startTask(r, taskSpec{node: ct.node, typ: "resize", id: strconv.Itoa(ct.vmid), finish: func(t *task) error {
		f, name, newSize, st, err := check()
		if err != nil {
			return err
		}
		if st.used()-volSize(st, name)+newSize > st.total {
			return fmt.Errorf("not enough space on storage '%s'", st.id)
		}
		if v := st.volumes[name]; v != nil {
			v.size = newSize
		} else {
			st.volumes[name] = &volume{size: newSize, owner: ct.vmid}
		}
		value, _ := f.Get(disk)
		vol, _, _ := mountVolume(disk, value)
		f.Set(disk, withVolume(disk, value, vol, format.Size(newSize)))
		ct.store(f)
		t.logf("  Logical volume %q successfully resized.", name)
		return nil
	}}), nil
}

func volSize(st *simStorage, name string) int64 {
	if v := st.volumes[name]; v != nil {
		return v.size
	}
	return 0
}
