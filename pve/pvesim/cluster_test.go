package pvesim

import (
	"strings"
	"testing"
)

// TestNextID (issue 9 item 8): the lowest free vmid of the cluster, or a
// vmid asserted free; a taken one is a 400 on vmid.
func TestNextID(t *testing.T) {
	inv := baseInventory()
	inv.Node("pve1").AddContainer(104, false, "arch: amd64\nhostname: x\nostype: debian\nrootfs: local-lvm:vm-104-disk-0,size=1G\n")
	e := newEnv(t, inv)
	// 100-104 are on pve1, 200 on pve2.
	if r := e.ok("GET", "/cluster/nextid"); string(r.raw) != `{"data":105}` {
		t.Errorf("nextid: %s", r.raw)
	}
	if r := e.ok("GET", "/cluster/nextid", "vmid", "150"); string(r.raw) != `{"data":150}` {
		t.Errorf("vmid=150: %s", r.raw)
	}
	r := e.call("GET", "/cluster/nextid", "vmid", "200")
	if r.status != 400 || r.body["errors"].(map[string]any)["vmid"] != "VM 200 already exists" {
		t.Errorf("vmid=200: %d %s", r.status, r.raw)
	}
	checkReturns(t, "GET /cluster/nextid", e.ok("GET", "/cluster/nextid").data())
}

// TestClusterStatus (issue 9 item 8): the cluster entry and one per node;
// Sys.Audit on /.
func TestClusterStatus(t *testing.T) {
	e := newEnv(t, baseInventory())
	l := e.ok("GET", "/cluster/status").list()
	checkReturns(t, "GET /cluster/status", l)
	if len(l) != 3 {
		t.Fatalf("%v", l)
	}
	c, n1, n2 := l[0].(map[string]any), l[1].(map[string]any), l[2].(map[string]any)
	if c["type"] != "cluster" || c["name"] != "lab" || c["nodes"] != float64(2) || c["quorate"] != float64(1) {
		t.Errorf("cluster %v", c)
	}
	if n1["name"] != "pve1" || n1["local"] != float64(1) || n2["local"] != float64(0) || n2["nodeid"] != float64(2) || n2["online"] != float64(1) {
		t.Errorf("nodes %v %v", n1, n2)
	}
	if r := e.as("ops@pve!ci=secret-ci").call("GET", "/cluster/status"); r.status != 403 || r.reason != "Permission check failed (/, Sys.Audit)" {
		t.Errorf("ops: %d %s", r.status, r.reason)
	}
}

// TestNodeStatus (issue 9 item 8): GET /nodes/{node}/status has the
// schema's keys; Sys.Audit on the node.
func TestNodeStatus(t *testing.T) {
	inv := baseInventory()
	inv.Node("pve2").Arch = "aarch64"
	e := newEnv(t, inv)
	m := e.ok("GET", "/nodes/pve2/status").obj()
	checkReturns(t, "GET /nodes/{node}/status", m)
	if m["current-kernel"].(map[string]any)["machine"] != "aarch64" || m["cpuinfo"].(map[string]any)["cpus"] != float64(8) || m["uptime"] != float64(72*3600) {
		t.Errorf("%v", m)
	}
	if !strings.HasPrefix(m["pveversion"].(string), "pve-manager/9.1.1/") {
		t.Errorf("pveversion %v", m["pveversion"])
	}
	if r := e.as("ops@pve!mem=secret-mem").call("GET", "/nodes/pve1/status"); r.status != 403 {
		t.Errorf("without Sys.Audit: %d", r.status)
	}
}

