package spec

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzLoad feeds arbitrary bytes to the loader as a spec file beside a
// Defaults file. It must never panic, and every diagnostic must be usable:
// a file, a message, positions that are not negative, the same result twice.
// Time stays bounded by the limits in tree.go (file size, documents,
// depth, values after alias expansion).
func FuzzLoad(f *testing.F) {
	var seeds []string
	for _, g := range []string{"testdata/good/*.yaml", "testdata/bad/*.yaml", "testdata/*trees/*/*.yaml", "../examples/containers/*.yaml"} {
		files, _ := filepath.Glob(g)
		seeds = append(seeds, files...)
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(strings.Repeat("[", 100) + strings.Repeat("]", 100)))
	f.Add([]byte("a: &a [*a, *a]\nb: *a\n"))
	f.Add([]byte("---\n--- !tag\n...\n%YAML 1.2\n---\n"))
	f.Add([]byte("spec:\n  net:\n    net0: {<<: [*x]}\n"))
	defaults := []byte("apiVersion: felhom/v1alpha1\nkind: Defaults\nspec:\n  node: pve1\n  backup: {schedule: daily, storage: nas}\n  net: {net0: {bridge: vmbr0}}\n")

	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{
			"specs/_defaults.yaml": {Data: defaults},
			"specs/sub/x.yaml":     {Data: data},
		}
		set, diags := Load(fsys, "specs")
		if set == nil {
			t.Fatal("nil set")
		}
		for _, d := range diags {
			if d.File == "" || d.Message == "" || d.Line < 0 || d.Column < 0 {
				t.Fatalf("unusable diagnostic %#v", d)
			}
		}
		_, again := Load(fsys, "specs")
		if !reflect.DeepEqual(diags, again) {
			t.Fatalf("diagnostics differ between two runs:\n%s\n---\n%s", diags.Error(), again.Error())
		}
		docs, pdiags := Parse("x.yaml", data)
		for _, d := range pdiags {
			if d.File != "x.yaml" || d.Message == "" {
				t.Fatalf("unusable diagnostic %#v", d)
			}
		}
		if !pdiags.HasErrors() {
			for _, d := range docs {
				if d.Kind != KindContainer && d.Kind != KindDefaults {
					t.Fatalf("valid document with kind %q", d.Kind)
				}
			}
		}
	})
}
