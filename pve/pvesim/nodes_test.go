package pvesim

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNodeTime (issue 9 item 8): GET /nodes/{node}/time answers the
// clock's time, the node's time zone and the local wall clock as epoch
// seconds, across a DST change; it needs Sys.Audit on the node.
func TestNodeTime(t *testing.T) {
	inv := baseInventory()
	inv.Node("pve1").Timezone = "Europe/Berlin"
	e := newEnv(t, inv)
	for _, tc := range []struct {
		node   string
		at     time.Time
		tz     string
		offset int64
	}{
		{"pve1", testStart, "Europe/Berlin", 3600},
		{"pve1", time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), "Europe/Berlin", 7200},
		// 2026-03-29 01:00 UTC is the switch to summer time.
		{"pve1", time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC), "Europe/Berlin", 3600},
		{"pve1", time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), "Europe/Berlin", 7200},
		{"pve2", testStart, "Etc/UTC", 0},
	} {
		e.sim.Clock().Set(tc.at)
		data := e.ok("GET", "/nodes/"+tc.node+"/time").obj()
		checkReturns(t, "GET /nodes/{node}/time", data)
		want := map[string]any{"timezone": tc.tz, "time": float64(tc.at.Unix()), "localtime": float64(tc.at.Unix() + tc.offset)}
		if len(data) != len(want) || data["timezone"] != want["timezone"] || data["time"] != want["time"] || data["localtime"] != want["localtime"] {
			t.Errorf("%s at %v: %v, want %v", tc.node, tc.at, data, want)
		}
	}
	r := e.as("ops@pve!mem=secret-mem").call("GET", "/nodes/pve1/time")
	if r.status != 403 || r.reason != "Permission check failed (/nodes/pve1, Sys.Audit)" {
		t.Fatalf("without Sys.Audit: %d %s", r.status, r.reason)
	}
}

// TestNodeIndex (issue 9 item 7): GET /nodes lists every node with its
// ssl_fingerprint; the figures only with Sys.Audit on the node.
func TestNodeIndex(t *testing.T) {
	e := newEnv(t, baseInventory())
	full := e.ok("GET", "/nodes").list()
	checkReturns(t, "GET /nodes", full)
	bare := e.as("ops@pve!mem=secret-mem").ok("GET", "/nodes").list()
	checkReturns(t, "GET /nodes", bare)
	if len(full) != 2 || len(bare) != 2 {
		t.Fatalf("nodes: %d with Sys.Audit, %d without", len(full), len(bare))
	}
	a, b := full[0].(map[string]any), bare[0].(map[string]any)
	if got := strings.Join(shape(b), " "); got != "id:string level:string node:string ssl_fingerprint:string status:string type:string" {
		t.Errorf("without Sys.Audit: %s", got)
	}
	for _, k := range []string{"cpu", "maxcpu", "mem", "maxmem", "disk", "maxdisk", "uptime"} {
		if _, ok := a[k]; !ok {
			t.Errorf("with Sys.Audit: no %s in %v", k, a)
		}
	}
	if fp, _ := a["ssl_fingerprint"].(string); len(fp) != 95 || fp == full[1].(map[string]any)["ssl_fingerprint"] {
		t.Errorf("in-process fingerprints %v, %v: want one per node", fp, full[1].(map[string]any)["ssl_fingerprint"])
	}

	// Over HTTPS every node shows the served certificate's fingerprint.
	ce := newClientEnv(t, baseInventory())
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ce.srv.CertPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest("GET", ce.srv.URL+"/api2/json/nodes", nil)
	req.Header.Set("Authorization", "PVEAPIToken=admin@pve!full=secret-admin")
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Data []map[string]any }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	for _, n := range body.Data {
		if n["ssl_fingerprint"] != ce.srv.Fingerprint {
			t.Errorf("%v: fingerprint %v, served %s", n["node"], n["ssl_fingerprint"], ce.srv.Fingerprint)
		}
	}
}

// TestClusterResourcesNodes (issue 9 item 7): type=node lists every node
// (figures only with Sys.Audit) with cgroup-mode 2 and host-arch only for
// a node that is not x86_64; lxc entries carry memhost, not the pressure
// keys.
func TestClusterResourcesNodes(t *testing.T) {
	inv := baseInventory()
	inv.Node("pve2").Arch = "aarch64"
	e := newEnv(t, inv)
	for _, tok := range []string{e.token, "ops@pve!mem=secret-mem"} {
		items := e.as(tok).ok("GET", "/cluster/resources", "type", "node").list()
		checkReturns(t, "GET /cluster/resources", items)
		if len(items) != 2 {
			t.Fatalf("%s: %v", tok, items)
		}
		p1, p2 := items[0].(map[string]any), items[1].(map[string]any)
		if p1["cgroup-mode"] != float64(2) || p2["cgroup-mode"] != float64(2) {
			t.Errorf("%s: cgroup-mode %v %v", tok, p1["cgroup-mode"], p2["cgroup-mode"])
		}
		if _, ok := p1["host-arch"]; ok || p2["host-arch"] != "aarch64" {
			t.Errorf("%s: host-arch %v %v", tok, p1["host-arch"], p2["host-arch"])
		}
		_, stats := p1["maxmem"]
		if stats != (tok == e.token) {
			t.Errorf("%s: figures shown %v: %v", tok, stats, p1)
		}
	}
	for _, it := range e.ok("GET", "/cluster/resources", "type", "vm").list() {
		m := it.(map[string]any)
		if m["memhost"] != float64(0) {
			t.Errorf("%v: memhost %v", m["id"], m["memhost"])
		}
		if _, ok := m["pressurecpusome"]; ok {
			t.Errorf("%v: pressure keys in cluster/resources", m["id"])
		}
	}
}

