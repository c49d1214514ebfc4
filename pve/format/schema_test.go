package format_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/felhom/felhom/internal/testref"
	"github.com/felhom/felhom/pve/format"
)

// propertyParams are the parameters whose formats this package owns.
var propertyParams = []string{"rootfs", "mp[n]", "net[n]", "features", "startup", "dev[n]"}

// deliberateDiffs are the differences from the schema the package keeps on
// purpose, each with its reason. SchemaDiff must still report each one
// (an entry that no longer differs is stale and fails the test).
var deliberateDiffs = map[string]string{}

// schemaParams returns the parameter properties of method+path in
// apidata.json.
func schemaParams(t *testing.T, data []byte, method, path string) map[string]map[string]any {
	t.Helper()
	type node struct {
		Path string `json:"path"`
		Info map[string]struct {
			Parameters struct {
				Properties map[string]map[string]any `json:"properties"`
			} `json:"parameters"`
		} `json:"info"`
		Children []node `json:"children"`
	}
	var roots []node
	if err := json.Unmarshal(data, &roots); err != nil {
		t.Fatal(err)
	}
	var find func([]node) map[string]map[string]any
	find = func(ns []node) map[string]map[string]any {
		for _, n := range ns {
			if n.Path == path {
				if ep, ok := n.Info[method]; ok {
					return ep.Parameters.Properties
				}
			}
			if p := find(n.Children); p != nil {
				return p
			}
		}
		return nil
	}
	p := find(roots)
	if p == nil {
		t.Fatalf("%s %s is not in apidata.json", method, path)
	}
	return p
}

// TestKeyTablesMatchSchema compares the key tables of rootfs, mp[n],
// net[n], features, startup and dev[n] with their format objects in the
// official schema (PUT config and POST create), both ways: every schema
// key is known, every known key is in the schema, and per key type,
// optional, default_key, default, alias, format, pattern, enum and range
// agree.
func TestKeyTablesMatchSchema(t *testing.T) {
	data := testref.Read(t, "pve-api/apidata.json")
	seen := map[string]bool{}
	for _, ep := range [][2]string{{"PUT", "/nodes/{node}/lxc/{vmid}/config"}, {"POST", "/nodes/{node}/lxc"}} {
		props := schemaParams(t, data, ep[0], ep[1])
		for _, name := range propertyParams {
			sp, ok := props[name]
			if !ok {
				t.Errorf("%s %s: no parameter %s", ep[0], ep[1], name)
				continue
			}
			for _, d := range format.SchemaDiff(name, sp["format"]) {
				seen[d] = true
				if reason, ok := deliberateDiffs[d]; ok {
					t.Logf("%s %s: %s (deliberate: %s)", ep[0], ep[1], d, reason)
					continue
				}
				t.Errorf("%s %s: %s", ep[0], ep[1], d)
			}
		}
	}
	for d := range deliberateDiffs {
		if !seen[d] {
			t.Errorf("deliberate difference %q no longer occurs; remove it", d)
		}
	}
}

// TestSchemaDiff: the comparison finds each kind of difference.
func TestSchemaDiff(t *testing.T) {
	// The features format as apidata.json has it.
	features := func() map[string]any {
		var obj map[string]any
		err := json.Unmarshal([]byte(`{
			"force_rw_sys": {"default": 0, "optional": 1, "type": "boolean"},
			"fuse": {"default": 0, "optional": 1, "type": "boolean"},
			"keyctl": {"default": 0, "optional": 1, "type": "boolean"},
			"mknod": {"default": 0, "optional": 1, "type": "boolean"},
			"mount": {"format_description": "fstype;fstype;...", "optional": 1, "pattern": "(?^:[a-zA-Z0-9_; ]+)", "type": "string"},
			"nesting": {"default": 0, "optional": 1, "type": "boolean"}}`), &obj)
		if err != nil {
			t.Fatal(err)
		}
		return obj
	}
	key := func(obj map[string]any, k string) map[string]any { return obj[k].(map[string]any) }
	for _, tc := range []struct {
		name   string
		change func(map[string]any)
		want   []string
	}{
		{"same", func(map[string]any) {}, nil},
		{"new schema key", func(o map[string]any) { o["idmap"] = map[string]any{"type": "string", "optional": 1.0} },
			[]string{"features.idmap: in the schema, not in the package"}},
		{"key gone from the schema", func(o map[string]any) { delete(o, "fuse") },
			[]string{"features.fuse: in the package, not in the schema"}},
		{"type", func(o map[string]any) { key(o, "nesting")["type"] = "integer" },
			[]string{"features.nesting: type boolean, schema integer"}},
		{"optional", func(o map[string]any) { delete(key(o, "nesting"), "optional") },
			[]string{"features.nesting: optional true, schema false"}},
		{"default", func(o map[string]any) { key(o, "nesting")["default"] = 1.0 },
			[]string{`features.nesting: default "0", schema "1"`}},
		{"default_key", func(o map[string]any) { key(o, "mount")["default_key"] = 1.0 },
			[]string{"features.mount: default_key false, schema true"}},
		{"alias", func(o map[string]any) { key(o, "mount")["alias"] = "fstypes" },
			[]string{"features.mount: alias none, schema fstypes"}},
		{"format", func(o map[string]any) { key(o, "mount")["format"] = "pve-fstype-list" },
			[]string{`features.mount: format "", schema "pve-fstype-list"`}},
		{"pattern", func(o map[string]any) { key(o, "mount")["pattern"] = "(?^:[a-z]+)" },
			[]string{`features.mount: pattern "(?:[a-zA-Z0-9_; ]+)", schema "(?:[a-z]+)"`}},
		{"enum", func(o map[string]any) { key(o, "mount")["enum"] = []any{"ext4"} },
			[]string{"features.mount: enum [], schema [ext4]"}},
		{"maximum", func(o map[string]any) { key(o, "mount")["maximum"] = 3.0 },
			[]string{"features.mount: maximum none, schema 3"}},
		{"unknown field", func(o map[string]any) { key(o, "mount")["maxLength"] = 64.0 },
			[]string{`features.mount: schema field "maxLength" is not compared`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := features()
			tc.change(obj)
			if got := format.SchemaDiff("features", obj); !slices.Equal(got, tc.want) {
				t.Errorf("SchemaDiff = %q, want %q", got, tc.want)
			}
		})
	}
	if got := format.SchemaDiff("startup", "pve-startup-order"); got != nil {
		t.Errorf("startup: %q", got)
	}
	if got := format.SchemaDiff("startup", "pve-startup"); len(got) != 1 || !strings.Contains(got[0], "pve-startup-order") {
		t.Errorf("startup with another format: %q", got)
	}
	if got := format.SchemaDiff("unused[n]", map[string]any{}); len(got) != 1 {
		t.Errorf("unused: %q, want one line (no table here)", got)
	}
}
