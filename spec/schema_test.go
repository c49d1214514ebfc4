package spec

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/felhom/felhom/pve/format"
	"github.com/felhom/felhom/schemas"
)

// TestSchemaMatchesTypes proves that the schema and the Go types cannot
// drift apart: every field the types accept (by json tag) is a property of
// the schema at the same place, with a compatible JSON type, and every
// schema property reaches a field.
func TestSchemaMatchesTypes(t *testing.T) {
	s, err := loadSchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, def := range []string{"container", "defaults"} {
		t.Run(def, func(t *testing.T) {
			matchType(t, s, reflect.TypeFor[Document](), []map[string]any{s.def(def)}, def)
		})
	}
}

func matchType(t *testing.T, s *compiled, typ reflect.Type, sch []map[string]any, where string) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	types := schemaTypes(s, sch)
	want := func(jsonTypes ...string) {
		for _, jt := range jsonTypes {
			if types[jt] {
				return
			}
		}
		t.Errorf("%s: Go type %s needs JSON type %v, schema allows %v", where, typ, jsonTypes, keys(types))
	}
	switch {
	case typ == reflect.TypeFor[format.Size]():
		want("integer")
		want("string")
		return
	case typ == reflect.TypeFor[Duration]():
		want("string")
		return
	}
	switch typ.Kind() {
	case reflect.Struct:
		want("object")
		props := s.propertiesOf(sch)
		seen := map[string]bool{}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := jsonName(f)
			if name == "" {
				continue
			}
			seen[name] = true
			if _, ok := props[name]; !ok {
				t.Errorf("%s: Go field %s (%q) is not in the schema", where, f.Name, name)
				continue
			}
			matchType(t, s, f.Type, s.step(sch, name), where+"."+name)
		}
		for name := range props {
			if !seen[name] {
				t.Errorf("%s: schema property %q reaches no Go field of %s", where, name, typ)
			}
		}
	case reflect.Map:
		want("object")
		matchType(t, s, typ.Elem(), s.step(sch, "\x00any"), where+".*")
	case reflect.Slice:
		want("array")
		matchType(t, s, typ.Elem(), s.step(sch, "0"), where+"[]")
	case reflect.String:
		want("string")
	case reflect.Bool:
		want("boolean")
	case reflect.Int:
		want("integer")
	case reflect.Float64:
		want("number")
	default:
		t.Errorf("%s: Go type %s has no schema mapping", where, typ)
	}
}

// schemaTypes lists the JSON types the schema objects allow: from "type",
// or the types of "const" and "enum" values.
func schemaTypes(s *compiled, sch []map[string]any) map[string]bool {
	out := map[string]bool{}
	add := func(v any) {
		switch v.(type) {
		case string:
			out["string"] = true
		case bool:
			out["boolean"] = true
		case float64:
			out["number"] = true
		}
	}
	for _, n := range sch {
		for m := n; m != nil; m = s.resolve(m) {
			switch tv := m["type"].(type) {
			case string:
				out[tv] = true
			case []any:
				for _, x := range tv {
					out[x.(string)] = true
				}
			}
			if c, ok := m["const"]; ok {
				add(c)
			}
			if e, ok := m["enum"].([]any); ok {
				for _, x := range e {
					add(x)
				}
			}
		}
	}
	if out["integer"] {
		out["number"] = true
	}
	return out
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestSchemaDocumentsEveryProperty: each property (and map value and slot
// name) has a description and at least one example, and every example is
// valid against the schema it illustrates.
func TestSchemaDocumentsEveryProperty(t *testing.T) {
	s, err := loadSchema()
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	if err := c.AddResource(schemas.ContainerSchemaID, bytes.NewReader(schemas.Container)); err != nil {
		t.Fatal(err)
	}
	count := 0
	var visit func(ptr string, n map[string]any, isProperty bool)
	visit = func(ptr string, n map[string]any, isProperty bool) {
		if isProperty {
			count++
			target := n
			if ref := s.resolve(n); ref != nil {
				target = ref
			}
			desc, _ := n["description"].(string)
			if desc == "" {
				desc, _ = target["description"].(string)
			}
			ex, _ := n["examples"].([]any)
			if len(ex) == 0 {
				ex, _ = target["examples"].([]any)
			}
			if strings.TrimSpace(desc) == "" {
				t.Errorf("%s: no description", ptr)
			}
			if len(ex) == 0 && !isOverlay(n) {
				t.Errorf("%s: no example", ptr)
			}
			if len(ex) > 0 {
				sch, err := c.Compile(schemas.ContainerSchemaID + "#" + ptr)
				if err != nil {
					t.Fatalf("%s: %v", ptr, err)
				}
				for _, e := range ex {
					if err := sch.Validate(e); err != nil {
						t.Errorf("%s: example %v is invalid: %v", ptr, e, err)
					}
				}
			}
		}
		for _, kw := range []string{"properties", "$defs"} {
			if m, ok := n[kw].(map[string]any); ok {
				for k, v := range m {
					if vm, ok := v.(map[string]any); ok {
						visit(ptr+"/"+kw+"/"+escapePtr(k), vm, kw == "properties" && !isOverlay(vm))
					}
				}
			}
		}
		for _, kw := range []string{"additionalProperties", "items", "propertyNames"} {
			if vm, ok := n[kw].(map[string]any); ok {
				visit(ptr+"/"+kw, vm, !isOverlay(vm))
			}
		}
	}
	visit("", s.raw, false)
	if count < 80 {
		t.Errorf("only %d properties visited; the walk is broken", count)
	}
}

// isOverlay reports whether n only adds "required" (or nested overlays) on
// top of a property documented elsewhere.
func isOverlay(n map[string]any) bool {
	_, hasDesc := n["description"]
	_, hasRef := n["$ref"]
	_, hasType := n["type"]
	_, hasPattern := n["pattern"]
	return !hasDesc && !hasType && !hasPattern && (!hasRef || n["required"] != nil)
}

// TestSchemaIsValidJSONSchema compiles the root schema (the compiler checks
// it against the 2020-12 meta-schema) and checks its $id.
func TestSchemaIsValidJSONSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	if err := c.AddResource(schemas.ContainerSchemaID, bytes.NewReader(schemas.Container)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compile(schemas.ContainerSchemaID); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		ID     string `json:"$id"`
		Schema string `json:"$schema"`
	}
	if err := json.Unmarshal(schemas.Container, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.ID != schemas.ContainerSchemaID || raw.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$id %q, $schema %q", raw.ID, raw.Schema)
	}
}

func TestFixPattern(t *testing.T) {
	const dns = `^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`
	for _, tt := range []struct{ in, pat, want string }{
		{"My_App", dns, "my-app"},
		{"my app", dns, "my-app"},
		{"Web", dns, ""}, // already valid: nothing to fix
		{"-web", dns, ""},
		{"BC-24-11-2A-3B-4C", `^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$`, "BC:24:11:2A:3B:4C"},
		{"8 G", `^[0-9]+(\.[0-9]+)?([KMGTkmgt]([iI][bB])?)?$`, "8G"},
		{"x", `(?<=x)`, ""}, // not RE2: no hint
	} {
		if got := fixPattern(tt.in, tt.pat); got != tt.want {
			t.Errorf("fixPattern(%q, %q) = %q, want %q", tt.in, tt.pat, got, tt.want)
		}
	}
}
