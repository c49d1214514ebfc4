package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/felhom/felhom/pve/format"
)

const e2ePassword = "e2e-root-password"

// A container created from a template end to end with the binary: plan
// names it new, apply creates and starts it (the password read from its
// file, never printed), and the next plan is clean.
func TestE2ECreateFromTemplate(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	pass := filepath.Join(t.TempDir(), "ct130.pass")
	if err := os.WriteFile(pass, []byte(e2ePassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeSpec(t, dir, "fresh.yaml", "fresh", "pve1", 130, `hostname: fresh
memory: 1G
net:
  net0: {name: eth0, bridge: vmbr0, ip: dhcp}
rootfs: {storage: local-lvm, size: 8G}
power: running
create:
  ostemplate: local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst
  password-file: `+pass+`
  ssh-public-keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH0m admin@example"]`)
	out := e.expect(exitChanges, repoRoot, "plan", "--detailed-exitcode", dir)
	for _, want := range []string{"ct 130 fresh on pve1: new container", "create container from local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst", "new container: no snapshot before its first change"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	out, errOut, code := e.run(repoRoot, "apply", "--auto-approve", dir)
	if code != exitOK || !strings.Contains(out, "ct 130 fresh on pve1: applied") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, e2ePassword) {
		t.Error("the password is in felhom's output")
	}
	f := simConf(t, e.sim, 130)
	if h, _ := f.Get("hostname"); h != "fresh" {
		t.Errorf("hostname %q", h)
	}
	out = e.expect(exitOK, repoRoot, "plan", "--detailed-exitcode", dir)
	if !strings.Contains(out, "Plan: 0 to change, 1 unchanged") {
		t.Errorf("plan after the create:\n%s", out)
	}
}

// A container restored from the newest backup of ct 101 gets a new MAC
// address, and the next plan is clean.
func TestE2ECreateFromBackup(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	writeSpec(t, dir, "copy.yaml", "copy", "pve1", 131, `hostname: web-copy
rootfs: {storage: local-lvm}
create:
  restore: {newest-backup-of: 101, storage: nas}`)
	out := e.expect(exitChanges, repoRoot, "plan", "--detailed-exitcode", dir)
	if !strings.Contains(out, "nas:backup/vzdump-lxc-101-2026_11_22-02_00_03.tar.zst") || !strings.Contains(out, "new MAC addresses") {
		t.Errorf("plan does not name the newest backup and the new MAC:\n%s", out)
	}
	e.expect(exitOK, repoRoot, "apply", "--auto-approve", dir)
	net0, _ := simConf(t, e.sim, 131).Get("net0")
	n, err := format.ParseNet(net0)
	if err != nil || n.HWAddr == "" || strings.EqualFold(n.HWAddr, "BC:24:11:5E:7A:01") || n.Bridge != "vmbr0" {
		t.Errorf("net0 %q: want the backup's interface with a new MAC (ct 101 has BC:24:11:5E:7A:01)", net0)
	}
	if h, _ := simConf(t, e.sim, 131).Get("hostname"); h != "web-copy" {
		t.Errorf("hostname %q", h)
	}
	out = e.expect(exitOK, repoRoot, "plan", "--detailed-exitcode", dir)
	if !strings.Contains(out, "Plan: 0 to change, 1 unchanged") {
		t.Errorf("plan after the restore:\n%s", out)
	}
}

// What cannot be created is refused at plan, naming why: a template the
// node's storage lacks, a vmid a VM holds. Plan exits as for any container
// in error.
func TestE2ECreateRefusedAtPlan(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	for _, tc := range []struct {
		node string
		vmid int
		tmpl string
		want string
	}{
		{"pve1", 132, "local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst", "OS template local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst is not on storage local of node pve1"},
		{"pve2", 300, "local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst", "vmid 300 is held by VM 300 (windows) on node pve2"},
	} {
		dir := t.TempDir()
		writeSpec(t, dir, "new.yaml", "new", tc.node, tc.vmid, "rootfs: {storage: local-lvm, size: 4G}\ncreate:\n  ostemplate: "+tc.tmpl)
		out, errOut, code := e.run(repoRoot, "plan", "--detailed-exitcode", dir)
		if code != exitError || !strings.Contains(out, tc.want) {
			t.Errorf("plan: exit %d, want %d naming %q\n%s\n%s", code, exitError, tc.want, out, errOut)
		}
		if out, _, code := e.run(repoRoot, "apply", "--auto-approve", dir); code != exitError || !strings.Contains(out, tc.want) {
			t.Errorf("apply: exit %d\n%s", code, out)
		}
	}
	if _, ok := e.sim.ConfigText(132); ok {
		t.Error("ct 132 was created")
	}
}

// A create task that fails (the root volume does not fit on the storage)
// leaves no container, and the report says why with the task's log.
func TestE2ECreateTaskFails(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	writeSpec(t, dir, "big.yaml", "big", "pve1", 133, "rootfs: {storage: local-lvm, size: 600G}\ncreate:\n  ostemplate: local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst")
	out := e.expect(exitChanges, repoRoot, "plan", "--detailed-exitcode", dir)
	if !strings.Contains(out, "storage local-lvm has") {
		t.Errorf("plan does not warn about the space:\n%s", out)
	}
	out, errOut, code := e.run(repoRoot, "apply", "--auto-approve", dir)
	if code != exitError {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"ct 133 big on pve1: failed", "not enough space on storage 'local-lvm'", "PVE left no container", "TASK ERROR: unable to create CT 133"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	if _, ok := e.sim.ConfigText(133); ok {
		t.Error("a half-made ct 133 is left")
	}
}

// A saved plan creates too (felhom plan -out, then felhom apply FILE): the
// password file's path is in the plan, the password is not; a second apply
// of the same plan finds the vmid taken and names who holds it.
func TestE2ECreateFromSavedPlan(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := t.TempDir()
	pass := filepath.Join(t.TempDir(), "ct134.pass")
	if err := os.WriteFile(pass, []byte(e2ePassword), 0o600); err != nil {
		t.Fatal(err)
	}
	writeSpec(t, dir, "saved.yaml", "saved", "pve1", 134, "memory: 1G\nrootfs: {storage: local-lvm, size: 4G}\ncreate:\n  ostemplate: local:vztmpl/debian-13-standard_13.1-2_amd64.tar.zst\n  password-file: "+pass)
	saved := filepath.Join(t.TempDir(), "plan.json")
	e.expect(exitOK, repoRoot, "plan", "-out", saved, dir)
	js, err := os.ReadFile(saved)
	if err != nil || !strings.Contains(string(js), pass) || strings.Contains(string(js), e2ePassword) {
		t.Fatalf("saved plan: %v; want the password file's path and not the password", err)
	}
	out := e.expect(exitOK, repoRoot, "apply", saved)
	if !strings.Contains(out, "ct 134 saved on pve1: applied") {
		t.Errorf("apply of the saved plan:\n%s", out)
	}
	if m, _ := simConf(t, e.sim, 134).Get("memory"); m != "1024" {
		t.Errorf("memory %q", m)
	}
	out, errOut, code := e.run(repoRoot, "apply", saved)
	if code != exitError || !strings.Contains(out, "vmid 134 is held by CT 134 (CT134) on node pve1") {
		t.Errorf("second apply: exit %d\n%s\n%s", code, out, errOut)
	}
}
