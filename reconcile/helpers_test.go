package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
	"github.com/felhom/felhom/spec"
)

var testNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// handlerTransport serves requests from an in-process handler: the real
// client, the real simulator, no sockets.
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

// env is one simulated cluster and a client on it.
type env struct {
	t     testing.TB
	sim   *pvesim.Sim
	api   *pve.Client
	clock *simClock
	mu    sync.Mutex
	calls map[string]int // by "METHOD template", from the client's hook
}

// simClock is apply's Clock on the simulator's manual clock: sleeping
// advances it, so lock waits take no real time.
type simClock struct{ c *pvesim.Clock }

func (s simClock) Now() time.Time { return s.c.Now() }
func (s simClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.c.Advance(d)
	return nil
}

const testToken = "felhom@pve!reconcile"

// newEnv starts a simulator on inv with the felhom token as in
// examples/sim/inventory.yaml, on a manual clock at testNow.
func newEnv(t testing.TB, inv *pvesim.Inventory, opts ...pvesim.Option) *env {
	t.Helper()
	if len(inv.Users) == 0 {
		inv.AddUser("felhom@pve", pvesim.Role("/vms", "PVEVMAdmin"), pvesim.Role("/storage", "PVEDatastoreAdmin"),
			pvesim.Role("/nodes", "PVEAuditor"), pvesim.Role("/sdn/zones/localnetwork", "PVESDNUser")).
			AddToken("reconcile", "0b6f3a5e-2c1d-4f7e-9a8b-1c2d3e4f5a6b", false)
	}
	clock := pvesim.ManualClock(testNow)
	sim, err := pvesim.New(inv, append([]pvesim.Option{pvesim.WithClock(clock), pvesim.WithSeed(1)}, opts...)...)
	if err != nil {
		t.Fatalf("simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	e := &env{t: t, sim: sim, clock: &simClock{clock}, calls: map[string]int{}}
	e.api = e.client(testToken)
	return e
}

// client returns a client on the simulator for the token tokenID; its
// requests are counted in e.calls.
func (e *env) client(tokenID string) *pve.Client {
	e.t.Helper()
	return e.clientVia(tokenID, handlerTransport{e.sim.Handler()})
}

// clientVia is client with its requests sent through rt (a wrapper around
// handlerTransport{e.sim.Handler()}).
func (e *env) clientVia(tokenID string, rt http.RoundTripper) *pve.Client {
	e.t.Helper()
	cred, ok := e.sim.Token(tokenID)
	if !ok {
		e.t.Fatalf("no token %s in the inventory", tokenID)
	}
	api, err := pve.New(pve.Config{URL: "https://sim.invalid:8006", TokenID: cred.TokenID, TokenSecret: pve.Secret(cred.Secret),
		Insecure: true, MaxConcurrency: 16, Retries: -1},
		pve.WithHTTPClient(&http.Client{Transport: rt}),
		pve.WithTaskPoll(time.Millisecond, time.Millisecond),
		pve.WithRequestHook(func(method, tmpl string) {
			e.mu.Lock()
			e.calls[method+" "+tmpl]++
			e.mu.Unlock()
		}))
	if err != nil {
		e.t.Fatalf("client: %v", err)
	}
	return api
}

func (e *env) resetCalls() {
	e.mu.Lock()
	e.calls = map[string]int{}
	e.mu.Unlock()
	e.sim.ResetRequestCounts()
}

// plan observes and plans specs at testNow.
func (e *env) plan(specs []spec.Container) *plan.Plan {
	e.t.Helper()
	p, err := Plan(context.Background(), e.api, specs, PlanOptions{Now: e.clock.Now(), Revision: "abc123", Preflight: true})
	if err != nil {
		e.t.Fatalf("plan: %v", err)
	}
	return p
}

// apply applies p with the test clock and no lock wait beyond a minute.
func (e *env) apply(p *plan.Plan, opts Options) *Result {
	e.t.Helper()
	if opts.Clock == nil {
		opts.Clock = e.clock
	}
	if opts.LockWait == 0 {
		opts.LockWait = time.Minute
	}
	return Apply(context.Background(), e.api, p, opts)
}

// loadSpecs loads spec files given as name → YAML through spec.Load, so
// folder defaults and filled-in policies are as in real use.
func loadSpecs(t testing.TB, files map[string]string) []spec.Container {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	set, diags := spec.Load(fsys, ".")
	if diags.HasErrors() {
		t.Fatalf("specs: %v", diags)
	}
	return containers(set)
}

func containers(set *spec.Set) []spec.Container {
	out := make([]spec.Container, len(set.Containers))
	for i, c := range set.Containers {
		out[i] = *c
	}
	return out
}

// ctSpec is one container spec: name, node, vmid and the body under spec:.
func ctSpec(name, node string, vmid int, body string) string {
	var b strings.Builder
	b.WriteString("apiVersion: felhom/v1alpha1\nkind: Container\nmetadata:\n  name: " + name + "\nspec:\n  node: " + node + "\n  vmid: " + itoa(vmid) + "\n")
	for _, line := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		if line != "" {
			b.WriteString("  " + line + "\n")
		}
	}
	return b.String()
}

func itoa(n int) string {
	return strconv.Itoa(n)
}

// examplesInventory reads examples/sim/inventory.yaml.
func examplesInventory(t testing.TB) *pvesim.Inventory {
	t.Helper()
	inv, err := pvesim.LoadInventory("../examples/sim/inventory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func examplesSpecs(t testing.TB) []spec.Container {
	t.Helper()
	set, diags := spec.Load(os.DirFS("../examples/containers"), ".")
	if diags.HasErrors() {
		t.Fatalf("examples: %v", diags)
	}
	return containers(set)
}

// byVMID finds a container's plan or result.
func planFor(t testing.TB, p *plan.Plan, vmid int) plan.ContainerPlan {
	t.Helper()
	for _, c := range p.Containers {
		if c.VMID == vmid {
			return c
		}
	}
	t.Fatalf("ct %d not in the plan", vmid)
	return plan.ContainerPlan{}
}

func resultFor(t testing.TB, r *Result, vmid int) ContainerResult {
	t.Helper()
	for _, c := range r.Containers {
		if c.VMID == vmid {
			return c
		}
	}
	t.Fatalf("ct %d not in the result", vmid)
	return ContainerResult{}
}

// wireCall is one request as it went over the wire to the simulator.
type wireCall struct {
	// start and end order the request's start and the end of its answer
	// among all recorded events (one counter), so overlaps can be told
	// without timing anything.
	start, end   int64
	method, path string // path below /api2/json, e.g. /nodes/pve1/lxc/101/config
	// vmid is the container the request is about: from the path, or from
	// the UPID of a task call; 0 for none (cluster resources, storages).
	vmid int
	form url.Values // the form body (or query) the request carried
	// status is a task status call's answer ("running", "stopped"); ""
	// for other calls.
	status string
	// upid is the task a mutation started ("" when it answered no UPID).
	upid string
}

// wire records every request of a client made with env.clientVia(...,
// w); before, when set, runs before a request is served.
type wire struct {
	next   http.RoundTripper
	seq    atomic.Int64
	before func(c wireCall)

	mu    sync.Mutex
	calls []wireCall
}

func newWire(e *env) *wire { return &wire{next: handlerTransport{e.sim.Handler()}} }

var vmidInPath = regexp.MustCompile(`/lxc/(\d+)(?:/|$)`)

func (w *wire) RoundTrip(r *http.Request) (*http.Response, error) {
	c := wireCall{method: r.Method, path: strings.TrimPrefix(r.URL.Path, "/api2/json"), form: r.URL.Query()}
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body.Close()
		if c.form, err = url.ParseQuery(string(b)); err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	if m := vmidInPath.FindStringSubmatch(c.path); m != nil {
		c.vmid, _ = strconv.Atoi(m[1])
	}
	task := strings.HasPrefix(c.path, "/nodes/") && strings.Contains(c.path, "/tasks/")
	if task {
		rest := c.path[strings.Index(c.path, "/tasks/")+len("/tasks/"):]
		rest, _, _ = strings.Cut(rest, "/")
		if u, err := pve.ParseUPID(rest); err == nil {
			c.vmid, _ = strconv.Atoi(u.ID)
		}
	}
	if w.before != nil {
		w.before(c)
	}
	c.start = w.seq.Add(1)
	resp, err := w.next.RoundTrip(r)
	c.end = w.seq.Add(1)
	if err == nil && (task && strings.HasSuffix(c.path, "/status") || r.Method != http.MethodGet) {
		b, rerr := io.ReadAll(resp.Body)
		if rerr != nil {
			return nil, rerr
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		var body struct {
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(b, &body) == nil {
			var st struct {
				Status string `json:"status"`
			}
			if json.Unmarshal(body.Data, &st) == nil {
				c.status = st.Status
			}
			if u := ""; json.Unmarshal(body.Data, &u) == nil && strings.HasPrefix(u, "UPID:") {
				c.upid = u
			}
		}
	}
	w.mu.Lock()
	w.calls = append(w.calls, c)
	w.mu.Unlock()
	return resp, err
}

// recorded returns the calls so far, in the order they ended.
func (w *wire) recorded() []wireCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]wireCall(nil), w.calls...)
}

// stepTokens lists the actions of a container's steps, joined by commas
// ("snapshot,set-config,start").
func stepTokens(cp plan.ContainerPlan) string {
	var out []string
	for _, s := range cp.Steps {
		out = append(out, s.Action.Token())
	}
	return strings.Join(out, ",")
}