// TestStorageConfig (issue 9 item 8): /storage lists storage.cfg's
// entries the caller may audit or allocate on, by type;
// /storage/{storage} needs Datastore.Allocate.
func TestStorageConfig(t *testing.T) {
	inv := baseInventory()
	invStorage(inv, "pve1", "nas").PruneBackups = "keep-last=3"
	e := newEnv(t, inv)
	l := e.ok("GET", "/storage").list()
	checkReturns(t, "GET /storage", l)
	var ids []string
	byID := map[string]map[string]any{}
	for _, it := range l {
		m := it.(map[string]any)
		ids = append(ids, m["storage"].(string))
		byID[m["storage"].(string)] = m
	}
	if strings.Join(ids, " ") != "local local-lvm nas tank" {
		t.Fatalf("ids %v", ids)
	}
	nas, local, lvm := byID["nas"], byID["local"], byID["local-lvm"]
	if nas["shared"] != float64(1) || nas["prune-backups"] != "keep-last=3" || nas["content"] != "backup" || nas["nodes"] != nil {
		t.Errorf("nas %v", nas)
	}
	if local["content"] != "backup,rootdir,vztmpl" || local["nodes"] != "pve1" || local["shared"] != nil {
		t.Errorf("local %v", local)
	}
	if lvm["nodes"] != nil || lvm["type"] != "lvmthin" || len(lvm["digest"].(string)) != 40 {
		t.Errorf("local-lvm %v", lvm)
	}
	if l := e.ok("GET", "/storage", "type", "zfspool").list(); len(l) != 1 {
		t.Errorf("type=zfspool: %v", l)
	}
	if got := e.ok("GET", "/storage/nas").obj(); got["storage"] != "nas" || got["digest"] != nas["digest"] {
		t.Errorf("read nas %v", got)
	}
	if r := e.call("GET", "/storage/nope"); r.status != 500 || r.reason != "storage 'nope' does not exist" {
		t.Errorf("missing: %d %s", r.status, r.reason)
	}
	if r := e.as("viewer@pve!ro=secret-ro").call("GET", "/storage/nas"); r.status != 403 || r.reason != "Permission check failed (/storage/nas, Datastore.Allocate)" {
		t.Errorf("viewer read: %d %s", r.status, r.reason)
	}
	if l := e.as("ops@pve!mem=secret-mem").ok("GET", "/storage").list(); len(l) != 0 {
		t.Errorf("a token without storage rights sees %v", l)
	}
}

// TestPoolsAndAccessLists (issue 9 item 8): no pools, no groups; users by
// the caller's rights; domains without authentication.
func TestPoolsAndAccessLists(t *testing.T) {
	e := newEnv(t, baseInventory())
	if r := e.ok("GET", "/pools"); string(r.raw) != `{"data":[]}` {
		t.Errorf("pools %s", r.raw)
	}
	if r := e.call("GET", "/pools", "poolid", "prod"); r.status != 500 || r.reason != "pool 'prod' does not exist" {
		t.Errorf("poolid: %d %s", r.status, r.reason)
	}
	if r := e.call("GET", "/pools", "type", "lxc"); r.status != 400 {
		t.Errorf("type without poolid: %d %s", r.status, r.raw)
	}
	if r := e.ok("GET", "/access/groups"); string(r.raw) != `{"data":[]}` {
		t.Errorf("groups %s", r.raw)
	}
	users := e.ok("GET", "/access/users").list()
	checkReturns(t, "GET /access/users", users)
	var ids []string
	for _, u := range users {
		ids = append(ids, u.(map[string]any)["userid"].(string))
	}
	if strings.Join(ids, " ") != "admin@pve ops@pve root@pam viewer@pve" {
		t.Errorf("users %v", ids)
	}
	full := e.ok("GET", "/access/users", "full", "1").list()
	checkReturns(t, "GET /access/users", full)
	ops := full[1].(map[string]any)
	if toks, _ := ops["tokens"].([]any); len(toks) != 2 || toks[0].(map[string]any)["tokenid"] != "ci" || toks[1].(map[string]any)["privsep"] != float64(1) || ops["realm-type"] != "pve" {
		t.Errorf("ops full %v", ops)
	}
	// Without User.Modify or Sys.Audit on /access/groups: only oneself.
	own := e.as("ops@pve!ci=secret-ci").ok("GET", "/access/users").list()
	if len(own) != 1 || own[0].(map[string]any)["userid"] != "ops@pve" {
		t.Errorf("ops sees %v", own)
	}
	for _, tok := range []string{e.token, "nobody@pve!x=wrong", ""} {
		r := e.as(tok).call("GET", "/access/domains")
		if r.status != 200 || string(r.raw) != `{"data":[{"realm":"pam","type":"pam"},{"realm":"pve","type":"pve"}]}` {
			t.Errorf("domains with %q: %d %s", tok, r.status, r.raw)
		}
	}
	checkReturns(t, "GET /access/domains", e.ok("GET", "/access/domains").data())
}
