package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/felhom/felhom/internal/benchcluster"
)

// nodeOrder spreads each node's items evenly through the order, whatever
// order they came in: equal counts alternate, and a node with more items
// gets proportionally more of every stretch, so no node's queue is left to
// the end while the others idle.
func TestNodeOrder(t *testing.T) {
	for _, tc := range []struct{ nodes, want string }{
		{"", ""},
		{"aaa", "aaa"},
		{"aaabbbccc", "abcabcabc"},
		{"abcabc", "abcabc"},
		{"aaaabb", "abaaba"},
		{"bbbaaa", "bababa"},
	} {
		order := nodeOrder(len(tc.nodes), func(i int) string { return tc.nodes[i : i+1] })
		var got strings.Builder
		for _, i := range order {
			got.WriteByte(tc.nodes[i])
		}
		if got.String() != tc.want {
			t.Errorf("nodeOrder(%q) = %q, want %q", tc.nodes, got.String(), tc.want)
		}
		sorted := slices.Clone(order)
		slices.Sort(sorted)
		for i, v := range sorted {
			if v != i {
				t.Fatalf("nodeOrder(%q) = %v: not a permutation", tc.nodes, order)
			}
		}
	}
}

// A cluster whose vmids come in one block per node (as clusters grow) is
// read alternating between the nodes, not node by node: with PVE serving 3
// calls at a time per node, reading in vmid order would keep every call
// in flight queued on one node while the others idle. The same holds for
// the snapshot lists a changed plan reads and for apply's containers.
func TestReadsAlternateNodes(t *testing.T) {
	c := benchcluster.Cluster{N: 6, Nodes: 2, Grouped: true, Memory: func(i int) string {
		if i%3 != 1 {
			return "2G"
		}
		return "1G"
	}}
	inv, files := c.Build()
	e := newEnv(t, inv)
	w := newWire(e)
	e.api = e.clientVia(testToken, w)
	specs := loadSpecs(t, files)
	nodesOf := func(suffix string) string {
		var out []string
		for _, call := range w.recorded() {
			if call.vmid != 0 && strings.HasSuffix(call.path, fmt.Sprintf("/lxc/%d/%s", call.vmid, suffix)) && call.method == "GET" {
				out = append(out, strings.Split(call.path, "/")[2])
			}
		}
		return strings.Join(out, " ")
	}
	p, err := Plan(context.Background(), e.api, specs, PlanOptions{Now: testNow, ObserveOptions: ObserveOptions{Concurrency: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := nodesOf("pending"), "pve1 pve2 pve1 pve2 pve1 pve2"; got != want {
		t.Errorf("pending reads by node: %s, want %s", got, want)
	}
	if got, want := nodesOf("snapshot"), "pve1 pve2 pve1 pve2"; got != want {
		t.Errorf("snapshot reads by node: %s, want %s", got, want)
	}
	w.mu.Lock()
	w.calls = nil
	w.mu.Unlock()
	res := Apply(context.Background(), e.api, p, Options{Clock: e.clock, Specs: specs, Concurrency: 1})
	if got := res.Count()[OutcomeApplied]; got != 4 {
		t.Fatalf("applied %d, want 4", got)
	}
	var snaps []string
	for _, call := range w.recorded() {
		if call.method == "POST" && strings.HasSuffix(call.path, "/snapshot") {
			snaps = append(snaps, strings.Split(call.path, "/")[2])
		}
	}
	if got, want := strings.Join(snaps, " "), "pve1 pve2 pve1 pve2"; got != want {
		t.Errorf("apply's snapshots by node: %s, want %s", got, want)
	}
}
