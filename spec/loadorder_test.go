package spec

import (
	"fmt"
	"slices"
	"testing"
	"testing/fstest"
)

// TestLoadDefaultsAfterContainers: a folder's Defaults apply to containers
// in files read before it, and to those below it, also when the Defaults'
// kind is written with escapes so that its text never names Defaults (Load
// parses such a file only after the containers it finds first).
func TestLoadDefaultsAfterContainers(t *testing.T) {
	for _, kind := range []string{"Defaults", `"Default\x73"`} {
		fsys := fstest.MapFS{
			"a.yaml":       {Data: []byte("apiVersion: felhom/v1alpha1\nkind: Container\nmetadata: {name: a}\nspec: {node: pve1, vmid: 100}\n")},
			"sub/b.yaml":   {Data: []byte("apiVersion: felhom/v1alpha1\nkind: Container\nmetadata: {name: b}\nspec: {node: pve1, vmid: 101}\n")},
			"z.yaml":       {Data: []byte("apiVersion: felhom/v1alpha1\nkind: " + kind + "\nspec: {cores: 3}\n")},
			"sub/dup.yaml": {Data: []byte("apiVersion: felhom/v1alpha1\nkind: Container\nmetadata: {name: c}\nspec: {node: pve1, vmid: 100}\n")},
		}
		set, diags := Load(fsys, ".")
		if len(set.Containers) != 3 {
			t.Fatalf("kind %s: %d containers, diagnostics:\n%s", kind, len(set.Containers), diags.Error())
		}
		for _, c := range set.Containers {
			if c.Spec.Cores == nil || *c.Spec.Cores != 3 {
				t.Errorf("kind %s: %s has cores %v, want 3 from z.yaml's Defaults", kind, c.Metadata.Name, c.Spec.Cores)
			}
		}
		if len(diags) != 1 || diags[0].File != "sub/dup.yaml" || diags[0].Message != "vmid 100 is used twice" {
			t.Errorf("kind %s: diagnostics, want vmid 100 twice in sub/dup.yaml (a.yaml is read first):\n%s", kind, diags.Error())
		}
	}
}

// TestLoadEach: LoadEach hands on every container of the Set as it is
// validated, in the order of the files, and only those without an error of
// their own; it hands them on before the whole tree is known, so also when
// a later file makes the load fail.
func TestLoadEach(t *testing.T) {
	ct := func(name string, vmid int, extra string) *fstest.MapFile {
		return &fstest.MapFile{Data: fmt.Appendf(nil, "apiVersion: felhom/v1alpha1\nkind: Container\nmetadata: {name: %s}\nspec: {node: pve1, vmid: %d%s}\n", name, vmid, extra)}
	}
	for _, tc := range []struct {
		name   string
		fsys   fstest.MapFS
		handed []int
		errors bool
	}{
		{name: "clean", fsys: fstest.MapFS{"a.yaml": ct("a", 102, ""), "b.yaml": ct("b", 101, ""), "sub/c.yaml": ct("c", 103, ""),
			"defaults.yaml": {Data: []byte("apiVersion: felhom/v1alpha1\nkind: Defaults\nspec: {cores: 2}\n")}},
			handed: []int{102, 101, 103}},
		{name: "an invalid container is not handed on", fsys: fstest.MapFS{"a.yaml": ct("a", 100, ", cores: many"), "b.yaml": ct("b", 101, "")},
			handed: []int{101}, errors: true},
		{name: "handed on before a later file fails the load", fsys: fstest.MapFS{"a.yaml": ct("a", 100, ""), "b.yaml": ct("b", 100, ""),
			"c.yaml": {Data: []byte("kind: Container\nspec: [\n")}},
			handed: []int{100, 100}, errors: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var handed []int
			set, diags := LoadEach(tc.fsys, ".", func(c *Container) {
				if c.Spec.Cores == nil && tc.fsys["defaults.yaml"] != nil {
					t.Errorf("%s handed on without its folder's Defaults", c.Metadata.Name)
				}
				handed = append(handed, c.Spec.VMID)
			})
			if diags.HasErrors() != tc.errors {
				t.Errorf("errors %v, want %v:\n%s", diags.HasErrors(), tc.errors, diags.Error())
			}
			if !slices.Equal(handed, tc.handed) {
				t.Errorf("handed on %v, want %v", handed, tc.handed)
			}
			plain, plainDiags := Load(tc.fsys, ".")
			if len(plain.Containers) != len(set.Containers) || len(plainDiags) != len(diags) {
				t.Errorf("LoadEach's Set (%d containers, %d diagnostics) differs from Load's (%d, %d)",
					len(set.Containers), len(diags), len(plain.Containers), len(plainDiags))
			}
		})
	}
}
