//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/felhom/felhom/internal/benchcluster"
	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile"
)

// benchNodes is how many nodes BenchmarkE2E's cluster has.
const benchNodes = 3

// benchInFlight is how many calls can be answered at once: felhom's
// default concurrency, bounded by the nodes' workers (pveproxy's 3 each).
var benchInFlight = min(reconcile.DefaultConcurrency, pvesim.DefaultWorkers*benchNodes)

// BenchmarkE2E runs the built felhom binary (TestMain's) as a child process
// against the simulator served over real HTTPS from this process
// (sim.StartTLS, HTTP/1.1 as pveproxy) with pveproxy's worker limit (3
// calls at a time per node), 3 nodes, at 10 ms and 50 ms per request:
//
//   - plan with nothing changed (felhom plan --detailed-exitcode DIR, exit 0),
//   - plan with 10% of the containers changed (memory; exit 2),
//   - apply of that 10% (felhom apply --auto-approve DIR, its plan
//     included; a fresh cluster per run, tasks end at once),
//   - validate (felhom validate DIR, no API call; at 10 ms only).
//
// Each run reports the calls by endpoint (calls:pending, calls:storage,
// ...: the simulator's own counts), the floor (the fewest calls such a
// run needs) and its time (ceil(floor / in flight) x latency, in flight =
// min(default concurrency 8, 3 workers x 3 nodes); an apply's 7 calls per
// changed container are strictly ordered, so its part is ceil(changed /
// in flight) x 7 x latency), wall/floor (the child's whole run, from exec
// to exit, over the floor's time) and felhom's own peak RSS and CPU time
// (user + sys) from the child's rusage: the simulator runs in this process
// and is in neither (its CPU during the run is sim-cpu-ms). FELHOM_BENCH_5000=1 adds N = 5,000;
// FELHOM_BENCH_GROUPED=1 places each node's containers in one block of
// vmids (1000-1333 on pve1, ...) instead of round robin;
// FELHOM_BENCH_LATENCY=10ms runs one latency; FELHOM_BENCH_BIN=PATH runs
// another felhom build (to compare two in one sitting).
//
//	go test ./cmd/felhom -run '^$' -bench BenchmarkE2E -benchtime 1x -count 3
func BenchmarkE2E(b *testing.B) {
	bin := felhomBin
	if v := os.Getenv("FELHOM_BENCH_BIN"); v != "" {
		bin = v // another build, to compare in one sitting
	} else if buildErr != nil {
		b.Fatal(buildErr)
	}
	sizes := []int{100, 1000}
	if os.Getenv("FELHOM_BENCH_5000") == "1" {
		sizes = append(sizes, 5000)
	}
	grouped := os.Getenv("FELHOM_BENCH_GROUPED") == "1"
	for _, lat := range benchLatencies(b) {
		for _, n := range sizes {
			k := (n + 9) / 10 // changed containers
			cl := func(changed bool) benchcluster.Cluster {
				return benchcluster.Cluster{N: n, Nodes: benchNodes, Grouped: grouped, Memory: func(i int) string {
					if changed && i%10 == 0 {
						return "2G"
					}
					return "1G"
				}}
			}
			rounds := func(calls int) time.Duration {
				return time.Duration(math.Ceil(float64(calls)/float64(benchInFlight))) * lat
			}
			// A plan reads the cluster resources, each node's storage list and
			// each container's pending config; with changes also the changed
			// containers' snapshot lists and the token's permissions.
			planFloor := 1 + benchNodes + n
			changedFloor := planFloor + k + 1
			for _, changed := range []bool{false, true} {
				floor, exit := planFloor, exitOK
				if changed {
					floor, exit = changedFloor, exitChanges
				}
				b.Run(fmt.Sprintf("latency=%v/plan/containers=%d/changed=%s", lat, n, pct(changed)), func(b *testing.B) {
					inv, files := cl(changed).Build()
					sim, env := benchSim(b, inv, lat)
					dir := writeSpecs(b, files)
					m := benchRuns{bin: bin, rtt: simRTT(b, env)}
					var client benchRuns // the client floor (clientFloor), unchanged plans only
					for b.Loop() {
						sim.ResetRequestCounts()
						m.run(b, env, exit, "plan", "--detailed-exitcode", dir)
						m.add(sim.RequestCounts())
						if !changed {
							b.StopTimer()
							client.runClientFloor(b, env)
							b.StartTimer()
						}
					}
					m.report(b, floor, rounds(floor))
					if client.runs > 0 {
						cf := client.wall / time.Duration(client.runs)
						b.ReportMetric(float64(cf.Milliseconds()), "client-floor-ms")
						b.ReportMetric(m.wall.Seconds()/float64(m.runs)/cf.Seconds(), "wall/client-floor")
					}
				})
			}
			b.Run(fmt.Sprintf("latency=%v/apply/containers=%d/changed=10%%", lat, n), func(b *testing.B) {
				_, files := cl(true).Build()
				dir := writeSpecs(b, files)
				m := benchRuns{bin: bin}
				for b.Loop() {
					b.StopTimer()
					inv, _ := cl(true).Build()
					sim, env := benchSim(b, inv, lat)
					b.StartTimer()
					out := m.run(b, env, exitOK, "apply", "--auto-approve", dir)
					b.StopTimer()
					if want := fmt.Sprintf("Apply: %d applied, %d unchanged", k, n-k); !strings.Contains(out, want) {
						b.Fatalf("apply output lacks %q:\n%s", want, tail(out))
					}
					m.add(sim.RequestCounts())
					b.StartTimer()
				}
				m.report(b, changedFloor+7*k, rounds(changedFloor)+time.Duration(math.Ceil(float64(k)/float64(benchInFlight)))*7*lat)
			})
			if lat == benchLatencies(b)[0] {
				b.Run(fmt.Sprintf("validate/containers=%d", n), func(b *testing.B) {
					_, files := cl(false).Build()
					dir := writeSpecs(b, files)
					m := benchRuns{bin: bin}
					for b.Loop() {
						m.run(b, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir(), "NO_COLOR=1"}, exitOK, "validate", dir)
					}
					m.report(b, 0, 0)
				})
			}
		}
	}
}

