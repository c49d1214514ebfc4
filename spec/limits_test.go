package spec

import (
	"fmt"
	"runtime"
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

// TestSplitDocumentsStopsAtLimit: splitting stops at the first document
// past MaxDocuments, so a file of nothing but "---" lines (one document a
// line, 262144 of them at MaxFileSize) costs MaxDocuments+1 chunks, not one
// chunk (and one pass over the lines before it) per line.
func TestSplitDocumentsStopsAtLimit(t *testing.T) {
	for _, tt := range []struct {
		name string
		data string
	}{
		{"only markers", strings.Repeat("---\n", MaxFileSize/4)},
		{"many small documents", strings.Repeat("---\na: 1\n", MaxFileSize/9)},
		{"markers with comments", strings.Repeat("--- # x\n", MaxFileSize/8)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			chunks, tooMany := splitDocuments([]byte(tt.data))
			if !tooMany || len(chunks) != MaxDocuments+1 {
				t.Errorf("%d chunks, tooMany %v; want %d chunks and tooMany", len(chunks), tooMany, MaxDocuments+1)
			}
			_, diags := Parse("x.yaml", []byte(tt.data))
			if len(diags) != 1 || !strings.Contains(diags[0].Message, "more than 1000 documents") {
				t.Errorf("want the limit reported once, got %d diagnostics:\n%s", len(diags), diags.Error())
			}
		})
	}
}

// TestSplitDocumentsOffsets: each chunk starts at its "---" line and knows
// how many lines come before it; the chunks put together are the file.
func TestSplitDocumentsOffsets(t *testing.T) {
	data := "# head\na: 1\n---\nb: 2\n--- # c\nc: 3\n----\nd: 4\n---\n"
	chunks, tooMany := splitDocuments([]byte(data))
	if tooMany {
		t.Fatal("tooMany for 4 documents")
	}
	want := []chunk{
		{data: []byte("# head\na: 1\n"), lineOffset: 0},
		{data: []byte("---\nb: 2\n"), lineOffset: 2},
		{data: []byte("--- # c\nc: 3\n----\nd: 4\n"), lineOffset: 4},
		{data: []byte("---\n"), lineOffset: 8},
	}
	if len(chunks) != len(want) {
		t.Fatalf("%d chunks, want %d", len(chunks), len(want))
	}
	var joined []byte
	for i, c := range chunks {
		if string(c.data) != string(want[i].data) || c.lineOffset != want[i].lineOffset {
			t.Errorf("chunk %d = %q at line offset %d, want %q at %d", i, c.data, c.lineOffset, want[i].data, want[i].lineOffset)
		}
		joined = append(joined, c.data...)
	}
	if string(joined) != data {
		t.Errorf("chunks do not make up the file")
	}
	if chunks, _ := splitDocuments([]byte("%YAML 1.2\n---\na: 1\n---\nb: 2\n")); len(chunks) != 1 {
		t.Errorf("a file with directives is split in %d chunks, want 1", len(chunks))
	}
}

// TestManyDocumentFilesInATree: many files near the size limit, each made of
// documents, are each refused after MaxDocuments+1 chunks with one
// diagnostic per file.
func TestManyDocumentFilesInATree(t *testing.T) {
	fsys := fstest.MapFS{}
	data := []byte(strings.Repeat("---\n", MaxFileSize/4))
	for i := range 50 {
		fsys[fmt.Sprintf("f%02d.yaml", i)] = &fstest.MapFile{Data: data}
	}
	_, diags := Load(fsys, ".")
	if len(diags) != 50 {
		t.Fatalf("%d diagnostics, want one per file:\n%s", len(diags), diags.Error())
	}
	for _, d := range diags {
		if !strings.Contains(d.Message, "more than 1000 documents") {
			t.Errorf("%s", d)
		}
	}
}

