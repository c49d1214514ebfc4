package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/privileged"
)

// privCLI runs felhom plan and apply in this process (so the host felhom
// "runs on" can be handed in: the real check reads /etc/pve and the uid),
// against e's simulator over HTTPS, with a config whose privileged section
// runs the pct stand-in (the felhom binary linked as pct) on node pve1.
type privCLI struct {
	e    *e2e
	g    *globalOptions
	host privileged.Host
}

func newPrivCLI(t *testing.T, e *e2e, host privileged.Host) *privCLI {
	t.Helper()
	pc := pctStandIn(t, e, "pve1")
	var b strings.Builder
	fmt.Fprintf(&b, "privileged:\n  enabled: true\n  pct: %s\n  timeout: 1m\n  env:\n", pc.PCT)
	for _, v := range pc.Env {
		fmt.Fprintf(&b, "    - %q\n", v)
	}
	cfg := filepath.Join(t.TempDir(), "felhom.yaml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return &privCLI{e: e, g: &globalOptions{configFile: cfg}, host: host}
}

func (c *privCLI) getenv(name string) string {
	for _, kv := range c.e.env {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v
		}
	}
	return ""
}

func (c *privCLI) plan(t *testing.T, dir string) (string, int) {
	t.Helper()
	var out, errOut strings.Builder
	err := runPlan(context.Background(), &out, &errOut, planOptions{global: c.g, output: "text", detailedExitcode: true,
		concurrency: 2, getenv: c.getenv, host: c.host}, dir)
	code := exitCode(context.Background(), err, &errOut)
	return out.String() + errOut.String(), code
}

func (c *privCLI) apply(t *testing.T, dir string) (string, int) {
	t.Helper()
	var out, errOut strings.Builder
	err := runApply(context.Background(), &out, &errOut, applyOptions{global: c.g, autoApprove: true, output: "text",
		concurrency: 2, lockWait: time.Minute, getenv: c.getenv, host: c.host}, dir)
	code := exitCode(context.Background(), err, &errOut)
	return out.String() + errOut.String(), code
}

// The "what must show" of issue 13, end to end against the simulator with
// the pct stand-in: a bind mount added to a running container that PVE
// cannot snapshot (vzdump first), features {keyctl: true} (snapshot first),
// each written by pct set as root and then planned clean.
func TestE2EPrivilegedApplyThenPlanClean(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	cli := newPrivCLI(t, e, rootOn("pve1"))
	dir := t.TempDir()
	writeSpec(t, dir, "media.yaml", "media", "pve1", 102, "mountpoints:\n  mp1: {bind: /srv/downloads, mp: /downloads}\nbackup: {schedule: daily, storage: nas}\nsnapshot: {when-impossible: vzdump}")
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "features: {nesting: true, keyctl: true}")
	out, code := cli.plan(t, dir)
	for _, want := range []string{
		"+ mp1  /srv/downloads,mp=/downloads  (hot) (privileged)",
		"~ features.keyctl  off → on  (pending restart) (privileged)",
		"1. back up with vzdump to nas",
		"2. set config as root (privileged) mp1",
		"2. set config as root (privileged) features",
		"needs: root on node pve1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if code != exitChanges {
		t.Fatalf("plan exit %d:\n%s", code, out)
	}
	out, code = cli.apply(t, dir)
	if code != exitOK {
		t.Fatalf("apply exit %d:\n%s", code, out)
	}
	if !strings.Contains(out, `msg="privileged: ran" argv="`) || !strings.Contains(out, " set 102 --mp1 /srv/downloads,mp=/downloads --digest ") {
		t.Errorf("the pct runs are not logged:\n%s", out)
	}
	if v, _ := simConf(t, e.sim, 102).Main.Get("mp1"); v != "/srv/downloads,mp=/downloads" {
		t.Errorf("mp1 = %q", v)
	}
	if f := simConf(t, e.sim, 101); len(f.Snapshots) == 0 {
		t.Error("ct 101 has no felhom snapshot")
	}
	if out, code = cli.plan(t, dir); code != exitOK || !strings.Contains(out, "Plan: 0 to change, 2 unchanged") {
		t.Errorf("second plan exit %d:\n%s", code, out)
	}
}

// Without the backend (no config: the real binary), as another user, or on
// another node, the same spec plans blocked with the reason and what would
// enable it, and apply does not touch the container.
func TestE2EPrivilegedBlocked(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "features: {nesting: true, keyctl: true}")
	before := simConf(t, e.sim, 101).Digest
	check := func(name, out string, want string) {
		t.Helper()
		if !strings.Contains(out, "ct 101 web on pve1 (running): blocked") || !strings.Contains(out, "(root only)") ||
			!strings.Contains(out, "refused: features.keyctl: PVE allows changing only nesting without root@pam") || !strings.Contains(out, want) {
			t.Errorf("%s: output lacks %q:\n%s", name, want, out)
		}
		if simConf(t, e.sim, 101).Digest != before {
			t.Fatalf("%s: the container was changed", name)
		}
	}
	// The real binary with no privileged section.
	out := e.expect(exitOK, repoRoot, "apply", "--auto-approve", dir)
	check("disabled", out, "the privileged backend is not enabled (set privileged.enabled: true in felhom's config and run felhom as root on node pve1)")
	// The real binary, enabled, on this machine: it is not node pve1 (or
	// felhom is not root here); the reason is the real host check's.
	cli := newPrivCLI(t, e, rootOn("pve1"))
	out, _, _ = e.run(repoRoot, "--config", cli.g.configFile, "plan", dir)
	want := "the container is on pve1 (run felhom as root on node pve1)"
	if os.Geteuid() != 0 {
		want = fmt.Sprintf("felhom runs as uid %d, not root (run felhom as root on node pve1)", os.Geteuid())
	}
	check("this host", out, want)
	for _, tt := range []struct {
		name string
		host privileged.Host
		want string
	}{
		{"not root", privileged.Host{UID: func() int { return 1000 }, NodeName: func() (string, error) { return "pve1", nil }}, "felhom runs as uid 1000, not root (run felhom as root on node pve1)"},
		{"other node", rootOn("pve2"), "felhom runs on node pve2, the container is on pve1 (run felhom as root on node pve1)"},
	} {
		cli := newPrivCLI(t, e, tt.host)
		out, code := cli.apply(t, dir)
		if code != exitOK {
			t.Errorf("%s: apply exit %d", tt.name, code)
		}
		check(tt.name, out, tt.want)
	}
}