// benchLatencies are 10 and 50 ms, or the one FELHOM_BENCH_LATENCY names.
func benchLatencies(b *testing.B) []time.Duration {
	if v := os.Getenv("FELHOM_BENCH_LATENCY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("FELHOM_BENCH_LATENCY: %v", err)
		}
		return []time.Duration{d}
	}
	return []time.Duration{10 * time.Millisecond, 50 * time.Millisecond}
}

func pct(changed bool) string {
	if changed {
		return "10%"
	}
	return "0%"
}

// benchSim serves inv over HTTPS at lat per request with the worker limit
// and returns the environment that points felhom at it.
func benchSim(b *testing.B, inv *pvesim.Inventory, lat time.Duration) (*pvesim.Sim, []string) {
	b.Helper()
	sim, err := pvesim.New(inv, pvesim.WithLatency(pvesim.Latency{Fixed: lat}), pvesim.WithWorkers(pvesim.DefaultWorkers))
	if err != nil {
		b.Fatal(err)
	}
	srv, err := sim.StartTLS()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close(); sim.Close() })
	cred, ok := sim.Token(benchcluster.TokenID)
	if !ok {
		b.Fatalf("no token %s", benchcluster.TokenID)
	}
	return sim, []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir(), "NO_COLOR=1",
		pve.EnvURL + "=" + srv.URL, pve.EnvFingerprint + "=" + srv.Fingerprint,
		pve.EnvTokenID + "=" + cred.TokenID, pve.EnvTokenSecret + "=" + cred.Secret,
	}
}

// simRTT is the round trip the simulator delivers for one GET .../pending
// with nothing else in flight, through the pve client felhom uses (the
// median of 31): the configured latency plus the simulator's handling and
// the timer's lateness (Go's timers may fire a millisecond or more late on
// an idle machine). It is what a plan's calls cost at best here, so the
// floor at it (rtt-floor-ms) says what is felhom's own and what is the
// simulator's.
func simRTT(b *testing.B, env []string) time.Duration {
	b.Helper()
	api, err := pve.New(benchConfig(env))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := api.Pending(ctx, "pve1", 1000); err != nil { // the connection's handshake
		b.Fatal(err)
	}
	rtts := make([]time.Duration, 31)
	for i := range rtts {
		start := time.Now()
		if _, err := api.Pending(ctx, "pve1", 1000); err != nil {
			b.Fatal(err)
		}
		rtts[i] = time.Since(start)
	}
	slices.Sort(rtts)
	return rtts[len(rtts)/2]
}

// benchConfig is the pve client configuration env points at.
func benchConfig(env []string) pve.Config {
	var cfg pve.Config
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case pve.EnvURL:
			cfg.URL = v
		case pve.EnvFingerprint:
			cfg.Fingerprint = v
		case pve.EnvTokenID:
			cfg.TokenID = v
		case pve.EnvTokenSecret:
			cfg.TokenSecret = pve.Secret(v)
		}
	}
	return cfg
}

// clientFloorEnv marks the test binary started as the client floor
// (clientFloor).
const clientFloorEnv = "FELHOM_BENCH_CLIENT_FLOOR"

