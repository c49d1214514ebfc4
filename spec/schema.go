package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/felhom/felhom/schemas"
)

// compiled holds the schema, compiled once: one validator per kind, and the
// raw JSON to read descriptions, examples and allowed keys from when turning
// validation errors into diagnostics.
type compiled struct {
	container *jsonschema.Schema
	defaults  *jsonschema.Schema
	raw       map[string]any

	placesOnce sync.Once
	places     map[string][]string // key -> dotted paths where it is allowed
}

var (
	schemaOnce sync.Once
	schemaVal  *compiled
	schemaErr  error
)

func loadSchema() (*compiled, error) {
	schemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft2020
		if err := c.AddResource(schemas.ContainerSchemaID, bytes.NewReader(schemas.Container)); err != nil {
			schemaErr = fmt.Errorf("spec: load schema: %w", err)
			return
		}
		var s compiled
		if s.container, schemaErr = c.Compile(schemas.ContainerSchemaID + "#/$defs/resolvedContainer"); schemaErr != nil {
			return
		}
		if s.defaults, schemaErr = c.Compile(schemas.ContainerSchemaID + "#/$defs/defaults"); schemaErr != nil {
			return
		}
		if schemaErr = json.Unmarshal(schemas.Container, &s.raw); schemaErr != nil {
			return
		}
		schemaVal = &s
	})
	return schemaVal, schemaErr
}

// defName is the $defs entry each kind is validated against.
func defName(kind string) string {
	if kind == KindDefaults {
		return "defaults"
	}
	return "resolvedContainer"
}

// validateSchema checks one document tree against the schema for its kind.
// It returns the diagnostics and the JSON pointers of every value found
// wrong, so that decoding can skip them instead of reporting them twice.
func validateSchema(doc rawDoc, kind string) (Diagnostics, map[string]bool) {
	s, err := loadSchema()
	if err != nil {
		return Diagnostics{{File: doc.file, Message: err.Error()}}, map[string]bool{}
	}
	sch := s.container
	if kind == KindDefaults {
		sch = s.defaults
	}
	bad := map[string]bool{}
	err = sch.Validate(doc.root.value())
	if err == nil {
		return nil, bad
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return Diagnostics{{File: doc.file, Line: doc.pos.Line, Column: doc.pos.Column, Message: err.Error()}}, bad
	}
	m := errMapper{s: s, doc: doc, start: s.def(defName(kind))}
	for _, leaf := range leaves(ve) {
		m.add(leaf, bad)
	}
	return m.withoutUnderNotSlot(), bad
}

