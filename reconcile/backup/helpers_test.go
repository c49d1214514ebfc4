package backup

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/calendar"
	"github.com/felhom/felhom/pve/prune"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/schedule"
)

// handlerTransport serves requests from the in-process simulator.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	sr := r.Clone(r.Context())
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	sr.RequestURI = r.URL.RequestURI()
	sr.RemoteAddr = "127.0.0.1:50000"
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, sr)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// simClock is the runner's Clock on the simulator's manual clock:
// sleeping advances it.
type simClock struct{ c *pvesim.Clock }

func (s simClock) Now() time.Time { return s.c.Now() }
func (s simClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.c.Advance(d)
	return nil
}

// counting wraps the client: it records each vzdump call and the most
// vzdump tasks in flight per node (from the call to the end of its wait).
type counting struct {
	*pve.Client
	mu       sync.Mutex
	inflight map[string]int
	maxIn    map[string]int
	calls    []string // "node vmid-list"
}

func (c *counting) Vzdump(ctx context.Context, node string, o pve.VzdumpOptions) (pve.UPID, error) {
	c.mu.Lock()
	c.inflight[node]++
	c.maxIn[node] = max(c.maxIn[node], c.inflight[node])
	c.calls = append(c.calls, fmt.Sprintf("%s %v", node, o.VMIDs))
	c.mu.Unlock()
	u, err := c.Client.Vzdump(ctx, node, o)
	if err != nil {
		c.done(node)
	}
	return u, err
}

func (c *counting) WaitTask(ctx context.Context, upid pve.UPID) (pve.TaskResult, error) {
	res, err := c.Client.WaitTask(ctx, upid)
	if upid.Type == "vzdump" {
		c.done(upid.Node)
	}
	return res, err
}

func (c *counting) done(node string) {
	c.mu.Lock()
	c.inflight[node]--
	c.mu.Unlock()
}

func (c *counting) takeCalls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

type env struct {
	t     *testing.T
	sim   *pvesim.Sim
	clock simClock
	api   *counting
}

const token = "felhom@pve!reconcile"

// newEnv starts inv on a manual clock at start, with felhom's token as in
// examples/sim/inventory.yaml.
func newEnv(t *testing.T, inv *pvesim.Inventory, start time.Time) *env {
	t.Helper()
	inv.AddUser("felhom@pve", pvesim.Role("/vms", "PVEVMAdmin"), pvesim.Role("/storage", "PVEDatastoreAdmin"),
		pvesim.Role("/nodes", "PVEAuditor")).AddToken("reconcile", "0b6f3a5e-2c1d-4f7e-9a8b-1c2d3e4f5a6b", false)
	clock := pvesim.ManualClock(start)
	sim, err := pvesim.New(inv, pvesim.WithClock(clock), pvesim.WithSeed(1))
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	cred, _ := sim.Token(token)
	c, err := pve.New(pve.Config{URL: "https://sim.invalid:8006", TokenID: cred.TokenID, TokenSecret: pve.Secret(cred.Secret),
		Insecure: true, MaxConcurrency: 16, Retries: -1},
		pve.WithHTTPClient(&http.Client{Transport: handlerTransport{sim.Handler()}}),
		pve.WithTaskPoll(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, sim: sim, clock: simClock{clock}, api: &counting{Client: c, inflight: map[string]int{}, maxIn: map[string]int{}}}
}

func (e *env) runner(opts Options) *Runner { return New(e.api, e.clock, opts) }

func ctConfig(name string, vmid int) string {
	return fmt.Sprintf("arch: amd64\nhostname: %s\nmemory: 512\nostype: debian\nrootfs: local-lvm:vm-%d-disk-0,size=8G\nunprivileged: 1\n", name, vmid)
}

func mustEvent(t *testing.T, expr string) *calendar.Event {
	t.Helper()
	ev, err := calendar.Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func target(t *testing.T, vmid int, node, expr string, o schedule.Options) Target {
	t.Helper()
	p := schedule.Policy{Event: mustEvent(t, expr), Options: o}
	if o.PruneBackups != "" {
		r, err := prune.ParseOptions(o.PruneBackups)
		if err != nil {
			t.Fatal(err)
		}
		p.Retention = r
	}
	return Target{VMID: vmid, Name: fmt.Sprintf("ct%d", vmid), Node: node, Policy: p}
}
