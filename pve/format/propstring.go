package format

import (
	"cmp"
	"errors"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// kind is the schema type of a property-string key, as the schema names it.
type kind string

const (
	kindString  kind = "string"
	kindBool    kind = "boolean"
	kindInteger kind = "integer"
	kindNumber  kind = "number"
)

// keySpec mirrors one key of a PVE format object (apidata.json "format"):
// its type, whether it may be left out, the default key, the default value,
// and the checks check_prop applies in its order: format validator,
// pattern, minimum and maximum, enum. TestKeyTablesMatchSchema compares
// every field with apidata.json.
type keySpec struct {
	kind       kind
	optional   bool
	defaultKey bool
	// def is the schema's default, as text ("1" for a boolean default 1);
	// "" when it has none. Equal treats an unset key as this value.
	def string
	// format names PVE's registered format; formatValidators holds its
	// check.
	format  string
	pattern *pattern
	min     *float64
	max     *float64
	enum    []string
}

// pattern is a schema pattern: src as apidata.json prints it, with Perl's
// qr// stringification "(?^:" written "(?:" (RE2 has no '^' flag group),
// and re anchored like check_prop's m/^$pattern$/.
type pattern struct {
	src string
	re  *regexp.Regexp
}

func newPattern(src string) *pattern {
	return &pattern{src: src, re: regexp.MustCompile(`^(?:` + src + `)$`)}
}

// formatValidators are PVE's registered format validators the key tables
// use, by format name; each returns check_prop's message, "invalid format
// - " and the validator's die message, or "".
var formatValidators = map[string]func(string) string{
	"pve-lxc-mp-string":  invalidFormat(verifyMPString),
	"pve-lxc-dev-string": invalidFormat(verifyDevString),
	"disk-size":          invalidFormat(verifyDiskSize),
	"ipv4":               invalidFormat(verifyIPv4),
	"ipv6":               invalidFormat(verifyIPv6),
	"pve-ipv4-config":    invalidFormat(verifyIPv4Config),
	"pve-ipv6-config":    invalidFormat(verifyIPv6Config),
	"mac-addr":           invalidFormat(verifyMAC),
}

func invalidFormat(verify func(string) string) func(string) string {
	return func(v string) string {
		if msg := verify(v); msg != "" {
			return "invalid format - " + msg
		}
		return ""
	}
}

// schema is a property-string format: key name to spec.
type schema map[string]keySpec

func (s schema) defaultKey() string {
	for k, spec := range s {
		if spec.defaultKey {
			return k
		}
	}
	return ""
}

// boolEqual compares two optional boolean values of key, an unset one
// being the schema's default (off when the schema has none).
func (s schema) boolEqual(key string, a, b *bool) bool {
	def := s[key].def == "1"
	return boolOr(a, def) == boolOr(b, def)
}

func ptrFloat(v float64) *float64 { return &v }

var (
	isIntegerRE = regexp.MustCompile(`^[+-]?\d+$`)
	isNumberRE  = regexp.MustCompile(`^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$`)
)

// isBlank reports whether s is only white space (Perl's \s: tab, newline,
// vertical tab, form feed, carriage return, space), as /^\s*$/.
func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\t', '\n', '\v', '\f', '\r', ' ':
		default:
			return false
		}
	}
	return true
}

// splitKeyValue matches a part as ^([^=]+)=(.+)\n?$ does, Perl's key=value
// of parse_property_string: a key up to the first '=', not empty, and a
// value of one line, not empty ("." stops at a newline; "$" may come before
// a final one, which is not the value's).
func splitKeyValue(part string) (key, value string, ok bool) {
	i := strings.IndexByte(part, '=')
	if i <= 0 {
		return "", "", false
	}
	value = strings.TrimSuffix(part[i+1:], "\n")
	if value == "" || strings.IndexByte(value, '\n') >= 0 {
		return "", "", false
	}
	return part[:i], value, true
}

