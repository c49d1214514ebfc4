package format

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// keyTables are the package's format objects by parameter family, as the
// API schema names them without "[n]".
var keyTables = map[string]schema{
	"rootfs":   rootfsSchema,
	"mp":       mpSchema,
	"net":      netSchema,
	"features": featuresSchema,
	"dev":      devSchema,
}

// namedFormats are the parameters whose schema format is a registered
// format name, not an object.
var namedFormats = map[string]string{"startup": "pve-startup-order"}

// schemaKeyFields are the fields of a schema key that SchemaDiff compares
// or that carry only help text.
var schemaKeyFields = map[string]bool{
	"type": true, "optional": true, "default_key": true, "default": true, "alias": true,
	"format": true, "pattern": true, "enum": true, "minimum": true, "maximum": true,
	"description": true, "verbose_description": true, "format_description": true, "typetext": true,
}

// SchemaDiff compares the package's key table of a property-string
// parameter (rootfs, mp[n], net[n], features, startup or dev[n]) with that
// parameter's "format" in PVE's API schema, as encoding/json decodes it
// from apidata.json: an object of keys, or a format name. It returns one
// line per difference, sorted: keys on one side only; per key the type,
// optional, default_key, default, alias, format name (and that the package
// has its validator), pattern (Perl's "(?^:" read as "(?:") and enum,
// minimum and maximum; and schema fields it does not know how to compare.
// It does no I/O: the tests of this package and of pvesim pass the schema.
func SchemaDiff(param string, schemaFormat any) []string {
	family := strings.TrimSuffix(param, "[n]")
	if name, ok := namedFormats[family]; ok {
		if schemaFormat != name {
			return []string{fmt.Sprintf("%s: format %q, schema %v", family, name, schemaFormat)}
		}
		return nil
	}
	table, ok := keyTables[family]
	if !ok {
		return []string{fmt.Sprintf("%s: no key table in this package", family)}
	}
	obj, ok := schemaFormat.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("%s: schema format is %T, not an object of keys", family, schemaFormat)}
	}
	var out []string
	for key, v := range obj {
		sk, ok := v.(map[string]any)
		if !ok {
			out = append(out, fmt.Sprintf("%s.%s: schema key is %T, not an object", family, key, v))
			continue
		}
		spec, ok := table[key]
		if !ok {
			out = append(out, fmt.Sprintf("%s.%s: in the schema, not in the package", family, key))
			continue
		}
		for _, d := range keyDiff(spec, sk) {
			out = append(out, family+"."+key+": "+d)
		}
	}
	for key := range table {
		if _, ok := obj[key]; !ok {
			out = append(out, fmt.Sprintf("%s.%s: in the package, not in the schema", family, key))
		}
	}
	sort.Strings(out)
	return out
}

// keyDiff compares one key's spec with its schema object.
func keyDiff(spec keySpec, sk map[string]any) []string {
	var out []string
	differ := func(what string, mine, theirs any) {
		out = append(out, fmt.Sprintf("%s %v, schema %v", what, mine, theirs))
	}
	for f := range sk {
		if !schemaKeyFields[f] {
			out = append(out, fmt.Sprintf("schema field %q is not compared", f))
		}
	}
	if typ := string(spec.kind); sk["type"] != typ {
		differ("type", typ, sk["type"])
	}
	if o := schemaFlag(sk["optional"]); o != spec.optional {
		differ("optional", spec.optional, o)
	}
	if dk := schemaFlag(sk["default_key"]); dk != spec.defaultKey {
		differ("default_key", spec.defaultKey, dk)
	}
	if def := schemaText(sk["default"]); def != spec.def {
		differ("default", strconv.Quote(spec.def), strconv.Quote(def))
	}
	if a, ok := sk["alias"]; ok {
		differ("alias", "none", a)
	}
	if f, _ := sk["format"].(string); f != spec.format {
		differ("format", strconv.Quote(spec.format), strconv.Quote(f))
	}
	if spec.format != "" && formatValidators[spec.format] == nil {
		out = append(out, fmt.Sprintf("format %q has no validator in this package", spec.format))
	}
	var src string
	if spec.pattern != nil {
		src = spec.pattern.src
	}
	if p := perlPattern(schemaText(sk["pattern"])); p != src {
		differ("pattern", strconv.Quote(src), strconv.Quote(p))
	}
	var enum []string
	if e, ok := sk["enum"].([]any); ok {
		for _, v := range e {
			enum = append(enum, schemaText(v))
		}
	}
	if !slices.Equal(enum, spec.enum) {
		differ("enum", spec.enum, enum)
	}
	for _, lim := range []struct {
		name string
		mine *float64
	}{{"minimum", spec.min}, {"maximum", spec.max}} {
		theirs, has := sk[lim.name].(float64)
		mine := "none"
		if lim.mine != nil {
			mine = strconv.FormatFloat(*lim.mine, 'f', -1, 64)
		}
		if has != (lim.mine != nil) || (has && theirs != *lim.mine) {
			differ(lim.name, mine, sk[lim.name])
		}
	}
	return out
}

// schemaFlag reads a JSON boolean-ish schema field (1, 0 or absent).
func schemaFlag(v any) bool {
	switch x := v.(type) {
	case float64:
		return x != 0
	case bool:
		return x
	}
	return false
}

// schemaText prints a JSON scalar as the text a property string holds:
// numbers in plain decimal, absent as "".
func schemaText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// perlPattern turns Perl's stringified qr// ("(?^:...)", "(?^i:...)") into
// the RE2 group syntax the tables use.
func perlPattern(p string) string { return strings.ReplaceAll(p, "(?^", "(?") }
