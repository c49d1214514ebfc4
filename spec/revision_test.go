package spec

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func revFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

const (
	revA = "apiVersion: felhom/v1alpha1\nkind: Container\nmetadata:\n  name: a\nspec:\n  node: pve1\n  vmid: 101\n  memory: 1G\n"
	revB = "apiVersion: felhom/v1alpha1\nkind: Container\nmetadata:\n  name: b\nspec:\n  node: pve1\n  vmid: 102\n"
)

// The content revision depends on what the specs say, not on how their
// files are named, laid out or written.
func TestContentRevision(t *testing.T) {
	rev := func(files map[string]string) string {
		t.Helper()
		r, err := ContentRevision(revFS(files), ".")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	base := rev(map[string]string{"a.yaml": revA, "b.yaml": revB})
	for name, files := range map[string]map[string]string{
		"one file":      {"all.yaml": revA + "---\n" + revB},
		"sub folders":   {"x/a.yaml": revA, "y/z/b.yml": revB},
		"memory in MiB": {"a.yaml": strings.Replace(revA, "1G", "1024M", 1), "b.yaml": revB},
		"comments":      {"a.yaml": "# hello\n" + revA, "b.yaml": revB},
	} {
		if got := rev(files); got != base {
			t.Errorf("%s: %s, want %s", name, got, base)
		}
	}
	if got := rev(map[string]string{"a.yaml": strings.Replace(revA, "1G", "2G", 1), "b.yaml": revB}); got == base {
		t.Errorf("a changed spec kept the revision %s", got)
	}
	if !strings.HasPrefix(base, "specs-") || len(base) != len("specs-")+12 {
		t.Errorf("revision %q", base)
	}

	_, err := ContentRevision(revFS(map[string]string{"a.yaml": revA + "  cores: many\n"}), ".")
	var inv *InvalidError
	if !errors.As(err, &inv) || !strings.Contains(err.Error(), "a.yaml:9:") {
		t.Errorf("invalid specs: %v", err)
	}
}
