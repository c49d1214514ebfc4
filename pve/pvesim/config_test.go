package pvesim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// errCase is one request that must fail with PVE's status and message.
type errCase struct {
	name   string
	token  string // "" = admin
	method string
	path   string
	kv     []string
	status int
	// msg is the expected "message" without the trailing newline; for 400
	// errs is the expected errors map.
	msg  string
	errs map[string]string
}

func runErrCases(t *testing.T, e *env, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e
			if tc.token != "" {
				c = e.as(tc.token)
			}
			r := c.call(tc.method, tc.path, tc.kv...)
			if r.status != tc.status {
				t.Fatalf("status %d (%s), want %d", r.status, r.raw, tc.status)
			}
			if tc.msg != "" && r.body["message"] != tc.msg+"\n" {
				t.Errorf("message %q, want %q", r.body["message"], tc.msg+"\n")
			}
			if tc.errs != nil {
				got, _ := json.Marshal(r.body["errors"])
				want, _ := json.Marshal(tc.errs)
				if string(got) != string(want) {
					t.Errorf("errors %s, want %s", got, want)
				}
			}
		})
	}
}

func TestParameterValidation(t *testing.T) {
	e := newEnv(t, baseInventory())
	unknown := "property is not defined in schema and the schema does not allow additional properties"
	runErrCases(t, e, []errCase{
		{name: "unknown parameter", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"memroy", "512"}, status: 400,
			msg: "Parameter verification failed.", errs: map[string]string{"memroy": unknown}},
		{name: "integer", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"cores", "two"}, status: 400,
			errs: map[string]string{"cores": "type check ('integer') failed - got 'two'"}},
		{name: "boolean", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"onboot", "yes"}, status: 400,
			errs: map[string]string{"onboot": "type check ('boolean') failed - got 'yes'"}},
		{name: "number", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"cpulimit", "1,5"}, status: 400,
			errs: map[string]string{"cpulimit": "type check ('number') failed - got '1,5'"}},
		{name: "minimum", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"memory", "8"}, status: 400,
			errs: map[string]string{"memory": "value must have a minimum value of 16"}},
		{name: "maximum", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"cores", "9000"}, status: 400,
			errs: map[string]string{"cores": "value must have a maximum value of 8192"}},
		{name: "enum", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"ostype", "windows"}, status: 400,
			errs: map[string]string{"ostype": "value 'windows' does not have a value in the enumeration 'debian, devuan, ubuntu, centos, fedora, opensuse, archlinux, alpine, gentoo, nixos, unmanaged'"}},
		{name: "dns-name format", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"hostname", "web_1"}, status: 400,
			errs: map[string]string{"hostname": "invalid format - value does not look like a valid DNS name\n"}},
		{name: "configid-list format", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"delete", "swap,1x"}, status: 400,
			errs: map[string]string{"delete": "invalid format - invalid configuration ID '1x'\n"}},
		{name: "mp unknown key", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"mp1", "local-lvm:1,mp=/data,foo=1"}, status: 400,
			errs: map[string]string{"mp1": "invalid format - invalid key in comma-separated list property: foo\n"}},
		// pve_parse_startup_order returns undef for a Perl-false value.
		{name: "startup 0", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"startup", "0"}, status: 400,
			errs: map[string]string{"startup": "invalid format - unable to parse startup options\n"}},
		{name: "startup bad part", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"startup", "order=1,up=x"}, status: 400,
			errs: map[string]string{"startup": "invalid format - unable to parse startup options\n"}},
		// pve-container 6.x has idmap; PVE 9.1's schema does not (README).
		{name: "mp idmap", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"mp1", "local-lvm:1,mp=/data,idmap=passthrough"}, status: 400,
			errs: map[string]string{"mp1": "invalid format - invalid key in comma-separated list property: idmap\n"}},
		{name: "rootfs idmap", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"rootfs", "local-lvm:vm-100-disk-0,size=8G,idmap=passthrough"}, status: 400,
			errs: map[string]string{"rootfs": "invalid format - invalid key in comma-separated list property: idmap\n"}},
		{name: "mp missing mp", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"mp1", "local-lvm:1"}, status: 400,
			errs: map[string]string{"mp1": "invalid format - format error\nmp1.mp: property is missing and it is not optional\n"}},
		{name: "mp index out of range", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"mp256", "local-lvm:1,mp=/x"}, status: 400,
			errs: map[string]string{"mp256": unknown}},
		{name: "several at once", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"cores", "x", "swap", "-1"}, status: 400,
			errs: map[string]string{"cores": "type check ('integer') failed - got 'x'", "swap": "value must have a minimum value of 0"}},
		{name: "vmid path format", method: "GET", path: "/nodes/pve1/lxc/99/config", status: 400,
			errs: map[string]string{"vmid": "invalid format - value does not look like a valid VM ID\n"}},
		{name: "snapname required", method: "POST", path: "/nodes/pve1/lxc/100/snapshot", status: 400,
			errs: map[string]string{"snapname": "property is missing and it is not optional"}},
		{name: "snapname format", method: "POST", path: "/nodes/pve1/lxc/100/snapshot", kv: []string{"snapname", "1st"}, status: 400,
			errs: map[string]string{"snapname": "invalid format - invalid configuration ID '1st'\n"}},
		{name: "snapname length", method: "POST", path: "/nodes/pve1/lxc/100/snapshot", kv: []string{"snapname", "s" + strings.Repeat("x", 40)}, status: 400,
			errs: map[string]string{"snapname": "value may only be 40 characters long"}},
		{name: "requires storage", method: "POST", path: "/nodes/pve1/vzdump", kv: []string{"vmid", "100", "protected", "1"}, status: 400,
			errs: map[string]string{"storage": "missing property required by 'protected'"}},
		{name: "prune-backups property string", method: "GET", path: "/nodes/pve1/storage/nas/prunebackups", kv: []string{"prune-backups", "keep-daily=x"}, status: 400,
			errs: map[string]string{"prune-backups": "invalid format - format error\nprune-backups.keep-daily: type check ('integer') failed - got 'x'\n"}},
		// parse_property_string dies on an unknown key before check_object
		// runs (pve-common JSONSchema.pm, since 095b88f), so PVE never says
		// "property is not defined in schema" inside a property string.
		{name: "prune-backups unknown key", method: "POST", path: "/nodes/pve1/vzdump", kv: []string{"vmid", "100", "prune-backups", "keep-last=1,keep-hourlies=2"}, status: 400,
			errs: map[string]string{"prune-backups": "invalid format - invalid key in comma-separated list property: keep-hourlies\n"}},
		{name: "prune-backups two bad values", method: "POST", path: "/nodes/pve1/vzdump", kv: []string{"vmid", "100", "prune-backups", "keep-last=-1,keep-all=maybe"}, status: 400,
			errs: map[string]string{"prune-backups": "invalid format - format error\nprune-backups.keep-all: type check ('boolean') failed - got 'maybe'\nprune-backups.keep-last: value must have a minimum value of 0\n"}},
		{name: "keep-all with others", method: "GET", path: "/nodes/pve1/storage/nas/prunebackups", kv: []string{"prune-backups", "keep-all=1,keep-last=2"}, status: 400,
			errs: map[string]string{"prune-backups": "invalid format - keep-all cannot be set together with other options.\n"}},
		{name: "resize size pattern", method: "PUT", path: "/nodes/pve1/lxc/100/resize", kv: []string{"disk", "rootfs", "size", "-1G"}, status: 400,
			errs: map[string]string{"size": "value does not match the regex pattern"}},
		{name: "resize disk enum", method: "PUT", path: "/nodes/pve1/lxc/100/resize", kv: []string{"disk", "unused0", "size", "+1G"}, status: 400},
	})
}

