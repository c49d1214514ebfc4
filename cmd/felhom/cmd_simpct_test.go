package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/privileged"
)

// pctStandIn links the built felhom binary as pct in a temporary folder and
// returns a privileged config that runs it against e's simulator on node.
func pctStandIn(t *testing.T, e *e2e, node string) privileged.Config {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	pct := filepath.Join(t.TempDir(), "pct")
	if err := os.Symlink(felhomBin, pct); err != nil {
		t.Fatal(err)
	}
	return privileged.Config{Enabled: true, PCT: pct, Timeout: time.Minute, Env: []string{
		envSimURL + "=" + e.srv.URL, envSimFingerprint + "=" + e.srv.Fingerprint,
		envSimControlToken + "=" + e.sim.ControlToken(), envSimNode + "=" + node,
	}}
}

func rootOn(node string) privileged.Host {
	return privileged.Host{UID: func() int { return 0 }, NodeName: func() (string, error) { return node, nil }}
}

// The privileged backend end to end: the runner builds argv, runs the
// felhom binary as pct, which performs pct set on the simulator as root;
// the change shows through the API, a stale digest and a bad value are
// PVE's refusals and change nothing.
func TestE2EPrivilegedRunnerWithStandIn(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	r := privileged.New(pctStandIn(t, e, "pve1"), rootOn("pve1"), nil)
	ctx := context.Background()
	cfg, err := e.api.Pending(ctx, "pve1", 103)
	if err != nil {
		t.Fatal(err)
	}
	req := privileged.Request{Node: "pve1", VMID: 103, Digest: cfg.Digest, Set: map[string]string{
		"mp1": "/srv/backup,mp=/backup", "dev0": "/dev/ttyUSB0,mode=0660", "features": "keyctl=1,nesting=1"}}
	if err := r.Set(ctx, req); err != nil {
		t.Fatal(err)
	}
	after, err := e.api.Pending(ctx, "pve1", 103)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range req.Set {
		if en, _ := after.Get(k); en.Value == nil || *en.Value != want {
			t.Errorf("%s = %v, want %q", k, en.Value, want)
		}
	}
	before := simConf(t, e.sim, 103).Digest
	// The digest of the plan is stale now.
	err = r.Set(ctx, privileged.Request{Node: "pve1", VMID: 103, Digest: cfg.Digest, Set: map[string]string{"dev1": "/dev/null"}})
	if !errors.Is(err, privileged.ErrStaleDigest) {
		t.Errorf("stale digest: %v", err)
	}
	// PVE refuses a value the format check cannot judge: a device the
	// host does not have. Nothing changes; the error carries PVE's message.
	err = r.Set(ctx, privileged.Request{Node: "pve1", VMID: 103, Digest: after.Digest, Set: map[string]string{"dev1": "/dev/ttyUSB9"}})
	var ee *privileged.ExecError
	if !errors.As(err, &ee) || ee.ExitCode != 255 || ee.Message != "Device /dev/ttyUSB9 does not exist" {
		t.Errorf("refused: %v", err)
	}
	if got := simConf(t, e.sim, 103).Digest; got != before {
		t.Errorf("a refused pct changed the config")
	}
	// The stand-in runs on one node: a container elsewhere is not there.
	r2 := privileged.New(pctStandIn(t, e, "pve1"), rootOn("pve1"), nil)
	other, _ := e.api.Pending(ctx, "pve2", 201)
	err = r2.Set(ctx, privileged.Request{Node: "pve1", VMID: 201, Digest: other.Digest, Set: map[string]string{"dev0": "/dev/null"}})
	if !errors.As(err, &ee) || !strings.Contains(ee.Message, "Configuration file 'nodes/pve1/lxc/201.conf' does not exist") {
		t.Errorf("other node: %v", err)
	}
}

// The stand-in as a command: without its environment it says what is
// missing and exits as pct does.
func TestSimPctNeedsItsEnvironment(t *testing.T) {
	var out, errOut strings.Builder
	code := runSimPct(context.Background(), &out, &errOut, func(string) string { return "" }, []string{"set", "101"})
	if code != exitPct || !strings.Contains(errOut.String(), envSimURL) || !strings.Contains(errOut.String(), envSimNode) {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
	if !calledAsPct("/usr/local/bin/pct") || calledAsPct("/usr/bin/felhom") {
		t.Error("calledAsPct")
	}
}
