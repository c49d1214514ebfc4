package pvesim

import "strings"

// routes are the endpoints the simulator serves, with their permissions
// and parameter tables (TestParamTablesMatchSchema and
// TestRoutePermsMatchSchema compare each with apidata.json).
var routes = buildRoutes()

// nodePerm is ['perm', '/nodes/{node}', privs].
func nodePerm(privs ...string) perm { return perm{path: "/nodes/{node}", privs: privs} }

// storagePerm is ['perm', '/storage/{storage}', storageAudit, any => 1].
var storagePerm = perm{path: "/storage/{storage}", privs: storageAudit, any: true}

func buildRoutes() []*route {
	vm := []param{pNode, pVMID}
	snap := []param{pNode, pVMID, pSnapname}
	rs := []*route{
		{method: "GET", tmpl: "/version", perm: permAll, params: nil, handle: (*Sim).version},
		{method: "GET", tmpl: "/nodes", perm: permAll, params: nil, handle: (*Sim).listNodes},
		{method: "GET", tmpl: "/cluster/resources", perm: permAll, params: []param{{name: "type", typ: tString, opt: true, enum: []string{"vm", "storage", "node", "sdn"}}}, handle: (*Sim).clusterResources},
		{method: "GET", tmpl: "/access/permissions", perm: permAll, params: []param{
			{name: "path", typ: tString, opt: true},
			{name: "userid", typ: tString, opt: true, pattern: `(?:^(?:[^\s:/]+)\@(?:[A-Za-z][A-Za-z0-9\.\-_]+)(?:!(?:[A-Za-z][A-Za-z0-9\.\-_]+))?$)`},
		}, handle: (*Sim).accessPermissions},

		{method: "GET", tmpl: "/cluster/nextid", perm: permAll, params: []param{
			{name: "vmid", typ: tInteger, opt: true, format: "pve-vmid", min: num(100), max: num(999999999)},
		}, handle: (*Sim).nextID},
		{method: "GET", tmpl: "/cluster/status", perm: perm{path: "/", privs: []string{"Sys.Audit"}}, params: nil, handle: (*Sim).clusterStatus},
		{method: "GET", tmpl: "/pools", perm: permAll, params: []param{
			{name: "poolid", typ: tString, opt: true, format: "pve-poolid"},
			{name: "type", typ: tString, opt: true, enum: []string{"qemu", "lxc", "storage"}, requires: "poolid"},
		}, handle: (*Sim).poolIndex},
		{method: "GET", tmpl: "/storage", perm: permAll, params: []param{
			{name: "type", typ: tString, opt: true, enum: []string{"btrfs", "cephfs", "cifs", "dir", "esxi", "iscsi", "iscsidirect", "lvm", "lvmthin", "nfs", "pbs", "rbd", "zfs", "zfspool"}},
		}, handle: (*Sim).storageIndex},
		{method: "GET", tmpl: "/storage/{storage}", perm: perm{path: "/storage/{storage}", privs: []string{"Datastore.Allocate"}}, params: []param{pStorage}, handle: (*Sim).storageRead},
		{method: "GET", tmpl: "/access/users", perm: permAll, params: []param{
			{name: "enabled", typ: tBoolean, opt: true},
			{name: "full", typ: tBoolean, opt: true},
		}, handle: (*Sim).accessUsers},
		{method: "GET", tmpl: "/access/groups", perm: permAll, params: nil, handle: (*Sim).accessGroups},
		{method: "GET", tmpl: "/access/domains", perm: perm{user: "world"}, params: nil, handle: (*Sim).accessDomains},
		{method: "GET", tmpl: "/nodes/{node}/status", perm: nodePerm("Sys.Audit"), params: []param{pNode}, handle: (*Sim).nodeStatusInfo},
		{method: "GET", tmpl: "/nodes/{node}/time", perm: nodePerm("Sys.Audit"), params: []param{pNode}, handle: (*Sim).nodeTime},

		{method: "GET", tmpl: "/nodes/{node}/lxc", perm: permAll, params: []param{pNode}, handle: (*Sim).listCTs},
		{method: "POST", tmpl: "/nodes/{node}/lxc", perm: permAll, params: withParams(ctOptions,
			pNode, pVMID,
			param{name: "ostemplate", typ: tString, maxLen: 255},
			param{name: "restore", typ: tBoolean, opt: true},
			param{name: "storage", typ: tString, opt: true, format: "pve-storage-id"},
			param{name: "force", typ: tBoolean, opt: true},
			param{name: "unique", typ: tBoolean, opt: true, requires: "restore"},
			param{name: "start", typ: tBoolean, opt: true},
			param{name: "bwlimit", typ: tNumber, opt: true, min: num(0)},
			param{name: "ignore-unpack-errors", typ: tBoolean, opt: true},
			param{name: "pool", typ: tString, opt: true, format: "pve-poolid"},
			param{name: "password", typ: tString, opt: true, minLen: 5},
			param{name: "ssh-public-keys", typ: tString, opt: true},
			param{name: "ha-managed", typ: tBoolean, opt: true},
		), handle: (*Sim).createCT},
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}", perm: permAll, params: vm, handle: vmIndex},
		{method: "DELETE", tmpl: "/nodes/{node}/lxc/{vmid}", perm: vmPerm(false, "VM.Allocate"), params: withParams(vm,
			param{name: "force", typ: tBoolean, opt: true},
			param{name: "purge", typ: tBoolean, opt: true},
			param{name: "destroy-unreferenced-disks", typ: tBoolean, opt: true},
		), handle: (*Sim).destroyCT},
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}/config", perm: vmPerm(false, "VM.Audit"), params: withParams(vm,
			param{name: "current", typ: tBoolean, opt: true},
			param{name: "snapshot", typ: tString, opt: true, format: "pve-configid", maxLen: 40},
		), handle: (*Sim).getConfig},
		{method: "PUT", tmpl: "/nodes/{node}/lxc/{vmid}/config", perm: vmPerm(true, "VM.Config.Disk", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options"), params: withParams(ctOptions,
			pNode, pVMID,
			param{name: "delete", typ: tString, opt: true, format: "pve-configid-list"},
			param{name: "revert", typ: tString, opt: true, format: "pve-configid-list"},
			param{name: "digest", typ: tString, opt: true, maxLen: 40},
		), handle: (*Sim).putConfig},
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}/pending", perm: vmPerm(false, "VM.Audit"), params: vm, handle: (*Sim).getPending},
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}/status/current", perm: vmPerm(false, "VM.Audit"), params: vm, handle: (*Sim).statusCurrent},
		{method: "POST", tmpl: "/nodes/{node}/lxc/{vmid}/status/start", perm: vmPerm(false, "VM.PowerMgmt"), params: withParams(vm,
			param{name: "skiplock", typ: tBoolean, opt: true},
			param{name: "debug", typ: tBoolean, opt: true},
		), handle: powerHandler("vzstart")},
		{method: "POST", tmpl: "/nodes/{node}/lxc/{vmid}/status/stop", perm: vmPerm(false, "VM.PowerMgmt"), params: withParams(vm,
			param{name: "skiplock", typ: tBoolean, opt: true},
			param{name: "overrule-shutdown", typ: tBoolean, opt: true},
		), handle: powerHandler("vzstop")},
		{method: "POST", tmpl: "/nodes/{node}/lxc/{vmid}/status/shutdown", perm: vmPerm(false, "VM.PowerMgmt"), params: withParams(vm,
			param{name: "timeout", typ: tInteger, opt: true, min: num(0)},
			param{name: "forceStop", typ: tBoolean, opt: true},
		), handle: powerHandler("vzshutdown")},
		{method: "POST", tmpl: "/nodes/{node}/lxc/{vmid}/status/reboot", perm: vmPerm(false, "VM.PowerMgmt"), params: withParams(vm,
			param{name: "timeout", typ: tInteger, opt: true, min: num(0)},
		), handle: powerHandler("vzreboot")},
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}/interfaces", perm: vmPerm(false, "VM.Audit"), params: vm, handle: (*Sim).interfaces},
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}/feature", perm: vmPerm(false, "VM.Audit"), params: withParams(vm,
			param{name: "feature", typ: tString, enum: []string{"snapshot", "clone", "copy"}},
			param{name: "snapname", typ: tString, opt: true, format: "pve-configid", maxLen: 40},
		), handle: (*Sim).feature},
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}/snapshot", perm: vmPerm(false, "VM.Audit"), params: vm, handle: (*Sim).listSnapshots},
		{method: "POST", tmpl: "/nodes/{node}/lxc/{vmid}/snapshot", perm: vmPerm(false, "VM.Snapshot"), params: withParams(snap,
			param{name: "description", typ: tString, opt: true},
		), handle: (*Sim).createSnapshot},
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}", perm: permAll, params: snap, handle: (*Sim).snapshotIndex},
		{method: "DELETE", tmpl: "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}", perm: vmPerm(false, "VM.Snapshot"), params: withParams(snap,
			param{name: "force", typ: tBoolean, opt: true},
		), handle: (*Sim).deleteSnapshot},
		{method: "POST", tmpl: "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback", perm: vmPerm(true, "VM.Snapshot", "VM.Snapshot.Rollback"), params: withParams(snap,
			param{name: "start", typ: tBoolean, opt: true},
		), handle: (*Sim).rollbackSnapshot},
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config", perm: vmPerm(true, "VM.Snapshot", "VM.Snapshot.Rollback", "VM.Audit"), params: snap, handle: (*Sim).snapshotConfig},
		{method: "PUT", tmpl: "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config", perm: vmPerm(false, "VM.Snapshot"), params: withParams(snap,
			param{name: "description", typ: tString, opt: true},
		), handle: (*Sim).updateSnapshotConfig},
		{method: "PUT", tmpl: "/nodes/{node}/lxc/{vmid}/resize", perm: vmPerm(true, "VM.Config.Disk"), params: withParams(vm,
			param{name: "disk", typ: tString, enum: diskEnum},
			param{name: "size", typ: tString, pattern: `\+?\d+(\.\d+)?[KMGT]?`},
			param{name: "digest", typ: tString, opt: true, maxLen: 40},
		), handle: (*Sim).resize},

		{method: "POST", tmpl: "/nodes/{node}/vzdump", perm: permAll, params: vzdumpParams, handle: (*Sim).vzdump},
		{method: "GET", tmpl: "/nodes/{node}/vzdump/extractconfig", perm: permAll, params: []param{pNode, {name: "volume", typ: tString}}, handle: (*Sim).extractConfig},
		{method: "GET", tmpl: "/nodes/{node}/storage", perm: permAll, params: []param{pNode,
			{name: "content", typ: tString, opt: true, format: "pve-storage-content-list"},
			{name: "enabled", typ: tBoolean, opt: true},
			{name: "format", typ: tBoolean, opt: true},
			{name: "storage", typ: tString, opt: true, format: "pve-storage-id"},
			{name: "target", typ: tString, opt: true, format: "pve-node"},
		}, handle: (*Sim).listStorage},
		{method: "GET", tmpl: "/nodes/{node}/storage/{storage}/content", perm: storagePerm, params: []param{pNode, pStorage,
			{name: "content", typ: tString, opt: true, format: "pve-storage-content"},
			{name: "vmid", typ: tInteger, opt: true, format: "pve-vmid", min: num(100), max: num(999999999)},
		}, handle: (*Sim).storageContent},
		{method: "GET", tmpl: "/nodes/{node}/storage/{storage}/prunebackups", perm: storagePerm, params: pruneParams, handle: (*Sim).getPrune},
		{method: "DELETE", tmpl: "/nodes/{node}/storage/{storage}/prunebackups", perm: permAll, params: pruneParams, handle: (*Sim).deletePrune},

		{method: "GET", tmpl: "/nodes/{node}/tasks", perm: permAll, params: []param{pNode,
			{name: "errors", typ: tBoolean, opt: true},
			{name: "limit", typ: tInteger, opt: true, min: num(0)},
			{name: "since", typ: tInteger, opt: true},
			{name: "source", typ: tString, opt: true, enum: []string{"archive", "active", "all"}},
			{name: "start", typ: tInteger, opt: true, min: num(0)},
			{name: "statusfilter", typ: tString, opt: true, format: "pve-task-status-type-list"},
			{name: "typefilter", typ: tString, opt: true},
			{name: "until", typ: tInteger, opt: true},
			{name: "userfilter", typ: tString, opt: true},
			{name: "vmid", typ: tInteger, opt: true, format: "pve-vmid", min: num(100), max: num(999999999)},
		}, handle: (*Sim).taskListing},
		{method: "GET", tmpl: "/nodes/{node}/tasks/{upid}/status", perm: permAll, params: []param{pNode, pUPID}, handle: (*Sim).taskStatus},
		{method: "GET", tmpl: "/nodes/{node}/tasks/{upid}/log", perm: permAll, params: []param{pNode, pUPID,
			{name: "start", typ: tInteger, opt: true, min: num(0)},
			{name: "limit", typ: tInteger, opt: true, min: num(0)},
			{name: "download", typ: tBoolean, opt: true},
		}, handle: (*Sim).taskLog},
	}
	for _, rt := range rs {
		rt.segs = strings.Split(strings.Trim(rt.tmpl, "/"), "/")
	}
	return rs
}

// powerHandler is the handler of the status/<cmd> route that starts task
// typ (vzstart, vzstop, vzshutdown, vzreboot).
func powerHandler(typ string) func(*Sim, *request) (any, error) {
	return func(s *Sim, r *request) (any, error) { return s.power(r, typ) }
}

// vmIndex is GET /nodes/{node}/lxc/{vmid}: the sub-directories, in
// pve-container src/PVE/API2/LXC.pm vmdiridx's order and no others.
func vmIndex(s *Sim, r *request) (any, error) {
	if _, err := s.lookupCT(r); err != nil {
		return nil, err
	}
	var out []map[string]string
	for _, sub := range []string{"config", "pending", "status", "vncproxy", "termproxy", "vncwebsocket", "spiceproxy", "migrate", "clone", "rrd", "rrddata", "firewall", "snapshot", "resize", "interfaces"} {
		out = append(out, map[string]string{"subdir": sub})
	}
	return out, nil
}
