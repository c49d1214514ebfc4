package main

// End-to-end tests: they build the real felhom binary once (TestMain) and
// drive it against a simulated cluster served over HTTPS from the test
// process, which lets each test steer the simulator (task outcomes, hand
// changes) while the binary talks to it as to PVE.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/felhom/felhom/pve"
	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/pve/pvesim"
	"github.com/felhom/felhom/reconcile/plan"
)

// felhomBin is the binary TestMain built ("" when the build failed; the
// end-to-end tests then fail with buildErr).
var felhomBin string
var buildErr error

// benchLauncher, when set (e2e_bench_test.go), runs in place of the tests
// when ok: the test binary was started as BenchmarkE2E's launcher.
var benchLauncher func() (code int, ok bool)

func TestMain(m *testing.M) {
	if benchLauncher != nil {
		if code, ok := benchLauncher(); ok {
			os.Exit(code)
		}
	}
	dir, err := os.MkdirTemp("", "felhom-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin := filepath.Join(dir, "felhom")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		buildErr = fmt.Errorf("go build: %v\n%s", err, out)
	} else {
		felhomBin = bin
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the repository's root (tests run in cmd/felhom).
const repoRoot = "../.."

// e2e is a simulator served over HTTPS and the environment that points the
// binary at it.
type e2e struct {
	t   *testing.T
	sim *pvesim.Sim
	srv *pvesim.Server
	api *pve.Client
	env []string
}

func newE2E(t *testing.T, inv *pvesim.Inventory) *e2e {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	sim, err := pvesim.New(inv)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sim.StartTLS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cred, ok := sim.Token("felhom@pve!reconcile")
	if !ok {
		t.Fatal("inventory has no felhom@pve!reconcile token")
	}
	api, err := pve.New(pve.Config{URL: srv.URL, TokenID: cred.TokenID, TokenSecret: pve.Secret(cred.Secret), Fingerprint: srv.Fingerprint})
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "NO_COLOR=1",
		pve.EnvURL + "=" + srv.URL, pve.EnvFingerprint + "=" + srv.Fingerprint,
		pve.EnvTokenID + "=" + cred.TokenID, pve.EnvTokenSecret + "=" + cred.Secret,
	}
	return &e2e{t: t, sim: sim, srv: srv, api: api, env: env}
}

// run runs felhom with args in dir and returns stdout, stderr and the exit
// code.
func (e *e2e) run(dir string, args ...string) (string, string, int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, felhomBin, args...)
	cmd.Dir = dir
	cmd.Env = e.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		e.t.Fatalf("felhom %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// expect runs felhom and fails unless it exits with code.
func (e *e2e) expect(code int, dir string, args ...string) string {
	e.t.Helper()
	out, errOut, got := e.run(dir, args...)
	if got != code {
		e.t.Fatalf("felhom %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), got, code, out, errOut)
	}
	return out
}

func examplesInventory(t *testing.T) *pvesim.Inventory {
	t.Helper()
	inv, err := pvesim.LoadInventory(filepath.Join(repoRoot, "examples", "sim", "inventory.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestE2EExamplesApplyThenPlanNoChanges(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	specs := filepath.Join("examples", "containers")
	out := e.expect(exitChanges, repoRoot, "plan", "--detailed-exitcode", specs)
	if !strings.Contains(out, "ct 101 web") || !strings.Contains(out, "take snapshot felhom-") {
		t.Errorf("plan output:\n%s", out)
	}
	out = e.expect(exitOK, repoRoot, "apply", "--auto-approve", specs)
	for _, want := range []string{"ct 101 web on pve1: applied", "ct 102 media on pve1: applied", "ct 103 dns on pve1: applied",
		"ct 201 db on pve2: applied", "pending until restart: memory", "Apply: 4 applied, 0 unchanged, 0 skipped"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	// Every example reached its spec: exit 0. db's memory still waits for
	// its restart window, which is no change to make.
	out = e.expect(exitOK, repoRoot, "plan", "--detailed-exitcode", specs)
	for _, want := range []string{"Plan: 0 to change, 4 unchanged, 0 blocked", "ct 103 dns on pve1 (stopped): no changes",
		"ct 201 db on pve2 (running): no changes (1 change awaiting restart)"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan after apply lacks %q:\n%s", want, out)
		}
	}
}

// A container PVE cannot snapshot, with the default snapshot policy
// (refuse): plan marks it blocked with the reason, apply changes the other
// container and leaves this one alone, and plan --detailed-exitcode keeps
// exiting 2 since its spec is not reached. ct 103 of the example cluster
// has its root volume on dir storage.
func TestE2EBlockedStaysBlocked(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "memory: 2G\n")
	writeSpec(t, dir, "dns.yaml", "dns", "pve1", 103, "memory: 768\nrootfs:\n  storage: local\n")
	before, _ := e.sim.ConfigText(103)
	out := e.expect(exitChanges, repoRoot, "plan", "--detailed-exitcode", dir)
	if !strings.Contains(out, "rootfs is on storage local, which cannot snapshot") || !strings.Contains(out, "Plan: 1 to change, 0 unchanged, 1 blocked") {
		t.Errorf("plan:\n%s", out)
	}
	out = e.expect(exitOK, repoRoot, "apply", "--auto-approve", dir)
	for _, want := range []string{"ct 101 web on pve1: applied", "ct 103 dns on pve1: skipped", "Apply: 1 applied, 0 unchanged, 1 skipped"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	if after, _ := e.sim.ConfigText(103); after != before {
		t.Errorf("apply changed a blocked container:\n%s\nwas:\n%s", after, before)
	}
	out = e.expect(exitChanges, repoRoot, "plan", "--detailed-exitcode", dir)
	if !strings.Contains(out, "Plan: 0 to change, 1 unchanged, 1 blocked") {
		t.Errorf("plan after apply:\n%s", out)
	}
}

func TestE2EPlanOutputsAndExitCodes(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	specs := filepath.Join("examples", "containers")
	out := e.expect(exitOK, repoRoot, "plan", "--output", "json", specs)
	p, err := plan.Parse([]byte(out))
	if err != nil || len(p.Containers) != 4 || !p.HasChanges() {
		t.Fatalf("json plan: %v\n%s", err, out)
	}
	out = e.expect(exitChanges, repoRoot, "plan", "--output", "markdown", "--detailed-exitcode", specs)
	if !strings.HasPrefix(out, "<!--") || !strings.Contains(out, "<details>") {
		t.Errorf("markdown plan:\n%s", out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("escape codes in output that is not a terminal")
	}

	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "x.yaml"), []byte("apiVersion: felhom/v1alpha1\nkind: Container\nmetadata:\n  name: x\nspec:\n  node: pve1\n  vmid: 5\n  memory: lots\n"), 0o644)
	_, errOut, code := e.run(repoRoot, "plan", "--detailed-exitcode", bad)
	if code != exitInvalid || !strings.Contains(errOut, "x.yaml") {
		t.Errorf("invalid spec: exit %d, stderr %s", code, errOut)
	}

	// No PVE connection configured: an error (not "invalid specs").
	e.env = []string{"PATH=" + os.Getenv("PATH")}
	if _, errOut, code := e.run(repoRoot, "plan", specs); code != exitError || !strings.Contains(errOut, "pve connection") {
		t.Errorf("plan without a PVE config: exit %d, want %d; %s", code, exitError, errOut)
	}
}

func TestE2ESavedPlan(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	specs := filepath.Join("examples", "containers")
	dir := t.TempDir()
	saved := filepath.Join(dir, "plan.json")
	e.expect(exitOK, repoRoot, "plan", "-out", saved, specs) // terraform's spelling

	// Someone changes ct 201 since: the saved plan is stale, nothing is done.
	if _, err := e.api.SetConfig(context.Background(), "pve2", 201, pve.ConfigChange{Set: map[string]string{"cores": "3"}}); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := e.run(repoRoot, "apply", saved)
	if code != exitStalePlan || !strings.Contains(errOut, "ct 201 db") {
		t.Fatalf("stale plan: exit %d, stderr %s", code, errOut)
	}
	if text, _ := e.sim.ConfigText(101); strings.Contains(text, "memory: 2048") {
		t.Error("a stale saved plan changed ct 101")
	}

	// A fresh saved plan applies without asking.
	e.expect(exitOK, repoRoot, "plan", "--out="+saved, specs)
	out := e.expect(exitOK, repoRoot, "apply", saved)
	if !strings.Contains(out, "Apply: 4 applied") {
		t.Errorf("apply of a saved plan:\n%s", out)
	}
	if out := e.expect(exitOK, repoRoot, "plan", "--detailed-exitcode", specs); !strings.Contains(out, "Plan: 0 to change, 4 unchanged, 0 blocked") {
		t.Errorf("plan after the saved plan:\n%s", out)
	}
}

// Terraform's -out spelling works before or after the folder, with a space
// or "=".
func TestE2EPlanSingleDashOut(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	specs := filepath.Join("examples", "containers")
	for i, args := range [][]string{
		{"plan", specs, "-out", "F"},
		{"plan", "-out", "F", specs},
		{"plan", specs, "-out=F"},
		{"plan", "--output", "json", specs, "-out", "F"},
	} {
		saved := filepath.Join(t.TempDir(), fmt.Sprintf("plan%d.json", i))
		for j := range args {
			args[j] = strings.Replace(args[j], "F", saved, 1)
		}
		e.expect(exitOK, repoRoot, args...)
		b, err := os.ReadFile(saved)
		if err != nil {
			t.Errorf("felhom %s: %v", strings.Join(args, " "), err)
			continue
		}
		if p, err := plan.Parse(b); err != nil || len(p.Containers) != 4 {
			t.Errorf("felhom %s saved %v", strings.Join(args, " "), err)
		}
	}
}

func TestE2EApplyAsksOnlyOnATerminal(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	_, errOut, code := e.run(repoRoot, "apply", filepath.Join("examples", "containers"))
	if code != exitError || !strings.Contains(errOut, "--auto-approve") {
		t.Errorf("apply without a terminal: exit %d, stderr %s", code, errOut)
	}
	if text, _ := e.sim.ConfigText(101); strings.Contains(text, "memory: 2048") {
		t.Error("apply changed a container without approval")
	}
}

// A failing task: the container is rolled back (or left, as asked), the
// report carries the task log, the other containers are applied, exit 1.
func TestE2EApplyFailureReport(t *testing.T) {
	for _, policy := range []string{"rollback", "leave"} {
		t.Run(policy, func(t *testing.T) {
			inv := examplesInventory(t)
			e := newE2E(t, inv)
			// ct 101 gets a hot change (memory), a pending one
			// (nameserver) and a reboot, whose task fails after the write.
			dir := t.TempDir()
			writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "memory: 2G\nnameserver: 9.9.9.9\nrestart:\n  mode: when-needed\n")
			writeSpec(t, dir, "db.yaml", "db", "pve2", 201, "cores: 3\n")
			e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzreboot", ID: "101", Fail: "reboot timed out"})
			out, errOut, code := e.run(repoRoot, "apply", "--auto-approve", "--on-failure", policy, dir)
			if code != exitError {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			for _, want := range []string{"ct 101 web on pve1: failed", "reboot timed out", "| TASK ERROR: reboot timed out", "ct 201 db on pve2: applied"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if !strings.Contains(errOut, "msg=\"apply: done\"") {
				t.Errorf("no structured progress lines on stderr:\n%s", errOut)
			}
			f := simConf(t, e.sim, 101)
			mem, _ := f.Get("memory")
			if policy == "rollback" {
				if !strings.Contains(out, "rolled back to felhom-") || mem != "1024" {
					t.Errorf("rollback: memory %s\n%s", mem, out)
				}
			} else {
				if !strings.Contains(out, "half-done: set config") || mem != "2048" {
					t.Errorf("leave: memory %s\n%s", mem, out)
				}
			}
		})
	}
}

func writeSpec(t *testing.T, dir, file, name, node string, vmid int, body string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: felhom/v1alpha1\nkind: Container\nmetadata:\n  name: %s\nspec:\n  node: %s\n  vmid: %d\n", name, node, vmid)
	for _, l := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
		b.WriteString("  " + l + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func simConf(t *testing.T, sim *pvesim.Sim, vmid int) *ctconf.File {
	t.Helper()
	text, ok := sim.ConfigText(vmid)
	if !ok {
		t.Fatalf("ct %d gone", vmid)
	}
	f, err := ctconf.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Apply then plan: no changes, for containers seeded from each real config
// of the reference (skipping the one caught mid-snapshot, whose lock felhom
// must wait out and does not remove: reconcile's tests cover it).
func TestE2EReferenceConfigsApplyThenPlan(t *testing.T) {
	for i, r := range referenceConfigs(t) {
		t.Run(r.name, func(t *testing.T) {
			if lock := r.get("lock"); lock != "" {
				t.Skipf("locked (%s): covered by reconcile's TestReferenceConfigsApplyThenPlan", lock)
			}
			vmid := 300 + i
			inv := pvesim.NewInventory("ref")
			r.seed(inv.AddNode("pve1"), vmid, true)
			inv.AddUser("felhom@pve", pvesim.Role("/", "PVEAdmin")).AddToken("reconcile", "", false)
			e := newE2E(t, inv)
			get := r.get
			root, _, _ := strings.Cut(get("rootfs"), ":")
			dir := t.TempDir()
			writeSpec(t, dir, "ref.yaml", "ref", "pve1", vmid, fmt.Sprintf(
				"memory: %sM\nswap: %s\ncpulimit: %s\ncpuunits: %s\ncores: 2\ntags: [felhom, ref]\nsearchdomain: example.net\nrootfs:\n  storage: %s\nrestart:\n  mode: when-needed\n",
				get("memory"), get("swap"), get("cpulimit"), get("cpuunits"), root))
			e.expect(exitChanges, repoRoot, "plan", "--detailed-exitcode", dir)
			out := e.expect(exitOK, repoRoot, "apply", "--auto-approve", dir)
			if !strings.Contains(out, "applied   reboot") {
				t.Errorf("no reboot for the pending searchdomain:\n%s", out)
			}
			e.expect(exitOK, repoRoot, "plan", "--detailed-exitcode", dir)
			after := simConf(t, e.sim, vmid)
			for _, s := range r.conf.Snapshots {
				if after.Snapshot(s.Name) == nil {
					t.Errorf("snapshot %s is gone", s.Name)
				}
			}
		})
	}
}

func TestE2EDemo(t *testing.T) {
	e := newE2E(t, examplesInventory(t)) // only for the binary and env
	out := e.expect(exitOK, repoRoot, "demo")
	for _, want := range []string{"$ felhom validate", "valid: 4 containers", "$ felhom apply", "ct 103 dns on pve1: applied", "Apply: 4 applied",
		"Plan: 0 to change, 4 unchanged, 0 blocked", "memory  3 GiB → 2 GiB  (hot) drift", "Plan: 1 to change, 3 unchanged, 0 blocked",
		"pct set 201 --cores 4", "ct 201 db on pve2 (running): no changes (1 change awaiting restart, 1 hand change left as found)",
		"cores   4 → 2  (hot) drift", "left as found (drift policy: report): cores",
		`msg="drift reverted" revision=specs-`, `msg="drift reported" revision=specs-`, "msg=cycle kind=change", "result=ok planned=1 changed=1",
		"ct 101 web: synced, drift cores (revert)", "ct 201 db: synced, drift cores (report)"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

// A second Ctrl-C quits at once: the first only cancels (apply awaits the
// running task, here one of an hour), and then main restores the default
// handling, so the next SIGINT kills felhom instead of being swallowed.
// SIGINT is sent every 100 ms once the task runs; without the restore
// felhom would wait out the task and the test's bound would kill it.
func TestE2EApplySecondInterruptQuits(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGINT")
	}
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "memory: 2G\n")
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzsnapshot", Duration: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, felhomBin, "apply", "--auto-approve", dir)
	cmd.Dir, cmd.Env = repoRoot, e.env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	buf := make([]byte, 4096)
	for !strings.Contains(log.String(), `msg="apply: task"`) {
		n, err := stderr.Read(buf)
		log.Write(buf[:n])
		if err != nil {
			t.Fatalf("felhom ended before its snapshot task started: %v\n%s", err, log.String())
		}
	}
	done := make(chan error, 1)
	go func() {
		io.Copy(&log, stderr)
		done <- cmd.Wait()
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		cmd.Process.Signal(os.Interrupt)
		select {
		case err = <-done:
		case <-tick.C:
			continue
		}
		break
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("felhom ended with %v", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Fatalf("felhom ended with %v, want killed by the second SIGINT\nstderr:\n%s", err, log.String())
	}
}

// Ctrl-C during apply: the running task is awaited, nothing further is
// started, no lock is left behind, the result is printed, exit 130.
func TestE2EApplyInterrupted(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGINT")
	}
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "memory: 2G\n")
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzsnapshot", Duration: 1500 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, felhomBin, "apply", "--auto-approve", dir)
	cmd.Dir, cmd.Env = repoRoot, e.env
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	buf := make([]byte, 4096)
	for !strings.Contains(log.String(), `msg="apply: task"`) {
		n, err := stderr.Read(buf)
		log.Write(buf[:n])
		if err != nil {
			t.Fatalf("felhom ended before its snapshot task started: %v\n%s", err, log.String())
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stderr)
	log.Write(rest)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitCancelled {
		t.Fatalf("exit: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), log.String())
	}
	out := stdout.String()
	for _, want := range []string{"1. applied   take snapshot felhom-", "[OK]", "2. skipped   set config memory  (cancelled)", "Interrupted"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	f := simConf(t, e.sim, 101)
	if lock, _ := f.Get("lock"); lock != "" {
		t.Errorf("lock %q left behind", lock)
	}
	if mem, _ := f.Get("memory"); mem != "1024" {
		t.Errorf("memory %s: a step ran after Ctrl-C", mem)
	}
}

// No perpetual diff through the binary: ct 101 of the example cluster
// described with other spellings of what PVE holds plans as no change.
func TestE2ENoPerpetualDiff(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, `memory: 1GiB
swap: 0.5G
cores: 2
cpulimit: 0
tags: [web, Prod]
onboot: true
protection: false
features:
  nesting: true
net:
  net0:
    ip: dhcp
    hwaddr: bc:24:11:5e:7a:01
    firewall: true
    bridge: vmbr0
    name: eth0
rootfs:
  storage: local-lvm
  size: 8192M
mountpoints:
  mp0:
    volume: local-lvm:vm-101-disk-1
    size: 16384MiB
    mp: /srv/www
    backup: true
`)
	out := e.expect(exitOK, repoRoot, "plan", "--detailed-exitcode", dir)
	if !strings.Contains(out, "ct 101 web on pve1 (running): no changes") {
		t.Errorf("plan:\n%s", out)
	}
}

// On a terminal (a pseudo-terminal from util-linux script(1)): apply asks
// for confirmation, shows colour unless NO_COLOR is set, and draws the live
// progress display.
func TestE2ETerminal(t *testing.T) {
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) not installed: no pseudo-terminal to test with")
	}
	e := newE2E(t, examplesInventory(t))
	onTTY := func(stdin string, noColor bool, args ...string) (string, int) {
		t.Helper()
		env := []string{}
		for _, kv := range e.env {
			if !strings.HasPrefix(kv, "NO_COLOR=") {
				env = append(env, kv)
			}
		}
		if noColor {
			env = append(env, "NO_COLOR=1")
		}
		cmd := exec.Command(scriptBin, "-qec", felhomBin+" "+strings.Join(args, " "), "/dev/null")
		cmd.Dir, cmd.Env = repoRoot, append(env, "TERM=xterm")
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("felhom %v on a terminal: %v\n%s", args, err, out)
		}
		return string(out), cmd.ProcessState.ExitCode()
	}
	specs := filepath.Join("examples", "containers")

	// Anything but "yes" is no apply, and exits 1 as terraform does, so a
	// script cannot take it for a success (issue 16 item 2).
	out, code := onTTY("no\n", true, "apply", specs)
	if !strings.Contains(out, "Apply these changes?") || !strings.Contains(out, "Apply cancelled.") || strings.Contains(out, "\x1b[") {
		t.Fatalf("answer no, NO_COLOR:\n%q", out)
	}
	if code != exitError {
		t.Errorf("answer no: exit %d, want %d", code, exitError)
	}
	if text, _ := e.sim.ConfigText(101); strings.Contains(text, "memory: 2048") {
		t.Fatal("applied after the answer no")
	}

	// --no-color does what NO_COLOR does, on every command (issue 16 item 6).
	out, code = onTTY("no\n", false, "--no-color", "apply", specs)
	if code != exitError || strings.Contains(out, "\x1b[") {
		t.Errorf("--no-color apply on a terminal: exit %d, colour codes in:\n%q", code, out)
	}

	out, code = onTTY("yes\n", false, "apply", specs)
	if code != exitOK {
		t.Errorf("answer yes: exit %d", code)
	}
	if !strings.Contains(out, "Apply: 4 applied") || !strings.Contains(out, "\x1b[33m~\x1b[0m") || !strings.Contains(out, "\x1b[2K") {
		t.Errorf("answer yes, colour, progress display:\n%q", out)
	}
}

// Drift between two CLI runs: apply keeps what it applied in the felhom
// snapshot's description, so a later `felhom plan` (a new process, nothing in
// memory) marks a hand change as drift, and only that change.
func TestE2EPlanShowsDriftBetweenRuns(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	specs := filepath.Join("examples", "containers")
	e.expect(exitOK, repoRoot, "apply", "--auto-approve", specs)
	conf := simConf(t, e.sim, 101)
	var kept bool
	for _, s := range conf.Snapshots {
		kept = kept || strings.Contains(s.Description(), "\nfelhom-baseline: {")
	}
	if !kept {
		text, _ := e.sim.ConfigText(101)
		t.Fatalf("no felhom snapshot of ct 101 keeps a baseline line:\n%s", text)
	}
	out := e.expect(exitOK, repoRoot, "plan", "--detailed-exitcode", specs)
	if strings.Contains(out, "drift") || !strings.Contains(out, "Plan: 0 to change, 4 unchanged") {
		t.Errorf("plan right after apply marks drift:\n%s", out)
	}

	// An admin runs pct set 101 --memory 3072 between the two runs.
	if _, err := e.api.SetConfig(context.Background(), "pve1", 101, pve.ConfigChange{Set: map[string]string{"memory": "3072"}}); err != nil {
		t.Fatal(err)
	}
	out = e.expect(exitChanges, repoRoot, "plan", "--detailed-exitcode", specs)
	if !strings.Contains(out, "memory  3 GiB → 2 GiB  (hot) drift") || strings.Count(out, "drift") != 1 {
		t.Errorf("plan after a hand change: want the memory change marked drift, and nothing else:\n%s", out)
	}
}

// A plan with no change to make but a container in error (here a shrink PVE
// cannot do) ends apply with exit 1 whatever the output format: the JSON
// result must not turn it into a success.
func TestE2EApplyNoChangesWithErrorExits1(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "rootfs:\n  storage: local-lvm\n  size: 4G\n")
	for _, output := range []string{"text", "json"} {
		out, errOut, code := e.run(repoRoot, "apply", "--auto-approve", "--output", output, dir)
		if code != exitError {
			t.Errorf("--output %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", output, code, exitError, out, errOut)
		}
	}
}

// Issue 10 item 9: a spec whose vmid PVE does not have is not reached, so
// plan --detailed-exitcode exits 2, not 0, also when every other container
// is unchanged.
func TestE2EMissingVMIDFailsDetailedExitcode(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	writeSpec(t, dir, "ghost.yaml", "ghost", "pve1", 999, "memory: 512\n")
	out := e.expect(exitChanges, repoRoot, "plan", "--detailed-exitcode", dir)
	if !strings.Contains(out, "999") || !strings.Contains(out, "missing") {
		t.Errorf("plan does not name the missing container:\n%s", out)
	}
}
