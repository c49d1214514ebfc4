package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/felhom/felhom/reconcile/plan"
)

// planVMIDs runs felhom plan -o json with args and returns the vmids it
// planned and how many unmanaged containers it listed.
func planVMIDs(t *testing.T, e *e2e, args ...string) ([]int, int) {
	t.Helper()
	out := e.expect(exitOK, repoRoot, append([]string{"plan", "--output", "json"}, args...)...)
	p, err := plan.Parse([]byte(out))
	if err != nil {
		t.Fatalf("plan %v: %v\n%s", args, err, out)
	}
	var ids []int
	for _, c := range p.Containers {
		ids = append(ids, c.VMID)
	}
	slices.Sort(ids)
	return ids, len(p.Unmanaged)
}

// TestE2EPlanTargeting: felhom plan FILE plans that file's container with
// its folder's Defaults, --only NAME|VMID (repeatable, or with commas)
// plans the containers it names, a targeted plan lists no unmanaged
// containers, and an --only naming nothing is an error naming it.
func TestE2EPlanTargeting(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	specs := filepath.Join("examples", "containers")
	for _, tc := range []struct {
		args []string
		want []int
	}{
		{[]string{specs}, []int{101, 102, 103, 201}},
		{[]string{filepath.Join(specs, "web.yaml")}, []int{101}},
		{[]string{"--only", "web", specs}, []int{101}},
		{[]string{"--only", "web", "--only", "201", specs}, []int{101, 201}},
		{[]string{"--only", "dns,102", specs}, []int{102, 103}},
		{[]string{"--only", "web", filepath.Join(specs, "web.yaml")}, []int{101}},
	} {
		got, unmanaged := planVMIDs(t, e, tc.args...)
		if !slices.Equal(got, tc.want) {
			t.Errorf("plan %v: planned %v, want %v", tc.args, got, tc.want)
		}
		if len(tc.want) < 4 && unmanaged != 0 {
			t.Errorf("plan %v: %d unmanaged listed; the specs left out are not unmanaged", tc.args, unmanaged)
		}
	}
	// The file's own Defaults apply: web.yaml takes storage from _defaults.yaml.
	out := e.expect(exitOK, repoRoot, "plan", filepath.Join(specs, "web.yaml"))
	if !strings.Contains(out, "ct 101 web") {
		t.Errorf("plan web.yaml:\n%s", out)
	}
	for _, args := range [][]string{
		{"plan", "--only", "nosuch", specs},
		{"plan", "--only", "web", "--only", "999", specs},
		{"plan", "--only", "db", filepath.Join(specs, "web.yaml")},
	} {
		_, errOut, code := e.run(repoRoot, args...)
		bad := args[len(args)-2]
		if code != exitInvalid || !strings.Contains(errOut, `--only "`+bad+`": no spec names a container of that name or vmid`) ||
			!strings.Contains(errOut, "web (101)") {
			t.Errorf("felhom %v: exit %d, want 3 and the name; stderr:\n%s", args, code, errOut)
		}
	}
	if _, errOut, code := e.run(repoRoot, "plan", "--unmanaged", "fail", "--only", "web", specs); code != exitInvalid || !strings.Contains(errOut, "--unmanaged fail needs the whole folder") {
		t.Errorf("--unmanaged fail with --only: exit %d\n%s", code, errOut)
	}
	notSpec := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notSpec, []byte("hello\n"), 0o644)
	if _, errOut, code := e.run(repoRoot, "plan", notSpec); code != exitInvalid || !strings.Contains(errOut, "neither a folder nor a .yaml or .yml spec file") {
		t.Errorf("plan notes.txt: exit %d\n%s", code, errOut)
	}
}

// TestE2EApplyTargeting: apply --only changes only the containers named;
// apply FILE.yaml says what apply takes instead of a JSON error, and
// --only with a saved plan is refused.
func TestE2EApplyTargeting(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	specs := filepath.Join("examples", "containers")
	out := e.expect(exitOK, repoRoot, "apply", "--auto-approve", "--only", "web", specs)
	if !strings.Contains(out, "Apply: 1 applied") {
		t.Errorf("apply --only web:\n%s", out)
	}
	out = e.expect(exitChanges, repoRoot, "plan", "--detailed-exitcode", specs)
	if !strings.Contains(out, "Plan: 3 to change, 1 unchanged") {
		t.Errorf("plan after apply --only web (only web applied):\n%s", out)
	}
	e.expect(exitOK, repoRoot, "plan", "--detailed-exitcode", "--only", "101", specs)

	for _, file := range []string{filepath.Join(specs, "db.yaml"), writeFile(t, "plan.txt", "kind: Container\n")} {
		_, errOut, code := e.run(repoRoot, "apply", "--auto-approve", file)
		if code != exitInvalid || !strings.Contains(errOut, "is not a saved plan: apply takes a folder of specs") || strings.Contains(errOut, "invalid character") {
			t.Errorf("apply %s: exit %d\n%s", file, code, errOut)
		}
	}
	if _, errOut, code := e.run(repoRoot, "apply", "--auto-approve", "--only", "nosuch", specs); code != exitInvalid || !strings.Contains(errOut, `--only "nosuch"`) {
		t.Errorf("apply --only nosuch: exit %d\n%s", code, errOut)
	}
	saved := filepath.Join(t.TempDir(), "plan.json")
	e.expect(exitOK, repoRoot, "plan", "--only", "db", "-out", saved, specs)
	if _, errOut, code := e.run(repoRoot, "apply", "--only", "db", saved); code != exitInvalid || !strings.Contains(errOut, "applied whole") {
		t.Errorf("apply --only with a saved plan: exit %d\n%s", code, errOut)
	}
	out = e.expect(exitOK, repoRoot, "apply", saved)
	if !strings.Contains(out, "Apply: 1 applied") {
		t.Errorf("apply of a plan saved with --only db:\n%s", out)
	}
}

// TestE2EBackupOnly: backup --due --only takes only the named container's
// backup; an --only naming nothing is an error.
func TestE2EBackupOnly(t *testing.T) {
	e := newE2E(t, examplesInventory(t))
	specs := filepath.Join("examples", "containers")
	out := e.expect(exitOK, repoRoot, "backup", specs, "--due", "--only", "db")
	if !strings.Contains(out, "ct 201 (db) on pve2: backed up to") || strings.Contains(out, "ct 101") ||
		!strings.Contains(out, "1 backed up, 0 failed, in 1 vzdump call(s).") {
		t.Errorf("backup --due --only db:\n%s", out)
	}
	if _, errOut, code := e.run(repoRoot, "backup", specs, "--due", "--only", "nosuch"); code != exitInvalid || !strings.Contains(errOut, `--only "nosuch"`) {
		t.Errorf("backup --only nosuch: exit %d\n%s", code, errOut)
	}
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
