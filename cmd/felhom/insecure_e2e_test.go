package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve"
)

// TestE2EInsecureWarns: with FELHOM_PVE_INSECURE=true, plan still works and
// says on stderr that certificate verification is off; pinned, it says
// nothing of the kind.
func TestE2EInsecureWarns(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	specs := filepath.Join("examples", "containers")
	_, errOut, code := e.run(repoRoot, "plan", specs)
	if code != exitOK || strings.Contains(errOut, "verification is off") {
		t.Fatalf("pinned: exit %d, stderr:\n%s", code, errOut)
	}
	var env []string
	for _, kv := range e.env {
		if !strings.HasPrefix(kv, pve.EnvFingerprint+"=") {
			env = append(env, kv)
		}
	}
	e.env = append(env, pve.EnvInsecure+"=true")
	_, errOut, code = e.run(repoRoot, "plan", specs)
	if code != exitOK || !strings.Contains(errOut, "level=WARN") || !strings.Contains(errOut, "TLS certificate verification is off") {
		t.Errorf("insecure: exit %d, stderr:\n%s", code, errOut)
	}
}
