package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLoadSpecialEntries: in a real spec folder, an entry that is not a
// regular file (a named pipe, a link to a device) is refused with an error
// instead of read without end, and a linked folder is refused by name
// instead of skipped in silence; the regular files still load (issue 10
// item 15).
func TestLoadSpecialEntries(t *testing.T) {
	const ok = "apiVersion: felhom/v1alpha1\nkind: Container\nmetadata: {name: %s}\nspec: {node: pve1, vmid: %s}\n"
	write := func(p, name, vmid string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(fmt.Sprintf(ok, name, vmid)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir, elsewhere := t.TempDir(), t.TempDir()
	write(filepath.Join(dir, "good.yaml"), "good", "100")
	write(filepath.Join(elsewhere, "linked.yaml"), "linked", "101")
	write(filepath.Join(elsewhere, "target.yaml"), "target", "102")
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.yaml"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for link, target := range map[string]string{
		"zero.yaml": "/dev/zero",
		"sub":       elsewhere,
		"file.yaml": filepath.Join(elsewhere, "target.yaml"),
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat("/dev/zero"); err != nil {
		os.Remove(filepath.Join(dir, "zero.yaml"))
	}

	set, diags := Load(os.DirFS(dir), ".")
	errs := map[string]string{}
	for _, d := range diags {
		if d.Severity == SeverityError {
			errs[d.File] = d.Message
		}
	}
	if !strings.Contains(errs["pipe.yaml"], "not a regular file") {
		t.Errorf("pipe.yaml: %q, want it refused as not a regular file", errs["pipe.yaml"])
	}
	if _, err := os.Lstat(filepath.Join(dir, "zero.yaml")); err == nil && !strings.Contains(errs["zero.yaml"], "not a regular file") {
		t.Errorf("zero.yaml: %q, want it refused as not a regular file", errs["zero.yaml"])
	}
	if !strings.Contains(errs["sub"], "link to a folder") {
		t.Errorf("sub: %q, want the linked folder refused by name", errs["sub"])
	}
	if len(errs) != 3 && len(errs) != 2 {
		t.Errorf("errors %v", errs)
	}
	var names []string
	for _, c := range set.Containers {
		names = append(names, c.Metadata.Name)
	}
	if strings.Join(names, ",") != "good,target" && strings.Join(names, ",") != "target,good" {
		t.Errorf("containers %v, want good and the linked file's target", names)
	}

	// A spec folder named through a link is followed: the user named it.
	link := filepath.Join(t.TempDir(), "specs")
	if err := os.Symlink(elsewhere, link); err != nil {
		t.Fatal(err)
	}
	set, diags = Load(os.DirFS(link), ".")
	if diags.HasErrors() || len(set.Containers) != 2 {
		t.Errorf("folder named through a link: %d containers, %v", len(set.Containers), diags)
	}
}