func TestPutConfigRules(t *testing.T) {
	e := newEnv(t, baseInventory())
	digest := e.ok("GET", "/nodes/pve1/lxc/100/config").obj()["digest"].(string)
	runErrCases(t, e, []errCase{
		{name: "stale digest", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"memory", "2048", "digest", strings.Repeat("0", 40)}, status: 500,
			msg: "detected modified configuration - file changed by other user? Try again."},
		{name: "no options", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"digest", digest}, status: 500, msg: "no options specified"},
		{name: "set and delete", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"memory", "2048", "delete", "memory"}, status: 400,
			errs: map[string]string{"delete": "you can't use '-memory' and -delete memory' at the same time"}},
		{name: "delete required", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"delete", "memory"}, status: 500,
			msg: "unable to delete required option 'memory'"},
		{name: "modify unprivileged", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"unprivileged", "0"}, status: 500,
			msg: "unable to modify read-only option: 'unprivileged'"},
		{name: "missing ct", method: "PUT", path: "/nodes/pve1/lxc/150/config", kv: []string{"memory", "512"}, status: 500,
			msg: "Configuration file 'nodes/pve1/lxc/150.conf' does not exist"},
		{name: "ct on another node", method: "GET", path: "/nodes/pve1/lxc/200/config", status: 500,
			msg: "Configuration file 'nodes/pve1/lxc/200.conf' does not exist"},
		{name: "unknown node", method: "GET", path: "/nodes/pve9/lxc/100/config", status: 500, msg: "hostname lookup 'pve9' failed - failed to get address info for: pve9: Name or service not known"},
		{name: "hotplug failure", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"mp1", "local-lvm:100000,mp=/big"}, status: 400,
			errs: map[string]string{"mp1": "unable to hotplug mp1: not enough space on storage 'local-lvm'\n"}},
		{name: "apply failure on a stopped CT", method: "PUT", path: "/nodes/pve1/lxc/102/config", kv: []string{"mp1", "local-lvm:100000,mp=/big"}, status: 400,
			errs: map[string]string{"mp1": "unable to apply pending change mp1 : not enough space on storage 'local-lvm'\n"}},
		{name: "storage without rootdir", method: "PUT", path: "/nodes/pve1/lxc/101/config", kv: []string{"mp1", "nas:1,mp=/data"}, status: 500,
			msg: "storage 'nas' does not allow content type 'rootdir' (Container)"},
	})

	t.Run("digest matches", func(t *testing.T) {
		e.ok("PUT", "/nodes/pve1/lxc/100/config", "cpuunits", "200", "digest", digest)
	})
	t.Run("locked", func(t *testing.T) {
		if err := e.sim.HoldLock(102, "backup", time.Hour); err != nil {
			t.Fatal(err)
		}
		runErrCases(t, e, []errCase{{name: "backup lock", method: "PUT", path: "/nodes/pve1/lxc/102/config", kv: []string{"memory", "300"}, status: 500, msg: "CT is locked (backup)"}})
		e.sim.Clock().Advance(time.Hour)
		e.ok("PUT", "/nodes/pve1/lxc/102/config", "memory", "300")
		if strings.Contains(e.conf(102), "lock:") {
			t.Fatalf("lock not released:\n%s", e.conf(102))
		}
	})
}

