package pvesim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// pct set as root@pam writes what no token may, through update_vm's rules.
func TestPctSetRootOnlyKeys(t *testing.T) {
	e := newEnv(t, baseInventory())
	// What a token is refused...
	r := e.call("PUT", "/nodes/pve1/lxc/103/config", "mp0", "/srv/data,mp=/data")
	if r.status != http.StatusForbidden {
		t.Fatalf("token: %d %s", r.status, r.raw)
	}
	digest := e.ok("GET", "/nodes/pve1/lxc/103/config").obj()["digest"].(string)
	// ...root may, digest and all; the change shows through the API.
	res := e.sim.Pct("pve1", []string{"set", "103", "--mp0", "/srv/data,mp=/data", "--dev0", "/dev/ttyUSB0,mode=0660",
		"--features", "keyctl=1,nesting=1", "--hookscript=local:snippets/hook.sh", "--digest", digest})
	if res != (PctResult{}) {
		t.Fatalf("pct set: %+v", res)
	}
	c := e.ok("GET", "/nodes/pve1/lxc/103/config").obj()
	for k, want := range map[string]string{"mp0": "/srv/data,mp=/data", "dev0": "/dev/ttyUSB0,mode=0660", "features": "keyctl=1,nesting=1", "hookscript": "local:snippets/hook.sh"} {
		if c[k] != want {
			t.Errorf("%s = %v, want %q", k, c[k], want)
		}
	}
	if c["digest"] == digest {
		t.Error("the digest did not move")
	}
	// A running container: a new bind mount hot-plugs, features wait for a restart.
	res = e.sim.Pct("pve1", []string{"set", "100", "-mp1", "/srv/media,mp=/media", "-features", "keyctl=1"})
	if res.Exit != 0 {
		t.Fatalf("pct set 100: %+v", res)
	}
	conf := e.conf(100)
	main, pending, _ := strings.Cut(conf, "[pve:pending]")
	if !strings.Contains(main, "mp1: /srv/media,mp=/media\n") || !strings.Contains(pending, "features: keyctl=1\n") {
		t.Errorf("config:\n%s", conf)
	}
}

// pct's errors: PVE's text on stderr, exit 255, nothing changed.
func TestPctSetErrors(t *testing.T) {
	e := newEnv(t, baseInventory())
	before := e.conf(103)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"stale digest", []string{"set", "103", "--dev0", "/dev/null", "--digest", "0123456789abcdef0123456789abcdef01234567"},
			"detected modified configuration - file changed by other user? Try again.\n"},
		{"bad value", []string{"set", "103", "--dev0", "/etc/passwd"},
			"400 Parameter verification failed.\ndev0: invalid format - format error\ndev0.path: invalid format - /etc/passwd is not a valid device path\n" + pctSetUsage},
		{"stray argument", []string{"set", "103", "--dev0", "/dev/null", "extra"}, "400 too many arguments\n" + pctSetUsage},
		{"unknown option", []string{"set", "103", "--bogus", "1"}, "Unknown option: bogus\n400 unable to parse option\n" + pctSetUsage},
		{"missing value", []string{"set", "103", "--dev0"}, "Option dev0 requires an argument\n400 unable to parse option\n" + pctSetUsage},
		{"no vmid", []string{"set"}, "400 not enough arguments\n" + pctSetUsage},
		{"bad vmid", []string{"set", "7", "--dev0", "/dev/null"}, "400 Parameter verification failed.\nvmid: invalid format - value does not look like a valid VM ID\n" + pctSetUsage},
		{"other node", []string{"set", "200", "--dev0", "/dev/null"}, "Configuration file 'nodes/pve1/lxc/200.conf' does not exist\n"},
		{"no options", []string{"set", "103"}, "no options specified\n"},
		{"other command", []string{"destroy", "103"}, "unknown command 'pct destroy'"},
		{"no such device", []string{"set", "103", "--dev0", "/dev/ttyUSB9"}, "Device /dev/ttyUSB9 does not exist\n"},
		{"not a device", []string{"set", "103", "--dev0", "/dev/dri"}, "/dev/dri is not a device\n"},
	} {
		res := e.sim.Pct("pve1", tt.args)
		if res.Exit != 255 || !strings.HasPrefix(res.Stderr, tt.want) || res.Stdout != "" {
			t.Errorf("%s: %+v\nwant stderr %q", tt.name, res, tt.want)
		}
	}
	if after := e.conf(103); after != before {
		t.Errorf("a refused pct changed the config:\n%s", after)
	}
	// A lock stops root too (check_lock).
	if err := e.sim.HoldLock(103, "backup", time.Hour); err != nil {
		t.Fatal(err)
	}
	if res := e.sim.Pct("pve1", []string{"set", "103", "--dev0", "/dev/null"}); res.Stderr != "CT is locked (backup)\n" {
		t.Errorf("locked: %+v", res)
	}
}

// The control endpoint serves Sim.Pct to the stand-in process.
func TestPctControlEndpoint(t *testing.T) {
	e := newEnv(t, baseInventory(), WithControlToken("ctl"))
	call := func(body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", e.url+"/_felhom/sim/pct", bytes.NewBufferString(body))
		req.Header.Set("Authorization", "FelhomSim ctl")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	code, out := call(`{"node":"pve1","args":["set","103","--dev0","/dev/null"]}`)
	if code != 200 || out["exit"] != 0.0 || out["stderr"] != "" {
		t.Errorf("%d %v", code, out)
	}
	if !strings.Contains(e.conf(103), "dev0: /dev/null\n") {
		t.Errorf("config:\n%s", e.conf(103))
	}
	code, out = call(`{"node":"pve1","args":["set","103","--dev0","/etc"]}`)
	if code != 200 || out["exit"] != 255.0 || !strings.Contains(out["stderr"].(string), "dev0: invalid format") {
		t.Errorf("%d %v", code, out)
	}
	if code, out = call(`{"node":"pve9","args":["set","103"]}`); code != 400 {
		t.Errorf("unknown node: %d %v", code, out)
	}
}
