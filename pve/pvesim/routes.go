package pvesim

import "strings"

// routes are the endpoints the simulator serves, with their parameter
// tables (TestParamTablesMatchSchema compares each with apidata.json).
var routes = buildRoutes()

func buildRoutes() []*route {
	vm := []param{pNode, pVMID}
	snap := []param{pNode, pVMID, pSnapname}
	rs := []*route{
		{method: "GET", tmpl: "/version", params: nil, handle: (*Sim).version},
		{method: "GET", tmpl: "/nodes", params: nil, handle: (*Sim).listNodes},
		{method: "GET", tmpl: "/cluster/resources", params: []param{{name: "type", typ: tString, opt: true, enum: []string{"vm", "storage", "node", "sdn"}}}, handle: (*Sim).clusterResources},
		{method: "GET", tmpl: "/access/permissions", params: []param{
			{name: "path", typ: tString, opt: true},
			{name: "userid", typ: tString, opt: true, pattern: `(?:^(?:[^\s:/]+)\@(?:[A-Za-z][A-Za-z0-9\.\-_]+)(?:!(?:[A-Za-z][A-Za-z0-9\.\-_]+))?$)`},
		}, handle: (*Sim).accessPermissions},

		{method: "GET", tmpl: "/nodes/{node}/lxc", params: []param{pNode}, handle: (*Sim).listCTs},
		{method: "POST", tmpl: "/nodes/{node}/lxc", params: withParams(ctOptions,
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
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}", params: vm, handle: vmIndex},
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}/config", params: withParams(vm,
			param{name: "current", typ: tBoolean, opt: true},
			param{name: "snapshot", typ: tString, opt: true, format: "pve-configid", maxLen: 40},
		), handle: (*Sim).getConfig},
		{method: "PUT", tmpl: "/nodes/{node}/lxc/{vmid}/config", params: withParams(ctOptions,
			pNode, pVMID,
			param{name: "delete", typ: tString, opt: true, format: "pve-configid-list"},
			param{name: "revert", typ: tString, opt: true, format: "pve-configid-list"},
			param{name: "digest", typ: tString, opt: true, maxLen: 40},
		), handle: (*Sim).putConfig},
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}/pending", params: vm, handle: (*Sim).getPending},
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}/status/current", params: vm, handle: (*Sim).statusCurrent},
		{method: "POST", tmpl: "/nodes/{node}/lxc/{vmid}/status/start", params: withParams(vm,
			param{name: "skiplock", typ: tBoolean, opt: true},
			param{name: "debug", typ: tBoolean, opt: true},
		), handle: powerHandler("vzstart")},
		{method: "POST", tmpl: "/nodes/{node}/lxc/{vmid}/status/stop", params: withParams(vm,
			param{name: "skiplock", typ: tBoolean, opt: true},
			param{name: "overrule-shutdown", typ: tBoolean, opt: true},
		), handle: powerHandler("vzstop")},
		{method: "POST", tmpl: "/nodes/{node}/lxc/{vmid}/status/shutdown", params: withParams(vm,
			param{name: "timeout", typ: tInteger, opt: true, min: num(0)},
			param{name: "forceStop", typ: tBoolean, opt: true},
		), handle: powerHandler("vzshutdown")},
		{method: "POST", tmpl: "/nodes/{node}/lxc/{vmid}/status/reboot", params: withParams(vm,
			param{name: "timeout", typ: tInteger, opt: true, min: num(0)},
		), handle: powerHandler("vzreboot")},
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}/feature", params: withParams(vm,
			param{name: "feature", typ: tString, enum: []string{"snapshot", "clone", "copy"}},
			param{name: "snapname", typ: tString, opt: true, format: "pve-configid", maxLen: 40},
		), handle: (*Sim).feature},
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}/snapshot", params: vm, handle: (*Sim).listSnapshots},
		{method: "POST", tmpl: "/nodes/{node}/lxc/{vmid}/snapshot", params: withParams(snap,
			param{name: "description", typ: tString, opt: true},
		), handle: (*Sim).createSnapshot},
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}", params: snap, handle: (*Sim).snapshotIndex},
		{method: "DELETE", tmpl: "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}", params: withParams(snap,
			param{name: "force", typ: tBoolean, opt: true},
		), handle: (*Sim).deleteSnapshot},
		{method: "POST", tmpl: "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback", params: withParams(snap,
			param{name: "start", typ: tBoolean, opt: true},
		), handle: (*Sim).rollbackSnapshot},
		{method: "GET", tmpl: "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config", params: snap, handle: (*Sim).snapshotConfig},
		{method: "PUT", tmpl: "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config", params: withParams(snap,
			param{name: "description", typ: tString, opt: true},
		), handle: (*Sim).updateSnapshotConfig},
		{method: "PUT", tmpl: "/nodes/{node}/lxc/{vmid}/resize", params: withParams(vm,
			param{name: "disk", typ: tString, enum: diskEnum},
			param{name: "size", typ: tString, pattern: `\+?\d+(\.\d+)?[KMGT]?`},
			param{name: "digest", typ: tString, opt: true, maxLen: 40},
		), handle: (*Sim).resize},

		{method: "POST", tmpl: "/nodes/{node}/vzdump", params: vzdumpParams, handle: (*Sim).vzdump},
		{method: "GET", tmpl: "/nodes/{node}/storage", params: []param{pNode,
			{name: "content", typ: tString, opt: true, format: "pve-storage-content-list"},
			{name: "enabled", typ: tBoolean, opt: true},
			{name: "format", typ: tBoolean, opt: true},
			{name: "storage", typ: tString, opt: true, format: "pve-storage-id"},
			{name: "target", typ: tString, opt: true, format: "pve-node"},
		}, handle: (*Sim).listStorage},
		{method: "GET", tmpl: "/nodes/{node}/storage/{storage}/content", params: []param{pNode, pStorage,
			{name: "content", typ: tString, opt: true, format: "pve-storage-content"},
			{name: "vmid", typ: tInteger, opt: true, format: "pve-vmid", min: num(100), max: num(999999999)},
		}, handle: (*Sim).storageContent},
		{method: "GET", tmpl: "/nodes/{node}/storage/{storage}/prunebackups", params: pruneParams, handle: (*Sim).getPrune},
		{method: "DELETE", tmpl: "/nodes/{node}/storage/{storage}/prunebackups", params: pruneParams, handle: (*Sim).deletePrune},

		{method: "GET", tmpl: "/nodes/{node}/tasks", params: []param{pNode,
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
		{method: "GET", tmpl: "/nodes/{node}/tasks/{upid}/status", params: []param{pNode, pUPID}, handle: (*Sim).taskStatus},
		{method: "GET", tmpl: "/nodes/{node}/tasks/{upid}/log", params: []param{pNode, pUPID,
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

// vmIndex is GET /nodes/{node}/lxc/{vmid}: the sub-directories.
func vmIndex(s *Sim, r *request) (any, error) {
	if _, err := s.lookupCT(r); err != nil {
		return nil, err
	}
	var out []map[string]string
	for _, sub := range []string{"config", "pending", "status", "snapshot", "resize", "feature", "rrd", "rrddata", "firewall", "vncproxy", "termproxy", "vncwebsocket", "spiceproxy", "migrate", "clone", "template", "interfaces", "mtunnel", "mtunnelwebsocket", "remote_migrate", "move_volume"} {
		out = append(out, map[string]string{"subdir": sub})
	}
	return out, nil
}