// TestHotplugAndPending: on a running container, hot keys reach the
// current config and the rest stays in [pve:pending] until a restart; on a
// stopped one everything is applied at once.
func TestHotplugAndPending(t *testing.T) {
	e := newEnv(t, baseInventory())
	e.ok("PUT", "/nodes/pve1/lxc/100/config", "memory", "2048", "hostname", "web2", "nameserver", "1.1.1.1", "cpulimit", "1.5")
	cur := e.ok("GET", "/nodes/pve1/lxc/100/config", "current", "1").obj()
	merged := e.ok("GET", "/nodes/pve1/lxc/100/config").obj()
	for _, tc := range []struct {
		key          string
		cur, merged  any
		pendingEntry bool
	}{
		{"memory", float64(2048), float64(2048), false},
		{"hostname", "web2", "web2", false},
		{"cpulimit", "1.5", "1.5", false}, // numbers stay strings (check_type)
		{"nameserver", nil, "1.1.1.1", true},
	} {
		if cur[tc.key] != tc.cur || merged[tc.key] != tc.merged {
			t.Errorf("%s: current=1 %v, merged %v; want %v, %v", tc.key, cur[tc.key], merged[tc.key], tc.cur, tc.merged)
		}
	}
	pending := map[string]map[string]any{}
	for _, it := range e.ok("GET", "/nodes/pve1/lxc/100/pending").list() {
		m := it.(map[string]any)
		pending[m["key"].(string)] = m
	}
	if p := pending["nameserver"]; p == nil || p["pending"] != "1.1.1.1" || p["value"] != nil {
		t.Errorf("pending nameserver: %v", p)
	}
	if p := pending["memory"]; p == nil || p["value"] != float64(2048) || p["pending"] != nil {
		t.Errorf("pending memory: %v", p)
	}
	if !strings.Contains(e.conf(100), "[pve:pending]\nnameserver: 1.1.1.1\n") {
		t.Errorf("config:\n%s", e.conf(100))
	}

	t.Run("revert", func(t *testing.T) {
		e.ok("PUT", "/nodes/pve1/lxc/100/config", "searchdomain", "lan", "revert", "nameserver")
		c := e.conf(100)
		if strings.Contains(c, "nameserver") || !strings.Contains(c, "searchdomain: lan") {
			t.Fatalf("after revert:\n%s", c)
		}
	})
	t.Run("delete on running", func(t *testing.T) {
		e.ok("PUT", "/nodes/pve1/lxc/100/config", "delete", "cpulimit,mp0")
		c := e.conf(100)
		if strings.Contains(c, "cpulimit") {
			t.Errorf("cpulimit delete is hot:\n%s", c)
		}
		if !strings.Contains(c, "delete: mp0") {
			t.Errorf("mp0 delete must stay pending:\n%s", c)
		}
	})
	t.Run("new mount point on running is hot", func(t *testing.T) {
		e.ok("PUT", "/nodes/pve1/lxc/100/config", "mp1", "local-lvm:2,mp=/data")
		cur := e.ok("GET", "/nodes/pve1/lxc/100/config", "current", "1").obj()
		if cur["mp1"] != "local-lvm:vm-100-disk-2,mp=/data,size=2G" {
			t.Fatalf("mp1: %v", cur["mp1"])
		}
	})
	t.Run("reboot applies pending", func(t *testing.T) {
		st, log := e.task("POST", "/nodes/pve1/lxc/100/status/reboot")
		if st["exitstatus"] != "OK" {
			t.Fatalf("%v %v", st, log)
		}
		c := e.conf(100)
		if strings.Contains(c, "[pve:pending]") || strings.Contains(c, "mp0:") || !strings.Contains(c, "unused0: local-lvm:vm-100-disk-1") {
			t.Fatalf("after reboot:\n%s", c)
		}
		if !e.sim.Running(100) {
			t.Fatal("not running after reboot")
		}
	})
	t.Run("stopped applies at once", func(t *testing.T) {
		e.ok("PUT", "/nodes/pve1/lxc/102/config", "nameserver", "9.9.9.9", "memory", "384")
		c := e.conf(102)
		if strings.Contains(c, "[pve:pending]") || !strings.Contains(c, "nameserver: 9.9.9.9") || !strings.Contains(c, "memory: 384") {
			t.Fatalf("stopped:\n%s", c)
		}
	})
}

