package pvesim

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestExampleInventoryLoads(t *testing.T) {
	inv, err := LoadInventory("../../examples/sim/inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(inv)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tokens()) != 2 {
		t.Errorf("tokens: %v", s.Tokens())
	}
	// Configs pasted verbatim come back unchanged.
	for _, n := range inv.Nodes {
		for _, c := range n.Containers {
			got, _ := s.ConfigText(c.VMID)
			if got != c.Config {
				t.Errorf("ct %d config changed on load:\n%s", c.VMID, cmp.Diff(c.Config, got))
			}
		}
	}
}

func TestInventoryErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want string
	}{
		{"unknown key", "cluster: x\nnodes: [{name: a, bogus: 1}]\n", "unknown field"},
		{"no nodes", "cluster: x\n", "no nodes"},
		{"storage type", "nodes: [{name: a, storages: [{id: s1, type: ext4, content: [rootdir]}]}]\n", "unknown type"},
		{"volume on missing storage", "nodes: [{name: a, containers: [{vmid: 100, config: \"rootfs: nope:vm-100-disk-0,size=8G\\n\"}]}]\n", "storage 'nope' does not exist"},
		{"duplicate vmid", "nodes: [{name: a, containers: [{vmid: 100, config: \"\"}, {vmid: 100, config: \"\"}]}]\n", "listed twice"},
		{"bad role", "nodes: [{name: a}]\nusers: [{id: u@pve, acl: [{path: /, role: Boss}]}]\n", "unknown role"},
		{"bad backup volid", "nodes: [{name: a, storages: [{id: nas, type: nfs, content: [backup], backups: [{volid: other:backup/x.tar}]}]}]\n", "is not nas:backup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := ParseInventory([]byte(tc.yaml))
			if err == nil {
				_, err = New(inv)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestWireFormat(t *testing.T) {
	e := newEnv(t, baseInventory())
	legacy := newEnv(t, baseInventory(), WithLegacyErrors())
	for _, tc := range []struct {
		name       string
		env        *env
		token      string
		method     string
		path       string
		kv         []string
		wantStatus int
		wantReason string
		wantBody   string // exact body, "" = no check
	}{
		{name: "envelope", env: e, method: "GET", path: "/version", wantStatus: 200, wantReason: "OK",
			wantBody: `{"data":{"release":"9.1","repoid":"42db4a6cf33dac83","version":"9.1.1"}}`},
		{name: "no token", env: e, token: "-", method: "GET", path: "/version", wantStatus: 401, wantReason: "No ticket", wantBody: ""},
		{name: "wrong secret", env: e, token: "admin@pve!full=wrong", method: "GET", path: "/version", wantStatus: 401, wantReason: "Authentication failed!"},
		{name: "unknown token", env: e, token: "root@pam!x=y", method: "GET", path: "/version", wantStatus: 401, wantReason: "Authentication failed!"},
		{name: "legacy: wrong secret", env: legacy, token: "admin@pve!full=wrong", method: "GET", path: "/version", wantStatus: 401, wantReason: "invalid token value!"},
		{name: "legacy: unknown user", env: legacy, token: "nobody@pve!full=x", method: "GET", path: "/version", wantStatus: 401, wantReason: "no such user ('nobody@pve')"},
		{name: "legacy: unknown token", env: legacy, token: "admin@pve!other=x", method: "GET", path: "/version", wantStatus: 401, wantReason: "no such token 'other' for user 'admin@pve'"},
		{name: "legacy: no secret", env: legacy, token: "admin@pve!full", method: "GET", path: "/version", wantStatus: 401, wantReason: "no tokenid specified"},
		{name: "legacy: bad token id", env: legacy, token: "admin=x", method: "GET", path: "/version", wantStatus: 401,
			wantReason: "'admin' is not a valid token ID - not able to split into user and token parts"},
		{name: "403 current form", env: e, token: "viewer@pve!ro=secret-ro", method: "PUT", path: "/nodes/pve1/lxc/100/config", kv: []string{"memory", "2048"},
			wantStatus: 403, wantReason: "Permission check failed (/vms/100, VM.Config.Disk|VM.Config.CPU|VM.Config.Memory|VM.Config.Network|VM.Config.Options)",
			wantBody: `{"data":null,"message":"Permission check failed (/vms/100, VM.Config.Disk|VM.Config.CPU|VM.Config.Memory|VM.Config.Network|VM.Config.Options)\n"}`},
		{name: "403 legacy form", env: legacy, token: "viewer@pve!ro=secret-ro", method: "POST", path: "/nodes/pve1/lxc/100/status/stop",
			wantStatus: 403, wantReason: "Permission check failed (/vms/100, VM.PowerMgmt)", wantBody: `{"data":null}`},
		{name: "400 current form", env: e, method: "POST", path: "/nodes/pve1/lxc/100/snapshot", kv: []string{"snapname", "s1", "vmstate", "1"},
			wantStatus: 400, wantReason: "Parameter verification failed.",
			wantBody: `{"data":null,"errors":{"vmstate":"property is not defined in schema and the schema does not allow additional properties"},"message":"Parameter verification failed.\n"}`},
		{name: "400 legacy form", env: legacy, method: "POST", path: "/nodes/pve1/lxc/100/status/stop", kv: []string{"overrule-shutdown", "1", "bogus", "1"},
			wantStatus: 400, wantReason: "Parameter verification failed.",
			wantBody: `{"data":null,"errors":{"bogus":"property is not defined in schema and the schema does not allow additional properties"}}`},
		{name: "500 plain die", env: e, method: "GET", path: "/nodes/pve1/lxc/999/config", wantStatus: 500,
			wantReason: "Configuration file 'nodes/pve1/lxc/999.conf' does not exist",
			wantBody:   `{"data":null,"message":"Configuration file 'nodes/pve1/lxc/999.conf' does not exist\n"}`},
		{name: "500 legacy", env: legacy, method: "GET", path: "/nodes/pve1/lxc/999/config", wantStatus: 500,
			wantReason: "Configuration file 'nodes/pve1/lxc/999.conf' does not exist", wantBody: `{"data":null}`},
		{name: "unknown method", env: e, method: "GET", path: "/nodes/pve1/qemu", wantStatus: 501, wantReason: "Method 'GET /nodes/pve1/qemu' not implemented"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.env
			switch tc.token {
			case "":
			case "-":
				c = c.as("")
			default:
				c = c.as(tc.token)
			}
			r := c.call(tc.method, tc.path, tc.kv...)
			if r.status != tc.wantStatus || r.reason != tc.wantReason {
				t.Fatalf("got %d %q (%s), want %d %q", r.status, r.reason, r.raw, tc.wantStatus, tc.wantReason)
			}
			if tc.wantBody != "" && string(r.raw) != tc.wantBody {
				t.Errorf("body:\n got %s\nwant %s", r.raw, tc.wantBody)
			}
			if tc.wantStatus == 401 && len(r.raw) != 0 {
				t.Errorf("401 body must be empty, got %q", r.raw)
			}
		})
	}
}

func TestDeleteWithBodyIs501(t *testing.T) {
	e := newEnv(t, baseInventory())
	req, _ := http.NewRequest("DELETE", e.url+"/api2/json/nodes/pve1/lxc/100/snapshot/x", strings.NewReader("force=1"))
	req.Header.Set("Authorization", "PVEAPIToken="+e.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 501 || res.Status != "501 Unexpected content for method 'DELETE'" {
		t.Fatalf("got %q", res.Status)
	}
}

func TestJSONBodyAccepted(t *testing.T) {
	e := newEnv(t, baseInventory())
	req, _ := http.NewRequest("PUT", e.url+"/api2/json/nodes/pve1/lxc/102/config", strings.NewReader(`{"memory":384,"onboot":true}`))
	req.Header.Set("Authorization", "PVEAPIToken="+e.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("got %s", res.Status)
	}
	if c := e.conf(102); !strings.Contains(c, "memory: 384\n") || !strings.Contains(c, "onboot: 1\n") {
		t.Fatalf("config:\n%s", c)
	}
}

func TestAuthFailureDelay(t *testing.T) {
	e := newEnv(t, baseInventory(), WithAuthFailureDelay(50*time.Millisecond))
	start := time.Now()
	if r := e.as("admin@pve!full=wrong").call("GET", "/version"); r.status != 401 {
		t.Fatalf("status %d", r.status)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("401 after %v, before the delay", d)
	}
}
