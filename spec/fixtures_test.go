package spec

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// want is one expected diagnostic, written in a fixture as
// "# want: LINE:COL text" (or "# want-warning: ..."), where text is found in
// "message; hint".
type want struct {
	file      string
	line, col int
	warning   bool
	msg       string
}

var wantRE = regexp.MustCompile(`^#\s*want(-warning)?:\s*(\d+):(\d+)\s+(.+)$`)

func readWants(t *testing.T, fsys fs.FS, root string) []want {
	t.Helper()
	var wants []want
	err := fs.WalkDir(fsys, root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			m := wantRE.FindStringSubmatch(strings.TrimSpace(sc.Text()))
			if m == nil {
				continue
			}
			l, _ := strconv.Atoi(m[2])
			c, _ := strconv.Atoi(m[3])
			rel := strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
			wants = append(wants, want{file: rel, line: l, col: c, warning: m[1] != "", msg: m[4]})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return wants
}

// checkWants proves that the diagnostics are exactly the wanted ones: each
// want is matched by a diagnostic at its position with its message, and no
// diagnostic is left unwanted.
func checkWants(t *testing.T, diags Diagnostics, wants []want) {
	t.Helper()
	used := make([]bool, len(diags))
	for _, w := range wants {
		found := false
		for i, d := range diags {
			if used[i] || d.File != w.file || d.Line != w.line || d.Column != w.col ||
				(d.Severity == SeverityWarning) != w.warning || !strings.Contains(d.Message+"; "+d.Hint, w.msg) {
				continue
			}
			used[i], found = true, true
			break
		}
		if !found {
			t.Errorf("missing diagnostic %s:%d:%d %q", w.file, w.line, w.col, w.msg)
		}
	}
	for i, d := range diags {
		if !used[i] {
			t.Errorf("unexpected diagnostic: %s", d)
		}
	}
	if t.Failed() {
		t.Logf("all diagnostics:\n%s", diags.Error())
	}
}

// loadDir loads a testdata folder as its own tree.
func loadDir(t *testing.T, dir string) (*Set, Diagnostics, fs.FS) {
	t.Helper()
	fsys := os.DirFS(dir)
	set, diags := Load(fsys, ".")
	return set, diags, fsys
}

// TestBadFixtures loads each testdata/bad/*.yaml as a tree of one file and
// checks its diagnostics against the file's "# want:" lines.
func TestBadFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) == 0 {
		t.Fatal("no bad fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(f)
			fsys := fstest.MapFS{name: {Data: data}}
			wants := readWants(t, fsys, ".")
			if len(wants) == 0 {
				t.Fatal("a bad fixture must name its expected diagnostics with # want: LINE:COL message")
			}
			_, diags := Load(fsys, ".")
			if !diags.HasErrors() {
				t.Error("a bad fixture must have errors")
			}
			checkWants(t, diags, wants)
		})
	}
}

// TestBadTrees does the same for folders under testdata/badtrees, where the
// problem spans files (defaults, duplicates across files).
func TestBadTrees(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/badtrees/*")
	if len(dirs) == 0 {
		t.Fatal("no bad trees")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			_, diags, fsys := loadDir(t, dir)
			wants := readWants(t, fsys, ".")
			if len(wants) == 0 {
				t.Fatal("no # want: lines")
			}
			checkWants(t, diags, wants)
		})
	}
}

// TestGoodFixtures loads each good file and tree: no diagnostic at all, and
// the decoded containers (defaults applied) match the golden JSON.
func TestGoodFixtures(t *testing.T) {
	var cases []string
	files, _ := filepath.Glob("testdata/good/*.yaml")
	trees, _ := filepath.Glob("testdata/goodtrees/*")
	cases = append(cases, files...)
	for _, d := range trees {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			cases = append(cases, d)
		}
	}
	if len(files) == 0 || len(trees) == 0 {
		t.Fatal("missing good fixtures")
	}
	for _, c := range cases {
		t.Run(filepath.Base(c), func(t *testing.T) {
			var fsys fs.FS
			if strings.HasSuffix(c, ".yaml") {
				data, err := os.ReadFile(c)
				if err != nil {
					t.Fatal(err)
				}
				fsys = fstest.MapFS{filepath.Base(c): {Data: data}}
			} else {
				fsys = os.DirFS(c)
			}
			set, diags := Load(fsys, ".")
			if len(diags) > 0 {
				t.Fatalf("good fixture has diagnostics:\n%s", diags.Error())
			}
			if len(set.Containers) == 0 {
				t.Fatal("no containers")
			}
			got, err := json.MarshalIndent(set.Containers, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(c, ".yaml") + ".golden.json"
			if !strings.HasSuffix(c, ".yaml") {
				golden = c + ".golden.json"
			}
			checkGolden(t, golden, append(got, '\n'))
		})
	}
}

func checkGolden(t *testing.T, golden string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./spec -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs (run with -update after checking):\n%s", golden, lineDiff(string(want), string(got)))
	}
}

func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out strings.Builder
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			fmt.Fprintf(&out, "line %d:\n- %s\n+ %s\n", i+1, x, y)
		}
	}
	return out.String()
}
