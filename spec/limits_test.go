package spec

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestHostileInputsFailCleanly(t *testing.T) {
	laughs := "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		laughs += n + ": &" + n + " [" + strings.Repeat("*"+prev+",", 8) + "*" + prev + "]\n"
		prev = n
	}
	tests := []struct {
		name, data, want string
	}{
		{"deep flow sequence", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), ""},
		{"deep flow mapping", strings.Repeat("{a: ", 5000) + "1" + strings.Repeat("}", 5000), ""},
		{"billion laughs", laughs, "more than"},
		{"self alias", "a: &a [*a]\n", ""},
		{"huge", strings.Repeat("# comment line\n", MaxFileSize/15+1), "spec files may be at most"},
		{"many documents", strings.Repeat("---\na: 1\n", MaxDocuments+1), "documents"},
		{"200k repeated keys", strings.Repeat("a: 1\n", MaxFileSize/5-1), "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Parse("x.yaml", []byte(tt.data))
			if !diags.HasErrors() {
				t.Fatalf("no error for %s", tt.name)
			}
			if !strings.Contains(diags.Error(), tt.want) {
				t.Errorf("diagnostics %q do not mention %q", diags.Error(), tt.want)
			}
			t.Log(diags[0])
		})
	}
}

// TestLoadRefusesHugeFileUnread: Load checks the size before reading.
func TestLoadRefusesHugeFileUnread(t *testing.T) {
	fsys := fstest.MapFS{
		"big.yaml": {Data: make([]byte, MaxFileSize+1)},
		"ok.yaml":  {Data: []byte("apiVersion: felhom/v1alpha1\nkind: Container\nmetadata: {name: a}\nspec: {node: pve1, vmid: 100}\n")},
	}
	set, diags := Load(fsys, ".")
	if len(diags) != 1 || diags[0].File != "big.yaml" || !strings.Contains(diags[0].Message, "at most") {
		t.Errorf("diagnostics: %v", diags)
	}
	if len(set.Containers) != 1 {
		t.Errorf("the other file was not loaded: %d containers", len(set.Containers))
	}
}

// TestDiagnosticsCappedPerFile: a file with thousands of mistakes gives the
// first MaxDiagnosticsPerFile and one line counting the rest.
func TestDiagnosticsCappedPerFile(t *testing.T) {
	data := strings.Repeat("---\na: [1]\n", 500)
	_, diags := Parse("x.yaml", []byte(data))
	if len(diags) != MaxDiagnosticsPerFile+1 {
		t.Fatalf("%d diagnostics, want %d", len(diags), MaxDiagnosticsPerFile+1)
	}
	last := diags[len(diags)-1]
	if !strings.Contains(last.Message, "more problems in this file are not shown") || last.Severity != SeverityError {
		t.Errorf("last diagnostic %v", last)
	}
}
