package pvesim_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/felhom/felhom/internal/benchcluster"
	"github.com/felhom/felhom/pve/pvesim"
)

// The handlers on a plan's critical path (issue 15), on the cluster the
// end-to-end benchmark plans: 1,000 running containers over 3 nodes, the
// felhom token of benchcluster. The figures are the simulator's whole
// in-process handling (authentication, permissions, the handler, JSON
// encoding), as felhom's `plan` has it served.

// benchSim builds benchcluster's cluster and returns the simulator and the
// token's Authorization header.
func benchSim(b *testing.B, n, nodes int) (*pvesim.Sim, string) {
	b.Helper()
	inv, _ := benchcluster.Cluster{N: n, Nodes: nodes}.Build()
	s, err := pvesim.New(inv)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	cred, ok := s.Token(benchcluster.TokenID)
	if !ok {
		b.Fatalf("no token %s", benchcluster.TokenID)
	}
	return s, "PVEAPIToken=" + cred.TokenID + "=" + cred.Secret
}

func serveBench(b *testing.B, h http.Handler, auth, path string) {
	req := httptest.NewRequest("GET", "/api2/json"+path, nil)
	req.Header.Set("Authorization", auth)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
}

// BenchmarkResourcesVM is GET /cluster/resources?type=vm, a plan's first
// call, with 1,000 containers over 3 nodes.
func BenchmarkResourcesVM(b *testing.B) {
	s, auth := benchSim(b, 1000, 3)
	h := s.Handler()
	b.ReportAllocs()
	for b.Loop() {
		serveBench(b, h, auth, "/cluster/resources?type=vm")
	}
}

// BenchmarkPending is one GET /nodes/{node}/lxc/{vmid}/pending, the call
// a plan makes once per container, in the same cluster.
func BenchmarkPending(b *testing.B) {
	s, auth := benchSim(b, 1000, 3)
	cl := benchcluster.Cluster{N: 1000, Nodes: 3}
	paths := make([]string, 1000)
	for i := range paths {
		paths[i] = fmt.Sprintf("/nodes/%s/lxc/%d/pending", cl.Node(i), 1000+i)
	}
	h := s.Handler()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		serveBench(b, h, auth, paths[i%len(paths)])
		i++
	}
}