func TestPowerRules(t *testing.T) {
	inv := baseInventory()
	inv.Node("pve1").Containers[2].Config += "\n[pve:pending]\nmemory: 333\n" // ct 102, stopped
	e := newEnv(t, inv)
	runErrCases(t, e, []errCase{
		{name: "start running", method: "POST", path: "/nodes/pve1/lxc/100/status/start", status: 500, msg: "CT 100 already running"},
		{name: "stop stopped", method: "POST", path: "/nodes/pve1/lxc/101/status/stop", status: 500, msg: "CT 101 not running"},
		{name: "shutdown stopped", method: "POST", path: "/nodes/pve1/lxc/101/status/shutdown", status: 500, msg: "CT 101 not running"},
		{name: "reboot stopped", method: "POST", path: "/nodes/pve1/lxc/101/status/reboot", status: 500, msg: "VM 101 not running"},
		{name: "skiplock is root only", method: "POST", path: "/nodes/pve1/lxc/101/status/start", kv: []string{"skiplock", "1"}, status: 400,
			errs: map[string]string{"skiplock": "Only root may use this option."}},
	})
	st, _ := e.task("POST", "/nodes/pve1/lxc/102/status/start")
	if st["exitstatus"] != "OK" || st["type"] != "vzstart" || st["id"] != "102" {
		t.Fatalf("start: %v", st)
	}
	if c := e.conf(102); !e.sim.Running(102) || strings.Contains(c, "pending") || !strings.Contains(c, "memory: 333") {
		t.Fatalf("start must apply pending:\n%s", c)
	}
	if st, _ := e.task("POST", "/nodes/pve1/lxc/102/status/shutdown"); st["exitstatus"] != "OK" || e.sim.Running(102) {
		t.Fatalf("shutdown: %v", st)
	}
	e.task("POST", "/nodes/pve1/lxc/102/status/start")
	if st, _ := e.task("POST", "/nodes/pve1/lxc/102/status/stop"); st["exitstatus"] != "OK" || e.sim.Running(102) {
		t.Fatalf("stop: %v", st)
	}
	cur := e.ok("GET", "/nodes/pve1/lxc/100/status/current").obj()
	if cur["status"] != "running" || cur["vmid"] != float64(100) || cur["maxmem"] != float64(1024<<20) {
		t.Errorf("status/current: %v", cur)
	}
}

