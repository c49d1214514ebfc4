package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/felhom/felhom/pve/pvesim"
)

// TestE2EBackup runs felhom backup on the examples: --due backs up every
// container (the simulator's backups are older than their schedules
// allow), a second --due takes none and says when the next is, --now takes
// the named ones, and a failing vzdump exits 1 with its log.
func TestE2EBackup(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := filepath.Join(repoRoot, "examples", "containers")
	out := e.expect(0, ".", "backup", dir, "--due")
	for _, want := range []string{"ct 101 (web) on pve1: backed up to nas:backup/vzdump-lxc-101-", "ct 201 (db) on pve2: backed up to", "4 backed up, 0 failed, in 3 vzdump call(s)."} {
		if !strings.Contains(out, want) {
			t.Errorf("first --due: no %q in\n%s", want, out)
		}
	}
	out = e.expect(0, ".", "backup", dir, "--due")
	if !strings.Contains(out, "No backup is due.\nNext: ct ") || !strings.Contains(out, " node time (Europe/Budapest), ") {
		t.Errorf("second --due:\n%s", out)
	}
	out = e.expect(0, ".", "backup", dir, "--now", "web", "201")
	if !strings.Contains(out, "2 backed up, 0 failed, in 2 vzdump call(s).") {
		t.Errorf("--now web 201:\n%s", out)
	}
	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzdump", Fail: "storage 'nas' is not online", Count: 1})
	out, errOut, code := e.run(".", "backup", dir, "--now", "103")
	if code != exitError || !strings.Contains(out, "ct 103 (dns) on pve1: backup to nas FAILED: vzdump task: storage 'nas' is not online") ||
		!strings.Contains(out, "    TASK ERROR: storage 'nas' is not online") || !strings.Contains(errOut, "backup: 1 of 1 backup(s) failed") {
		t.Errorf("failing vzdump: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, args := range [][]string{{"backup", dir}, {"backup", dir, "--due", "--now", "web"}, {"backup", dir, "--now", "nosuch"}} {
		if _, errOut, code := e.run(".", args...); code != exitInvalid {
			t.Errorf("felhom %v: exit %d, want 3\n%s", args, code, errOut)
		}
	}
}

// TestE2EPlanBackupSection: every plan of specs with backup schedules says
// what takes them and shows each container's next run; overdue backups
// leave --detailed-exitcode at 0 unless --overdue-exitcode asks, and
// felhom backup --due makes them fresh.
func TestE2EPlanBackupSection(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	specs := filepath.Join("examples", "containers")
	e.expect(exitOK, repoRoot, "apply", "--auto-approve", specs)
	out := e.expect(exitOK, repoRoot, "plan", "--detailed-exitcode", specs)
	// apply backed up 102 and 103 with vzdump (PVE cannot snapshot them);
	// 101's newest backup is ten days old, 201 has none.
	for _, want := range []string{"Backups: 4 scheduled, 2 overdue", "Backup schedules are not changes: felhom plan and apply never take them.",
		"! ct 201 db on pve2, \"*-*-* 01:30\" to nas: overdue, due now", "  ct 102 media on pve1, \"sat 03:00\" to nas: fresh", " Europe/Budapest (", " UTC)"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	e.expect(exitChanges, repoRoot, "plan", "--detailed-exitcode", "--overdue-exitcode", specs)
	e.expect(exitOK, repoRoot, "backup", specs, "--due")
	out = e.expect(exitOK, repoRoot, "plan", "--detailed-exitcode", "--overdue-exitcode", specs)
	if !strings.Contains(out, "Backups: 4 scheduled, 0 overdue") || !strings.Contains(out, "  ct 101 web on pve1, \"02:00\" to nas: fresh") {
		t.Errorf("plan after felhom backup --due:\n%s", out)
	}
}

// backupOutput is felhom backup -o json as a reader decodes it.
type backupOutput struct {
	Time    string `json:"time"`
	Results []struct {
		VMID       int      `json:"vmid"`
		Name       string   `json:"name"`
		Node       string   `json:"node"`
		Storage    string   `json:"storage"`
		Outcome    string   `json:"outcome"`
		Occurrence string   `json:"occurrence"`
		Archive    string   `json:"archive"`
		Size       int64    `json:"size"`
		UPID       string   `json:"upid"`
		Seconds    *float64 `json:"duration_seconds"`
		Error      string   `json:"error"`
		Log        []string `json:"log"`
	} `json:"results"`
}

func decodeBackup(t *testing.T, out string) backupOutput {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	var b backupOutput
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("felhom backup -o json: %v\n%s", err, out)
	}
	if _, err := time.Parse(time.RFC3339, b.Time); err != nil {
		t.Errorf("time %q: %v", b.Time, err)
	}
	return b
}

// TestE2EBackupJSON runs felhom backup -o json through the binary: the
// backups taken, each with its container, storage, archive, task and
// duration; a failed one with its error and task log (exit 1); nothing due
// is an empty list, not null.
func TestE2EBackupJSON(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	dir := filepath.Join(repoRoot, "examples", "containers")
	b := decodeBackup(t, e.expect(0, ".", "backup", dir, "--now", "web", "201", "-o", "json"))
	if len(b.Results) != 2 {
		t.Fatalf("--now web 201: %d results, want 2: %+v", len(b.Results), b)
	}
	for i, want := range []struct {
		vmid       int
		name, node string
	}{{101, "web", "pve1"}, {201, "db", "pve2"}} {
		r := b.Results[i]
		if r.VMID != want.vmid || r.Name != want.name || r.Node != want.node || r.Outcome != "ok" || r.Storage == "" ||
			!strings.HasPrefix(r.Archive, r.Storage+":backup/vzdump-lxc-"+strconv.Itoa(want.vmid)+"-") ||
			!strings.HasPrefix(r.UPID, "UPID:"+want.node+":") || r.Seconds == nil || r.Error != "" {
			t.Errorf("result %d: %+v, want ct %d (%s) on %s backed up", i, r, want.vmid, want.name, want.node)
		}
	}

	e.sim.SetTaskOutcome(pvesim.TaskOutcome{Type: "vzdump", Fail: "storage 'nas' is not online", Count: 1})
	out, errOut, code := e.run(".", "backup", dir, "--now", "103", "-o", "json")
	if code != exitError {
		t.Errorf("failing vzdump: exit %d, want 1\n%s", code, errOut)
	}
	b = decodeBackup(t, out)
	if len(b.Results) != 1 || b.Results[0].VMID != 103 || b.Results[0].Outcome != "failed" ||
		!strings.Contains(b.Results[0].Error, "storage 'nas' is not online") || !slices.Contains(b.Results[0].Log, "TASK ERROR: storage 'nas' is not online") {
		t.Errorf("failing vzdump: %+v", b)
	}

	e.expect(0, ".", "backup", dir, "--due")
	out = e.expect(0, ".", "backup", dir, "--due", "-o", "json")
	if b = decodeBackup(t, out); b.Results == nil || len(b.Results) != 0 || !strings.Contains(out, `"results": []`) {
		t.Errorf("nothing due: %s", out)
	}
}
