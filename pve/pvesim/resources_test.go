package pvesim

import (
	"encoding/json"
	"testing"
	"time"
)

// TestVMAuditorAgreesWithHasAny: the listing's shortcut (one permission
// lookup for every guest when no ACL entry is below /vms) answers what
// the per-guest check answers, for ACLs below /vms in every spelling, on
// the user or the token, propagating or not.
func TestVMAuditorAgreesWithHasAny(t *testing.T) {
	no := false
	inv := baseInventory()
	inv.AddUser("root@pam").AddToken("all", "s1", false).AddToken("sep", "s2", true, Privs("/vms/101", "VM.Audit"))
	inv.AddUser("np@pve", ACL{Path: "/vms", Privileges: []string{"VM.Audit"}, Propagate: &no}).AddToken("t1", "s3", false)
	inv.AddUser("slash@pve", Privs("/vms/", "VM.Audit")).AddToken("t1", "s4", false)
	inv.AddUser("deep@pve", Privs("//vms//102/", "VM.Audit")).AddToken("t1", "s5", false).
		AddToken("sep", "s6", true, Privs("/", "VM.Audit"))
	inv.AddUser("deny@pve", Role("/", "PVEAuditor"), ACL{Path: "/vms/100", Role: "NoAccess"}).AddToken("t1", "s7", false)
	inv.AddUser("tokdeep@pve", Role("/", "PVEAuditor")).AddToken("sep", "s8", true, Privs("/vms/200", "VM.Audit"), Privs("/vms", "VM.Audit"))
	inv.AddUser("nothing@pve").AddToken("t1", "s9", false)
	s, err := New(inv)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for id, tok := range s.tokens {
		audit := s.vmAuditor(tok)
		for _, vmid := range []int{100, 101, 102, 103, 200, 999} {
			if got, want := audit(vmid), s.hasAny(tok, vmPath(vmid), "VM.Audit"); got != want {
				t.Errorf("%s on /vms/%d: shortcut %v, per guest %v", id, vmid, got, want)
			}
		}
	}
}

// TestResourcesFollowChanges: the status figures worked out once per
// parse of a config follow every change of it (PUT config, a held lock
// set and released, start) and the clock.
func TestResourcesFollowChanges(t *testing.T) {
	e := newEnv(t, baseInventory())
	entry := func(vmid int) map[string]any {
		t.Helper()
		for _, x := range e.ok("GET", "/cluster/resources", "type", "vm").list() {
			m := x.(map[string]any)
			if m["vmid"] == float64(vmid) {
				return m
			}
		}
		t.Fatalf("no entry for %d", vmid)
		return nil
	}
	check := func(step string, m map[string]any, want map[string]any) {
		t.Helper()
		for k, v := range want {
			if v == nil {
				if _, ok := m[k]; ok {
					t.Errorf("%s: %s = %v, want none", step, k, m[k])
				}
				continue
			}
			if m[k] != v {
				t.Errorf("%s: %s = %v (%T), want %v", step, k, m[k], m[k], v)
			}
		}
	}
	check("loaded", entry(101), map[string]any{"maxmem": float64(512 << 20), "maxcpu": float64(8), "name": "media", "tags": nil, "lock": nil, "status": "stopped"})
	e.ok("PUT", "/nodes/pve1/lxc/101/config", "memory", "2048", "cores", "3", "hostname", "renamed", "tags", "a;b")
	check("after PUT", entry(101), map[string]any{"maxmem": float64(2048 << 20), "maxcpu": float64(3), "name": "renamed", "tags": "a;b"})
	if err := e.sim.HoldLock(101, "backup", time.Hour); err != nil {
		t.Fatal(err)
	}
	check("held", entry(101), map[string]any{"lock": "backup"})
	e.sim.Clock().Advance(2 * time.Hour)
	check("released", entry(101), map[string]any{"lock": nil})
	e.task("POST", "/nodes/pve1/lxc/101/status/start")
	check("started", entry(101), map[string]any{"status": "running", "uptime": float64(0), "mem": float64(2048 << 20 / 5)})
	e.sim.Clock().Advance(10 * time.Second)
	check("10 s later", entry(101), map[string]any{"uptime": float64(10), "netin": float64(10240)})
	cur := e.ok("GET", "/nodes/pve1/lxc/101/status/current").obj()
	check("status/current", cur, map[string]any{"maxmem": float64(2048 << 20), "cpus": float64(3), "uptime": float64(10), "tags": "a;b", "pid": float64(10101)})
	if b, _ := json.Marshal(cur); t.Failed() {
		t.Logf("status/current: %s", b)
	}
}