// A dev0 passthrough on a running container: a device the host does not
// have is PVE's refusal, which leaves the config as it was (and the
// container running, not rolled back) and puts PVE's message in the
// report; the host's device is passed through and then plans clean.
func TestE2EPrivilegedDevice(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	cli := newPrivCLI(t, e, rootOn("pve1"))
	dir := t.TempDir()
	main := func() string {
		f := simConf(t, e.sim, 101)
		var b strings.Builder
		for _, k := range f.Main.Keys() {
			if k != "parent" {
				v, _ := f.Main.Get(k)
				b.WriteString(k + ": " + v + "\n")
			}
		}
		return b.String()
	}
	before := main()
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "devices:\n  dev0: {path: /dev/ttyUSB9, mode: \"0660\"}")
	out, code := cli.apply(t, dir)
	if code != exitError || !strings.Contains(out, "Device /dev/ttyUSB9 does not exist") || strings.Contains(out, "rolled back") {
		t.Fatalf("refused device: exit %d:\n%s", code, out)
	}
	if got := main(); got != before || !e.sim.Running(101) {
		t.Fatalf("a refused pct set changed the container:\n%s\n---\n%s", before, got)
	}
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "devices:\n  dev0: {path: /dev/ttyUSB0, mode: \"0660\"}")
	out, code = cli.plan(t, dir)
	if code != exitChanges || !strings.Contains(out, "+ dev0  /dev/ttyUSB0,mode=0660  (hot) (privileged)") {
		t.Fatalf("plan exit %d:\n%s", code, out)
	}
	if out, code = cli.apply(t, dir); code != exitOK {
		t.Fatalf("apply exit %d:\n%s", code, out)
	}
	if v, _ := simConf(t, e.sim, 101).Main.Get("dev0"); v != "/dev/ttyUSB0,mode=0660" {
		t.Errorf("dev0 = %q", v)
	}
	if out, code = cli.plan(t, dir); code != exitOK {
		t.Errorf("second plan exit %d:\n%s", code, out)
	}
}

// A stale digest stops the privileged write as it stops an API write: a
// pct that first makes a hand change as root (another admin's pct set
// racing felhom's) and then runs felhom's argv is refused by PVE's digest
// check; felhom reports stale, rolls nothing back, and the hand change
// stays.
func TestE2EPrivilegedStaleDigest(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	cli := newPrivCLI(t, e, rootOn("pve1"))
	racing := filepath.Join(t.TempDir(), "pct")
	script := "#!/bin/sh\n" + shellQuote(felhomBin) + " sim pct set 101 --cores 3 || exit 1\nexec " + shellQuote(felhomBin) + " sim pct \"$@\"\n"
	if err := os.WriteFile(racing, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(cli.g.configFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "  pct: ", "  pct: "+racing+"\n  #", 1)
	if err := os.WriteFile(cli.g.configFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "features: {nesting: true, keyctl: true}")
	out, code := cli.apply(t, dir)
	if code != exitError || !strings.Contains(out, "stale") || !strings.Contains(out, "detected modified configuration - file changed by other user? Try again.") || strings.Contains(out, "rolled back") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	f := simConf(t, e.sim, 101)
	if v, _ := f.Main.Get("cores"); v != "3" {
		t.Errorf("the racing change was undone: cores %q", v)
	}
	if v, _ := f.Main.Get("features"); v != "nesting=1" {
		t.Errorf("features %q", v)
	}
}

// A plan saved where the backend could write, applied where it cannot
// (another node): refused before the container is touched.
func TestE2EPrivilegedSavedPlanElsewhere(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	writeSpec(t, dir, "web.yaml", "web", "pve1", 101, "features: {nesting: true, keyctl: true}")
	saved := filepath.Join(t.TempDir(), "plan.json")
	cli := newPrivCLI(t, e, rootOn("pve1"))
	var out, errOut strings.Builder
	err := runPlan(context.Background(), &out, &errOut, planOptions{global: cli.g, output: "text", out: saved,
		concurrency: 2, getenv: cli.getenv, host: cli.host}, dir)
	if err != nil {
		t.Fatal(err, errOut.String())
	}
	before, _ := e.sim.ConfigText(101)
	cli.host = rootOn("pve2")
	got, code := cli.apply(t, saved)
	if code != exitError || !strings.Contains(got, "privileged backend: felhom runs on node pve2, the container is on pve1") {
		t.Fatalf("exit %d:\n%s", code, got)
	}
	if after, _ := e.sim.ConfigText(101); after != before {
		t.Errorf("the container was touched")
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