// clientFloor is what this harness allows any client at best: a process
// that makes an unchanged plan's floor of calls and nothing else, through
// the pve client felhom uses with felhom's bounds (8 in flight, 3 per
// node): GET /cluster/resources, each node's storage list, and every
// container's pending config, the nodes in turn. No spec is loaded, nothing
// is compared or printed. Started through the launcher as felhom is, beside
// each felhom run, its wall time (client-floor-ms) is the time the
// simulator, Go's HTTP and TLS, and the machine's 2 cores give a plan of
// these calls; felhom's wall over it (wall/client-floor) is felhom's own
// cost: loading, planning, printing. It exits 0, or 1 when a call fails.
func clientFloor() int {
	cfg := benchConfig(os.Environ())
	cfg.MaxConcurrency = reconcile.DefaultConcurrency // as felhom plan sets it
	api, err := pve.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client floor:", err)
		return 1
	}
	ctx := context.Background()
	res, err := api.ClusterResources(ctx, "vm")
	if err != nil {
		fmt.Fprintln(os.Stderr, "client floor:", err)
		return 1
	}
	byNode := map[string][]int{}
	for _, r := range res {
		if r.Type == "lxc" {
			byNode[r.Node] = append(byNode[r.Node], r.VMID)
		}
	}
	nodes := slices.Sorted(maps.Keys(byNode))
	type read struct {
		node string
		vmid int
	}
	var reads []read
	for i, more := 0, true; more; i++ { // the nodes in turn
		more = false
		for _, n := range nodes {
			if i < len(byNode[n]) {
				reads = append(reads, read{n, byNode[n][i]})
				more = true
			}
		}
	}
	work := make(chan read)
	errs := make(chan error, len(nodes)+len(reads))
	var wg sync.WaitGroup
	for range reconcile.DefaultConcurrency {
		wg.Go(func() {
			for r := range work {
				var err error
				if r.vmid == 0 {
					_, err = api.Storages(ctx, r.node)
				} else {
					_, err = api.Pending(ctx, r.node, r.vmid)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	for _, n := range nodes {
		work <- read{node: n}
	}
	for _, r := range reads {
		work <- r
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		fmt.Fprintln(os.Stderr, "client floor:", err)
		return 1
	}
	return 0
}

// runClientFloor runs the client floor (clientFloor) once through the
// launcher, with env pointing it at the simulator.
func (m *benchRuns) runClientFloor(b *testing.B, env []string) {
	b.Helper()
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	saved := m.bin
	m.bin = self
	m.run(b, append(slices.Clip(env), clientFloorEnv+"=1"), exitOK)
	m.bin = saved
}

// writeSpecs writes the spec files into a fresh folder.
func writeSpecs(b *testing.B, files map[string]string) string {
	b.Helper()
	dir := b.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// benchRuns adds up the child runs of one benchmark.
type benchRuns struct {
	bin       string // the felhom binary
	runs      int
	wall, cpu time.Duration
	maxRSS    int64 // KiB, the largest of the runs
	// simCPU is the benchmark process's CPU time during the runs: the
	// simulator's, which shares the machine with felhom.
	simCPU time.Duration
	// launcherRSS is the launcher's own peak (KiB): felhom's maxRSS
	// cannot be told below it.
	launcherRSS int64
	calls       map[string]int
	totalCalls  int
	// rtt is the simulator's delivered round trip for one call (simRTT);
	// 0 when not measured.
	rtt time.Duration
}

// run runs felhom with args and env through the launcher, fails unless it
// exits with code, and returns its stdout.
func (m *benchRuns) run(b *testing.B, env []string, code int, args ...string) string {
	b.Helper()
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, append([]string{m.bin}, args...)...)
	cmd.Env = append(slices.Clip(env), launchEnv+"=1")
	cmd.ExtraFiles = []*os.File{w}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var before syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	err = cmd.Start()
	w.Close()
	if err != nil {
		b.Fatal(err)
	}
	report, rerr := io.ReadAll(r)
	err = cmd.Wait()
	var after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	m.simCPU += time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	if got := cmd.ProcessState.ExitCode(); got != code {
		b.Fatalf("felhom %s: exit %d (%v), want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), got, err, code, tail(stdout.String()), tail(stderr.String()))
	}
	var u launched
	if rerr != nil || json.Unmarshal(report, &u) != nil {
		b.Fatalf("launcher's report %q: %v", report, rerr)
	}
	m.runs++
	m.wall += u.Wall
	m.cpu += u.CPU
	m.maxRSS = max(m.maxRSS, u.MaxRSS)
	m.launcherRSS = max(m.launcherRSS, u.LauncherRSS)
	return stdout.String()
}

// launchEnv marks the test binary started as the launcher (launch).
const launchEnv = "FELHOM_BENCH_LAUNCH"

// launched is what the launcher reports of its child.
type launched struct {
	Wall        time.Duration // from start to exit
	CPU         time.Duration // user + sys
	MaxRSS      int64         // KiB: the child's peak RSS (ru_maxrss)
	LauncherRSS int64         // KiB: the launcher's own peak RSS (VmHWM)
}

func init() { benchLauncher = launch }

// launch runs os.Args[1:] as a child and writes its rusage to fd 3 as
// JSON, when the test binary was started as the launcher. felhom is not
// started from the benchmark process itself because Linux counts the
// memory a process held before exec into its ru_maxrss: a child of the
// benchmark, which holds the simulator, would start from the benchmark's
// peak. A child of this small process starts from the launcher's peak
// (reported as LauncherRSS: a figure at or below it is that, not felhom's).
func launch() (int, bool) {
	if os.Getenv(launchEnv) != "1" {
		if os.Getenv(clientFloorEnv) == "1" { // the launcher's child
			return clientFloor(), true
		}
		return 0, false
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, launchEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "launcher:", err)
		return 125, true
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "launcher: no rusage")
		return 125, true
	}
	u := launched{Wall: wall, CPU: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), MaxRSS: ru.Maxrss, LauncherRSS: vmHWM()}
	if err := json.NewEncoder(os.NewFile(3, "report")).Encode(u); err != nil {
		fmt.Fprintln(os.Stderr, "launcher:", err)
		return 125, true
	}
	return cmd.ProcessState.ExitCode(), true
}

// vmHWM is this process's peak RSS in KiB (/proc/self/status), -1 when
// unknown.
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// add counts one run's calls by endpoint class.
func (m *benchRuns) add(counts map[string]int) {
	if m.calls == nil {
		m.calls = map[string]int{}
	}
	for key, c := range counts {
		m.calls[endpointClass(key)] += c
		m.totalCalls += c
	}
}

// report reports the per-run averages (the RSS is the largest of the
// runs); floor 0 is a run without API calls.
func (m *benchRuns) report(b *testing.B, floor int, floorTime time.Duration) {
	runs := float64(m.runs)
	b.ReportMetric(float64(m.maxRSS)/1024, "rss-MiB")
	b.ReportMetric(float64(m.launcherRSS)/1024, "launcher-rss-MiB")
	b.ReportMetric(float64(m.cpu.Milliseconds())/runs, "cpu-ms/op")
	if floor == 0 {
		return
	}
	b.ReportMetric(float64(m.simCPU.Milliseconds())/runs, "sim-cpu-ms/op")
	b.ReportMetric(float64(m.totalCalls)/runs, "calls/op")
	b.ReportMetric(float64(floor), "floor-calls")
	b.ReportMetric(float64(floorTime.Milliseconds()), "floor-ms")
	b.ReportMetric(m.wall.Seconds()/runs/floorTime.Seconds(), "wall/floor")
	if m.rtt > 0 {
		// The floor's rounds at the simulator's delivered round trip.
		rttFloor := time.Duration(math.Ceil(float64(floor)/float64(benchInFlight))) * m.rtt
		b.ReportMetric(float64(m.rtt.Microseconds())/1000, "rtt-ms")
		b.ReportMetric(float64(rttFloor.Milliseconds()), "rtt-floor-ms")
		b.ReportMetric(m.wall.Seconds()/runs/rttFloor.Seconds(), "wall/rtt-floor")
	}
	classes := make([]string, 0, len(m.calls))
	for c := range m.calls {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, c := range classes {
		b.ReportMetric(float64(m.calls[c])/runs, "calls:"+c)
	}
}

// endpointClasses name the endpoints felhom plan and apply call.
var endpointClasses = map[string]string{
	"GET /cluster/resources":                                  "resources",
	"GET /nodes/{node}/storage":                               "storage",
	"GET /nodes/{node}/lxc/{vmid}/pending":                    "pending",
	"GET /nodes/{node}/lxc/{vmid}/config":                     "config",
	"PUT /nodes/{node}/lxc/{vmid}/config":                     "config-put",
	"GET /nodes/{node}/lxc/{vmid}/snapshot":                   "snapshots",
	"POST /nodes/{node}/lxc/{vmid}/snapshot":                  "snapshot-create",
	"PUT /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config": "snapshot-config-put",
	"GET /access/permissions":                                 "permissions",
	"GET /nodes/{node}/tasks/{upid}/status":                   "task-status",
	"DELETE /nodes/{node}/lxc/{vmid}/snapshot/{snapname}":     "snapshot-delete",
	"GET /nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config": "snapshot-config",
	"GET /nodes/{node}/lxc/{vmid}/status/current":             "status",
	"GET /version": "version",
}

// endpointClass is the short name of a request count's key ("GET
// /nodes/{node}/lxc/{vmid}/pending" is pending); a key not named above is
// itself, without spaces.
func endpointClass(key string) string {
	if c, ok := endpointClasses[key]; ok {
		return c
	}
	return strings.ReplaceAll(key, " ", "_")
}

// tail is the end of a long output.
func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}
