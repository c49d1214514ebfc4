package spec

import (
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