// splitProperties splits data as PVE::JSONSchema::parse_property_string
// does: parts separated by ',', blank parts skipped, "key=value" (value not
// empty) or a bare value for the default key. Boolean values are normalised
// to "1"/"0" when they are one of PVE's spellings. Unknown and duplicate
// keys are errors worded as PVE's die messages.
func splitProperties(data string, sc schema) (map[string]string, error) {
	res := map[string]string{}
	defKey := sc.defaultKey()
	for _, part := range perlSplitComma(data) {
		if isBlank(part) {
			continue
		}
		if k, v, ok := splitKeyValue(part); ok {
			if _, dup := res[k]; dup {
				return nil, &Error{Key: k, Value: v, Msg: "duplicate key in comma-separated list property: " + k, parse: true}
			}
			spec, ok := sc[k]
			if !ok {
				return nil, &Error{Key: k, Value: v, Msg: "invalid key in comma-separated list property: " + k, parse: true}
			}
			if spec.kind == kindBool {
				v = normBool(v)
			}
			res[k] = v
			continue
		}
		if strings.Contains(part, "=") {
			return nil, &Error{Value: data, Msg: "missing key in comma-separated list property", parse: true}
		}
		if defKey == "" {
			return nil, &Error{Value: data, Msg: "value without key, but schema does not define a default key", parse: true}
		}
		if _, dup := res[defKey]; dup {
			return nil, &Error{Key: defKey, Value: part, Msg: "duplicate key in comma-separated list property: " + defKey, parse: true}
		}
		if sc[defKey].kind == kindBool {
			part = normBool(part)
		}
		res[defKey] = part
	}
	if err := checkObject(res, sc); err != nil {
		return nil, err
	}
	return res, nil
}

// perlSplitComma is Perl's split(/,/, $s): trailing empty fields are dropped.
func perlSplitComma(s string) []string { return dropTrailingEmpty(strings.Split(s, ",")) }

func normBool(v string) string {
	if b, ok := ParseBool(v); ok {
		if b {
			return "1"
		}
		return "0"
	}
	return v
}

// checkObject applies PVE::JSONSchema::check_object to the split values.
// It returns the error of the first offending key in key order, holding the
// others in More.
// The keys are sorted only when one fails: felhom plan parses some 4
// property strings per container, nearly all of them valid.
func checkObject(res map[string]string, sc schema) error {
	var failed []*Error
	for k, spec := range sc {
		v, set := res[k]
		if msg := checkProp(v, set, spec); msg != "" {
			failed = append(failed, &Error{Key: k, Value: v, Msg: msg})
		}
	}
	if len(failed) == 0 {
		return nil
	}
	sort.Slice(failed, func(i, j int) bool { return failed[i].Key < failed[j].Key })
	first := failed[0]
	if len(failed) > 1 {
		first.More = failed[1:]
	}
	return first
}

// checkProp is PVE::JSONSchema::check_prop for one key of a property
// string: a missing key, then Prop.Check.
func checkProp(v string, set bool, spec keySpec) string {
	if !set {
		if !spec.optional {
			return "property is missing and it is not optional"
		}
		return ""
	}
	p := Prop{Type: string(spec.kind), Format: formatValidators[spec.format], Minimum: spec.min, Maximum: spec.max, Enum: spec.enum}
	if spec.pattern != nil {
		p.Pattern = spec.pattern.re
	}
	return p.Check(v)
}

// Prop is what PVE::JSONSchema::check_prop and check_type test of one
// scalar value that is present. Zero fields test nothing.
type Prop struct {
	// Type is the schema type: "boolean" (the value must be "0" or "1";
	// callers normalise PVE's other spellings first where PVE does),
	// "integer", "number" (is_integer, is_number) or anything else
	// (untested).
	Type string
	// Format checks the registered format and returns check_prop's whole
	// message ("invalid format - ..."), or "".
	Format func(string) string
	// Pattern is the schema pattern anchored as check_prop's m/^$pattern$/.
	Pattern              *regexp.Regexp
	MaxLength, MinLength int
	Minimum, Maximum     *float64
	Enum                 []string
}

