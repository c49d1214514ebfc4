package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/felhom/felhom/pve/format"
)

var (
	sizeType     = reflect.TypeFor[format.Size]()
	durationType = reflect.TypeFor[Duration]()
)

// decoder fills Go values from a node tree by the fields' json tags. Values
// the schema already reported (skip) are left at their zero value, so one
// mistake gives one diagnostic and the rest of the document still decodes
// for the semantic checks.
type decoder struct {
	skip   map[string]bool
	diags  Diagnostics
	failAt map[string]bool // the Path of every diagnostic in diags
}

func (d *decoder) errorf(n *node, ptr, hint, format string, args ...any) {
	if d.failAt == nil {
		d.failAt = map[string]bool{}
	}
	d.failAt[ptr] = true
	d.diags = append(d.diags, Diagnostic{File: n.pos.File, Line: n.pos.Line, Column: n.pos.Column, Path: ptr,
		Value: n.display(), Message: fmt.Sprintf(format, args...), Hint: hint})
}

// structField is a struct field the decoder fills: its index and its
// unit tag (MiB or GiB for a size).
type structField struct {
	index int
	unit  string
}

// fieldCache holds structFields' answer per struct type: the tags are read
// once, not once per decoded mapping (Load decodes some 10 per container).
var fieldCache sync.Map // reflect.Type -> map[string]structField

// structFields maps the json names of t's fields to them.
func structFields(t reflect.Type) map[string]structField {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(map[string]structField)
	}
	fields := map[string]structField{}
	for i := range t.NumField() {
		f := t.Field(i)
		if name := jsonName(f); name != "" {
			fields[name] = structField{index: i, unit: f.Tag.Get("unit")}
		}
	}
	fieldCache.Store(t, fields)
	return fields
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	return name
}

