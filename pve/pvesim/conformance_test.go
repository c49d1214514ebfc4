package pvesim

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/felhom/felhom/internal/testref"
	"github.com/felhom/felhom/pve/ctconf"
	"github.com/felhom/felhom/pve/format"
)

// schemaNode is one node of apidata.json's tree.
type schemaNode struct {
	Path     string                    `json:"path"`
	Info     map[string]schemaEndpoint `json:"info"`
	Children []schemaNode              `json:"children"`
}

type schemaEndpoint struct {
	Permissions map[string]any `json:"permissions"`
	Parameters  struct {
		Properties map[string]map[string]any `json:"properties"`
	} `json:"parameters"`
	Returns map[string]any `json:"returns"`
}

func loadSchema(t *testing.T) map[string]schemaEndpoint {
	t.Helper()
	var roots []schemaNode
	if err := json.Unmarshal(testref.Read(t, "pve-api/apidata.json"), &roots); err != nil {
		t.Fatal(err)
	}
	out := map[string]schemaEndpoint{}
	var walk func(n schemaNode)
	walk = func(n schemaNode) {
		for m, ep := range n.Info {
			out[m+" "+n.Path] = ep
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return out
}

// unusedFormat is the unused[n] format object the simulator implements
// (propertyFormat "unused"): the one key volume, the default key, a
// pve-volume-id. Fields that are only help text are left out.
var unusedFormat = map[string]any{
	"volume": map[string]any{"default_key": float64(1), "format": "pve-volume-id", "type": "string"},
}

// compareInlineFormat compares a property-string parameter's inline format
// object: the formats pve/format owns through format.SchemaDiff (key by key,
// both directions), unused[n] with unusedFormat.
func compareInlineFormat(p param, f map[string]any) []string {
	switch p.format {
	case "rootfs", "mp", "net", "features", "dev":
		return format.SchemaDiff(p.format, f)
	case "unused":
		got := map[string]any{}
		for k, v := range f {
			key, ok := v.(map[string]any)
			if !ok {
				return []string{fmt.Sprintf("unused.%s: not an object", k)}
			}
			stripped := map[string]any{}
			for field, fv := range key {
				if field != "description" && field != "verbose_description" && field != "format_description" {
					stripped[field] = fv
				}
			}
			got[k] = stripped
		}
		if !reflect.DeepEqual(got, unusedFormat) {
			return []string{fmt.Sprintf("unused format %v, schema %v", unusedFormat, got)}
		}
		return nil
	}
	return []string{fmt.Sprintf("format %q, schema has a property-string format", p.format)}
}

func schemaFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// TestParamTablesMatchSchema cross-checks every route's parameter table
// with the official API schema: the endpoint exists; every parameter the
// simulator accepts exists there with the same type, format, enum, range
// and length limits; what the schema requires is required here and the
// other way round; and no schema parameter is missing from the table (a
// client sending it would get a 400 from the simulator but not from PVE).
func TestParamTablesMatchSchema(t *testing.T) {
	schema := loadSchema(t)
	for _, rt := range routes {
		t.Run(rt.key(), func(t *testing.T) {
			ep, ok := schema[rt.key()]
			if !ok {
				t.Fatalf("endpoint %s is not in apidata.json", rt.key())
			}
			props := ep.Parameters.Properties
			seen := map[string]bool{}
			for _, p := range rt.params {
				seen[p.name] = true
				sp, ok := props[p.name]
				if !ok {
					t.Errorf("%s: not in the schema", p.name)
					continue
				}
				for _, msg := range compareParam(p, sp) {
					t.Errorf("%s: %s", p.name, msg)
				}
			}
			var missing []string
			for name := range props {
				if !seen[name] {
					missing = append(missing, name)
				}
			}
			sort.Strings(missing)
			if len(missing) > 0 {
				t.Errorf("schema parameters the table lacks: %s", strings.Join(missing, ", "))
			}
		})
	}
}

func compareParam(p param, sp map[string]any) []string {
	var bad []string
	if typ, _ := sp["type"].(string); typ != string(p.typ) {
		bad = append(bad, fmt.Sprintf("type %s, schema %v", p.typ, sp["type"]))
	}
	optional := sp["optional"] != nil && sp["optional"] != float64(0)
	if optional != p.opt {
		bad = append(bad, fmt.Sprintf("optional=%v, schema optional=%v", p.opt, optional))
	}
	switch f := sp["format"].(type) {
	case nil:
		if p.format != "" {
			bad = append(bad, fmt.Sprintf("format %q, schema has none", p.format))
		}
	case string:
		if f != p.format {
			bad = append(bad, fmt.Sprintf("format %q, schema %q", p.format, f))
		}
	case map[string]any:
		bad = append(bad, compareInlineFormat(p, f)...)
	}
	var enum []string
	if e, ok := sp["enum"].([]any); ok {
		for _, v := range e {
			enum = append(enum, fmt.Sprint(v))
		}
	}
	if !reflect.DeepEqual(enum, p.enum) && !(len(enum) == 0 && len(p.enum) == 0) {
		bad = append(bad, fmt.Sprintf("enum %v, schema %v", p.enum, enum))
	}
	for _, lim := range []struct {
		key  string
		mine *float64
	}{{"minimum", p.min}, {"maximum", p.max}} {
		v, has := schemaFloat(sp[lim.key])
		switch {
		case has && (lim.mine == nil || *lim.mine != v):
			bad = append(bad, fmt.Sprintf("%s %v, schema %v", lim.key, lim.mine, v))
		case !has && lim.mine != nil:
			bad = append(bad, fmt.Sprintf("%s %v, schema has none", lim.key, *lim.mine))
		}
	}
	for _, lim := range []struct {
		key  string
		mine int
	}{{"maxLength", p.maxLen}, {"minLength", p.minLen}} {
		v, _ := schemaFloat(sp[lim.key])
		if int(v) != lim.mine {
			bad = append(bad, fmt.Sprintf("%s %d, schema %v", lim.key, lim.mine, sp[lim.key]))
		}
	}
	// Patterns as the schema prints them, Perl's qr// "(?^:" read as "(?:".
	if sp, _ := sp["pattern"].(string); strings.ReplaceAll(sp, "(?^", "(?") != p.pattern {
		bad = append(bad, fmt.Sprintf("pattern %q, schema %q", p.pattern, sp))
	}
	if p.pattern != "" {
		if _, err := regexp.Compile(`^(?:` + p.pattern + `)$`); err != nil {
			bad = append(bad, fmt.Sprintf("pattern %q does not compile: %v", p.pattern, err))
		}
	}
	if req, _ := sp["requires"].(string); req != p.requires {
		bad = append(bad, fmt.Sprintf("requires %q, schema %q", p.requires, req))
	}
	return bad
}

// TestCTOptionsAreCtconfs: the container options of the API tables are the
// options ctconf lets PUT config set, so restore can pick them out with
// ctconf.Settable, with ctconf's types, which GET config's JSON types
// follow (typedValue).
func TestCTOptionsAreCtconfs(t *testing.T) {
	for _, p := range ctOptions {
		if p.count == 0 {
			if !ctconf.Settable(p.name) {
				t.Errorf("%s: ctconf.Settable = false", p.name)
			}
			if typ, _ := ctconf.OptionType(p.name); typ != string(p.typ) {
				t.Errorf("%s: ctconf.OptionType = %q, table %q", p.name, typ, p.typ)
			}
			continue
		}
		prefix := strings.TrimSuffix(p.name, "[n]")
		first, last, past := prefix+"0", prefix+strconv.Itoa(p.count-1), prefix+strconv.Itoa(p.count)
		if typ, _ := ctconf.OptionType(first); typ != string(p.typ) {
			t.Errorf("%s: ctconf.OptionType = %q, table %q", first, typ, p.typ)
		}
		if !ctconf.Settable(first) || !ctconf.Settable(last) || ctconf.Settable(past) {
			t.Errorf("%s: ctconf.Settable(%s, %s, %s) = %v, %v, %v; want true, true, false", p.name, first, last, past,
				ctconf.Settable(first), ctconf.Settable(last), ctconf.Settable(past))
		}
	}
	for _, k := range []string{"parent", "snaptime", "digest", "delete", "vmid"} {
		if ctconf.Settable(k) {
			t.Errorf("ctconf.Settable(%s) = true; it is no option of the API tables", k)
		}
	}
}

// TestSchemaPatterns: the patterns copied from the schema in its own
// spelling (Perl's \0, \@, "(?^:" groups) match in Go as they do in PVE.
func TestSchemaPatterns(t *testing.T) {
	byName := map[string]param{}
	for _, rt := range routes {
		for _, p := range rt.params {
			if p.pattern != "" {
				byName[p.name] = p
			}
		}
	}
	for _, tc := range []struct {
		param, value string
		ok           bool
	}{
		{"userid", "felhom@pve", true},
		{"userid", "felhom@pve!ci", true},
		{"userid", "felhom", false},
		{"userid", "fel:hom@pve", false},
		{"userid", "felhom@pve!", false},
		{"env", "A=1", true},
		{"env", "A=1\x00B=two words", true},
		{"env", "A=1\x01", false},
		{"env", "=1", false},
		{"entrypoint", "/sbin/init --x", true},
		{"entrypoint", "a\x7fb", false},
		{"job-id", "backup-1", true},
		{"job-id", "a b", false},
	} {
		p, ok := byName[tc.param]
		if !ok {
			t.Fatalf("no route parameter %s with a pattern", tc.param)
		}
		msg := checkParam(p, p.name, tc.value)
		if (msg == "") != tc.ok {
			t.Errorf("%s=%q: %q, want ok=%v", tc.param, tc.value, msg, tc.ok)
		}
	}
}

// TestVolumeIDFormat: pve-volume-id is pve-storage's parse_volume_id,
// whose pattern has /i, so a storage id in capitals passes the format check
// (what happens next, a storage that does not exist, is the handler's).
func TestVolumeIDFormat(t *testing.T) {
	for _, tc := range []struct {
		v   string
		msg string
	}{
		{"local:snippets/hook.pl", ""},
		{"Local:snippets/hook.pl", ""},
		{"l:snippets/hook.pl", "invalid format - unable to parse volume ID 'l:snippets/hook.pl'\n"},
		{"/root/hook.pl", "invalid format - unable to parse volume ID '/root/hook.pl'\n"},
	} {
		if got := checkFormat("pve-volume-id", "hookscript", tc.v); got != tc.msg {
			t.Errorf("%q: %q, want %q", tc.v, got, tc.msg)
		}
	}
}

// TestRoutePermsMatchSchema: every route's method permissions (checked
// before validation, check_api2_permissions) are the schema's: user
// all/world, or the ['perm', path, privs, any] check, or userid-group.
func TestRoutePermsMatchSchema(t *testing.T) {
	schema := loadSchema(t)
	for _, rt := range routes {
		ep, ok := schema[rt.key()]
		if !ok {
			t.Errorf("endpoint %s is not in apidata.json", rt.key())
			continue
		}
		want := perm{}
		if u, ok := ep.Permissions["user"].(string); ok {
			want.user = u
		}
		if c, ok := ep.Permissions["check"].([]any); ok && len(c) > 0 {
			privsOf := func(v any) []string {
				var out []string
				l, _ := v.([]any)
				for _, x := range l {
					out = append(out, fmt.Sprint(x))
				}
				return out
			}
			switch c[0] {
			case "perm":
				want.path = fmt.Sprint(c[1])
				want.privs = privsOf(c[2])
				want.any = len(c) >= 5 && c[3] == "any" && fmt.Sprint(c[4]) == "1"
			case "userid-group":
				want.userGroup = true
				want.privs = privsOf(c[1])
			default:
				t.Errorf("%s: schema check %v is not modelled", rt.key(), c)
				continue
			}
		}
		if !reflect.DeepEqual(rt.perm, want) {
			t.Errorf("%s: perm %+v, schema %+v", rt.key(), rt.perm, want)
		}
	}
}