// Check returns PVE's message for v, or "" when it passes. The order is
// check_prop's: type, format, pattern, maxLength, minLength, maximum,
// minimum, enum; the first failure is the message. Range checks apply only
// to a value that looks like a number (a string property with a range is
// compared as Perl would, an out-of-range float as ±Inf).
func (p Prop) Check(v string) string {
	switch p.Type {
	case "boolean":
		if v != "0" && v != "1" {
			return "type check ('boolean') failed - got '" + v + "'"
		}
	case "integer":
		if !isIntegerRE.MatchString(v) {
			return "type check ('integer') failed - got '" + v + "'"
		}
	case "number":
		if !isNumberRE.MatchString(v) {
			return "type check ('number') failed - got '" + v + "'"
		}
	}
	if p.Format != nil {
		if msg := p.Format(v); msg != "" {
			return msg
		}
	}
	if p.Pattern != nil && !p.Pattern.MatchString(v) {
		return "value does not match the regex pattern"
	}
	if p.MaxLength > 0 && len(v) > p.MaxLength {
		return "value may only be " + strconv.Itoa(p.MaxLength) + " characters long"
	}
	if p.MinLength > 0 && len(v) < p.MinLength {
		return "value must be at least " + strconv.Itoa(p.MinLength) + " characters long"
	}
	if (p.Minimum != nil || p.Maximum != nil) && isNumberRE.MatchString(v) {
		f, err := strconv.ParseFloat(v, 64)
		if err == nil || errors.Is(err, strconv.ErrRange) {
			if p.Maximum != nil && f > *p.Maximum {
				return "value must have a maximum value of " + strconv.FormatFloat(*p.Maximum, 'f', -1, 64)
			}
			if p.Minimum != nil && f < *p.Minimum {
				return "value must have a minimum value of " + strconv.FormatFloat(*p.Minimum, 'f', -1, 64)
			}
		}
	}
	if p.Enum != nil && !slices.Contains(p.Enum, v) {
		return "value '" + v + "' does not have a value in the enumeration '" + strings.Join(p.Enum, ", ") + "'"
	}
	return ""
}

// printer builds a property string the way
// PVE::JSONSchema::print_property_string orders it: the default key first
// (bare value), then the required keys sorted, then the other keys sorted.
type printer struct {
	sc     schema
	values map[string]string
}

func newPrinter(sc schema) *printer { return &printer{sc: sc, values: map[string]string{}} }

func (p *printer) str(key, v string) {
	if v != "" {
		p.values[key] = v
	}
}

func (p *printer) boolean(key string, v *bool) {
	if v != nil {
		if *v {
			p.values[key] = "1"
		} else {
			p.values[key] = "0"
		}
	}
}

func (p *printer) integer(key string, v *int) {
	if v != nil {
		p.values[key] = strconv.Itoa(*v)
	}
}

func (p *printer) String() string {
	var out []string
	done := map[string]bool{}
	if dk := p.sc.defaultKey(); dk != "" {
		if v, ok := p.values[dk]; ok && !strings.Contains(v, "=") && !isBlank(v) {
			// PVE prints the default key bare. A value holding '=' or only
			// blanks would not read back, so it keeps its key (PVE would
			// write a config it cannot parse).
			done[dk] = true
			out = append(out, v)
		}
	}
	keys := make([]string, 0, len(p.values))
	for k := range p.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, required := range []bool{true, false} {
		for _, k := range keys {
			if done[k] || p.sc[k].optional == required {
				continue
			}
			done[k] = true
			out = append(out, k+"="+p.values[k])
		}
	}
	return strings.Join(out, ",")
}

// boolPtr returns a pointer to the boolean a split value holds, or nil.
func boolPtr(res map[string]string, key string) *bool {
	v, ok := res[key]
	if !ok {
		return nil
	}
	b := v == "1"
	return &b
}

// intPtr returns a pointer to the integer a split value holds, or nil. The
// value has passed check_type's integer test; a value beyond int range is an
// error naming the key.
func intPtr(res map[string]string, key string) (*int, error) {
	v, ok := res[key]
	if !ok {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, &Error{Key: key, Value: v, Msg: "value '" + v + "' is out of range"}
	}
	return &n, nil
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// ptrEqual compares optional values that have no default: unset differs
// from every value, zero included.
func ptrEqual[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// setEqual compares two lists as sets: order and repeats do not count.
func setEqual[T cmp.Ordered](a, b []T) bool {
	set := func(l []T) []T {
		out := slices.Clone(l)
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(set(a), set(b))
}
