package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve/pvesim"
)

// felhom import then felhom plan: no changes, for every container of the
// example cluster; the files start with the yaml-language-server line and
// are not overwritten without --force.
func TestE2EImportThenPlanNoChanges(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	out := e.expect(exitOK, repoRoot, "import", "--all", "--out", dir)
	for _, want := range []string{"ct 101 on pve1: wrote", "web.yaml", "media.yaml", "dns.yaml", "db.yaml"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	web, err := os.ReadFile(filepath.Join(dir, "web.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# yaml-language-server: $schema=", "root password", "memory: 1G", "volume: local-lvm:vm-101-disk-1", "(it was running when imported)"} {
		if !strings.Contains(string(web), want) {
			t.Errorf("web.yaml lacks %q:\n%s", want, web)
		}
	}
	e.expect(exitOK, repoRoot, "validate", dir)
	out = e.expect(exitOK, repoRoot, "plan", "--detailed-exitcode", "--unmanaged", "fail", dir)
	if !strings.Contains(out, "Plan: 0 to change, 4 unchanged, 0 blocked, 0 missing, 0 errors.") {
		t.Errorf("plan after import:\n%s", out)
	}

	os.WriteFile(filepath.Join(dir, "web.yaml"), []byte("mine\n"), 0o644)
	_, errOut, code := e.run(repoRoot, "import", "--vmid", "101", "--out", dir)
	if got, _ := os.ReadFile(filepath.Join(dir, "web.yaml")); code != exitError || string(got) != "mine\n" || !strings.Contains(errOut, "--force") {
		t.Errorf("import over an existing file: exit %d, file %q, stderr %s", code, got, errOut)
	}
	e.expect(exitOK, repoRoot, "import", "--vmid", "101", "--out", dir, "--force")
	e.expect(exitOK, repoRoot, "plan", "--detailed-exitcode", dir)

	one := t.TempDir()
	out = e.expect(exitOK, repoRoot, "import", "--node", "pve2", "--all", "--out", one)
	if files, _ := filepath.Glob(filepath.Join(one, "*.yaml")); len(files) != 1 || !strings.Contains(out, "ct 201 on pve2") {
		t.Errorf("--node pve2: %v\n%s", files, out)
	}
	if _, errOut, code := e.run(repoRoot, "import", "--out", one); code != exitInvalid || !strings.Contains(errOut, "--all") {
		t.Errorf("neither --vmid nor --all: exit %d, %s", code, errOut)
	}
	if _, errOut, code := e.run(repoRoot, "import", "--vmid", "999", "--out", one); code != exitError || !strings.Contains(errOut, "999") {
		t.Errorf("unknown vmid: exit %d, %s", code, errOut)
	}
}

// Import then plan gives no changes for containers seeded from each real
// config PVE wrote.
func TestE2EImportReferenceConfigs(t *testing.T) {
	inv := pvesim.NewInventory("ref")
	n := inv.AddNode("pve1")
	count := 0
	for i, r := range referenceConfigs(t) {
		if r.get("lock") != "" {
			continue // a locked container is planned as locked, not as its config
		}
		r.seed(n, 300+i, i%2 == 0)
		count++
	}
	if count == 0 {
		t.Skip("every reference config is locked")
	}
	inv.AddUser("felhom@pve", pvesim.Role("/", "PVEAdmin")).AddToken("reconcile", "", false)
	e := newE2E(t, inv)
	dir := t.TempDir()
	e.expect(exitOK, repoRoot, "import", "--all", "--out", dir)
	out := e.expect(exitOK, repoRoot, "plan", "--detailed-exitcode", dir)
	if want := fmt.Sprintf("Plan: 0 to change, %d unchanged,", count); !strings.Contains(out, want) {
		t.Errorf("plan after import lacks %q:\n%s", want, out)
	}
	t.Logf("%d reference configs imported and planned clean", count)
}
