package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/felhom/felhom/internal/benchcluster"
)

// TestE2EPlanReadsWhileLoading: felhom plan DIR reads each container's
// pending config as its spec loads (reconcile.Prefetched.Want) and makes
// the calls of the floor and no more: 1 cluster resources, 1 storage list
// per node, 1 pending read per container; the same with the containers in
// blocks of vmids per node. With --only it reads only what the named
// containers need, and invalid specs exit 3 whatever was read.
func TestE2EPlanReadsWhileLoading(t *testing.T) {
	for _, grouped := range []bool{false, true} {
		t.Run(fmt.Sprintf("grouped=%v", grouped), func(t *testing.T) {
			const n, nodes = 30, 3
			cl := benchcluster.Cluster{N: n, Nodes: nodes, Grouped: grouped}
			inv, files := cl.Build()
			e := newE2E(t, inv)
			dir := t.TempDir()
			for name, body := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			e.sim.ResetRequestCounts()
			e.expect(exitOK, dir, "plan", "--detailed-exitcode", ".")
			want := map[string]int{
				"GET /cluster/resources": 1, "GET /nodes/{node}/storage": nodes, "GET /nodes/{node}/lxc/{vmid}/pending": n}
			if got := nonzero(e.sim.RequestCounts()); !maps.Equal(got, want) {
				t.Errorf("plan's calls %v, want %v", got, want)
			}

			e.sim.ResetRequestCounts()
			e.expect(exitOK, dir, "plan", "--detailed-exitcode", "--only", "ct1001,1002", ".")
			onlyNodes := map[string]bool{cl.Node(1): true, cl.Node(2): true}
			want = map[string]int{
				"GET /cluster/resources": 1, "GET /nodes/{node}/storage": len(onlyNodes), "GET /nodes/{node}/lxc/{vmid}/pending": 2}
			if got := nonzero(e.sim.RequestCounts()); !maps.Equal(got, want) {
				t.Errorf("--only's calls %v, want %v", got, want)
			}

			if err := os.WriteFile(filepath.Join(dir, "zz-bad.yaml"), []byte("apiVersion: felhom/v1alpha1\nkind: Container\nmetadata:\n  name: x\nspec:\n  node: pve1\n  vmid: 5\n  memory: lots\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, errOut, code := e.run(dir, "plan", "--detailed-exitcode", ".")
			if code != exitInvalid || !strings.Contains(errOut, "zz-bad.yaml") {
				t.Errorf("a bad spec after the good ones: exit %d, want %d; stderr %s", code, exitInvalid, errOut)
			}
		})
	}
}

// nonzero drops the endpoints not called.
func nonzero(counts map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range counts {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}