func TestResizeRules(t *testing.T) {
	e := newEnv(t, baseInventory())
	runErrCases(t, e, []errCase{
		{name: "shrink", method: "PUT", path: "/nodes/pve1/lxc/100/resize", kv: []string{"disk", "rootfs", "size", "4G"}, status: 500, msg: "unable to shrink disk size"},
		{name: "same size", method: "PUT", path: "/nodes/pve1/lxc/100/resize", kv: []string{"disk", "rootfs", "size", "8G"}, status: 500, msg: "disk is already at specified size"},
		{name: "bind mount", method: "PUT", path: "/nodes/pve1/lxc/101/resize", kv: []string{"disk", "mp0", "size", "+1G"}, status: 500, msg: "unable to parse volume ID '/tank/media'"},
		{name: "stale digest", method: "PUT", path: "/nodes/pve1/lxc/100/resize", kv: []string{"disk", "rootfs", "size", "+1G", "digest", strings.Repeat("a", 40)}, status: 500,
			msg: "detected modified configuration - file changed by other user? Try again."},
	})
	for _, tc := range []struct{ disk, size, want string }{
		{"rootfs", "+1G", "rootfs: local-lvm:vm-100-disk-0,size=9G"},
		{"rootfs", "10G", "rootfs: local-lvm:vm-100-disk-0,size=10G"},
		{"mp0", "+512M", "mp0: local-lvm:vm-100-disk-1,mp=/srv,backup=1,size=4608M"},
		{"mp0", "5368709120", "mp0: local-lvm:vm-100-disk-1,mp=/srv,backup=1,size=5G"}, // a bare number is bytes
	} {
		st, log := e.task("PUT", "/nodes/pve1/lxc/100/resize", "disk", tc.disk, "size", tc.size)
		if st["exitstatus"] != "OK" || st["type"] != "resize" {
			t.Fatalf("%s %s: %v %v", tc.disk, tc.size, st, log)
		}
		if c := e.conf(100); !strings.Contains(c, tc.want+"\n") {
			t.Errorf("%s %s: want %q in\n%s", tc.disk, tc.size, tc.want, c)
		}
	}
}