func leaves(ve *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(ve.Causes) == 0 {
		return []*jsonschema.ValidationError{ve}
	}
	var out []*jsonschema.ValidationError
	for _, c := range ve.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

func (s *compiled) def(name string) map[string]any {
	defs, _ := s.raw["$defs"].(map[string]any)
	d, _ := defs[name].(map[string]any)
	return d
}

// resolve follows a local "$ref" ("#/$defs/x").
func (s *compiled) resolve(n map[string]any) map[string]any {
	ref, _ := n["$ref"].(string)
	if !strings.HasPrefix(ref, "#/$defs/") {
		return nil
	}
	return s.def(strings.TrimPrefix(ref, "#/$defs/"))
}

// walk follows a keyword location (relative, "$ref" tokens included) from
// start and returns every schema object passed, the last one first.
func (s *compiled) walk(start map[string]any, kwLoc string) []map[string]any {
	path := []map[string]any{start}
	cur := any(start)
	for _, tok := range strings.Split(strings.TrimPrefix(kwLoc, "/"), "/") {
		if tok == "" {
			continue
		}
		if u, err := url.PathUnescape(tok); err == nil {
			tok = u
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			if tok == "$ref" {
				cur = s.resolve(c)
			} else {
				cur = c[tok]
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return reverse(path)
			}
			cur = c[i]
		default:
			return reverse(path)
		}
		if m, ok := cur.(map[string]any); ok {
			path = append(path, m)
		}
	}
	return reverse(path)
}

func reverse(p []map[string]any) []map[string]any {
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// properties returns the property schemas an object schema allows,
// following its $ref.
func (s *compiled) properties(n map[string]any) map[string]any {
	out := map[string]any{}
	for n != nil {
		if p, ok := n["properties"].(map[string]any); ok {
			for k, v := range p {
				if _, seen := out[k]; !seen {
					out[k] = v
				}
			}
		}
		n = s.resolve(n)
	}
	return out
}

// schemaAt finds the schema objects that describe the instance at ptr,
// walking properties, additionalProperties and items (and $refs) from start.
// Several may apply where the schema lays extra rules over a $ref.
func (s *compiled) schemaAt(start map[string]any, ptr string) []map[string]any {
	cur := []map[string]any{start}
	if ptr == "" {
		return cur
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		cur = s.step(cur, strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~"))
	}
	return cur
}

// step returns the schema objects that apply to member tok of an instance
// the schema objects cur apply to.
func (s *compiled) step(cur []map[string]any, tok string) []map[string]any {
	var next []map[string]any
	for _, c := range cur {
		for n := c; n != nil; n = s.resolve(n) {
			if props, ok := n["properties"].(map[string]any); ok {
				if p, ok := props[tok].(map[string]any); ok {
					next = append(next, p)
					continue
				}
			}
			if ap, ok := n["additionalProperties"].(map[string]any); ok {
				next = append(next, ap)
			} else if it, ok := n["items"].(map[string]any); ok {
				next = append(next, it)
			}
		}
	}
	return next
}

// propertiesOf merges the properties of several schema objects.
func (s *compiled) propertiesOf(ns []map[string]any) map[string]any {
	out := map[string]any{}
	for _, n := range ns {
		for k, v := range s.properties(n) {
			if p, ok := v.(map[string]any); ok {
				if _, has := p["description"]; !has {
					if _, seen := out[k]; seen {
						continue // an overlay without description; keep the real one
					}
				}
			}
			out[k] = v
		}
	}
	return out
}

// describe finds the description and first example nearest to a keyword.
func describe(path []map[string]any) (desc string, example any, ok bool) {
	for _, n := range path {
		if ex, has := n["examples"].([]any); has && len(ex) > 0 {
			d, _ := n["description"].(string)
			return d, ex[0], true
		}
	}
	return "", nil, false
}

// placesOf lists where in a Container document a key is allowed, as dotted
// paths ("spec.net.net0", "spec.backup.retention"), for "this key belongs
// elsewhere" hints.
func (s *compiled) placesOf(key string) []string {
	s.placesOnce.Do(func() {
		s.places = map[string][]string{}
		var walk func(n map[string]any, at string, depth int)
		walk = func(n map[string]any, at string, depth int) {
			if n == nil || depth > 8 {
				return
			}
			for k, v := range s.properties(n) {
				p, _ := v.(map[string]any)
				s.places[k] = append(s.places[k], at)
				child := at + "." + k
				if at == "" {
					child = k
				}
				walk(p, child, depth+1)
				if p != nil {
					walk(s.resolve(p), child, depth+1)
				}
			}
			for m := n; m != nil; m = s.resolve(m) {
				ap, _ := m["additionalProperties"].(map[string]any)
				if ap == nil {
					continue
				}
				slot := "*"
				if pn, ok := m["propertyNames"].(map[string]any); ok {
					if ex, ok := pn["examples"].([]any); ok && len(ex) > 0 {
						slot = fmt.Sprint(ex[0])
					}
				}
				walk(ap, at+"."+slot, depth+1)
				walk(s.resolve(ap), at+"."+slot, depth+1)
			}
		}
		walk(s.def("container"), "", 0)
		for k, v := range s.places {
			sort.Strings(v)
			s.places[k] = slices.Compact(v)
		}
	})
	var out []string
	for _, p := range s.places[key] {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// orList joins "a", "b", "c" as "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

type errMapper struct {
	s     *compiled
	doc   rawDoc
	start map[string]any
	diags Diagnostics
	// notSlot holds the pointers of slot keys written in place of a slot
	// (net: {hwaddr: ...}); their own message says all, so the errors
	// about their values are dropped.
	notSlot []string
}

// withoutUnderNotSlot drops the diagnostics about the value of a key that
// was reported as a slot's key written in place of a slot.
func (m *errMapper) withoutUnderNotSlot() Diagnostics {
	if len(m.notSlot) == 0 {
		return m.diags
	}
	var out Diagnostics
	for _, d := range m.diags {
		drop := false
		for _, p := range m.notSlot {
			if (d.Path == p && !strings.HasPrefix(d.Message, fmt.Sprintf("%q is not a slot", lastToken(p)))) || strings.HasPrefix(d.Path, p+"/") {
				drop = true
			}
		}
		if !drop {
			out = append(out, d)
		}
	}
	return out
}

func (m *errMapper) emit(pos Position, ptr string, n *node, msg, hint string) {
	m.diags = append(m.diags, Diagnostic{File: pos.File, Line: pos.Line, Column: pos.Column, Path: ptr,
		Value: n.display(), Message: msg, Hint: hint})
}

var uniqueRE = regexp.MustCompile(`items at index (\d+) and (\d+) are equal`)

// instancePtr turns the validator's instance location, whose tokens it
// URL-escapes, into a plain JSON pointer as the rest of this package
// writes them.
func instancePtr(loc string) string {
	if loc == "" {
		return ""
	}
	toks := strings.Split(strings.TrimPrefix(loc, "/"), "/")
	for i, t := range toks {
		if u, err := url.PathUnescape(t); err == nil {
			toks[i] = u
		}
	}
	return "/" + strings.Join(toks, "/")
}

func (m *errMapper) add(ve *jsonschema.ValidationError, bad map[string]bool) {
	ptr := instancePtr(ve.InstanceLocation)
	n, keyPos := m.doc.root.lookup(ptr)
	if n == nil && ve.InstanceLocation != "" {
		// Cannot happen for trees this package built; report plainly
		// rather than guess a place.
		bad[ptr] = true
		m.emit(m.doc.pos, ptr, nil, fmt.Sprintf("%s: %s", subject(label(ptr)), ve.Message), "")
		return
	}
	valPos := keyPos
	if n != nil {
		valPos = n.pos
	}
	path := m.s.walk(m.start, ve.KeywordLocation)
	toks := strings.Split(ve.KeywordLocation, "/")
	keyword := toks[len(toks)-1]
	inPropertyNames := len(toks) >= 2 && toks[len(toks)-2] == "propertyNames"
	where := label(ptr)
	desc, example, hasEx := describe(path)
	exampleHint := ""
	if hasEx {
		exampleHint = "for example " + renderExample(lastToken(ptr), example)
	}
	var parent map[string]any // the schema object holding the failing keyword
	if len(path) > 0 {
		parent = path[0]
	}

	switch {
	case inPropertyNames:
		d, ex, hasEx := describe(path)
		bad[ptr] = true
		k := lastToken(ptr)
		if _, isSlotKey := m.s.propertiesOf(m.s.schemaAt(m.start, ptr))[k]; isSlotKey && hasEx {
			// net: {hwaddr: ...}: a key of a slot written in place of one.
			m.notSlot = append(m.notSlot, ptr)
			m.emit(keyPos, ptr, &node{kind: scalarNode, raw: k}, notASlot(label(ptr[:strings.LastIndexByte(ptr, '/')]), k, fmt.Sprint(ex)), d)
			return
		}
		m.emit(keyPos, ptr, &node{kind: scalarNode, raw: k}, fmt.Sprintf("%q is not a valid slot here", k), d)
	case keyword == "additionalProperties":
		allowed := m.s.properties(parent)
		var names []string
		for k := range allowed {
			names = append(names, k)
		}
		sort.Strings(names)
		for i, k := range n.keys {
			if _, ok := allowed[k]; ok {
				continue
			}
			kptr := ptr + "/" + escapePtr(k)
			bad[kptr] = true
			msg := fmt.Sprintf("unknown key %q", k)
			hint := ""
			if k == "lxc" || strings.HasPrefix(k, "lxc.") {
				// A PVE admin's raw LXC key (lxc.idmap, lxc.cgroup2...):
				// `pct set` has no option for them (PVE reads them only from
				// /etc/pve/lxc/VMID.conf), and felhom does not edit that file.
				msg += ": raw lxc.* keys are not supported"
				hint = "pct set has no option for them; they live only in /etc/pve/lxc/VMID.conf, which felhom does not edit"
			} else if a := aliasOf(k, allowed); a != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", a)
			} else if home := m.s.slotHome(k, dotted(ptr), allowed); home != "" {
				msg += fmt.Sprintf(" here (%s belongs under %s)", k, home)
			} else if sug := suggest(k, names); sug != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", sug)
			} else if places := m.s.placesOf(k); len(places) > 0 {
				msg += fmt.Sprintf(" here (%s belongs under %s)", k, orList(places))
			} else {
				hint = "valid keys here: " + strings.Join(names, ", ")
			}
			if where != "" {
				hint = strings.TrimPrefix(hint+"; in "+where, "; ")
			}
			m.emit(n.keyPos[i], kptr, &node{kind: scalarNode, raw: k}, msg, hint)
		}
	case keyword == "required":
		req, _ := parent["required"].([]any)
		props := m.s.propertiesOf(m.s.schemaAt(m.start, ptr))
		for _, r := range req {
			name, _ := r.(string)
			if _, ok := n.get(name); ok >= 0 {
				continue
			}
			hint := ""
			if p, ok := props[name].(map[string]any); ok {
				if d, ex, has := describe(append([]map[string]any{p}, m.s.resolve(p))); has {
					hint = d + " For example " + renderExample(name, ex)
				}
			}
			msg := fmt.Sprintf("missing required key %q", name)
			if where != "" {
				msg += " in " + where
			}
			m.emit(keyPos, ptr, nil, msg, hint)
		}
	case keyword == "type":
		bad[ptr] = true
		want := typesOf(parent["type"])
		if len(path) > 0 && reflect.ValueOf(path[0]).Pointer() == reflect.ValueOf(m.s.def("size")).Pointer() {
			want = "a size such as 2G or a plain number"
		}
		hint := exampleHint
		if str, isStr := n.scalar.(string); isStr && n.kind == scalarNode {
			types := typesOf(parent["type"])
			if h := propertyStringHint(lastToken(ptr), str); types == "a mapping" && h != "" {
				hint = "PVE's property string as a mapping: " + lastToken(ptr) + ": " + h
			} else if types == "a list" {
				hint = "write a list: " + lastToken(ptr) + ": " + listHint(str)
			}
		}
		m.emit(valPos, ptr, n, fmt.Sprintf("%s must be %s, not %s", subject(where), want, jsonKind(n)), hint)
	case keyword == "const":
		bad[ptr] = true
		want := fmt.Sprint(parent["const"])
		msg := fmt.Sprintf("%s must be %q", subject(where), want)
		m.emit(valPos, ptr, n, msg, desc)
	case keyword == "enum":
		bad[ptr] = true
		var opts []string
		for _, o := range parent["enum"].([]any) {
			if o == nil {
				continue // a null drops an inherited value; felhom removed it before validating
			}
			opts = append(opts, fmt.Sprint(o))
		}
		msg := fmt.Sprintf("%s: %q is not one of %s", subject(where), n.display(), strings.Join(opts, ", "))
		if sug := suggest(n.str(), opts); sug != "" {
			msg = fmt.Sprintf("%s: %q is not valid (did you mean %q?)", subject(where), n.display(), sug)
		}
		m.emit(valPos, ptr, n, msg, desc)
	case keyword == "pattern":
		bad[ptr] = true
		msg := fmt.Sprintf("%s: %q is not valid", subject(where), n.display())
		if rule, _ := parent["patternErrorMessage"].(string); rule != "" {
			msg += ": " + rule
		}
		hint := strings.TrimSpace(desc + " " + capitalize(exampleHint))
		if pat, _ := parent["pattern"].(string); n.kind == scalarNode {
			if fix := fixPattern(n.str(), pat); fix != "" {
				hint = "perhaps " + renderExample(lastToken(ptr), fix)
			}
		}
		m.emit(valPos, ptr, n, msg, hint)
	case keyword == "minimum" || keyword == "maximum" || keyword == "exclusiveMinimum" || keyword == "exclusiveMaximum":
		bad[ptr] = true
		word := "at least"
		if strings.Contains(keyword, "aximum") {
			word = "at most"
		}
		if strings.HasPrefix(keyword, "exclusive") {
			word = strings.Replace(strings.Replace(word, "at least", "more than", 1), "at most", "less than", 1)
		}
		m.emit(valPos, ptr, n, fmt.Sprintf("%s must be %s %v, not %s", subject(where), word, parent[keyword], n.display()), desc)
	case keyword == "minLength" && fmt.Sprint(parent["minLength"]) == "1":
		bad[ptr] = true
		m.emit(valPos, ptr, n, fmt.Sprintf("%s must not be empty", subject(where)), strings.TrimSpace(desc+" "+capitalize(exampleHint)))
	case keyword == "minLength" || keyword == "maxLength":
		bad[ptr] = true
		m.emit(valPos, ptr, n, fmt.Sprintf("%s: %s", subject(where), ve.Message), desc)
	case keyword == "uniqueItems":
		if mm := uniqueRE.FindStringSubmatch(ve.Message); mm != nil {
			j, _ := strconv.Atoi(mm[2])
			iptr := ptr + "/" + mm[2]
			if it, _ := m.doc.root.lookup(iptr); it != nil && j < len(n.items) {
				bad[iptr] = true
				m.emit(it.pos, iptr, it, fmt.Sprintf("%s lists %s twice", subject(where), it.display()), "each item may appear once")
				return
			}
		}
		bad[ptr] = true
		m.emit(valPos, ptr, n, fmt.Sprintf("%s: %s", subject(where), ve.Message), "each item may appear once")
	default:
		bad[ptr] = true
		m.emit(valPos, ptr, n, fmt.Sprintf("%s: %s", subject(where), ve.Message), desc)
	}
}

// label turns a JSON pointer into the dotted name users know:
// /spec/backup/retention/keep-last -> backup.retention.keep-last,
// /spec/tags/1 -> tags[1].
func label(ptr string) string {
	var b strings.Builder
	toks := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	if len(toks) > 0 && toks[0] == "spec" {
		toks = toks[1:]
	}
	for _, t := range toks {
		if t == "" {
			continue
		}
		t = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
		if _, err := strconv.Atoi(t); err == nil && b.Len() > 0 {
			fmt.Fprintf(&b, "[%s]", t)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}

func subject(where string) string {
	if where == "" {
		return "the document"
	}
	return where
}

func lastToken(ptr string) string {
	i := strings.LastIndexByte(ptr, '/')
	t := ptr[i+1:]
	return strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
}

func escapePtr(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// renderExample writes an example value as the YAML a user would type.
func renderExample(key string, ex any) string {
	var v string
	switch e := ex.(type) {
	case string:
		v = e
		if needsQuotes(e) {
			v = strconv.Quote(e)
		}
	case map[string]any, []any:
		v = flowYAML(e)
	default:
		v = fmt.Sprint(e)
	}
	if _, err := strconv.Atoi(key); err == nil || key == "" {
		return v
	}
	return key + ": " + v
}

// flowYAML renders a value as YAML flow style: {a: 1, b: [x, y]}.
func flowYAML(v any) string {
	switch e := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(e))
		for k := range e {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + flowYAML(e[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(e))
		for i, x := range e {
			parts[i] = flowYAML(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case string:
		if needsQuotes(e) {
			return strconv.Quote(e)
		}
		return e
	}
	return fmt.Sprint(v)
}

func needsQuotes(s string) bool {
	if s == "" || strings.ContainsAny(s, ":#{}[]&*!|>'\"%@`") {
		return true
	}
	switch strings.ToLower(s) {
	case "true", "false", "null", "yes", "no", "on", "off", "~":
		return true
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func typesOf(t any) string {
	name := func(s string) string {
		switch s {
		case "integer":
			return "a whole number"
		case "number":
			return "a number"
		case "string":
			return "text"
		case "boolean":
			return "true or false"
		case "object":
			return "a mapping"
		case "array":
			return "a list"
		}
		return s
	}
	switch v := t.(type) {
	case string:
		return name(v)
	case []any:
		var parts []string
		for _, x := range v {
			if x == "null" {
				// Every mapping member may be null in a file (it drops an
				// inherited value); felhom removed nulls before validating.
				continue
			}
			parts = append(parts, name(fmt.Sprint(x)))
		}
		return strings.Join(parts, " or ")
	}
	return fmt.Sprint(t)
}

func jsonKind(n *node) string {
	if n == nil {
		return "missing"
	}
	switch n.kind {
	case nullNode:
		return "empty"
	case mapNode:
		return "a mapping"
	case seqNode:
		return "a list"
	}
	switch v := n.scalar.(type) {
	case bool:
		return fmt.Sprintf("the boolean %v", v)
	case json.Number:
		return n.raw + " (a number)"
	}
	return fmt.Sprintf("%q (text)", n.raw)
}

var (
	patternMu    sync.Mutex
	patternCache = map[string]*regexp.Regexp{}
)

// fixPattern returns an obvious correction of s that matches the schema
// pattern pat, or "": lower-cased with '_' and ' ' as '-' (a DNS name),
// the same keeping case, only lower-cased, '-' as ':' (a MAC address), or
// without spaces ("8 G").
func fixPattern(s, pat string) string {
	patternMu.Lock()
	re, ok := patternCache[pat]
	if !ok {
		re, _ = regexp.Compile(pat) // nil when RE2 cannot read it: no hint then
		patternCache[pat] = re
	}
	patternMu.Unlock()
	if re == nil || s == "" || re.MatchString(s) {
		return ""
	}
	dashed := strings.NewReplacer("_", "-", " ", "-").Replace(s)
	for _, c := range []string{
		sizeWithoutB(s),
		strings.ToLower(dashed),
		dashed,
		strings.ToLower(s),
		strings.ReplaceAll(s, "-", ":"),
		strings.ReplaceAll(s, " ", ""),
	} {
		if c != s && re.MatchString(c) {
			return c
		}
	}
	return ""
}
