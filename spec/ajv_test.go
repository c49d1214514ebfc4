package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"go.yaml.in/yaml/v3"

	"github.com/felhom/felhom/schemas"
)

// ajvVersion is the ajv release the schema is checked with.
const ajvVersion = "8.20.0"

// ajvModules returns a node_modules folder holding ajv: $FELHOM_AJV_DIR's
// (where .ci/run installed it), or one npm installs into the user's cache.
// Without node or npm (or the registry) the test skips, unless
// FELHOM_REQUIRE_AJV=1 says it must run.
func ajvModules(t *testing.T) string {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("FELHOM_REQUIRE_AJV") == "1" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format+" (FELHOM_REQUIRE_AJV=1 makes this an error)", args...)
	}
	if _, err := exec.LookPath("node"); err != nil {
		unavailable("node not found: %v", err)
	}
	if d := os.Getenv("FELHOM_AJV_DIR"); d != "" {
		mods := filepath.Join(d, "node_modules")
		if _, err := os.Stat(filepath.Join(mods, "ajv", "package.json")); err != nil {
			unavailable("FELHOM_AJV_DIR=%s has no ajv: %v", d, err)
		}
		return mods
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "felhom-test", "ajv-"+ajvVersion)
	mods := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(mods, "ajv", "package.json")); err == nil {
		return mods
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		unavailable("npm not found: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		unavailable("cache folder: %v", err)
	}
	// Installed beside its place and renamed into it, so that test runs
	// in parallel never see half an install.
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "ajv-install-")
	if err != nil {
		unavailable("cache folder: %v", err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command(npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", tmp, "ajv@"+ajvVersion)
	cmd.Env = append(os.Environ(), "npm_config_cache="+filepath.Join(tmp, ".npm"))
	if out, err := cmd.CombinedOutput(); err != nil {
		unavailable("npm install ajv@%s: %v\n%s", ajvVersion, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(mods, "ajv", "package.json")); serr != nil {
			t.Fatalf("move ajv into %s: %v", dir, err)
		}
	}
	return mods
}

// beyondSchema names the bad fixtures whose mistakes a JSON Schema cannot
// see, so an editor accepts them and felhom validate does not: rules
// across documents or files, rules on values the schema only types, and
// keys Defaults may supply. Each says why.
var beyondSchema = map[string]string{
	"bad/duplicates.yaml":  "names and vmids must be unique across documents",
	"bad/mount-paths.yaml": "mount paths are checked against each other",
	"badtrees/duplicates":  "names and vmids must be unique across files",
}

// TestSchemaAgreesWithAJV runs ajv, a JSON Schema validator from outside
// this project, over every good and bad fixture and the shipped examples,
// each document against schemas/container.schema.json as an editor does,
// and compares its verdicts with felhom validate's (Load): what felhom
// accepts, the schema accepts (a key Defaults may supply is not required
// per file); what felhom refuses, the schema refuses too unless the
// mistake is beyond it (beyondSchema).
func TestSchemaAgreesWithAJV(t *testing.T) {
	mods := ajvModules(t)
	type fixture struct {
		name string // as in beyondSchema
		fsys fs.FS
		bad  bool
	}
	var fixtures []fixture
	add := func(pattern string, bad bool) {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimPrefix(filepath.ToSlash(p), "testdata/")
			if fi.IsDir() {
				fixtures = append(fixtures, fixture{name, os.DirFS(p), bad})
				continue
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			fixtures = append(fixtures, fixture{name, fstest.MapFS{filepath.Base(p): {Data: data}}, bad})
		}
	}
	add("testdata/good/*.yaml", false)
	add("testdata/goodtrees/*", false)
	add(filepath.Join(examplesDir, "containers"), false)
	add("testdata/bad/*.yaml", true)
	add("testdata/badtrees/*", true)
	fixtures = slices.DeleteFunc(fixtures, func(f fixture) bool { return strings.HasSuffix(f.name, ".json") })
	if len(fixtures) < 10 {
		t.Fatalf("only %d fixtures", len(fixtures))
	}

	// Every document of every fixture, in one ajv run.
	type docAt struct {
		fixture int
		file    string
	}
	var docs []any
	var at []docAt
	unparsable := map[int]bool{}
	for i, f := range fixtures {
		err := fs.WalkDir(f.fsys, ".", func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != "." && strings.HasPrefix(e.Name(), ".") {
				// Load skips hidden files and folders, and so does this.
				if e.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if e.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				return nil
			}
			data, err := fs.ReadFile(f.fsys, p)
			if err != nil {
				return err
			}
			ds, err := yamlDocs(data)
			if err != nil {
				unparsable[i] = true // an editor reports the YAML error itself
				return nil
			}
			if !isSpecFile(ds) {
				return nil // not a spec: no modeline, no schema
			}
			for _, d := range ds {
				docs = append(docs, d)
				at = append(at, docAt{i, p})
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
	}
	verdicts := runAJV(t, mods, docs)

	ajvErrs := make([][]string, len(fixtures))
	for j, errs := range verdicts {
		for _, e := range errs {
			ajvErrs[at[j].fixture] = append(ajvErrs[at[j].fixture], at[j].file+": "+e)
		}
	}
	for i, f := range fixtures {
		_, diags := Load(f.fsys, ".")
		felhomBad := diags.HasErrors()
		ajvBad := len(ajvErrs[i]) > 0 || unparsable[i]
		why, beyond := beyondSchema[f.name]
		switch {
		case felhomBad != f.bad:
			t.Errorf("%s: felhom validate says invalid=%v, the fixture is %s:\n%s", f.name, felhomBad, map[bool]string{true: "bad", false: "good"}[f.bad], diags.Error())
		case !felhomBad && ajvBad:
			t.Errorf("%s: felhom accepts it, ajv refuses it (an editor would mark it):\n  %s", f.name, strings.Join(ajvErrs[i], "\n  "))
		case felhomBad && !ajvBad && !beyond:
			t.Errorf("%s: felhom refuses it, ajv accepts it (add it to beyondSchema with the reason if the schema cannot see it):\n%s", f.name, diags.Error())
		case beyond && ajvBad:
			t.Errorf("%s: listed in beyondSchema (%s) but ajv refuses it:\n  %s", f.name, why, strings.Join(ajvErrs[i], "\n  "))
		}
	}
	for name := range beyondSchema {
		if !slices.ContainsFunc(fixtures, func(f fixture) bool { return f.name == name }) {
			t.Errorf("beyondSchema names %s, which is no fixture", name)
		}
	}
}

// yamlDocs decodes every non-empty document of a YAML stream as JSON values.
func yamlDocs(data []byte) ([]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		// Round trip through JSON, as an editor's YAML-to-JSON view does.
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		var j any
		if err := json.Unmarshal(b, &j); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
}

// isSpecFile tells a spec file from other YAML beside it, as Load does.
func isSpecFile(docs []any) bool {
	for _, d := range docs {
		m, ok := d.(map[string]any)
		if !ok {
			return true
		}
		for _, k := range []string{"apiVersion", "kind", "metadata", "spec"} {
			if _, ok := m[k]; ok {
				return true
			}
		}
	}
	return false
}

func runAJV(t *testing.T, mods string, docs []any) [][]string {
	t.Helper()
	dir := t.TempDir()
	schemaPath := filepath.Join(dir, "container.schema.json")
	if err := os.WriteFile(schemaPath, schemas.Container, 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(docs)
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "ajv", "validate.js"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script, mods, schemaPath)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ajv: %v\n%s", err, stderr.String())
	}
	var verdicts [][]string
	if err := json.Unmarshal(out, &verdicts); err != nil || len(verdicts) != len(docs) {
		t.Fatalf("ajv output (%d verdicts for %d documents, %v):\n%s", len(verdicts), len(docs), err, out)
	}
	return verdicts
}
