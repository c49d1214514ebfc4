package spec

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestLoadFile: one file is checked with the Defaults of its folder and the
// folders above it; other files there are read for their Defaults only.
func TestLoadFile(t *testing.T) {
	ct := func(name, vmid, extra string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("apiVersion: felhom/v1alpha1\nkind: Container\nmetadata: {name: " + name +
			"}\nspec:\n  node: pve1\n  vmid: " + vmid + "\n" + extra)}
	}
	fsys := fstest.MapFS{
		"top/_defaults.yaml":   {Data: []byte("apiVersion: felhom/v1alpha1\nkind: Defaults\nspec: {memory: 1G, cores: 2}\n")},
		"top/d/_defaults.yaml": {Data: []byte("apiVersion: felhom/v1alpha1\nkind: Defaults\nspec: {cores: 4}\n")},
		"top/d/a.yaml":         ct("a", "100", ""),
		"top/d/b.yaml":         ct("b", "100", "  memry: 1\n"), // same vmid, a typo: not a's problem
		"top/d/sub/c.yaml":     ct("c", "101", ""),
		"top/d/notes.yaml":     {Data: []byte("just: another tool\n")},
		"top/d/bad.yaml":       {Data: []byte("a: [\n")},
	}
	for _, tt := range []struct {
		root, file string
		mem        string
		cores      int
	}{
		{"top", "top/d/a.yaml", "1G", 4},
		{"top/d", "top/d/a.yaml", "", 4}, // folders above root are not consulted
		{"top", "top/d/sub/c.yaml", "1G", 4},
	} {
		set, diags := LoadFile(fsys, tt.root, tt.file)
		if len(diags) != 0 {
			t.Errorf("%s in %s: diagnostics:\n%s", tt.file, tt.root, diags.Error())
		}
		if len(set.Containers) != 1 {
			t.Fatalf("%s in %s: %d containers, want 1", tt.file, tt.root, len(set.Containers))
		}
		c := set.Containers[0]
		mem := ""
		if c.Spec.Memory != nil {
			mem = c.Spec.Memory.String()
		}
		if c.Source.File != tt.file || mem != tt.mem || c.Spec.Cores == nil || *c.Spec.Cores != tt.cores {
			t.Errorf("%s in %s: source %s, memory %q, cores %v; want memory %q, cores %d", tt.file, tt.root, c.Source.File, mem, c.Spec.Cores, tt.mem, tt.cores)
		}
	}

	// The file's own problems, and those of the Defaults it uses, are reported.
	fsys["top/d/_defaults.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: felhom/v1alpha1\nkind: Defaults\nspec: {cores: many}\n")}
	_, diags := LoadFile(fsys, "top", "top/d/b.yaml")
	var files []string
	for _, d := range diags {
		files = append(files, d.File+": "+d.Message)
	}
	got := strings.Join(files, "\n")
	if len(diags) != 2 || !strings.Contains(got, "top/d/_defaults.yaml: cores") || !strings.Contains(got, `top/d/b.yaml: unknown key "memry"`) {
		t.Errorf("diagnostics:\n%s", got)
	}
}