func (d *decoder) decode(n *node, ptr string, v reflect.Value, unit string) {
	if n == nil || n.kind == nullNode || d.skip[ptr] {
		return
	}
	t := v.Type()
	switch {
	case t == sizeType:
		if s, ok := d.size(n, ptr, unit); ok {
			v.SetInt(int64(s))
		}
		return
	case t == durationType:
		s := n.str()
		dur, err := time.ParseDuration(s)
		if err != nil || n.kind != scalarNode {
			d.errorf(n, ptr, "write it like 2h, 90m or 1h30m", "%s: %q is not a duration", label(ptr), n.display())
			return
		}
		v.SetInt(int64(dur))
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		e := reflect.New(t.Elem())
		d.decode(n, ptr, e.Elem(), unit)
		if !d.failed(ptr) {
			v.Set(e)
		}
	case reflect.Struct:
		if n.kind != mapNode {
			d.errorf(n, ptr, "", "%s must be a mapping", label(ptr))
			return
		}
		fields := structFields(t)
		for i, k := range n.keys {
			kptr := ptr + "/" + escapePtr(k)
			f, ok := fields[k]
			if !ok {
				if !d.skip[kptr] && !d.skip[ptr] {
					d.errorf(&node{kind: scalarNode, raw: k, pos: n.keyPos[i]}, kptr, "", "unknown key %q", k)
				}
				continue
			}
			d.decode(n.vals[i], kptr, v.Field(f.index), f.unit)
		}
	case reflect.Map:
		if n.kind != mapNode {
			d.errorf(n, ptr, "", "%s must be a mapping", label(ptr))
			return
		}
		m := reflect.MakeMapWithSize(t, len(n.keys))
		for i, k := range n.keys {
			kptr := ptr + "/" + escapePtr(k)
			if d.skip[kptr] {
				continue
			}
			e := reflect.New(t.Elem()).Elem()
			d.decode(n.vals[i], kptr, e, unit)
			m.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), e)
		}
		v.Set(m)
	case reflect.Slice:
		if n.kind != seqNode {
			d.errorf(n, ptr, "", "%s must be a list", label(ptr))
			return
		}
		s := reflect.MakeSlice(t, 0, len(n.items))
		for i, it := range n.items {
			iptr := ptr + "/" + strconv.Itoa(i)
			e := reflect.New(t.Elem()).Elem()
			d.decode(it, iptr, e, unit)
			if !d.skip[iptr] {
				s = reflect.Append(s, e)
			}
		}
		v.Set(s)
	case reflect.String:
		s, ok := n.scalar.(string)
		if n.kind != scalarNode || !ok {
			d.errorf(n, ptr, "", "%s must be text", label(ptr))
			return
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := n.scalar.(bool)
		if !ok {
			d.errorf(n, ptr, "write true or false", "%s must be true or false", label(ptr))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		num, ok := n.scalar.(json.Number)
		i, err := num.Int64()
		if !ok || err != nil || v.OverflowInt(i) {
			d.errorf(n, ptr, "", "%s must be a whole number", label(ptr))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		num, ok := n.scalar.(json.Number)
		f, err := num.Float64()
		if !ok || err != nil {
			d.errorf(n, ptr, "", "%s must be a number", label(ptr))
			return
		}
		v.SetFloat(f)
	default:
		d.errorf(n, ptr, "", "%s: cannot decode into %s", label(ptr), t)
	}
}

// failed reports whether a diagnostic was recorded for exactly ptr.
func (d *decoder) failed(ptr string) bool { return d.failAt[ptr] }

var plainNumberRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// largePlainGiB is where a plain disk size starts to read like MiB: 1024
// plain GiB is a tebibyte, rarely what a container volume wants.
const largePlainGiB = 1024

// warnLargePlainGiB warns about a plain disk size of largePlainGiB or more
// (size: 8192 is 8 TiB, likely meant as 8192M); the spec stays valid.
func (d *decoder) warnLargePlainGiB(n *node, ptr, text string) {
	gib, err := strconv.ParseFloat(text, 64)
	if err != nil || gib < largePlainGiB {
		return
	}
	d.diags = append(d.diags, Diagnostic{File: n.pos.File, Line: n.pos.Line, Column: n.pos.Column, Path: ptr,
		Value: n.display(), Severity: SeverityWarning,
		Message: fmt.Sprintf("%s: a plain number is GiB, as in PVE, so %s asks for %.4g TiB", label(ptr), text, gib/1024),
		Hint:    fmt.Sprintf("write %sM if you meant MiB, or %sG to keep it", text, text)})
}

// size parses a size field: a plain number (or numeric text) is in the
// field's unit (MiB or GiB); otherwise format.ParseSize with its K/M/G/T
// (powers of 1024) and KiB/MiB/GiB/TiB spellings.
func (d *decoder) size(n *node, ptr, unit string) (format.Size, bool) {
	hint := "write a number with a unit such as 512M, 2G or 2GiB"
	if unit != "" {
		hint += fmt.Sprintf("; a plain number is %s", unit)
	}
	if n.kind != scalarNode {
		d.errorf(n, ptr, hint, "%s must be a size", label(ptr))
		return 0, false
	}
	if _, isBool := n.scalar.(bool); isBool {
		d.errorf(n, ptr, hint, "%s must be a size, not %s", label(ptr), n.raw)
		return 0, false
	}
	text := strings.TrimSpace(n.raw)
	if plainNumberRE.MatchString(text) && unit != "" {
		if unit == "GiB" {
			d.warnLargePlainGiB(n, ptr, text)
		}
		text += unit[:1] // "MiB" -> "M", "GiB" -> "G"
	}
	s, err := format.ParseSize(text)
	if err != nil {
		d.errorf(n, ptr, hint, "%s: %q is not a valid size", label(ptr), n.raw)
		return 0, false
	}
	if s < 0 || s > format.Size(math.MaxInt64/2) {
		d.errorf(n, ptr, hint, "%s: %q is too large", label(ptr), n.raw)
		return 0, false
	}
	return s, true
}