// TestLargeMappingIsIndexed: get on a mapping of many keys goes through an
// index built once (the index holds every key), not a scan per lookup, so
// mapping each diagnostic to its position and merging Defaults stay linear
// in the number of keys. A key added later is found too (the index is
// rebuilt).
func TestLargeMappingIsIndexed(t *testing.T) {
	const n = 5000
	big := func(prefix string) *node {
		m := &node{kind: mapNode}
		for i := range n {
			m.keys = append(m.keys, fmt.Sprintf("%s%d", prefix, i))
			m.keyPos = append(m.keyPos, Position{Line: i + 1})
			m.vals = append(m.vals, &node{kind: scalarNode, raw: prefix, scalar: prefix})
		}
		return m
	}
	m := big("k")
	for i := range n {
		if v, j := m.get(fmt.Sprintf("k%d", i)); j != i || v != m.vals[i] {
			t.Fatalf("get(k%d) = %v, %d", i, v, j)
		}
	}
	if len(m.index) != n {
		t.Errorf("index holds %d keys, want %d", len(m.index), n)
	}
	if _, j := m.get("nope"); j != -1 {
		t.Errorf("get(nope) = %d", j)
	}
	m.keys, m.keyPos, m.vals = append(m.keys, "late"), append(m.keyPos, Position{}), append(m.vals, &node{kind: nullNode})
	if _, j := m.get("late"); j != n {
		t.Errorf("get(late) = %d, want %d", j, n)
	}

	// Merging two large mappings asks each for the other's keys: both get
	// indexed, and the result holds every key once, the over side winning.
	base, over := big("k"), big("k")
	over.vals[0] = &node{kind: scalarNode, raw: "over", scalar: "over"}
	over.keys = append(over.keys, "extra")
	over.keyPos = append(over.keyPos, Position{})
	over.vals = append(over.vals, &node{kind: scalarNode, raw: "x", scalar: "x"})
	merged := mergeNodes(base, over, "/metadata/labels")
	if len(merged.keys) != n+1 || merged.vals[0].raw != "over" || len(base.index) != n || len(over.index) != n+1 {
		t.Errorf("merged %d keys (first %q); base index %d, over index %d", len(merged.keys), merged.vals[0].raw, len(base.index), len(over.index))
	}

	// End to end: a label map of thousands of wrong values gets one
	// diagnostic per value, each at its own line.
	var b strings.Builder
	b.WriteString("apiVersion: felhom/v1alpha1\nkind: Container\nmetadata:\n  name: a\n  labels:\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "    k%d: [1]\n", i)
	}
	b.WriteString("spec: {node: pve1, vmid: 100}\n")
	_, diags := Parse("x.yaml", []byte(b.String()))
	if len(diags) != MaxDiagnosticsPerFile+1 || diags[0].Line != 6 || diags[MaxDiagnosticsPerFile-1].Line != 5+MaxDiagnosticsPerFile {
		t.Errorf("%d diagnostics, first at line %d", len(diags), diags[0].Line)
	}
}

// TestNormalizeManyFiles: the "N more problems" line of each file comes
// right after that file's last shown diagnostic, and adding them is one
// pass: inserting in place copied the list once per file (about 700 MB for
// this input); the bound below leaves room for the sort and the maps.
func TestNormalizeManyFiles(t *testing.T) {
	const files, per = 300, MaxDiagnosticsPerFile + 50
	var ds Diagnostics
	for f := range files {
		for l := range per {
			ds = append(ds, Diagnostic{File: fmt.Sprintf("f%03d.yaml", f), Line: l + 1, Column: 1, Message: "m"})
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out := ds.normalize()
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 100<<20 {
		t.Errorf("normalize allocated %d MB", got>>20)
	}
	if len(out) != files*(MaxDiagnosticsPerFile+1) {
		t.Fatalf("%d diagnostics, want %d", len(out), files*(MaxDiagnosticsPerFile+1))
	}
	for f := range files {
		d := out[f*(MaxDiagnosticsPerFile+1)+MaxDiagnosticsPerFile]
		if d.File != fmt.Sprintf("f%03d.yaml", f) || d.Message != "50 more problems in this file are not shown" || d.Severity != SeverityError {
			t.Fatalf("file %d: count line %v", f, d)
		}
	}
}

// TestCPUUnitsAsPVETakesThem: PVE 9 runs cgroup v2 only and clamps cpuunits
// above 10000 to 10000 (pve-common PVE/CGroup.pm clamp_cpu_shares, called by
// update_vm in pve-container API2/LXC/Config.pm), so a larger value could
// never be read back: validation refuses it, naming the bound (issue 10
// item 7).
func TestCPUUnitsAsPVETakesThem(t *testing.T) {
	for _, tt := range []struct {
		v    string
		want string // "" for valid
	}{{"10000", ""}, {"0", ""}, {"100", ""}, {"10001", "cpuunits must be at most 10000"}, {"500000", "cpuunits must be at most 10000"}} {
		_, diags := Parse("a.yaml", []byte("apiVersion: felhom/v1alpha1\nkind: Container\nmetadata: {name: a}\nspec: {node: pve1, vmid: 100, cpuunits: "+tt.v+"}\n"))
		got := ""
		for _, d := range diags {
			if d.Severity == SeverityError {
				got = d.Message + "; " + d.Hint
			}
		}
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("cpuunits %s: %q, want %q", tt.v, got, tt.want)
		}
		if tt.want != "" && !strings.Contains(got, "clamps") {
			t.Errorf("cpuunits %s: %q does not say why", tt.v, got)
		}
	}
}
