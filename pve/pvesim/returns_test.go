package pvesim

import (
	"fmt"
	"math"
	"sort"
	"testing"
)

// returnsDiff compares an answer's data with the schema's "returns" of
// the endpoint: every property the schema describes has its type where
// present, the properties that are not optional are present, and an
// object with additionalProperties 0 has no other keys. Booleans are
// PVE's 0/1 integers. Keys the schema does not describe are allowed
// otherwise, as PVE's answers carry many (id, type, disk in /nodes). An
// optional key that is null is Perl's undef, as absent.
func returnsDiff(where string, schema map[string]any, v any) []string {
	if schema == nil {
		return nil
	}
	typ, _ := schema["type"].(string)
	var bad []string
	kind := func(ok bool) {
		if !ok {
			bad = append(bad, fmt.Sprintf("%s: %s, schema type %s", where, jsonKind(v), typ))
		}
	}
	switch typ {
	case "string":
		_, ok := v.(string)
		kind(ok)
	case "integer":
		f, ok := v.(float64)
		kind(ok && f == math.Trunc(f))
	case "number":
		_, ok := v.(float64)
		kind(ok)
	case "boolean":
		f, ok := v.(float64)
		kind(ok && (f == 0 || f == 1))
	case "null":
		kind(v == nil)
	case "array":
		l, ok := v.([]any)
		kind(ok)
		items, _ := schema["items"].(map[string]any)
		for i, it := range l {
			bad = append(bad, returnsDiff(fmt.Sprintf("%s[%d]", where, i), items, it)...)
		}
	case "object":
		m, ok := v.(map[string]any)
		kind(ok)
		props, _ := schema["properties"].(map[string]any)
		var names []string
		for name := range props {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			ps, _ := props[name].(map[string]any)
			val, present := m[name]
			if !present || val == nil && ps["optional"] != nil && ps["optional"] != float64(0) {
				// An optional key whose value is Perl's undef (JSON
				// null) counts as absent.
				if opt, _ := ps["optional"].(float64); opt == 0 {
					bad = append(bad, fmt.Sprintf("%s.%s: missing, the schema does not make it optional", where, name))
				}
				continue
			}
			bad = append(bad, returnsDiff(where+"."+name, ps, val)...)
		}
		if ap, ok := schema["additionalProperties"].(float64); ok && ap == 0 {
			for k := range m {
				if _, ok := props[k]; !ok {
					bad = append(bad, fmt.Sprintf("%s.%s: not in the schema, which allows no other properties", where, k))
				}
			}
		}
	}
	return bad
}

// checkReturns fails the test when data does not match the returns
// schema of the endpoint key ("GET /nodes/{node}/time").
func checkReturns(t *testing.T, key string, data any) {
	t.Helper()
	ep, ok := loadSchema(t)[key]
	if !ok {
		t.Fatalf("%s is not in apidata.json", key)
	}
	for _, msg := range returnsDiff(key, ep.Returns, data) {
		t.Error(msg)
	}
}