// TestStatusPressure (issue 9 item 7): a running container's status has
// vmstatus's six PSI keys, as the strings PVE's parser leaves them; a
// stopped one has none.
func TestStatusPressure(t *testing.T) {
	e := newEnv(t, baseInventory())
	run := e.ok("GET", "/nodes/pve1/lxc/100/status/current").obj()
	checkReturns(t, "GET /nodes/{node}/lxc/{vmid}/status/current", without(run, pressureKeys...))
	for _, k := range pressureKeys {
		if run[k] != "0.00" {
			t.Errorf("running: %s = %#v", k, run[k])
		}
	}
	stopped := e.ok("GET", "/nodes/pve1/lxc/101/status/current").obj()
	checkReturns(t, "GET /nodes/{node}/lxc/{vmid}/status/current", stopped)
	for _, k := range pressureKeys {
		if _, ok := stopped[k]; ok {
			t.Errorf("stopped: %s present", k)
		}
	}
	if l := e.ok("GET", "/nodes/pve1/lxc").list(); l[0].(map[string]any)["pressureiofull"] != "0.00" {
		t.Errorf("listing: %v", l[0])
	}
}

// without returns a copy of m without keys.
func without(m map[string]any, keys ...string) map[string]any {
	c := maps.Clone(m)
	for _, k := range keys {
		delete(c, k)
	}
	return c
}

// TestInterfaces (issue 9 item 7): GET .../interfaces is get_interfaces:
// null unless the container runs on the node; lo and the netN interfaces
// with their addresses otherwise.
func TestInterfaces(t *testing.T) {
	inv := baseInventory()
	inv.Node("pve1").AddContainer(110, true, "arch: amd64\nhostname: st\nmemory: 256\nnet0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:01:10,ip=192.168.1.5/24,gw=192.168.1.1,ip6=2001:db8::5/64,type=veth\nnet2: name=mgmt,bridge=vmbr1,hwaddr=BC:24:11:00:02:10,ip=manual,type=veth\nostype: debian\nrootfs: local-lvm:vm-110-disk-0,size=2G\n")
	e := newEnv(t, inv)
	for _, p := range []string{"/nodes/pve1/lxc/101/interfaces", "/nodes/pve1/lxc/999/interfaces", "/nodes/pve1/lxc/200/interfaces"} {
		if r := e.ok("GET", p); string(r.raw) != `{"data":null}` {
			t.Errorf("%s: %s", p, r.raw)
		}
	}
	r := e.ok("GET", "/nodes/pve1/lxc/100/interfaces")
	checkReturns(t, "GET /nodes/{node}/lxc/{vmid}/interfaces", r.data())
	want := `{"data":[` +
		`{"hardware-address":"00:00:00:00:00:00","hwaddr":"00:00:00:00:00:00","inet":"127.0.0.1/8","inet6":"::1/128","ip-addresses":[{"ip-address":"127.0.0.1","ip-address-type":"inet","prefix":8},{"ip-address":"::1","ip-address-type":"inet6","prefix":128}],"name":"lo"},` +
		`{"hardware-address":"bc:24:11:00:00:01","hwaddr":"bc:24:11:00:00:01","inet":"10.0.0.100/8","inet6":"fe80::be24:11ff:fe00:1/64","ip-addresses":[{"ip-address":"10.0.0.100","ip-address-type":"inet","prefix":8},{"ip-address":"fe80::be24:11ff:fe00:1","ip-address-type":"inet6","prefix":64}],"name":"eth0"}]}`
	if string(r.raw) != want {
		t.Errorf("100:\n got %s\nwant %s", r.raw, want)
	}
	var names, inet6 []string
	for _, it := range e.ok("GET", "/nodes/pve1/lxc/110/interfaces").list() {
		m := it.(map[string]any)
		names = append(names, m["name"].(string))
		inet6 = append(inet6, fmt.Sprint(m["inet"], " ", m["inet6"], " ", len(m["ip-addresses"].([]any))))
	}
	if strings.Join(names, " ") != "lo eth0 mgmt" || inet6[1] != "192.168.1.5/24 fe80::be24:11ff:fe00:110/64 3" || inet6[2] != "<nil> fe80::be24:11ff:fe00:210/64 1" {
		t.Errorf("110: %v %v", names, inet6)
	}
	if r := e.as("ops@pve!mem=secret-mem").call("GET", "/nodes/pve1/lxc/110/interfaces"); r.status != 403 {
		t.Errorf("without VM.Audit: %d", r.status)
	}
}
