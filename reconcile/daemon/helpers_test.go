package daemon

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/pvesim"
)

var testNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

const testToken = "felhom@pve!daemon"

// simClock is the loop's clock on the simulator's manual clock: sleeping
// advances it.
type simClock struct{ c *pvesim.Clock }

func (s simClock) Now() time.Time { return s.c.Now() }
func (s simClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.c.Advance(d)
	return nil
}

// recorder serves requests from the simulator's handler in-process and
// records each as "METHOD /path" (the real path, below /api2/json).
type recorder struct {
	h     http.Handler
	mu    sync.Mutex
	calls []string
}

func (r *recorder) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	defer func() {
		// The simulator's connection reset (FaultReset) aborts the handler,
		// as a server does when it drops the connection; a transport then
		// reports the connection lost.
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p)
			}
			resp, err = nil, syscall.ECONNRESET
		}
	}()
	sr := req.Clone(req.Context())
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	sr.RequestURI = req.URL.RequestURI()
	sr.RemoteAddr = "127.0.0.1:50000"
	r.mu.Lock()
	r.calls = append(r.calls, req.Method+" "+strings.TrimPrefix(req.URL.Path, "/api2/json"))
	r.mu.Unlock()
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, sr)
	resp = rec.Result()
	resp.Request = req
	return resp, nil
}

// take returns the calls recorded since the last take.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// env is a simulated cluster, a client on it and a source of specs.
type env struct {
	t     testing.TB
	sim   *pvesim.Sim
	clock simClock
	rec   *recorder
	api   *pve.Client
	src   *memSource
}

func newEnv(t testing.TB, inv *pvesim.Inventory, opts ...pve.Option) *env {
	t.Helper()
	return newEnvSim(t, inv, nil, opts...)
}

// newEnvSim is newEnv with simulator options (latency, workers).
func newEnvSim(t testing.TB, inv *pvesim.Inventory, simOpts []pvesim.Option, opts ...pve.Option) *env {
	t.Helper()
	inv.AddUser("felhom@pve", pvesim.Role("/vms", "PVEVMAdmin"), pvesim.Role("/storage", "PVEDatastoreAdmin"),
		pvesim.Role("/nodes", "PVEAuditor"), pvesim.Role("/sdn/zones/localnetwork", "PVESDNUser")).
		AddToken("daemon", "0b6f3a5e-2c1d-4f7e-9a8b-1c2d3e4f5a6b", false)
	clock := pvesim.ManualClock(testNow)
	sim, err := pvesim.New(inv, append([]pvesim.Option{pvesim.WithClock(clock), pvesim.WithSeed(1)}, simOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	e := &env{t: t, sim: sim, clock: simClock{clock}, rec: &recorder{h: sim.Handler()}, src: newMemSource()}
	cred, _ := sim.Token(testToken)
	e.api, err = pve.New(pve.Config{URL: "https://sim.invalid:8006", TokenID: cred.TokenID, TokenSecret: pve.Secret(cred.Secret),
		Insecure: true, MaxConcurrency: 16, Retries: -1},
		append([]pve.Option{pve.WithHTTPClient(&http.Client{Transport: e.rec}), pve.WithTaskPoll(time.Millisecond, time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// loop makes a loop on e with opts (Source, API, Clock filled in).
func (e *env) loop(opts Options) *Loop {
	e.t.Helper()
	opts.Source, opts.API, opts.Clock = e.src, e.api, e.clock
	if opts.Apply.LockWait == 0 {
		opts.Apply.LockWait = time.Minute
	}
	l, err := New(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

// cycle runs one cycle of kind a second after the last one (felhom
// snapshot names have a resolution of a second, as PVE's task times).
func (e *env) cycle(l *Loop, kind Kind) CycleRecord {
	e.clock.c.Advance(time.Second)
	return l.Cycle(context.Background(), kind)
}

// handSet changes a container's config as an admin would, outside felhom.
func (e *env) handSet(node string, vmid int, key, value string) {
	e.t.Helper()
	if _, err := e.api.SetConfig(context.Background(), node, vmid, pve.ConfigChange{Set: map[string]string{key: value}}); err != nil {
		e.t.Fatal(err)
	}
	e.rec.take()
}

// value reads key from the container's current config in the simulator.
func (e *env) value(vmid int, key string) string {
	e.t.Helper()
	text, ok := e.sim.ConfigText(vmid)
	if !ok {
		e.t.Fatalf("no ct %d", vmid)
	}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '[' {
			break
		}
		if k, v, ok := strings.Cut(line, ": "); ok && k == key {
			return v
		}
	}
	return ""
}

// memSource is a source held in memory: set replaces its files and makes a
// new revision, numbered.
type memSource struct {
	mu      sync.Mutex
	n       int
	rev     Revision
	err     error
	fetches int
	changed chan struct{}
}

func newMemSource() *memSource { return &memSource{changed: make(chan struct{}, 1)} }

func (m *memSource) String() string { return "memory" }

func (m *memSource) Fetch(context.Context) (Revision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fetches++
	return m.rev, m.err
}

func (m *memSource) Changed() <-chan struct{} { return m.changed }

func (m *memSource) set(files map[string]string) string {
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	m.mu.Lock()
	m.n++
	m.rev = Revision{ID: fmt.Sprintf("rev%d", m.n), FS: fsys, Time: testNow}
	m.mu.Unlock()
	select {
	case m.changed <- struct{}{}:
	default:
	}
	return m.rev.ID
}

func testInventory() *pvesim.Inventory {
	inv := pvesim.NewInventory("test")
	for _, node := range []string{"pve1", "pve2"} {
		n := inv.AddNode(node)
		n.AddStorage("local-lvm", "lvmthin", "rootdir", "images")
		n.AddStorage("local", "dir", "rootdir", "backup", "vztmpl")
	}
	return inv
}

func addCT(inv *pvesim.Inventory, node string, vmid int) {
	inv.Node(node).AddContainer(vmid, false, fmt.Sprintf(`arch: amd64
cores: 2
hostname: ct%d
memory: 1024
net0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:%02X,ip=dhcp,type=veth
ostype: debian
rootfs: local-lvm:vm-%d-disk-0,size=8G
swap: 512
unprivileged: 1
`, vmid, vmid%256, vmid))
}

// ctSpec is one container spec: name ct<vmid>, node, vmid and the body
// under spec:.
func ctSpec(node string, vmid int, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: felhom/v1alpha1\nkind: Container\nmetadata:\n  name: ct%d\nspec:\n  node: %s\n  vmid: %d\n", vmid, node, vmid)
	for _, line := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		if line != "" {
			b.WriteString("  " + line + "\n")
		}
	}
	return b.String()
}

// reads counts the GET calls by path, the vmid kept: "GET /nodes/pve1/lxc/101/pending".
func reads(calls []string) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		if strings.HasPrefix(c, "GET ") && !strings.Contains(c, "/tasks/") {
			out[c]++
		}
	}
	return out
}

func writes(calls []string) int {
	n := 0
	for _, c := range calls {
		if !strings.HasPrefix(c, "GET ") {
			n++
		}
	}
	return n
}

func statusOf(t *testing.T, l *Loop, vmid int) ContainerStatus {
	t.Helper()
	for _, c := range l.Status().Containers {
		if c.VMID == vmid {
			return c
		}
	}
	t.Fatalf("ct %d not in the status", vmid)
	return ContainerStatus{}
}
