package pvesim

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

func permInventory() *Inventory {
	inv := baseInventory()
	inv.AddUser("vmonly@pve", Role("/vms", "PVEVMAdmin")).AddToken("tk", "secret-vmonly", false)
	inv.AddUser("root@pam").AddToken("tok", "secret-root", false)
	return inv
}

func TestPermissionRules(t *testing.T) {
	e := newEnv(t, permInventory())
	const (
		admin  = "admin@pve!full=secret-admin"
		root   = "root@pam!tok=secret-root"
		mem    = "ops@pve!mem=secret-mem"
		viewer = "viewer@pve!ro=secret-ro"
		vmonly = "vmonly@pve!tk=secret-vmonly"
	)
	put := "/nodes/pve1/lxc/100/config"
	runErrCases(t, e, []errCase{
		// Tokens are never root@pam, root@pam's own tokens included.
		{name: "bind mount", token: admin, method: "PUT", path: put, kv: []string{"mp1", "/srv/data,mp=/data"}, status: 403,
			msg: "Permission check failed (mount point type bind is only allowed for root@pam)"},
		{name: "bind mount, root@pam token", token: root, method: "PUT", path: put, kv: []string{"mp1", "/srv/data,mp=/data"}, status: 403,
			msg: "Permission check failed (mount point type bind is only allowed for root@pam)"},
		{name: "device mount", token: admin, method: "PUT", path: put, kv: []string{"mp1", "/dev/sdb1,mp=/data"}, status: 403,
			msg: "Permission check failed (mount point type device is only allowed for root@pam)"},
		{name: "devN", token: admin, method: "PUT", path: put, kv: []string{"dev0", "/dev/ttyUSB0"}, status: 403,
			msg: "Permission check failed (configuring device passthrough is only allowed for root@pam)"},
		{name: "hookscript", token: admin, method: "PUT", path: put, kv: []string{"hookscript", "local:snippets/hook.sh"}, status: 403,
			msg: "Permission check failed (changing the hookscript is only allowed for root@pam)"},
		{name: "features other than nesting", token: admin, method: "PUT", path: put, kv: []string{"features", "keyctl=1,nesting=1"}, status: 403,
			msg: "Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)"},
		{name: "new features other than nesting, even =0", token: admin, method: "PUT", path: put, kv: []string{"features", "keyctl=0"}, status: 403,
			msg: "Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)"},
		{name: "nesting needs VM.Allocate", token: mem, method: "PUT", path: put, kv: []string{"features", "nesting=1"}, status: 403,
			msg: "Permission check failed (/vms/100, VM.Allocate)"},
		{name: "features on a privileged CT", token: admin, method: "PUT", path: "/nodes/pve1/lxc/102/config", kv: []string{"features", "nesting=1"}, status: 403,
			msg: "Permission check failed (changing feature flags for privileged container is only allowed for root@pam)"},
		// check_api2_permissions runs before validation (pve-manager
		// HTTPServer.pm rest_handler): no rights is 403 even for an
		// invalid request, with the raw parameter in the path.
		{name: "permission before validation", token: viewer, method: "PUT", path: put, kv: []string{"memory", "lots", "bogus", "1"}, status: 403,
			msg: "Permission check failed (/vms/100, VM.Config.Disk|VM.Config.CPU|VM.Config.Memory|VM.Config.Network|VM.Config.Options)"},
		{name: "permission before validation, bad vmid", token: mem, method: "GET", path: "/nodes/pve1/lxc/abc/config", status: 403,
			msg: "Permission check failed (/vms/abc, VM.Audit)"},
		{name: "validation once permitted", token: admin, method: "PUT", path: put, kv: []string{"memory", "lots"}, status: 400,
			msg: "Parameter verification failed."},
		// Per-key privileges.
		{name: "method check any-of", token: viewer, method: "PUT", path: put, kv: []string{"memory", "2048"}, status: 403,
			msg: "Permission check failed (/vms/100, VM.Config.Disk|VM.Config.CPU|VM.Config.Memory|VM.Config.Network|VM.Config.Options)"},
		{name: "privsep token lacks CPU", token: mem, method: "PUT", path: put, kv: []string{"cores", "4"}, status: 403,
			msg: "Permission check failed (/vms/100, VM.Config.CPU)"},
		{name: "privsep token on another CT", token: mem, method: "GET", path: "/nodes/pve1/lxc/101/config", status: 403,
			msg: "Permission check failed (/vms/101, VM.Audit)"},
		{name: "privsep token, options key", token: mem, method: "PUT", path: put, kv: []string{"memory", "2048", "onboot", "1"}, status: 403,
			msg: "Permission check failed (/vms/100, VM.Config.Options)"},
		{name: "new volume needs AllocateSpace", token: vmonly, method: "PUT", path: put, kv: []string{"mp1", "local-lvm:1,mp=/data"}, status: 403,
			msg: "Permission check failed (/storage/local-lvm, Datastore.AllocateSpace)"},
		{name: "net needs SDN.Use", token: vmonly, method: "PUT", path: put, kv: []string{"net1", "name=eth1,bridge=vmbr1"}, status: 403,
			msg: "Permission check failed (/sdn/zones/localnetwork/vmbr1, SDN.Use)"},
		{name: "hostname is a network key", token: mem, method: "PUT", path: put, kv: []string{"hostname", "x"}, status: 403,
			msg: "Permission check failed (/vms/100, VM.Config.Network)"},
		{name: "delete needs the key's privilege", token: mem, method: "PUT", path: put, kv: []string{"delete", "cores"}, status: 403,
			msg: "Permission check failed (/vms/100, VM.Config.CPU)"},
		{name: "snapshot needs VM.Snapshot", token: viewer, method: "POST", path: "/nodes/pve1/lxc/100/snapshot", kv: []string{"snapname", "x1"}, status: 403,
			msg: "Permission check failed (/vms/100, VM.Snapshot)"},
		{name: "power needs VM.PowerMgmt", token: viewer, method: "POST", path: "/nodes/pve1/lxc/100/status/stop", status: 403,
			msg: "Permission check failed (/vms/100, VM.PowerMgmt)"},
		{name: "vzdump needs AllocateSpace", token: vmonly, method: "POST", path: "/nodes/pve1/vzdump", kv: []string{"vmid", "100", "storage", "nas"}, status: 403,
			msg: "Permission check failed (/storage/nas, Datastore.AllocateSpace)"},
		{name: "prune delete needs Allocate", token: viewer, method: "DELETE", path: "/nodes/pve1/storage/nas/prunebackups", status: 403,
			msg: "Permission check failed (/storage/nas, Datastore.Allocate)"},
	})
	t.Run("allowed", func(t *testing.T) {
		e.as(mem).ok("PUT", put, "memory", "1536", "swap", "256")
		e.as(admin).ok("PUT", put, "features", "nesting=1")
		// Unchanged flags need no privilege (only changes are checked,
		// against the current config: apply the pending change first).
		e.as(admin).task("POST", "/nodes/pve1/lxc/100/status/reboot")
		e.as(mem).ok("PUT", put, "features", "nesting=yes", "memory", "1500")
		e.as(viewer).ok("GET", put)
	})
	t.Run("listings are filtered", func(t *testing.T) {
		var ids []string
		for _, it := range e.as(mem).ok("GET", "/cluster/resources", "type", "vm").list() {
			ids = append(ids, fmt.Sprint(it.(map[string]any)["vmid"]))
		}
		if strings.Join(ids, ",") != "100" {
			t.Errorf("privsep token sees %v", ids)
		}
		if n := len(e.as(vmonly).ok("GET", "/nodes/pve1/storage").list()); n != 0 {
			t.Errorf("vmonly sees %d storages", n)
		}
	})
	t.Run("access/permissions intersects privsep", func(t *testing.T) {
		perms := e.as(mem).ok("GET", "/access/permissions", "path", "/vms/100").obj()
		var got []string
		for k := range perms["/vms/100"].(map[string]any) {
			got = append(got, k)
		}
		sort.Strings(got)
		if strings.Join(got, ",") != "VM.Audit,VM.Config.Memory" {
			t.Errorf("got %v", got)
		}
		perms = e.as(mem).ok("GET", "/access/permissions", "path", "/vms/101").obj()
		if len(perms["/vms/101"].(map[string]any)) != 0 {
			t.Errorf("/vms/101: %v", perms)
		}
	})
}

func TestACLResolution(t *testing.T) {
	f := false
	for _, tc := range []struct {
		name string
		acl  []ACL
		path string
		want string
	}{
		{"propagates", []ACL{Privs("/vms", "VM.Audit")}, "/vms/100", "VM.Audit"},
		{"no propagate", []ACL{{Path: "/vms", Privileges: []string{"VM.Audit"}, Propagate: &f}}, "/vms/100", ""},
		{"no propagate, exact path", []ACL{{Path: "/vms", Privileges: []string{"VM.Audit"}, Propagate: &f}}, "/vms", "VM.Audit"},
		{"deeper replaces", []ACL{Role("/", "Administrator"), Role("/vms/100", "NoAccess")}, "/vms/100", ""},
		{"deeper replaces, sibling kept", []ACL{Role("/", "PVEAuditor"), Privs("/vms/100", "VM.PowerMgmt")}, "/vms/101", "VM.Audit,VM.GuestAgent.Audit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for p := range aclPrivs(tc.acl, tc.path) {
				if strings.HasPrefix(p, "VM.") {
					got = append(got, p)
				}
			}
			sort.Strings(got)
			if strings.Join(got, ",") != tc.want {
				t.Errorf("got %v, want %s", got, tc.want)
			}
		})
	}
}
